/**
 * JSON bodies of remoting commands: routes, heartbeats, consumer lists,
 * queue locks and cluster info. Decoders accept what fastjson writes
 * (unquoted map keys included, see {@linkcode parseFastJson}), validate with
 * valibot and fill Java's defaults for missing primitive fields; null is
 * treated as absent and unknown keys are ignored. Encoders write standard
 * JSON with keys in alphabetical order, as fastjson writes Java beans.
 *
 * @example A route from a name server
 * ```ts
 * import { decodeTopicRouteData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const route = decodeTopicRouteData(new TextEncoder().encode(
 *   '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],' +
 *   '"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":0,"writeQueueNums":4}]}',
 * ));
 * assert.equal(route.brokerDatas[0]?.brokerAddrs["0"], "127.0.0.1:10911");
 * assert.equal(route.queueDatas[0]?.topicSysFlag, 0);
 * ```
 *
 * @module
 */

import * as v from "valibot";
import { InvalidArgumentError } from "../errors.ts";
import { describeValue } from "./_schema.ts";
import { parseFastJson } from "./fastjson.ts";
import {
  decodeBody,
  encodeBody,
  jBool,
  jInt,
  jLong,
  jString,
  list,
  map,
  messageQueueJson,
  messageQueueSchema,
  object,
  optionalList,
  stripNulls,
  subscriptionDataSchema,
  subscriptionJson,
} from "./_json_body.ts";

// ---------------------------------------------------------------------------
// Enumerations, as their Java names.

/**
 * `ConsumeType` names (`ConsumerData.consumeType`).
 *
 * @example
 * ```ts
 * import { ConsumeType } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ConsumeType.PUSH, "CONSUME_PASSIVELY");
 * ```
 */
export const ConsumeType = {
  /** Pull consumers. */
  PULL: "CONSUME_ACTIVELY",
  /** Push consumers. */
  PUSH: "CONSUME_PASSIVELY",
  /** 5.x pop consumers. */
  POP: "CONSUME_POP",
} as const;

/**
 * `MessageModel` names (`ConsumerData.messageModel`).
 *
 * @example
 * ```ts
 * import { MessageModel } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MessageModel.CLUSTERING, "CLUSTERING");
 * ```
 */
export const MessageModel = {
  /** Each message goes to every consumer of the group. */
  BROADCASTING: "BROADCASTING",
  /** Each message goes to one consumer of the group. */
  CLUSTERING: "CLUSTERING",
} as const;

/**
 * `ConsumeFromWhere` names (`ConsumerData.consumeFromWhere`), without the
 * three deprecated ones (which decoders accept as any other string).
 *
 * @example
 * ```ts
 * import { ConsumeFromWhere } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ConsumeFromWhere.LAST_OFFSET, "CONSUME_FROM_LAST_OFFSET");
 * ```
 */
export const ConsumeFromWhere = {
  /** Start at the end of the queue (default). */
  LAST_OFFSET: "CONSUME_FROM_LAST_OFFSET",
  /** Start at the beginning of the queue. */
  FIRST_OFFSET: "CONSUME_FROM_FIRST_OFFSET",
  /** Start at a store time. */
  TIMESTAMP: "CONSUME_FROM_TIMESTAMP",
} as const;

/**
 * Subscription expression types (`ExpressionType.java`).
 *
 * @example
 * ```ts
 * import { ExpressionType } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ExpressionType.TAG, "TAG");
 * ```
 */
export const ExpressionType = {
  /** Tag expression: `*` or `TagA || TagB`. */
  TAG: "TAG",
  /** SQL92 filter on properties (needs `enablePropertyFilter` on the broker). */
  SQL92: "SQL92",
} as const;

// ---------------------------------------------------------------------------
// TopicRouteData (GET_ROUTEINFO_BY_TOPIC, 105)

/**
 * Queues of a topic on one broker (`QueueData`).
 *
 * @example Permission bits
 * ```ts
 * import type { QueueData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const q: QueueData = { brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 };
 * assert.ok((q.perm & 2) !== 0); // writable
 * assert.ok((q.perm & 4) !== 0); // readable
 * ```
 */
export interface QueueData {
  /** Broker name. */
  brokerName: string;
  /** Number of readable queues. */
  readQueueNums: number;
  /** Number of writable queues. */
  writeQueueNums: number;
  /** Permission bits: 2 write, 4 read, 1 inherit, 8 priority. */
  perm: number;
  /** Topic sys flag; brokers before 4.9.0 spell the key `topicSynFlag`. Default 0. */
  topicSysFlag: number;
}

/**
 * One broker group: master (id 0) and slaves (`BrokerData`).
 *
 * @example The master's address
 * ```ts
 * import { decodeTopicRouteData, type BrokerData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const route = decodeTopicRouteData(new TextEncoder().encode(
 *   '{"queueDatas":[],"brokerDatas":[{"cluster":"C","brokerName":"broker-a",' +
 *     '"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}}]}',
 * ));
 * const b: BrokerData = route.brokerDatas[0]!;
 * assert.equal(b.brokerAddrs["0"], "10.0.0.1:10911"); // id 0 is the master
 * assert.equal(b.enableActingMaster, false); // Java's default, filled in
 * ```
 */
export interface BrokerData {
  /** Cluster name. */
  cluster: string;
  /** Broker name. */
  brokerName: string;
  /** Broker id (decimal text; 0 = master) → `"ip:port"`. */
  brokerAddrs: Record<string, string>;
  /** 5.0+: zone name. */
  zoneName?: string;
  /** 5.0+: acting master enabled; decoders fill Java's default false. */
  enableActingMaster?: boolean;
}

/**
 * Route of a topic (`TopicRouteData`).
 *
 * @example Where a producer may send
 * ```ts
 * import type { TopicRouteData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const route: TopicRouteData = {
 *   queueDatas: [
 *     { brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
 *     { brokerName: "broker-b", readQueueNums: 4, writeQueueNums: 4, perm: 4, topicSysFlag: 0 },
 *   ],
 *   brokerDatas: [
 *     { cluster: "C", brokerName: "broker-a", brokerAddrs: { "0": "10.0.0.1:10911" } },
 *     { cluster: "C", brokerName: "broker-b", brokerAddrs: { "0": "10.0.0.2:10911" } },
 *   ],
 * };
 * const writable = route.queueDatas.filter((q) => (q.perm & 2) !== 0).map((q) => q.brokerName);
 * assert.deepEqual(writable, ["broker-a"]); // broker-b is read-only
 * ```
 */
export interface TopicRouteData {
  /** `"brokerA:4;brokerB:4"` for ordered topics. */
  orderTopicConf?: string;
  /** Queues per broker. */
  queueDatas: QueueData[];
  /** Brokers. */
  brokerDatas: BrokerData[];
  /** Broker address → filter server addresses. */
  filterServerTable?: Record<string, string[]>;
}

const QueueDataSchema: v.GenericSchema<unknown, QueueData> = v.pipe(
  object({
    brokerName: jString,
    readQueueNums: jInt,
    writeQueueNums: jInt,
    perm: jInt,
    topicSysFlag: v.exactOptional(jInt),
    topicSynFlag: v.exactOptional(jInt),
  }),
  v.transform((q) => ({
    brokerName: q.brokerName,
    readQueueNums: q.readQueueNums,
    writeQueueNums: q.writeQueueNums,
    perm: q.perm,
    topicSysFlag: q.topicSysFlag ?? q.topicSynFlag ?? 0,
  })),
);

const BROKER_ID = v.pipe(v.string(), v.regex(/^-?\d{1,19}$/, "broker id is not a number"));

const BrokerDataSchema: v.GenericSchema<unknown, BrokerData> = object({
  cluster: jString,
  brokerName: jString,
  brokerAddrs: map(jString, BROKER_ID),
  zoneName: v.exactOptional(jString),
  enableActingMaster: v.optional(jBool, false),
});

const TopicRouteDataSchema: v.GenericSchema<unknown, TopicRouteData> = object({
  orderTopicConf: v.exactOptional(jString),
  queueDatas: list(QueueDataSchema),
  brokerDatas: list(BrokerDataSchema),
  filterServerTable: v.exactOptional(map(list(jString))),
});

function brokerDataJson(b: BrokerData): Record<string, unknown> {
  return {
    brokerAddrs: b.brokerAddrs,
    brokerName: b.brokerName,
    cluster: b.cluster,
    enableActingMaster: b.enableActingMaster ?? false,
    zoneName: b.zoneName,
  };
}

/**
 * Decode a route (GET_ROUTEINFO_BY_TOPIC response body), standard JSON or
 * fastjson's unquoted broker ids. The legacy key `topicSynFlag` is accepted.
 *
 * @param body The response body.
 * @returns The route.
 * @throws {CodecError} With reason `"json"` for malformed JSON, `"schema"`
 * naming the field's path for a wrong shape.
 *
 * @example
 * ```ts
 * import { decodeTopicRouteData } from "./bodies.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => decodeTopicRouteData(new TextEncoder().encode('{"queueDatas":[{"brokerName":"b"}],"brokerDatas":[]}')),
 *   (e) => e instanceof CodecError && e.message === "TopicRouteData: field queueDatas.0.readQueueNums: is required but missing",
 * );
 * ```
 */
export function decodeTopicRouteData(body: Uint8Array): TopicRouteData {
  return decodeBody(body, TopicRouteDataSchema, "TopicRouteData");
}

/**
 * Encode a route as the name server does for clients of version ≥ 4.9.4:
 * standard JSON, keys sorted (broker ids in numeric order).
 *
 * @param route The route.
 * @returns The body.
 * @throws {InvalidArgumentError} When a value cannot be written as JSON.
 *
 * @example The name server's real body
 * ```ts
 * import { encodeTopicRouteData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const body = encodeTopicRouteData({
 *   queueDatas: [{ brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
 *   brokerDatas: [{ cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: { "0": "127.0.0.1:10911" } }],
 *   filterServerTable: {},
 * });
 * assert.equal(new TextDecoder().decode(body),
 *   '{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster",' +
 *   '"enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,' +
 *   '"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}');
 * ```
 */
export function encodeTopicRouteData(route: Readonly<TopicRouteData>): Uint8Array {
  return encodeBody({
    brokerDatas: route.brokerDatas.map(brokerDataJson),
    filterServerTable: route.filterServerTable,
    orderTopicConf: route.orderTopicConf,
    queueDatas: route.queueDatas.map((q) => ({
      brokerName: q.brokerName,
      perm: q.perm,
      readQueueNums: q.readQueueNums,
      topicSysFlag: q.topicSysFlag,
      writeQueueNums: q.writeQueueNums,
    })),
  });
}

// ---------------------------------------------------------------------------
// HeartbeatData (HEART_BEAT, 34)

/**
 * A producer group of a client (`ProducerData`).
 *
 * @example
 * ```ts
 * import { encodeHeartbeatData, type ProducerData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const producer: ProducerData = { groupName: "PG" };
 * const body = encodeHeartbeatData({ clientID: "10.0.0.5@1", producerDataSet: [producer], consumerDataSet: [] });
 * assert.match(new TextDecoder().decode(body), /"producerDataSet":\[\{"groupName":"PG"\}\]/);
 * ```
 */
export interface ProducerData {
  /** Producer group. */
  groupName: string;
}

/**
 * One subscription (`SubscriptionData`).
 *
 * @example A TAG subscription
 * ```ts
 * import { buildSubscriptionData, javaStringHashCode, type SubscriptionData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const s: SubscriptionData = buildSubscriptionData("TopicTest", "TagA || TagB", 1700000000001);
 * assert.deepEqual(s.tagsSet, ["TagA", "TagB"]);
 * assert.deepEqual(s.codeSet, s.tagsSet.map(javaStringHashCode)); // brokers filter by these hashes
 * ```
 */
export interface SubscriptionData {
  /** Topic. */
  topic: string;
  /** The expression (`*` = all). */
  subString: string;
  /** Tags of a TAG expression. */
  tagsSet: string[];
  /** Java `String.hashCode()` of each tag ({@linkcode javaStringHashCode}). */
  codeSet: number[];
  /** ms timestamp of the subscription's creation; default 0 (Java: the decode time). */
  subVersion: number;
  /** `TAG` or `SQL92`; default `TAG`. */
  expressionType: string;
  /** Class filter mode (legacy); decoders fill Java's default false. */
  classFilterMode?: boolean;
}

/**
 * A consumer group of a client (`ConsumerData`).
 *
 * @example A push consumer of one topic
 * ```ts
 * import {
 *   buildSubscriptionData, ConsumeFromWhere, type ConsumerData, ConsumeType, MessageModel,
 * } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const consumer: ConsumerData = {
 *   groupName: "CG",
 *   consumeType: ConsumeType.PUSH,
 *   messageModel: MessageModel.CLUSTERING,
 *   consumeFromWhere: ConsumeFromWhere.LAST_OFFSET,
 *   subscriptionDataSet: [buildSubscriptionData("TopicTest", "*", 1700000000001)],
 *   unitMode: false,
 * };
 * assert.equal(consumer.consumeType, "CONSUME_PASSIVELY");
 * ```
 */
export interface ConsumerData {
  /** Consumer group. */
  groupName: string;
  /** {@linkcode ConsumeType} name. */
  consumeType: string;
  /** {@linkcode MessageModel} name. */
  messageModel: string;
  /** {@linkcode ConsumeFromWhere} name. */
  consumeFromWhere: string;
  /** Subscriptions. */
  subscriptionDataSet: SubscriptionData[];
  /** Unit mode; default false. */
  unitMode: boolean;
}

/**
 * Body of HEART_BEAT (`HeartbeatData`).
 *
 * @example A producer-only client
 * ```ts
 * import { encodeHeartbeatData, type HeartbeatData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const hb: HeartbeatData = { clientID: "10.0.0.5@4242", producerDataSet: [{ groupName: "PG" }], consumerDataSet: [] };
 * const json = JSON.parse(new TextDecoder().decode(encodeHeartbeatData(hb)));
 * assert.equal(json.heartbeatFingerprint, 0); // the optional 5.x fields are written with Java's defaults
 * assert.equal(json.withoutSub, false);
 * ```
 */
export interface HeartbeatData {
  /** Client id (`ip@instance`). */
  clientID: string;
  /** Producer groups. */
  producerDataSet: ProducerData[];
  /** Consumer groups. */
  consumerDataSet: ConsumerData[];
  /** 5.1.3+: fingerprint for heartbeat v2; decoders fill Java's default 0. */
  heartbeatFingerprint?: number;
  /** 5.1.3+: subscriptions left out (heartbeat v2); decoders fill Java's default false. */
  withoutSub?: boolean;
}

const SubscriptionDataSchema: v.GenericSchema<unknown, SubscriptionData> = subscriptionDataSchema;

const ProducerDataSchema: v.GenericSchema<unknown, ProducerData> = object({
  groupName: jString,
});

const ConsumerDataSchema: v.GenericSchema<unknown, ConsumerData> = object({
  groupName: jString,
  consumeType: jString,
  messageModel: jString,
  consumeFromWhere: jString,
  subscriptionDataSet: optionalList(SubscriptionDataSchema),
  unitMode: v.optional(jBool, false),
});

const HeartbeatDataSchema: v.GenericSchema<unknown, HeartbeatData> = object({
  clientID: jString,
  producerDataSet: optionalList(ProducerDataSchema),
  consumerDataSet: optionalList(ConsumerDataSchema),
  heartbeatFingerprint: v.optional(jInt, 0),
  withoutSub: v.optional(jBool, false),
});

/**
 * Decode a HEART_BEAT body.
 *
 * @param body The request body.
 * @returns The heartbeat, Java defaults filled in.
 * @throws {CodecError} With reason `"json"` or `"schema"` (naming the path).
 *
 * @example
 * ```ts
 * import { decodeHeartbeatData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const hb = decodeHeartbeatData(new TextEncoder().encode('{"clientID":"c","producerDataSet":[{"groupName":"PG"}]}'));
 * assert.deepEqual(hb, {
 *   clientID: "c", producerDataSet: [{ groupName: "PG" }], consumerDataSet: [], heartbeatFingerprint: 0, withoutSub: false,
 * });
 * ```
 */
export function decodeHeartbeatData(body: Uint8Array): HeartbeatData {
  return decodeBody(body, HeartbeatDataSchema, "HeartbeatData");
}

/**
 * Encode a HEART_BEAT body as the Java client writes it (keys sorted,
 * `heartbeatFingerprint` and `withoutSub` always present).
 *
 * @param heartbeat The heartbeat.
 * @returns The body.
 * @throws {InvalidArgumentError} When a value cannot be written as JSON.
 *
 * @example
 * ```ts
 * import { encodeHeartbeatData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   new TextDecoder().decode(encodeHeartbeatData({ clientID: "c", producerDataSet: [{ groupName: "PG" }], consumerDataSet: [] })),
 *   '{"clientID":"c","consumerDataSet":[],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"PG"}],"withoutSub":false}',
 * );
 * ```
 */
export function encodeHeartbeatData(heartbeat: Readonly<HeartbeatData>): Uint8Array {
  return encodeBody({
    clientID: heartbeat.clientID,
    consumerDataSet: heartbeat.consumerDataSet.map((c) => ({
      consumeFromWhere: c.consumeFromWhere,
      consumeType: c.consumeType,
      groupName: c.groupName,
      messageModel: c.messageModel,
      subscriptionDataSet: c.subscriptionDataSet.map(subscriptionJson),
      unitMode: c.unitMode,
    })),
    heartbeatFingerprint: heartbeat.heartbeatFingerprint ?? 0,
    producerDataSet: heartbeat.producerDataSet.map((p) => ({ groupName: p.groupName })),
    withoutSub: heartbeat.withoutSub ?? false,
  });
}

// ---------------------------------------------------------------------------
// ConsumerListBody (GET_CONSUMER_LIST_BY_GROUP response, 38)

/**
 * Response body of GET_CONSUMER_LIST_BY_GROUP (`GetConsumerListByGroupResponseBody`).
 *
 * @example
 * ```ts
 * import { decodeConsumerListBody, encodeConsumerListBody, type ConsumerListBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const list: ConsumerListBody = { consumerIdList: ["10.0.0.5@4242", "10.0.0.6@4243"] };
 * assert.deepEqual(decodeConsumerListBody(encodeConsumerListBody(list)), list);
 * assert.deepEqual(decodeConsumerListBody(new TextEncoder().encode("{}")), { consumerIdList: [] });
 * ```
 */
export interface ConsumerListBody {
  /** Client ids of the group's live consumers. */
  consumerIdList: string[];
}

const ConsumerListBodySchema: v.GenericSchema<unknown, ConsumerListBody> = object({
  consumerIdList: optionalList(jString),
});

/**
 * Decode a GET_CONSUMER_LIST_BY_GROUP response body.
 *
 * @param body The response body.
 * @returns The consumer list (empty when the list is absent).
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeConsumerListBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeConsumerListBody(new TextEncoder().encode('{"consumerIdList":["10.0.0.5@123#456"]}')), {
 *   consumerIdList: ["10.0.0.5@123#456"],
 * });
 * ```
 */
export function decodeConsumerListBody(body: Uint8Array): ConsumerListBody {
  return decodeBody(body, ConsumerListBodySchema, "ConsumerListBody");
}

/**
 * Encode a GET_CONSUMER_LIST_BY_GROUP response body.
 *
 * @param value The consumer list.
 * @returns The body.
 * @throws {InvalidArgumentError} When a value cannot be written as JSON.
 *
 * @example
 * ```ts
 * import { encodeConsumerListBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TextDecoder().decode(encodeConsumerListBody({ consumerIdList: ["a", "b"] })), '{"consumerIdList":["a","b"]}');
 * ```
 */
export function encodeConsumerListBody(value: Readonly<ConsumerListBody>): Uint8Array {
  return encodeBody({ consumerIdList: value.consumerIdList });
}

// ---------------------------------------------------------------------------
// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42)

/**
 * A queue of a topic on a broker (`MessageQueue`).
 *
 * @example
 * ```ts
 * import { encodeLockBatchResponseBody, type MessageQueue } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const mq: MessageQueue = { topic: "TopicTest", brokerName: "broker-a", queueId: 0 };
 * assert.equal( // keys in alphabetical order, as fastjson writes them
 *   new TextDecoder().decode(encodeLockBatchResponseBody({ lockOKMQSet: [mq] })),
 *   '{"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}]}',
 * );
 * ```
 */
export interface MessageQueue {
  /** Topic. */
  topic: string;
  /** Broker name. */
  brokerName: string;
  /** Queue id. */
  queueId: number;
}

/**
 * Body of LOCK_BATCH_MQ and UNLOCK_BATCH_MQ (`LockBatchRequestBody`).
 *
 * @example
 * ```ts
 * import { decodeLockBatchRequestBody, type LockBatchRequestBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const req: LockBatchRequestBody = decodeLockBatchRequestBody(new TextEncoder().encode(
 *   '{"clientId":"10.0.0.5@4242","consumerGroup":"CG","mqSet":[{"brokerName":"broker-a","queueId":1,"topic":"T"}]}',
 * ));
 * assert.equal(req.onlyThisBroker, false); // Java's default, filled in
 * assert.equal(req.mqSet[0]?.queueId, 1);
 * ```
 */
export interface LockBatchRequestBody {
  /** Consumer group. */
  consumerGroup: string;
  /** Client id. */
  clientId: string;
  /** Queues to lock or unlock. */
  mqSet: MessageQueue[];
  /** Lock on this broker only (no slave acting); decoders fill Java's default false. */
  onlyThisBroker?: boolean;
}

/**
 * Response body of LOCK_BATCH_MQ (`LockBatchResponseBody`).
 *
 * @example
 * ```ts
 * import { decodeLockBatchResponseBody, type LockBatchResponseBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * // Asked for queues 0 and 1; another consumer holds queue 1.
 * const res: LockBatchResponseBody = decodeLockBatchResponseBody(new TextEncoder().encode(
 *   '{"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"}]}',
 * ));
 * assert.deepEqual(res.lockOKMQSet.map((q) => q.queueId), [0]);
 * ```
 */
export interface LockBatchResponseBody {
  /** The queues now locked by the requester. */
  lockOKMQSet: MessageQueue[];
}

const MessageQueueSchema: v.GenericSchema<unknown, MessageQueue> = messageQueueSchema;

const LockBatchRequestBodySchema: v.GenericSchema<unknown, LockBatchRequestBody> = object({
  consumerGroup: jString,
  clientId: jString,
  mqSet: optionalList(MessageQueueSchema),
  onlyThisBroker: v.optional(jBool, false),
});

const LockBatchResponseBodySchema: v.GenericSchema<unknown, LockBatchResponseBody> = object({
  lockOKMQSet: optionalList(MessageQueueSchema),
});

const queueJson: (q: MessageQueue) => Record<string, unknown> = messageQueueJson;

/**
 * Decode a LOCK_BATCH_MQ / UNLOCK_BATCH_MQ request body.
 *
 * @param body The request body.
 * @returns The request.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeLockBatchRequestBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const req = decodeLockBatchRequestBody(new TextEncoder().encode(
 *   '{"clientId":"10.0.0.5@x","consumerGroup":"CG","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}],"onlyThisBroker":false}',
 * ));
 * assert.deepEqual(req.mqSet, [{ topic: "TopicTest", brokerName: "broker-a", queueId: 0 }]);
 * ```
 */
export function decodeLockBatchRequestBody(body: Uint8Array): LockBatchRequestBody {
  return decodeBody(body, LockBatchRequestBodySchema, "LockBatchRequestBody");
}

/**
 * Encode a LOCK_BATCH_MQ / UNLOCK_BATCH_MQ request body.
 *
 * @param value The request.
 * @returns The body.
 * @throws {InvalidArgumentError} When a value cannot be written as JSON.
 *
 * @example
 * ```ts
 * import { encodeLockBatchRequestBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   new TextDecoder().decode(encodeLockBatchRequestBody({
 *     consumerGroup: "CG", clientId: "10.0.0.5@x", mqSet: [{ topic: "TopicTest", brokerName: "broker-a", queueId: 0 }],
 *   })),
 *   '{"clientId":"10.0.0.5@x","consumerGroup":"CG","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}],"onlyThisBroker":false}',
 * );
 * ```
 */
export function encodeLockBatchRequestBody(value: Readonly<LockBatchRequestBody>): Uint8Array {
  return encodeBody({
    clientId: value.clientId,
    consumerGroup: value.consumerGroup,
    mqSet: value.mqSet.map(queueJson),
    onlyThisBroker: value.onlyThisBroker ?? false,
  });
}

/**
 * Decode a LOCK_BATCH_MQ response body.
 *
 * @param body The response body.
 * @returns The locked queues.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeLockBatchResponseBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeLockBatchResponseBody(new TextEncoder().encode('{"lockOKMQSet":[]}')), { lockOKMQSet: [] });
 * ```
 */
export function decodeLockBatchResponseBody(body: Uint8Array): LockBatchResponseBody {
  return decodeBody(body, LockBatchResponseBodySchema, "LockBatchResponseBody");
}

/**
 * Encode a LOCK_BATCH_MQ response body.
 *
 * @param value The locked queues.
 * @returns The body.
 * @throws {InvalidArgumentError} When a value cannot be written as JSON.
 *
 * @example
 * ```ts
 * import { encodeLockBatchResponseBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   new TextDecoder().decode(encodeLockBatchResponseBody({ lockOKMQSet: [{ topic: "T", brokerName: "b", queueId: 1 }] })),
 *   '{"lockOKMQSet":[{"brokerName":"b","queueId":1,"topic":"T"}]}',
 * );
 * ```
 */
export function encodeLockBatchResponseBody(value: Readonly<LockBatchResponseBody>): Uint8Array {
  return encodeBody({ lockOKMQSet: value.lockOKMQSet.map(queueJson) });
}

// ---------------------------------------------------------------------------
// ClusterInfo (GET_BROKER_CLUSTER_INFO, 106)

/**
 * Response body of GET_BROKER_CLUSTER_INFO (`ClusterInfo`).
 *
 * @example The masters of a cluster
 * ```ts
 * import type { ClusterInfo } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const info: ClusterInfo = {
 *   brokerAddrTable: {
 *     "broker-a": { cluster: "C", brokerName: "broker-a", brokerAddrs: { "0": "10.0.0.1:10911", "1": "10.0.0.2:10911" } },
 *   },
 *   clusterAddrTable: { C: ["broker-a"] },
 * };
 * const masters = info.clusterAddrTable.C?.map((name) => info.brokerAddrTable[name]?.brokerAddrs["0"]);
 * assert.deepEqual(masters, ["10.0.0.1:10911"]);
 * ```
 */
export interface ClusterInfo {
  /** Broker name → broker group. */
  brokerAddrTable: Record<string, BrokerData>;
  /** Cluster name → broker names. */
  clusterAddrTable: Record<string, string[]>;
}

const ClusterInfoSchema: v.GenericSchema<unknown, ClusterInfo> = object({
  brokerAddrTable: v.optional(map(BrokerDataSchema), () => ({})),
  clusterAddrTable: v.optional(map(list(jString)), () => ({})),
}) as v.GenericSchema<unknown, ClusterInfo>;

/**
 * Decode a GET_BROKER_CLUSTER_INFO response body (fastjson default form,
 * with unquoted broker ids). Map keys `__proto__`, `constructor` and
 * `prototype` are skipped (valibot's record guard).
 *
 * @param body The response body.
 * @returns The cluster info; missing tables are empty.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example The name server's real body
 * ```ts
 * import { decodeClusterInfo } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const info = decodeClusterInfo(new TextEncoder().encode(
 *   '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a",' +
 *   '"cluster":"DefaultCluster","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}',
 * ));
 * assert.deepEqual(info.clusterAddrTable, { DefaultCluster: ["broker-a"] });
 * assert.equal(info.brokerAddrTable["broker-a"]?.brokerAddrs["0"], "127.0.0.1:10911");
 * ```
 */
export function decodeClusterInfo(body: Uint8Array): ClusterInfo {
  return decodeBody(body, ClusterInfoSchema, "ClusterInfo");
}

/**
 * Encode a GET_BROKER_CLUSTER_INFO response body (standard JSON).
 *
 * @param value The cluster info.
 * @returns The body.
 * @throws {InvalidArgumentError} When a value cannot be written as JSON.
 *
 * @example
 * ```ts
 * import { encodeClusterInfo } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(encodeClusterInfo({
 *   brokerAddrTable: { b: { cluster: "C", brokerName: "b", brokerAddrs: { "0": "127.0.0.1:10911" } } },
 *   clusterAddrTable: { C: ["b"] },
 * }));
 * assert.equal(text, '{"brokerAddrTable":{"b":{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"b","cluster":"C",' +
 *   '"enableActingMaster":false}},"clusterAddrTable":{"C":["b"]}}');
 * ```
 */
export function encodeClusterInfo(value: Readonly<ClusterInfo>): Uint8Array {
  const brokers: Record<string, unknown> = {};
  for (const [name, data] of Object.entries(value.brokerAddrTable)) {
    brokers[name] = brokerDataJson(data);
  }
  return encodeBody({ brokerAddrTable: brokers, clusterAddrTable: value.clusterAddrTable });
}

// ---------------------------------------------------------------------------
// ResetOffsetBody (RESET_CONSUMER_CLIENT_OFFSET, 220): decode only.

/**
 * One entry of a {@linkcode ResetOffsetBody}.
 *
 * @example
 * ```ts
 * import { decodeResetOffsetBody, type QueueOffset } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const [entry] = decodeResetOffsetBody(new TextEncoder().encode(
 *   '{"offsetTable":{{"brokerName":"broker-a","queueId":3,"topic":"T"}:42}}',
 * )).offsetTable;
 * const expected: QueueOffset = { messageQueue: { topic: "T", brokerName: "broker-a", queueId: 3 }, offset: 42 };
 * assert.deepEqual(entry, expected);
 * ```
 */
export interface QueueOffset {
  /** The queue. */
  messageQueue: MessageQueue;
  /** The offset to reset it to. */
  offset: number;
}

/**
 * Body of RESET_CONSUMER_CLIENT_OFFSET (`ResetOffsetBody`), whose map has object keys.
 *
 * @example
 * ```ts
 * import { decodeResetOffsetBody, type ResetOffsetBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const body: ResetOffsetBody = decodeResetOffsetBody(new TextEncoder().encode(
 *   '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:7,{"brokerName":"b","queueId":1,"topic":"T"}:9}}',
 * ));
 * assert.deepEqual(body.offsetTable.map((e) => [e.messageQueue.queueId, e.offset]), [[0, 7], [1, 9]]);
 * ```
 */
export interface ResetOffsetBody {
  /** The queues and their new offsets. */
  offsetTable: QueueOffset[];
}

const ResetOffsetBodySchema: v.GenericSchema<unknown, ResetOffsetBody> = object({
  offsetTable: v.optional(
    v.pipe(
      map(jLong),
      v.rawTransform<Record<string, number>, QueueOffset[]>(({ dataset, addIssue, NEVER }) => {
        const out: QueueOffset[] = [];
        for (const [key, offset] of Object.entries(dataset.value)) {
          let parsed: unknown;
          try {
            parsed = parseFastJson(key);
          } catch {
            parsed = undefined;
          }
          stripNulls(parsed);
          const result = v.safeParse(MessageQueueSchema, parsed);
          if (!result.success) {
            addIssue({ message: `key ${describeValue(key)} is not a MessageQueue object` });
            return NEVER;
          }
          out.push({ messageQueue: result.output, offset });
        }
        return out;
      }),
    ),
    () => ({}),
  ),
}) as v.GenericSchema<unknown, ResetOffsetBody>;

/**
 * Decode a RESET_CONSUMER_CLIENT_OFFSET body: fastjson writes its map with
 * `MessageQueue` objects as keys.
 *
 * @param body The request body.
 * @returns The offsets, in the body's order.
 * @throws {CodecError} With reason `"json"` or `"schema"`.
 *
 * @example
 * ```ts
 * import { decodeResetOffsetBody } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const body = decodeResetOffsetBody(new TextEncoder().encode(
 *   '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:42}}',
 * ));
 * assert.deepEqual(body.offsetTable, [{ messageQueue: { topic: "TopicTest", brokerName: "broker-a", queueId: 0 }, offset: 42 }]);
 * ```
 */
export function decodeResetOffsetBody(body: Uint8Array): ResetOffsetBody {
  return decodeBody(body, ResetOffsetBodySchema, "ResetOffsetBody");
}

// ---------------------------------------------------------------------------
// Subscriptions

/**
 * Java's `String.hashCode()`: `h = 31 * h + c` over the UTF-16 code units,
 * wrapped to a signed 32-bit integer. The `codeSet` of a subscription holds
 * these hashes of its tags.
 *
 * @param s The string.
 * @returns The hash.
 *
 * @example
 * ```ts
 * import { javaStringHashCode } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(javaStringHashCode("TagA"), 2598919);
 * assert.equal(javaStringHashCode("polygenelubricants"), -2147483648);
 * assert.equal(javaStringHashCode(""), 0);
 * ```
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Java's `String.trim()`: strips code units ≤ U+0020 at both ends (not other whitespace). */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

/**
 * Build a subscription as `FilterAPI.buildSubscriptionData` /
 * `FilterAPI.build` do. For TAG: an empty expression or `*` subscribes to
 * everything (`subString` `*`, empty sets); otherwise the expression is split
 * on `||`, each tag trimmed (Java `trim()`), empty tags dropped, duplicates
 * kept once; `codeSet` holds the tags' Java hash codes. For other types
 * (`SQL92`) the expression is kept as is, with empty sets.
 *
 * @param topic The topic.
 * @param expression The subscription expression.
 * @param subVersion Version of the subscription (Java: creation time in ms).
 * @param expressionType `TAG` (default) or `SQL92`.
 * @returns The subscription.
 * @throws {InvalidArgumentError} When a TAG expression consists only of
 * `||` separators (Java: "subString split error"), or a non-TAG expression
 * is empty.
 *
 * @example
 * ```ts
 * import { buildSubscriptionData } from "./bodies.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(buildSubscriptionData("TopicTest", "TagA || TagB", 1700000000001), {
 *   topic: "TopicTest", subString: "TagA || TagB", tagsSet: ["TagA", "TagB"], codeSet: [2598919, 2598920],
 *   subVersion: 1700000000001, expressionType: "TAG", classFilterMode: false,
 * });
 * assert.deepEqual(buildSubscriptionData("T", "*", 1).tagsSet, []);
 * ```
 */
export function buildSubscriptionData(
  topic: string,
  expression: string,
  subVersion: number,
  expressionType: string = ExpressionType.TAG,
): SubscriptionData {
  const base = { topic, subVersion, expressionType, classFilterMode: false };
  if (expressionType !== ExpressionType.TAG) {
    if (expression === "") {
      throw new InvalidArgumentError(
        "expression",
        `an ${expressionType} expression must not be empty`,
      );
    }
    return { ...base, subString: expression, tagsSet: [], codeSet: [] };
  }
  if (expression === "" || expression === "*") {
    return { ...base, subString: "*", tagsSet: [], codeSet: [] };
  }
  const pieces = expression.split("||");
  if (pieces.every((p) => p === "")) {
    throw new InvalidArgumentError("expression", `${JSON.stringify(expression)} has no tags`);
  }
  const tags = new Set<string>();
  const codes = new Set<number>();
  for (const piece of pieces) {
    const tag = javaTrim(piece);
    if (tag === "") continue;
    tags.add(tag);
    codes.add(javaStringHashCode(tag));
  }
  return { ...base, subString: expression, tagsSet: [...tags], codeSet: [...codes] };
}
