/**
 * Offsets (`ConsumerManageProcessor`, `AdminBrokerProcessor`):
 *
 * - 14 QUERY_CONSUMER_OFFSET: the committed offset; for a group with none,
 *   offset 0 when the queue never lost a message, empty or not (unless
 *   `setZeroIfNotFound=false`), else QUERY_NOT_FOUND (22), as Java 4.x.
 * - 15 UPDATE_CONSUMER_OFFSET (usually oneway)
 * - 29 SEARCH_OFFSET_BY_TIMESTAMP
 * - 30 GET_MAX_OFFSET
 * - 31 GET_MIN_OFFSET
 * - 32 GET_EARLIEST_MSG_STORETIME (−1 for an empty queue, as Java)
 * - 208 GET_CONSUME_STATS: a group's progress per queue, for
 *   `mqadmin consumerProgress` and the Dashboard
 *
 * @module
 */

import { encodeConsumeStats, type OffsetWrapper } from "../../codec/admin_bodies.ts";
import { decodeGetConsumeStatsRequestHeader } from "../../codec/admin_headers.ts";
import type { MessageQueue } from "../../codec/bodies.ts";
import { ResponseCode } from "../../codec/codes.ts";
import { decodeStoredMessage } from "../../codec/message_ext.ts";
import {
  decodeGetMaxOffsetRequestHeader,
  decodeGetMinOffsetRequestHeader,
  decodeQueryConsumerOffsetRequestHeader,
  decodeSearchOffsetRequestHeader,
  decodeUpdateConsumerOffsetRequestHeader,
  encodeQueryConsumerOffsetResponseHeader,
} from "../../codec/ext_fields.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import type { BrokerContext } from "../context.ts";

/**
 * Handles QUERY_CONSUMER_OFFSET (14).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { queryConsumerOffset } from "./consumer_offset.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const ctx = { store } as unknown as BrokerContext;
 * const ask = () => queryConsumerOffset(ctx, createRequest(14, { consumerGroup: "CG", topic: "T", queueId: 0 }));
 * assert.equal(ask().extFields.offset, "0"); // a queue that never lost a message: from 0
 * store.commitOffset("CG", "T", 0, 7);
 * assert.equal(ask().extFields.offset, "7");
 * ```
 */
export function queryConsumerOffset(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const header = decodeQueryConsumerOffsetRequestHeader(request.extFields);
  const offset = ctx.store.queryOffset(header.consumerGroup, header.topic, header.queueId);
  if (offset !== undefined && offset >= 0) {
    return createResponse(
      request,
      ResponseCode.SUCCESS,
      encodeQueryConsumerOffsetResponseHeader({ offset }),
    );
  }
  if (header.setZeroIfNotFound === false) {
    return createResponse(request, ResponseCode.QUERY_NOT_FOUND, undefined, {
      remark: "Not found, do not set to zero, maybe this group boot first",
    });
  }
  // The queue never lost a message (offset 0 is still there, or nothing was
  // written yet): the group reads it all, from 0, as 4.x brokers answer.
  // 5.x answers QUERY_NOT_FOUND for an empty queue, and the client then asks
  // for the max offset: a request sent between the two answers is skipped,
  // and its requester waits for a reply that never comes.
  if (ctx.store.minOffset(header.topic, header.queueId) <= 0) {
    return createResponse(
      request,
      ResponseCode.SUCCESS,
      encodeQueryConsumerOffsetResponseHeader({ offset: 0 }),
    );
  }
  return createResponse(request, ResponseCode.QUERY_NOT_FOUND, undefined, {
    remark: "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
  });
}

/**
 * Handles UPDATE_CONSUMER_OFFSET (15). Oneway requests get no answer (the
 * connection drops any response to them).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { updateConsumerOffset } from "./consumer_offset.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { TopicManager } from "../topics.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { store: new MemoryStore(), topics: new TopicManager({ clusterName: "C", brokerName: "b" }) } as unknown as BrokerContext;
 * const res = updateConsumerOffset(ctx, createRequest(15, { consumerGroup: "CG", topic: "TBW102", queueId: 0, commitOffset: 3 }));
 * assert.equal(res.code, 0);
 * assert.equal(ctx.store.queryOffset("CG", "TBW102", 0), 3);
 * ```
 */
export function updateConsumerOffset(
  ctx: BrokerContext,
  request: RemotingCommand,
): RemotingCommand {
  const header = decodeUpdateConsumerOffsetRequestHeader(request.extFields);
  if (!ctx.topics.get(header.topic)) {
    return createResponse(request, ResponseCode.TOPIC_NOT_EXIST, undefined, {
      remark: `Topic ${header.topic} not exist!`,
    });
  }
  ctx.store.commitOffset(header.consumerGroup, header.topic, header.queueId, header.commitOffset);
  return createResponse(request, ResponseCode.SUCCESS);
}

/**
 * Handles SEARCH_OFFSET_BY_TIMESTAMP (29).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { searchOffsetByTimestamp } from "./consumer_offset.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { store: new MemoryStore() } as unknown as BrokerContext;
 * const res = await searchOffsetByTimestamp(ctx, createRequest(29, { topic: "T", queueId: 0, timestamp: 5 }));
 * assert.equal(res.extFields.offset, "0");
 * ```
 */
export async function searchOffsetByTimestamp(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeSearchOffsetRequestHeader(request.extFields);
  const boundary = header.boundaryType?.toUpperCase() === "UPPER" ? "UPPER" : "LOWER";
  const offset = await ctx.store.searchOffset(
    header.topic,
    header.queueId,
    header.timestamp,
    boundary,
  );
  return createResponse(request, ResponseCode.SUCCESS, { offset });
}

/**
 * Handles GET_MAX_OFFSET (30).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { getMaxOffset } from "./consumer_offset.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { store: new MemoryStore() } as unknown as BrokerContext;
 * assert.equal(getMaxOffset(ctx, createRequest(30, { topic: "T", queueId: 0 })).extFields.offset, "0");
 * ```
 */
export function getMaxOffset(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const header = decodeGetMaxOffsetRequestHeader(request.extFields);
  return createResponse(request, ResponseCode.SUCCESS, {
    offset: ctx.store.maxOffset(header.topic, header.queueId),
  });
}

/**
 * Handles GET_MIN_OFFSET (31).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { getMinOffset } from "./consumer_offset.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { store: new MemoryStore() } as unknown as BrokerContext;
 * assert.equal(getMinOffset(ctx, createRequest(31, { topic: "T", queueId: 0 })).extFields.offset, "0");
 * ```
 */
export function getMinOffset(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const header = decodeGetMinOffsetRequestHeader(request.extFields);
  return createResponse(request, ResponseCode.SUCCESS, {
    offset: ctx.store.minOffset(header.topic, header.queueId),
  });
}

/**
 * Handles GET_EARLIEST_MSG_STORETIME (32).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { getEarliestMsgStoretime } from "./consumer_offset.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { store: new MemoryStore() } as unknown as BrokerContext;
 * const res = await getEarliestMsgStoretime(ctx, createRequest(32, { topic: "T", queueId: 0 }));
 * assert.equal(res.extFields.timestamp, "-1");
 * ```
 */
export async function getEarliestMsgStoretime(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeGetMinOffsetRequestHeader(request.extFields);
  const empty = ctx.store.maxOffset(header.topic, header.queueId) <=
    ctx.store.minOffset(header.topic, header.queueId);
  const timestamp = empty ? -1 : await ctx.store.earliestStoreTime(header.topic, header.queueId);
  return createResponse(request, ResponseCode.SUCCESS, { timestamp });
}

/**
 * Handles GET_CONSUME_STATS (208), as RocketMQ's `AdminBrokerProcessor`: for
 * the asked topic, or every topic the group has committed offsets for or
 * subscribes to, each readable queue's max offset, the group's committed
 * offset and the store time of the last message it consumed. A topic the
 * group no longer subscribes to while it is online is left out, as Java does.
 * `consumeTps` is 0: this broker keeps no per-group rate.
 *
 * @param ctx Broker state.
 * @param request The request (`consumerGroup`, optional `topic`).
 * @returns The response, a `ConsumeStats` body.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { getConsumeStats } from "./consumer_offset.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { TopicManager } from "../topics.ts";
 * import { ClientRegistry } from "../client_registry.ts";
 * import { decodeConsumeStats } from "../../codec/admin_bodies.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { BrokerMeters } from "../meters.ts";
 * import { systemTimers } from "../../remoting/timers.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const topics = new TopicManager({ clusterName: "C", brokerName: "b" });
 * topics.update({ topicName: "T", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicFilterType: "SINGLE_TAG",
 *   topicSysFlag: 0, order: false });
 * store.commitOffset("CG", "T", 1, 0);
 * const ctx = { store, topics, registry: new ClientRegistry(), settings: { brokerName: "b" },
 *   meters: new BrokerMeters(systemTimers) } as unknown as BrokerContext;
 * const res = await getConsumeStats(ctx, createRequest(208, { consumerGroup: "CG" }));
 * const stats = decodeConsumeStats(res.body);
 * assert.deepEqual(stats.offsetTable.map((e) => e.queue.queueId), [0, 1]);
 * ```
 */
export async function getConsumeStats(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeGetConsumeStatsRequestHeader(request.extFields);
  const group = header.consumerGroup;
  const online = ctx.registry.consumerGroup(group);
  const subscribed = online && online.channels.size > 0 ? online.subscriptions : undefined;
  const names = new Set<string>();
  if (header.topic) {
    names.add(header.topic);
  } else {
    for (const topic of ctx.topics.all()) {
      if (ctx.store.groupsWithOffsets(topic.topicName).includes(group)) names.add(topic.topicName);
    }
    for (const topic of subscribed?.keys() ?? []) names.add(topic);
  }
  const offsetTable: Array<{ queue: MessageQueue; offsets: OffsetWrapper }> = [];
  let consumeTps = 0;
  for (const name of names) {
    consumeTps += ctx.meters.consumeTps(group, name);
    const topic = ctx.topics.get(name);
    if (!topic) continue;
    if (subscribed && subscribed.size > 0 && !subscribed.has(name)) continue;
    for (let queueId = 0; queueId < topic.readQueueNums; queueId++) {
      const brokerOffset = Math.max(0, ctx.store.maxOffset(name, queueId));
      const consumerOffset = Math.max(0, ctx.store.queryOffset(group, name, queueId) ?? 0);
      offsetTable.push({
        queue: { topic: name, brokerName: ctx.settings.brokerName, queueId },
        offsets: {
          brokerOffset,
          consumerOffset,
          pullOffset: consumerOffset,
          lastTimestamp: await storeTimeAt(ctx, name, queueId, consumerOffset - 1),
        },
      });
    }
  }
  return createResponse(request, ResponseCode.SUCCESS, undefined, {
    body: encodeConsumeStats({ consumeTps, offsetTable }),
  });
}

/** Store time of the message at a queue offset; 0 when it is gone or never was. */
async function storeTimeAt(
  ctx: BrokerContext,
  topic: string,
  queueId: number,
  offset: number,
): Promise<number> {
  if (offset < ctx.store.minOffset(topic, queueId)) return 0;
  const found = await ctx.store.get(topic, queueId, offset, 1, 1 << 22);
  const record = found.queueOffsets[0] === offset ? found.records[0] : undefined;
  return record === undefined ? 0 : decodeStoredMessage(record).storeTimestamp;
}
