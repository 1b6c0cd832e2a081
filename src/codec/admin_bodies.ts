/**
 * JSON bodies of the admin calls that reach clients and list connections:
 * GET_CONSUMER_RUNNING_INFO (307, `ConsumerRunningInfo`),
 * CONSUME_MESSAGE_DIRECTLY (309, `ConsumeMessageDirectlyResult`),
 * GET_CONSUMER_CONNECTION_LIST (203, `ConsumerConnection`),
 * GET_PRODUCER_CONNECTION_LIST (204, `ProducerConnection`),
 * GET_CONSUME_STATS (208, `ConsumeStats`), GET_TOPIC_STATS_INFO (202,
 * `TopicStatsTable`) and GET_BROKER_RUNTIME_INFO (28, `KVTable`).
 *
 * `ConsumerRunningInfo.mqTable` and `ConsumeStats.offsetTable` are maps keyed by `MessageQueue` objects;
 * fastjson writes such keys as JSON objects (`{{"brokerName":…}:{…}}`, not
 * JSON), and Java's admin tools read them back only in that form, so
 * {@linkcode encodeConsumerRunningInfo} writes it so. Everything else is
 * standard JSON.
 *
 * @example A running info round trip
 * ```ts
 * import { decodeConsumerRunningInfo, encodeConsumerRunningInfo } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const body = encodeConsumerRunningInfo({
 *   properties: { PROP_CONSUME_TYPE: "CONSUME_PASSIVELY" },
 *   subscriptionSet: [], mqTable: [], statusTable: {}, userConsumerInfo: {},
 * });
 * assert.equal(decodeConsumerRunningInfo(body).properties.PROP_CONSUME_TYPE, "CONSUME_PASSIVELY");
 * ```
 *
 * @module
 */

import * as v from "valibot";
import { describeValue } from "./_schema.ts";
import { utf8Encode } from "./_utf8.ts";
import {
  decodeBody,
  encodeBody,
  jBool,
  jInt,
  jLong,
  jString,
  map,
  messageQueueJson,
  messageQueueSchema,
  object,
  optionalList,
  subscriptionDataSchema,
  subscriptionJson,
} from "./_json_body.ts";
import type { MessageQueue, SubscriptionData } from "./bodies.ts";
import { parseFastJson, stringifyJson } from "./fastjson.ts";

/**
 * What a consumer says about one of its queues (`ProcessQueueInfo`).
 *
 * @example
 * ```ts
 * import type { ProcessQueueInfo } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const info: ProcessQueueInfo = {
 *   commitOffset: 42, cachedMsgMinOffset: 42, cachedMsgMaxOffset: 44, cachedMsgCount: 3, cachedMsgSizeInMiB: 0,
 *   transactionMsgMinOffset: 0, transactionMsgMaxOffset: 0, transactionMsgCount: 0,
 *   locked: false, tryUnlockTimes: 0, lastLockTimestamp: 0, droped: false,
 *   lastPullTimestamp: 1_700_000_000_000, lastConsumeTimestamp: 1_700_000_000_000,
 * };
 * assert.equal(info.cachedMsgCount, 3);
 * ```
 */
export interface ProcessQueueInfo {
  /** Offset committed for the queue (next to consume). */
  commitOffset: number;
  /** Lowest offset cached and not yet consumed. */
  cachedMsgMinOffset: number;
  /** Highest offset cached. */
  cachedMsgMaxOffset: number;
  /** Messages cached. */
  cachedMsgCount: number;
  /** Size of the cached messages (MiB). */
  cachedMsgSizeInMiB: number;
  /** Orderly consumers: lowest offset being consumed. */
  transactionMsgMinOffset: number;
  /** Orderly consumers: highest offset being consumed. */
  transactionMsgMaxOffset: number;
  /** Orderly consumers: messages being consumed. */
  transactionMsgCount: number;
  /** Orderly consumers: the queue is locked on the broker. */
  locked: boolean;
  /** Orderly consumers: failed unlock attempts. */
  tryUnlockTimes: number;
  /** Orderly consumers: last lock time (ms). */
  lastLockTimestamp: number;
  /** The queue was dropped (Java's spelling). */
  droped: boolean;
  /** Last pull (ms). */
  lastPullTimestamp: number;
  /** Last consumption (ms). */
  lastConsumeTimestamp: number;
}

/**
 * Consumption rates of one topic (`ConsumeStatus`), as `mqadmin` shows them.
 *
 * @example
 * ```ts
 * import type { ConsumeStatus } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const status: ConsumeStatus = {
 *   pullRT: 2.5, pullTPS: 10, consumeRT: 1.25, consumeOKTPS: 9.5, consumeFailedTPS: 0.5, consumeFailedMsgs: 3,
 * };
 * assert.equal(status.consumeFailedMsgs, 3);
 * ```
 */
export interface ConsumeStatus {
  /** Average pull round trip (ms). */
  pullRT: number;
  /** Pulls per second. */
  pullTPS: number;
  /** Average handling time (ms). */
  consumeRT: number;
  /** Messages handled per second. */
  consumeOKTPS: number;
  /** Handler failures per second. */
  consumeFailedTPS: number;
  /** Handler failures in the last hour. */
  consumeFailedMsgs: number;
}

/**
 * Body of a GET_CONSUMER_RUNNING_INFO response (`ConsumerRunningInfo`):
 * what a consumer client says about one of its groups.
 *
 * @example
 * ```ts
 * import type { ConsumerRunningInfo } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const info: ConsumerRunningInfo = {
 *   properties: { PROP_CONSUME_TYPE: "CONSUME_PASSIVELY", PROP_CONSUMER_START_TIMESTAMP: "1700000000000" },
 *   subscriptionSet: [], mqTable: [], statusTable: {}, userConsumerInfo: {},
 * };
 * assert.equal(info.jstack, undefined);
 * ```
 */
export interface ConsumerRunningInfo {
  /**
   * Free-form properties. Java's admin tools require `PROP_CONSUME_TYPE`
   * and `PROP_CONSUMER_START_TIMESTAMP`.
   */
  properties: Record<string, string>;
  /** The group's subscriptions. */
  subscriptionSet: SubscriptionData[];
  /** The queues the client holds, in `MessageQueue` order. */
  mqTable: Array<{ queue: MessageQueue; info: ProcessQueueInfo }>;
  /** Rates per subscribed topic. */
  statusTable: Record<string, ConsumeStatus>;
  /** More key/value lines shown by `mqadmin consumerStatus`. */
  userConsumerInfo: Record<string, string>;
  /** A thread dump (Java clients, when asked). */
  jstack?: string;
}

const processQueueInfoSchema = object({
  commitOffset: v.optional(jLong, 0),
  cachedMsgMinOffset: v.optional(jLong, 0),
  cachedMsgMaxOffset: v.optional(jLong, 0),
  cachedMsgCount: v.optional(jInt, 0),
  cachedMsgSizeInMiB: v.optional(jInt, 0),
  transactionMsgMinOffset: v.optional(jLong, 0),
  transactionMsgMaxOffset: v.optional(jLong, 0),
  transactionMsgCount: v.optional(jInt, 0),
  locked: v.optional(jBool, false),
  tryUnlockTimes: v.optional(jLong, 0),
  lastLockTimestamp: v.optional(jLong, 0),
  droped: v.optional(jBool, false),
  lastPullTimestamp: v.optional(jLong, 0),
  lastConsumeTimestamp: v.optional(jLong, 0),
});

/** A double, as fastjson writes one (also as a string). */
const jDouble: v.GenericSchema<unknown, number> = v.pipe(
  v.unknown(),
  v.rawTransform<unknown, number>(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
    if (!Number.isFinite(n)) {
      addIssue({ message: `expected a number, got ${describeValue(value)}` });
      return NEVER;
    }
    return n;
  }),
);

const consumeStatusSchema = object({
  pullRT: v.optional(jDouble, 0),
  pullTPS: v.optional(jDouble, 0),
  consumeRT: v.optional(jDouble, 0),
  consumeOKTPS: v.optional(jDouble, 0),
  consumeFailedTPS: v.optional(jDouble, 0),
  consumeFailedMsgs: v.optional(jLong, 0),
});

const queueKeyed = <T>(value: v.GenericSchema<unknown, T>) =>
  v.pipe(
    map(value),
    v.rawTransform<Record<string, T>, Array<{ queue: MessageQueue; info: T }>>(
      ({ dataset, addIssue, NEVER }) => {
        const out: Array<{ queue: MessageQueue; info: T }> = [];
        for (const [key, info] of Object.entries(dataset.value)) {
          let parsed: unknown;
          try {
            parsed = parseFastJson(key);
          } catch {
            parsed = undefined;
          }
          const result = v.safeParse(messageQueueSchema, parsed);
          if (!result.success) {
            addIssue({ message: `key ${describeValue(key)} is not a MessageQueue object` });
            return NEVER;
          }
          out.push({ queue: result.output, info });
        }
        return out;
      },
    ),
  );

const consumerRunningInfoSchema = object({
  properties: v.optional(map(jString), () => ({})),
  subscriptionSet: optionalList(subscriptionDataSchema),
  mqTable: v.optional(queueKeyed(processQueueInfoSchema), () => ({})),
  statusTable: v.optional(map(consumeStatusSchema), () => ({})),
  userConsumerInfo: v.optional(map(jString), () => ({})),
  jstack: v.optional(jString),
});

function compareQueue(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/**
 * Encode a GET_CONSUMER_RUNNING_INFO body as fastjson writes it: the
 * `mqTable` keys are `MessageQueue` JSON objects (in `MessageQueue` order,
 * as Java's `TreeMap`), which Java's `ConsumerRunningInfo.decode` needs.
 *
 * @param info The running info.
 * @returns The body bytes.
 * @throws {InvalidArgumentError} On values JSON cannot carry.
 *
 * @example
 * ```ts
 * import { encodeConsumerRunningInfo } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(encodeConsumerRunningInfo({
 *   properties: {}, subscriptionSet: [], statusTable: {}, userConsumerInfo: {},
 *   mqTable: [{
 *     queue: { topic: "T", brokerName: "b", queueId: 0 },
 *     info: {
 *       commitOffset: 7, cachedMsgMinOffset: 0, cachedMsgMaxOffset: 0, cachedMsgCount: 0, cachedMsgSizeInMiB: 0,
 *       transactionMsgMinOffset: 0, transactionMsgMaxOffset: 0, transactionMsgCount: 0, locked: false,
 *       tryUnlockTimes: 0, lastLockTimestamp: 0, droped: false, lastPullTimestamp: 0, lastConsumeTimestamp: 0,
 *     },
 *   }],
 * }));
 * assert.ok(text.includes('"mqTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"cachedMsgCount":0,'));
 * ```
 */
export function encodeConsumerRunningInfo(info: Readonly<ConsumerRunningInfo>): Uint8Array {
  const entries = [...info.mqTable].sort((a, b) => compareQueue(a.queue, b.queue)).map((e) =>
    `${stringifyJson(messageQueueJson(e.queue))}:${stringifyJson(e.info)}`
  );
  const subscriptions = [...info.subscriptionSet]
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
    .map((s) => stringifyJson(subscriptionJson(s)));
  const parts = [
    ...(info.jstack !== undefined ? [`"jstack":${stringifyJson(info.jstack)}`] : []),
    `"mqPopTable":{}`,
    `"mqTable":{${entries.join(",")}}`,
    `"properties":${stringifyJson(info.properties)}`,
    `"statusTable":${stringifyJson(info.statusTable)}`,
    `"subscriptionSet":[${subscriptions.join(",")}]`,
    `"userConsumerInfo":${stringifyJson(info.userConsumerInfo)}`,
  ];
  return utf8Encode(`{${parts.join(",")}}`);
}

/**
 * Decode a GET_CONSUMER_RUNNING_INFO body (from Java clients or ours).
 *
 * @param body The response body.
 * @returns The running info, missing fields filled with Java's defaults.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeConsumerRunningInfo } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const info = decodeConsumerRunningInfo(new TextEncoder().encode(
 *   '{"mqTable":{{"brokerName":"b","queueId":1,"topic":"T"}:{"commitOffset":9}},"properties":{"a":"1"}}',
 * ));
 * assert.equal(info.mqTable[0]?.queue.queueId, 1);
 * assert.equal(info.mqTable[0]?.info.commitOffset, 9);
 * assert.deepEqual(info.statusTable, {});
 * ```
 */
export function decodeConsumerRunningInfo(body: Uint8Array): ConsumerRunningInfo {
  const decoded = decodeBody(body, consumerRunningInfoSchema, "ConsumerRunningInfo");
  const out: ConsumerRunningInfo = {
    properties: decoded.properties,
    subscriptionSet: decoded.subscriptionSet,
    mqTable: decoded.mqTable as ConsumerRunningInfo["mqTable"],
    statusTable: decoded.statusTable,
    userConsumerInfo: decoded.userConsumerInfo,
  };
  if (decoded.jstack !== undefined) out.jstack = decoded.jstack;
  return out;
}

/**
 * `CMResult` names: how a CONSUME_MESSAGE_DIRECTLY went.
 *
 * @example
 * ```ts
 * import { CMResult } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CMResult.CR_THROW_EXCEPTION, "CR_THROW_EXCEPTION");
 * ```
 */
export const CMResult = {
  CR_SUCCESS: "CR_SUCCESS",
  CR_LATER: "CR_LATER",
  CR_ROLLBACK: "CR_ROLLBACK",
  CR_COMMIT: "CR_COMMIT",
  CR_THROW_EXCEPTION: "CR_THROW_EXCEPTION",
  CR_RETURN_NULL: "CR_RETURN_NULL",
} as const;

/**
 * Body of a CONSUME_MESSAGE_DIRECTLY response (`ConsumeMessageDirectlyResult`).
 *
 * @example
 * ```ts
 * import { decodeConsumeMessageDirectlyResult, encodeConsumeMessageDirectlyResult } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const body = encodeConsumeMessageDirectlyResult({
 *   order: false, autoCommit: true, consumeResult: "CR_SUCCESS", spentTimeMills: 3,
 * });
 * assert.equal(decodeConsumeMessageDirectlyResult(body).spentTimeMills, 3);
 * ```
 */
export interface ConsumeMessageDirectlyResult {
  /** Consumed by an orderly listener. */
  order: boolean;
  /** Offsets committed automatically. */
  autoCommit: boolean;
  /** A {@linkcode CMResult} name. */
  consumeResult: string;
  /** The error, when the handler threw. */
  remark?: string;
  /** Handling time (ms). */
  spentTimeMills: number;
}

const consumeMessageDirectlyResultSchema = object({
  order: v.optional(jBool, false),
  autoCommit: v.optional(jBool, true),
  consumeResult: v.optional(jString, CMResult.CR_RETURN_NULL),
  remark: v.optional(jString),
  spentTimeMills: v.optional(jLong, 0),
});

/**
 * Encode a CONSUME_MESSAGE_DIRECTLY response body.
 *
 * @param result The outcome.
 * @returns The body bytes.
 *
 * @example
 * ```ts
 * import { encodeConsumeMessageDirectlyResult } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   new TextDecoder().decode(encodeConsumeMessageDirectlyResult({
 *     order: false, autoCommit: true, consumeResult: "CR_LATER", remark: "busy", spentTimeMills: 1,
 *   })),
 *   '{"autoCommit":true,"consumeResult":"CR_LATER","order":false,"remark":"busy","spentTimeMills":1}',
 * );
 * ```
 */
export function encodeConsumeMessageDirectlyResult(
  result: Readonly<ConsumeMessageDirectlyResult>,
): Uint8Array {
  return encodeBody(result);
}

/**
 * Decode a CONSUME_MESSAGE_DIRECTLY response body.
 *
 * @param body The response body.
 * @returns The outcome.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeConsumeMessageDirectlyResult } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const r = decodeConsumeMessageDirectlyResult(new TextEncoder().encode('{"consumeResult":"CR_SUCCESS"}'));
 * assert.equal(r.autoCommit, true);
 * ```
 */
export function decodeConsumeMessageDirectlyResult(body: Uint8Array): ConsumeMessageDirectlyResult {
  const decoded = decodeBody(
    body,
    consumeMessageDirectlyResultSchema,
    "ConsumeMessageDirectlyResult",
  );
  const out: ConsumeMessageDirectlyResult = {
    order: decoded.order,
    autoCommit: decoded.autoCommit,
    consumeResult: decoded.consumeResult,
    spentTimeMills: decoded.spentTimeMills,
  };
  if (decoded.remark !== undefined) out.remark = decoded.remark;
  return out;
}

/**
 * One client connection as the broker lists it (`Connection`).
 *
 * @example
 * ```ts
 * import type { Connection } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const c: Connection = { clientId: "10.0.0.5@1", clientAddr: "10.0.0.5:50000", language: "JAVA", version: 479 };
 * assert.equal(c.language, "JAVA");
 * ```
 */
export interface Connection {
  /** Client id. */
  clientId: string;
  /** The client's `host:port`, as the broker sees it. */
  clientAddr: string;
  /** `LanguageCode` name of the client. */
  language: string;
  /** Version ordinal of the client. */
  version: number;
}

/**
 * Body of a GET_CONSUMER_CONNECTION_LIST response (`ConsumerConnection`).
 *
 * @example
 * ```ts
 * import { decodeConsumerConnection, encodeConsumerConnection, type ConsumerConnection } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const cc: ConsumerConnection = {
 *   connectionSet: [{ clientId: "c1", clientAddr: "10.0.0.5:1", language: "JAVA", version: 479 }],
 *   subscriptionTable: {}, consumeType: "CONSUME_PASSIVELY", messageModel: "CLUSTERING",
 *   consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
 * };
 * assert.deepEqual(decodeConsumerConnection(encodeConsumerConnection(cc)), cc);
 * ```
 */
export interface ConsumerConnection {
  /** The group's live connections. */
  connectionSet: Connection[];
  /** Subscriptions by topic. */
  subscriptionTable: Record<string, SubscriptionData>;
  /** `ConsumeType` name. */
  consumeType: string;
  /** `MessageModel` name. */
  messageModel: string;
  /** `ConsumeFromWhere` name. */
  consumeFromWhere: string;
}

const connectionSchema = object({
  clientId: jString,
  clientAddr: v.optional(jString, ""),
  language: v.optional(jString, "JAVA"),
  version: v.optional(jInt, 0),
});

const consumerConnectionSchema = object({
  connectionSet: optionalList(connectionSchema),
  subscriptionTable: v.optional(map(subscriptionDataSchema), () => ({})),
  consumeType: v.optional(jString, ""),
  messageModel: v.optional(jString, ""),
  consumeFromWhere: v.optional(jString, ""),
});

function connectionJson(c: Connection): Record<string, unknown> {
  return {
    clientAddr: c.clientAddr,
    clientId: c.clientId,
    language: c.language,
    version: c.version,
  };
}

/**
 * Encode a GET_CONSUMER_CONNECTION_LIST response body.
 *
 * @param value The connections.
 * @returns The body bytes.
 *
 * @example
 * ```ts
 * import { encodeConsumerConnection } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(encodeConsumerConnection({
 *   connectionSet: [], subscriptionTable: {}, consumeType: "CONSUME_PASSIVELY", messageModel: "CLUSTERING",
 *   consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
 * }));
 * assert.ok(text.startsWith('{"connectionSet":[],"consumeFromWhere":'));
 * ```
 */
export function encodeConsumerConnection(value: Readonly<ConsumerConnection>): Uint8Array {
  return encodeBody({
    connectionSet: value.connectionSet.map(connectionJson),
    consumeFromWhere: value.consumeFromWhere,
    consumeType: value.consumeType,
    messageModel: value.messageModel,
    subscriptionTable: Object.fromEntries(
      Object.entries(value.subscriptionTable).map(([topic, s]) => [topic, subscriptionJson(s)]),
    ),
  });
}

/**
 * Decode a GET_CONSUMER_CONNECTION_LIST response body.
 *
 * @param body The response body.
 * @returns The connections.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeConsumerConnection } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const cc = decodeConsumerConnection(new TextEncoder().encode(
 *   '{"connectionSet":[{"clientId":"c1","clientAddr":"10.0.0.5:1","language":"JAVA","version":479}],"messageModel":"CLUSTERING"}',
 * ));
 * assert.equal(cc.connectionSet[0]?.clientId, "c1");
 * ```
 */
export function decodeConsumerConnection(body: Uint8Array): ConsumerConnection {
  const decoded = decodeBody(body, consumerConnectionSchema, "ConsumerConnection");
  return {
    connectionSet: decoded.connectionSet,
    subscriptionTable: decoded.subscriptionTable,
    consumeType: decoded.consumeType,
    messageModel: decoded.messageModel,
    consumeFromWhere: decoded.consumeFromWhere,
  };
}

/**
 * Body of a GET_PRODUCER_CONNECTION_LIST response (`ProducerConnection`).
 *
 * @example
 * ```ts
 * import { decodeProducerConnection, encodeProducerConnection } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const pc = { connectionSet: [{ clientId: "p1", clientAddr: "10.0.0.6:2", language: "JAVA", version: 479 }] };
 * assert.deepEqual(decodeProducerConnection(encodeProducerConnection(pc)), pc);
 * ```
 */
export interface ProducerConnection {
  /** The group's live connections. */
  connectionSet: Connection[];
}

const producerConnectionSchema = object({ connectionSet: optionalList(connectionSchema) });

/**
 * Encode a GET_PRODUCER_CONNECTION_LIST response body.
 *
 * @param value The connections.
 * @returns The body bytes.
 *
 * @example
 * ```ts
 * import { encodeProducerConnection } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(encodeProducerConnection({ connectionSet: [] })), '{"connectionSet":[]}');
 * ```
 */
export function encodeProducerConnection(value: Readonly<ProducerConnection>): Uint8Array {
  return encodeBody({ connectionSet: value.connectionSet.map(connectionJson) });
}

/**
 * Decode a GET_PRODUCER_CONNECTION_LIST response body.
 *
 * @param body The response body.
 * @returns The connections.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeProducerConnection } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeProducerConnection(new TextEncoder().encode("{}")), { connectionSet: [] });
 * ```
 */
export function decodeProducerConnection(body: Uint8Array): ProducerConnection {
  return {
    connectionSet: decodeBody(body, producerConnectionSchema, "ProducerConnection").connectionSet,
  };
}

/**
 * A group's progress on one queue (`OffsetWrapper`).
 *
 * @example
 * ```ts
 * import type { OffsetWrapper } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const w: OffsetWrapper = { brokerOffset: 10, consumerOffset: 7, pullOffset: 7, lastTimestamp: 0 };
 * assert.equal(w.brokerOffset - w.consumerOffset, 3); // the lag mqadmin prints as #Diff
 * ```
 */
export interface OffsetWrapper {
  /** The queue's max offset (the next message's). */
  brokerOffset: number;
  /** The group's committed offset (the next to consume). */
  consumerOffset: number;
  /** Where the group's pulls have got to (5.x; the committed offset here). */
  pullOffset: number;
  /** Store time of the last consumed message (0: none). */
  lastTimestamp: number;
}

/**
 * Body of a GET_CONSUME_STATS response (`ConsumeStats`): what
 * `mqadmin consumerProgress` prints.
 *
 * @example
 * ```ts
 * import type { ConsumeStats } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const stats: ConsumeStats = { consumeTps: 0, offsetTable: [] };
 * assert.equal(stats.offsetTable.length, 0);
 * ```
 */
export interface ConsumeStats {
  /** Messages per second the group consumed lately. */
  consumeTps: number;
  /** Progress per queue. */
  offsetTable: Array<{ queue: MessageQueue; offsets: OffsetWrapper }>;
}

const offsetWrapperSchema = object({
  brokerOffset: v.optional(jLong, 0),
  consumerOffset: v.optional(jLong, 0),
  pullOffset: v.optional(jLong, 0),
  lastTimestamp: v.optional(jLong, 0),
});

const consumeStatsSchema = object({
  consumeTps: v.optional(jDouble, 0),
  offsetTable: v.optional(queueKeyed(offsetWrapperSchema), () => ({})),
});

/**
 * Encode a GET_CONSUME_STATS response body as fastjson writes it (the
 * `offsetTable` keys are `MessageQueue` JSON objects, which Java's
 * `ConsumeStats.decode` needs).
 *
 * @param stats The stats.
 * @returns The body bytes.
 *
 * @example
 * ```ts
 * import { encodeConsumeStats } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(encodeConsumeStats({
 *   consumeTps: 0,
 *   offsetTable: [{
 *     queue: { topic: "T", brokerName: "b", queueId: 0 },
 *     offsets: { brokerOffset: 3, consumerOffset: 2, pullOffset: 2, lastTimestamp: 0 },
 *   }],
 * }));
 * assert.equal(text, '{"consumeTps":0,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:' +
 *   '{"brokerOffset":3,"consumerOffset":2,"lastTimestamp":0,"pullOffset":2}}}');
 * ```
 */
export function encodeConsumeStats(stats: Readonly<ConsumeStats>): Uint8Array {
  const entries = [...stats.offsetTable].sort((a, b) => compareQueue(a.queue, b.queue)).map((e) =>
    `${stringifyJson(messageQueueJson(e.queue))}:${
      stringifyJson({
        brokerOffset: e.offsets.brokerOffset,
        consumerOffset: e.offsets.consumerOffset,
        lastTimestamp: e.offsets.lastTimestamp,
        pullOffset: e.offsets.pullOffset,
      })
    }`
  );
  return utf8Encode(
    `{"consumeTps":${stringifyJson(stats.consumeTps)},"offsetTable":{${entries.join(",")}}}`,
  );
}

/**
 * Decode a GET_CONSUME_STATS response body (from a RocketMQ broker or ours).
 *
 * @param body The response body.
 * @returns The stats, missing fields filled with Java's defaults.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeConsumeStats } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const stats = decodeConsumeStats(new TextEncoder().encode(
 *   '{"consumeTps":1.5,"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:{"brokerOffset":9,"consumerOffset":4}}}',
 * ));
 * assert.equal(stats.consumeTps, 1.5);
 * assert.deepEqual(stats.offsetTable[0]?.offsets, { brokerOffset: 9, consumerOffset: 4, pullOffset: 0, lastTimestamp: 0 });
 * ```
 */
export function decodeConsumeStats(body: Uint8Array): ConsumeStats {
  const decoded = decodeBody(body, consumeStatsSchema, "ConsumeStats");
  const table = decoded.offsetTable as unknown as Array<
    { queue: MessageQueue; info: OffsetWrapper }
  >;
  return {
    consumeTps: decoded.consumeTps,
    offsetTable: table.map((e) => ({ queue: e.queue, offsets: { ...e.info } })),
  };
}

/**
 * A queue's offsets and last store time (`TopicOffset`).
 *
 * @example
 * ```ts
 * import type { TopicOffset } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const o: TopicOffset = { minOffset: 0, maxOffset: 3, lastUpdateTimestamp: 1_700_000_000_000 };
 * assert.equal(o.maxOffset - o.minOffset, 3);
 * ```
 */
export interface TopicOffset {
  /** Smallest offset still held. */
  minOffset: number;
  /** The next message's offset. */
  maxOffset: number;
  /** Store time of the last message (0: none). */
  lastUpdateTimestamp: number;
}

/**
 * Body of a GET_TOPIC_STATS_INFO response (`TopicStatsTable`): what
 * `mqadmin topicStatus` prints.
 *
 * @example
 * ```ts
 * import type { TopicStatsTable } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const t: TopicStatsTable = { topicPutTps: 0, offsetTable: [] };
 * assert.equal(t.offsetTable.length, 0);
 * ```
 */
export interface TopicStatsTable {
  /** Messages per second put lately (5.x; 0 when not measured). */
  topicPutTps: number;
  /** Offsets per queue. */
  offsetTable: Array<{ queue: MessageQueue; offsets: TopicOffset }>;
}

const topicOffsetSchema = object({
  minOffset: v.optional(jLong, 0),
  maxOffset: v.optional(jLong, 0),
  lastUpdateTimestamp: v.optional(jLong, 0),
});

const topicStatsTableSchema = object({
  topicPutTps: v.optional(jDouble, 0),
  offsetTable: v.optional(queueKeyed(topicOffsetSchema), () => ({})),
});

/**
 * Encode a GET_TOPIC_STATS_INFO response body as fastjson writes it
 * (`MessageQueue` objects as keys, which Java's `TopicStatsTable.decode`
 * needs).
 *
 * @param table The table.
 * @returns The body bytes.
 *
 * @example
 * ```ts
 * import { encodeTopicStatsTable } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(encodeTopicStatsTable({
 *   topicPutTps: 0,
 *   offsetTable: [{ queue: { topic: "T", brokerName: "b", queueId: 0 }, offsets: { minOffset: 0, maxOffset: 2, lastUpdateTimestamp: 5 } }],
 * }));
 * assert.equal(text, '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:' +
 *   '{"lastUpdateTimestamp":5,"maxOffset":2,"minOffset":0}},"topicPutTps":0}');
 * ```
 */
export function encodeTopicStatsTable(table: Readonly<TopicStatsTable>): Uint8Array {
  const entries = [...table.offsetTable].sort((a, b) => compareQueue(a.queue, b.queue)).map((e) =>
    `${stringifyJson(messageQueueJson(e.queue))}:${
      stringifyJson({
        lastUpdateTimestamp: e.offsets.lastUpdateTimestamp,
        maxOffset: e.offsets.maxOffset,
        minOffset: e.offsets.minOffset,
      })
    }`
  );
  return utf8Encode(
    `{"offsetTable":{${entries.join(",")}},"topicPutTps":${stringifyJson(table.topicPutTps)}}`,
  );
}

/**
 * Decode a GET_TOPIC_STATS_INFO response body (from a RocketMQ broker or
 * ours).
 *
 * @param body The response body.
 * @returns The table, missing fields filled with Java's defaults.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeTopicStatsTable } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const t = decodeTopicStatsTable(new TextEncoder().encode(
 *   '{"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:{"maxOffset":9}}}',
 * ));
 * assert.deepEqual(t.offsetTable[0]?.offsets, { minOffset: 0, maxOffset: 9, lastUpdateTimestamp: 0 });
 * ```
 */
export function decodeTopicStatsTable(body: Uint8Array): TopicStatsTable {
  const decoded = decodeBody(body, topicStatsTableSchema, "TopicStatsTable");
  const table = decoded.offsetTable as unknown as Array<{ queue: MessageQueue; info: TopicOffset }>;
  return {
    topicPutTps: decoded.topicPutTps,
    offsetTable: table.map((e) => ({ queue: e.queue, offsets: { ...e.info } })),
  };
}

const kvTableSchema = object({ table: v.optional(map(jString), () => ({})) });

/**
 * Encode a `KVTable` body (GET_BROKER_RUNTIME_INFO: `{"table":{…}}`, what
 * `mqadmin brokerStatus` prints and `clusterList` reads).
 *
 * @param table Names and values.
 * @returns The body bytes.
 *
 * @example
 * ```ts
 * import { encodeKVTable } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(encodeKVTable({ brokerActive: "true" })), '{"table":{"brokerActive":"true"}}');
 * ```
 */
export function encodeKVTable(table: Readonly<Record<string, string>>): Uint8Array {
  return utf8Encode(stringifyJson({ table }));
}

/**
 * Decode a `KVTable` body.
 *
 * @param body The response body.
 * @returns Names and values.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeKVTable } from "./admin_bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeKVTable(new TextEncoder().encode('{"table":{"putTps":"1.0"}}')), { putTps: "1.0" });
 * ```
 */
export function decodeKVTable(body: Uint8Array): Record<string, string> {
  return { ...decodeBody(body, kvTableSchema, "KVTable").table };
}
