/**
 * 11 PULL_MESSAGE and 361 LITE_PULL_MESSAGE (`PullMessageProcessor`,
 * `DefaultPullMessageResultHandler`; RocketMQ serves both codes with the same
 * processor, and the 5.x `DefaultLitePullConsumer` sends only 361): reads a
 * queue for a consumer group, filtering by tag hash on the broker (the client
 * filters again by tag string), or by a SQL92 expression on each message's
 * properties (see `sql_filter.ts`). A pull that finds nothing new and
 * carries the suspend flag is held (long polling) and answered the moment a
 * matching message arrives, or when `suspendTimeoutMillis` is up. System
 * topics (stored replies among them) and other groups' `%RETRY%` / `%DLQ%`
 * topics are refused (see `topic_access.ts`).
 *
 * @module
 */

import { concat } from "../../bytes.ts";
import {
  buildSubscriptionData,
  ExpressionType,
  type SubscriptionData,
} from "../../codec/bodies.ts";
import { ResponseCode } from "../../codec/codes.ts";
import {
  decodePullMessageRequestHeader,
  encodePullMessageResponseHeader,
  type PullMessageRequestHeader,
} from "../../codec/ext_fields.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import { type BrokerContext, type Channel, suggestTodo } from "../context.ts";
import type { GetResult, GetStatus } from "../store/types.ts";
import { Perm } from "../topics.ts";
import { pullRefusal } from "../topic_access.ts";
import { recordMatches, sqlFilter } from "../sql_filter.ts";
import type { Sql92Filter } from "../../codec/sql92.ts";

/** Pull sysFlag bits (`PullSysFlag.java`). */
const FLAG_COMMIT_OFFSET = 0x1;
const FLAG_SUSPEND = 0x2;
const FLAG_SUBSCRIPTION = 0x4;

/** Most messages per pull (`maxTransferCountOnMessageInMemory`). */
const MAX_TRANSFER_COUNT = 32;
/** Most bytes per pull (`maxTransferBytesOnMessageInMemory`). */
const MAX_TRANSFER_BYTES = 256 * 1024;

/**
 * Whether a message's tags code matches a TAG subscription
 * (`ExpressionMessageFilter.isMatchedByConsumeQueue`).
 *
 * @param sub The subscription.
 * @param tagsCode The message's tags code.
 * @returns `true` when it matches.
 *
 * @example
 * ```ts
 * import { matchesSubscription } from "./pull_message.ts";
 * import assert from "node:assert/strict";
 *
 * const sub = { topic: "T", subString: "TagA", tagsSet: ["TagA"], codeSet: [2598919], subVersion: 0, expressionType: "TAG" };
 * assert.equal(matchesSubscription(sub, 2598919), true);
 * assert.equal(matchesSubscription(sub, 0), false);
 * ```
 */
export function matchesSubscription(sub: SubscriptionData, tagsCode: number): boolean {
  if (sub.classFilterMode) return true;
  if (sub.subString === "*" || sub.subString === "") return true;
  return sub.codeSet.includes(tagsCode);
}

/**
 * Queue entries a SQL92 pull reads at most before it answers "nothing
 * matched, go on from here" (Java: 16000 bytes of index / 20 = 800).
 */
const MAX_SQL_SCAN = 800;

/**
 * Read a queue keeping only the messages a SQL92 filter matches; reads on
 * past non-matching ones, up to {@linkcode MAX_SQL_SCAN} entries.
 */
async function readMatching(
  ctx: BrokerContext,
  header: PullMessageRequestHeader,
  sql: Sql92Filter,
  maxCount: number,
  maxBytes: number,
): Promise<GetResult> {
  let offset = header.queueOffset;
  for (;;) {
    const result = await ctx.store.get(header.topic, header.queueId, offset, maxCount, maxBytes);
    if (result.status !== "FOUND") {
      if (offset === header.queueOffset) return result;
      // Everything read so far was filtered out: go on from here.
      return { ...result, status: "NO_MATCHED_MESSAGE", nextBeginOffset: offset };
    }
    const records: Uint8Array[] = [];
    const queueOffsets: number[] = [];
    for (let i = 0; i < result.records.length; i++) {
      if (!recordMatches(sql, result.records[i]!)) continue;
      records.push(result.records[i]!);
      queueOffsets.push(result.queueOffsets[i]!);
    }
    if (records.length > 0) return { ...result, records, queueOffsets };
    offset = result.nextBeginOffset;
    if (offset - header.queueOffset >= MAX_SQL_SCAN || offset >= result.maxOffset) {
      return { ...result, status: "NO_MATCHED_MESSAGE", records, queueOffsets };
    }
  }
}

function statusCode(status: GetStatus, requestOffset: number): number {
  switch (status) {
    case "FOUND":
      return ResponseCode.SUCCESS;
    case "NO_MATCHED_MESSAGE":
      return ResponseCode.PULL_RETRY_IMMEDIATELY;
    case "NO_MATCHED_LOGIC_QUEUE":
    case "NO_MESSAGE_IN_QUEUE":
      return requestOffset !== 0 ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND;
    case "OFFSET_FOUND_NULL":
    case "OFFSET_OVERFLOW_ONE":
      return ResponseCode.PULL_NOT_FOUND;
    case "OFFSET_OVERFLOW_BADLY":
    case "OFFSET_TOO_SMALL":
      return ResponseCode.PULL_OFFSET_MOVED;
  }
}

function refuse(request: RemotingCommand, code: number, remark: string): RemotingCommand {
  return createResponse(request, code, undefined, { remark });
}

/**
 * Handles PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361): the same request
 * header, the same answers (the lite pull sysFlag bit 0x10 changes nothing on
 * the broker).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @param channel The consumer's channel.
 * @returns The response; for a held pull, a promise settled when it is
 * woken (or `undefined` if its channel closed first).
 * @throws {CodecError} When the header is malformed.
 *
 * @example A pull on an empty queue without the suspend flag
 * ```ts
 * import { Broker } from "../broker.ts";
 * import { memoryPair } from "../../transport/memory.ts";
 * import { RemotingConnection } from "../../remoting/connection.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker();
 * broker.topics.update({ topicName: "orders", readQueueNums: 4, writeQueueNums: 4, perm: 6,
 *   topicFilterType: "SINGLE_TAG", topicSysFlag: 0, order: false });
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const pull = (topic: string) => client.invoke(createRequest(11, {
 *   consumerGroup: "CG", topic, queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: 4,
 *   commitOffset: 0, suspendTimeoutMillis: 0, subscription: "*", subVersion: 0,
 * }), { timeout: 1000 });
 * const res = await pull("orders");
 * assert.equal(res.code, 19);
 * assert.equal(res.extFields.nextBeginOffset, "0");
 * assert.equal((await pull("TBW102")).code, 16); // system topics are not for clients
 * await client.close();
 * await broker.close();
 * ```
 */
export function pullMessage(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
): Promise<RemotingCommand | undefined> {
  const header = decodePullMessageRequestHeader(request.extFields);
  ctx.pullers.recordPull(header.consumerGroup, header.topic, header.queueId, channel);
  return processPull(ctx, request, header, channel, true);
}

async function processPull(
  ctx: BrokerContext,
  request: RemotingCommand,
  header: PullMessageRequestHeader,
  channel: Channel,
  allowSuspend: boolean,
): Promise<RemotingCommand | undefined> {
  const forbidden = pullRefusal(ctx, header.topic, header.consumerGroup, channel);
  if (forbidden !== undefined) return refuse(request, ResponseCode.NO_PERMISSION, forbidden);
  const topic = ctx.topics.get(header.topic);
  if (!topic) {
    return refuse(
      request,
      ResponseCode.TOPIC_NOT_EXIST,
      `topic[${header.topic}] not exist, apply first please! ${suggestTodo()}`,
    );
  }
  if ((topic.perm & Perm.READ) === 0) {
    return refuse(
      request,
      ResponseCode.NO_PERMISSION,
      `the topic[${header.topic}] pulling message is forbidden`,
    );
  }
  if (header.queueId < 0 || header.queueId >= topic.readQueueNums) {
    return refuse(
      request,
      ResponseCode.INVALID_PARAMETER,
      `queueId[${header.queueId}] is illegal, topic:[${header.topic}] topicConfig.readQueueNums:[${topic.readQueueNums}] consumer:[${channel.label}]`,
    );
  }

  let sub: SubscriptionData;
  if ((header.sysFlag & FLAG_SUBSCRIPTION) !== 0) {
    try {
      sub = buildSubscriptionData(
        header.topic,
        header.subscription ?? "",
        header.subVersion,
        header.expressionType ?? ExpressionType.TAG,
      );
    } catch {
      return refuse(
        request,
        ResponseCode.SUBSCRIPTION_PARSE_FAILED,
        "parse the consumer's subscription failed",
      );
    }
  } else {
    const group = ctx.registry.consumerGroup(header.consumerGroup);
    if (!group) {
      return refuse(
        request,
        ResponseCode.SUBSCRIPTION_NOT_EXIST,
        `the consumer's group info not exist${suggestTodo()}`,
      );
    }
    const found = group.subscriptions.get(header.topic);
    if (!found) {
      return refuse(
        request,
        ResponseCode.SUBSCRIPTION_NOT_EXIST,
        `the consumer's subscription not exist${suggestTodo()}`,
      );
    }
    if (found.subVersion < header.subVersion) {
      return refuse(
        request,
        ResponseCode.SUBSCRIPTION_NOT_LATEST,
        "the consumer's subscription not latest",
      );
    }
    sub = found;
  }
  let sql: Sql92Filter | undefined;
  if (sub.expressionType !== ExpressionType.TAG && !ctx.settings.enablePropertyFilter) {
    return refuse(
      request,
      ResponseCode.SYSTEM_ERROR,
      `The broker does not support consumer to filter message by ${sub.expressionType}`,
    );
  }
  if (sub.expressionType === ExpressionType.SQL92 && !sub.classFilterMode) {
    try {
      sql = sqlFilter(sub.subString);
    } catch {
      // As PullMessageProcessor: from the request, the expression did not
      // parse; from the heartbeat, no filter data could be built from it.
      return (header.sysFlag & FLAG_SUBSCRIPTION) !== 0
        ? refuse(
          request,
          ResponseCode.SUBSCRIPTION_PARSE_FAILED,
          "parse the consumer's subscription failed",
        )
        : refuse(
          request,
          ResponseCode.FILTER_DATA_NOT_EXIST,
          "The broker's consumer filter data is not exist!Your expression may be wrong!",
        );
    }
  } else if (sub.expressionType !== ExpressionType.TAG) {
    return refuse(
      request,
      ResponseCode.SYSTEM_ERROR,
      `The broker does not support consumer to filter message by ${sub.expressionType}`,
    );
  }

  // A SQL92 subscription is decided on each message's properties: when read
  // (readMatching), and when one arrives for a held pull, so that only a
  // matching message wakes it (as RocketMQ's notifyMessageArriving) and not
  // each arrival, which would cost a round trip per message.
  const filter = sql
    ? (_tagsCode: number, properties?: () => Readonly<Record<string, string>>): boolean =>
      properties === undefined || sql.matches(properties())
    : (tagsCode: number): boolean => matchesSubscription(sub, tagsCode);
  const maxCount = Math.max(1, Math.min(header.maxMsgNums, MAX_TRANSFER_COUNT));
  const maxBytes = Math.max(
    1,
    Math.min(header.maxMsgBytes ?? MAX_TRANSFER_BYTES, MAX_TRANSFER_BYTES),
  );
  // The piggybacked commit is applied now, in the order requests arrived:
  // after the read it could land after a later UPDATE_CONSUMER_OFFSET (the
  // final commit of a queue given up) and move the offset back.
  if (allowSuspend && (header.sysFlag & FLAG_COMMIT_OFFSET) !== 0) {
    ctx.store.commitOffset(header.consumerGroup, header.topic, header.queueId, header.commitOffset);
  }
  const result: GetResult = sql
    ? await readMatching(ctx, header, sql, maxCount, maxBytes)
    : await ctx.store.get(
      header.topic,
      header.queueId,
      header.queueOffset,
      maxCount,
      maxBytes,
      filter,
    );

  const code = statusCode(result.status, header.queueOffset);
  const responseHeader = encodePullMessageResponseHeader({
    suggestWhichBrokerId: 0,
    nextBeginOffset: result.nextBeginOffset,
    minOffset: result.minOffset,
    maxOffset: result.maxOffset,
    topicSysFlag: topic.topicSysFlag,
    groupSysFlag: 0,
  });
  ctx.meters.read(
    header.consumerGroup,
    header.topic,
    code === ResponseCode.SUCCESS ? result.records.length : 0,
  );
  if (code === ResponseCode.SUCCESS) {
    ctx.counters.messagesPulled += result.records.length;
    return createResponse(request, code, responseHeader, {
      remark: result.status,
      body: concat(result.records),
    });
  }
  if (code === ResponseCode.PULL_OFFSET_MOVED) {
    ctx.logger.info("pull: offset moved", {
      group: header.consumerGroup,
      topic: header.topic,
      queueId: header.queueId,
      requested: header.queueOffset,
      corrected: result.nextBeginOffset,
    });
  }
  const response = createResponse(request, code, responseHeader, { remark: result.status });
  if (
    code !== ResponseCode.PULL_NOT_FOUND || !allowSuspend || (header.sysFlag & FLAG_SUSPEND) === 0
  ) {
    return response;
  }
  // Something arrived while the store was read: run again at once.
  if (ctx.store.maxOffset(header.topic, header.queueId) !== result.maxOffset) {
    return processPull(ctx, request, header, channel, false);
  }
  if (channel.connection.isClosed) return undefined;
  const timeout = Math.min(Math.max(0, header.suspendTimeoutMillis), ctx.settings.maxSuspendMillis);
  return new Promise((resolve) => {
    const held = ctx.pulls.hold({
      channel,
      topic: header.topic,
      queueId: header.queueId,
      offset: header.queueOffset,
      timeout,
      filter,
      wake: () => {
        processPull(ctx, request, header, channel, false).then(resolve, (err) => {
          ctx.logger.warn("pull: woken pull failed", { err });
          resolve(refuse(request, ResponseCode.SYSTEM_ERROR, String(err)));
        });
      },
      drop: () => resolve(undefined),
    });
    if (!held) resolve(response);
  });
}
