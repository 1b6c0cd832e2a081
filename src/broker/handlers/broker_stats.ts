/**
 * Broker and topic statistics for the admin tools (`AdminBrokerProcessor`):
 *
 * - 28 GET_BROKER_RUNTIME_INFO: a `KVTable` of the broker's figures, what
 *   `mqadmin brokerStatus` prints and `clusterList` reads (version, message
 *   totals since start, earliest stored message). Figures this broker does
 *   not measure (TPS, disk ratio) are left out rather than made up; its
 *   request queues are empty by design (no thread pools) and it holds no
 *   page-cache lock, so those sizes and times are 0.
 * - 202 GET_TOPIC_STATS_INFO: min and max offset and last store time of each
 *   of a topic's write queues (`mqadmin topicStatus`), or TOPIC_NOT_EXIST.
 *
 * @module
 */

import {
  encodeKVTable,
  encodeTopicStatsTable,
  type TopicOffset,
} from "../../codec/admin_bodies.ts";
import type { MessageQueue } from "../../codec/bodies.ts";
import { MQVersion, ResponseCode } from "../../codec/codes.ts";
import { decodeStoredMessage } from "../../codec/message_ext.ts";
import {
  createResponse,
  DEFAULT_VERSION,
  type RemotingCommand,
} from "../../codec/remoting_command.ts";
import { CodecError } from "../../errors.ts";
import type { BrokerContext } from "../context.ts";

/** The `MQVersion` name this broker reports (`brokerVersionDesc`). */
const VERSION_DESC = Object.entries(MQVersion).find(([, v]) => v === DEFAULT_VERSION)?.[0] ??
  String(DEFAULT_VERSION);

/**
 * Handles GET_BROKER_RUNTIME_INFO (28).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response: a `KVTable` body.
 *
 * @example
 * ```ts
 * import { getBrokerRuntimeInfo } from "./broker_stats.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { decodeKVTable } from "../../codec/admin_bodies.ts";
 * import { BrokerMeters } from "../meters.ts";
 * import { systemTimers } from "../../remoting/timers.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { store: new MemoryStore(), counters: { messagesStored: 2, messagesPulled: 1 },
 *   meters: new BrokerMeters(systemTimers) } as unknown as BrokerContext;
 * const table = decodeKVTable((await getBrokerRuntimeInfo(ctx, createRequest(28))).body);
 * assert.equal(table.msgPutTotalTodayNow, "2");
 * assert.equal(table.brokerActive, "true");
 * ```
 */
export async function getBrokerRuntimeInfo(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  let earliest = 0;
  for (const { topic, queueId } of ctx.store.queues()) {
    const time = await ctx.store.earliestStoreTime(topic, queueId);
    if (time > 0 && (earliest === 0 || time < earliest)) earliest = time;
  }
  const table: Record<string, string> = {
    brokerVersionDesc: VERSION_DESC,
    brokerActive: "true",
    // Totals since the broker started (it keeps no daily snapshots).
    msgPutTotalYesterdayMorning: "0",
    msgPutTotalTodayMorning: "0",
    msgPutTotalTodayNow: String(ctx.counters.messagesStored),
    msgGetTotalYesterdayMorning: "0",
    msgGetTotalTodayMorning: "0",
    msgGetTotalTodayNow: String(ctx.counters.messagesPulled),
    earliestMessageTimeStamp: String(earliest),
    sendThreadPoolQueueSize: "0",
    sendThreadPoolQueueHeadWaitTimeMills: "0",
    pullThreadPoolQueueSize: "0",
    pullThreadPoolQueueHeadWaitTimeMills: "0",
    queryThreadPoolQueueSize: "0",
    queryThreadPoolQueueHeadWaitTimeMills: "0",
    pageCacheLockTimeMills: "0",
    timerReadBehind: "0",
    timerOffsetBehind: "0",
    timerCongestNum: "0",
    timerEnqueueTps: "0.0",
    timerDequeueTps: "0.0",
    ...ctx.meters.runtimeInfo(),
  };
  return createResponse(request, ResponseCode.SUCCESS, undefined, { body: encodeKVTable(table) });
}

/**
 * Handles GET_TOPIC_STATS_INFO (202).
 *
 * @param ctx Broker state.
 * @param request The request (`topic`).
 * @returns The response: a `TopicStatsTable` body, or TOPIC_NOT_EXIST.
 * @throws {CodecError} When the header has no topic.
 *
 * @example
 * ```ts
 * import { getTopicStatsInfo } from "./broker_stats.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { TopicManager } from "../topics.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { decodeTopicStatsTable } from "../../codec/admin_bodies.ts";
 * import { BrokerMeters } from "../meters.ts";
 * import { systemTimers } from "../../remoting/timers.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const topics = new TopicManager({ clusterName: "C", brokerName: "b" });
 * topics.update({ topicName: "T", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicFilterType: "SINGLE_TAG", topicSysFlag: 0, order: false });
 * const ctx = { store: new MemoryStore(), topics, settings: { brokerName: "b" },
 *   meters: new BrokerMeters(systemTimers) } as unknown as BrokerContext;
 * const stats = decodeTopicStatsTable((await getTopicStatsInfo(ctx, createRequest(202, { topic: "T" }))).body);
 * assert.deepEqual(stats.offsetTable.map((e) => e.queue.queueId), [0, 1]);
 * assert.equal((await getTopicStatsInfo(ctx, createRequest(202, { topic: "nope" }))).code, 17);
 * ```
 */
export async function getTopicStatsInfo(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const name = request.extFields.topic;
  if (!name) {
    throw new CodecError("schema", "GetTopicStatsInfoRequestHeader: field topic is required");
  }
  const topic = ctx.topics.get(name);
  if (!topic) {
    return createResponse(request, ResponseCode.TOPIC_NOT_EXIST, undefined, {
      remark: `topic[${name}] not exist`,
    });
  }
  const offsetTable: Array<{ queue: MessageQueue; offsets: TopicOffset }> = [];
  for (let queueId = 0; queueId < topic.writeQueueNums; queueId++) {
    const minOffset = ctx.store.minOffset(name, queueId);
    const maxOffset = ctx.store.maxOffset(name, queueId);
    let lastUpdateTimestamp = 0;
    if (maxOffset > minOffset) {
      const last = await ctx.store.get(name, queueId, maxOffset - 1, 1, 1);
      const record = last.records[0];
      if (record !== undefined) lastUpdateTimestamp = decodeStoredMessage(record).storeTimestamp;
    }
    offsetTable.push({
      queue: { topic: name, brokerName: ctx.settings.brokerName, queueId },
      offsets: { minOffset, maxOffset, lastUpdateTimestamp },
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, undefined, {
    body: encodeTopicStatsTable({ topicPutTps: ctx.meters.topicPutTps(name), offsetTable }),
  });
}
