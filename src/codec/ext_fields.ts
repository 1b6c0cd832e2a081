/**
 * Typed custom headers of the requests and responses that the client and the
 * broker read, with valibot validation of the flattened `extFields` (where
 * every value is a string) and encoders back to `extFields`.
 *
 * Decoding follows Java's `decodeCommandCustomHeader`: integers are decimal
 * strings (`Integer.parseInt`/`Long.parseLong`: optional sign, leading zeros
 * allowed, range checked), booleans are `"true"` in any case for true and
 * anything else for false (`Boolean.parseBoolean`), and unknown keys are
 * ignored. Fields annotated `@CFNotNull` in Java are required here; optional
 * fields that are absent stay absent. 64-bit fields are JS numbers: values
 * beyond 2^53 lose precision.
 *
 * Encoders write the fields in the Java class's declaration order and leave
 * out absent optional fields.
 *
 * @example
 * ```ts
 * import { decodePullMessageResponseHeader, encodePullMessageResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = encodePullMessageResponseHeader({ suggestWhichBrokerId: 0, nextBeginOffset: 5, minOffset: 0, maxOffset: 5 });
 * assert.deepEqual(ext, { suggestWhichBrokerId: "0", nextBeginOffset: "5", minOffset: "0", maxOffset: "5" });
 * assert.equal(decodePullMessageResponseHeader(ext).nextBeginOffset, 5);
 * ```
 *
 * @module
 */

import { codec, decode, encode, type HeaderSpec } from "./_header_codec.ts";
import type { SendMessageRequestHeader } from "./message.ts";

// ---------------------------------------------------------------------------
// SEND_MESSAGE (10) / SEND_MESSAGE_V2 (310) / SEND_BATCH_MESSAGE (320)

interface SendMessageRequestHeaderV1Wire {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties?: string;
  reconsumeTimes?: number;
  unitMode?: boolean;
  batch?: boolean;
  maxReconsumeTimes?: number;
  bname?: string;
}

const SEND_V1 = codec<SendMessageRequestHeaderV1Wire>("SendMessageRequestHeader", {
  producerGroup: ["string", "required"],
  topic: ["string", "required"],
  defaultTopic: ["string", "required"],
  defaultTopicQueueNums: ["int", "required"],
  queueId: ["int", "required"],
  sysFlag: ["int", "required"],
  bornTimestamp: ["long", "required"],
  flag: ["int", "required"],
  properties: ["string", "optional"],
  reconsumeTimes: ["int", "optional"],
  unitMode: ["bool", "optional"],
  batch: ["bool", "optional"],
  maxReconsumeTimes: ["int", "optional"],
  bname: ["string", "optional"],
});

interface SendMessageRequestHeaderV2Wire {
  a: string;
  b: string;
  c: string;
  d: number;
  e: number;
  f: number;
  g: number;
  h: number;
  i?: string;
  j?: number;
  k?: boolean;
  l?: number;
  m?: boolean;
  n?: string;
}

const SEND_V2 = codec<SendMessageRequestHeaderV2Wire>("SendMessageRequestHeaderV2", {
  a: ["string", "required"],
  b: ["string", "required"],
  c: ["string", "required"],
  d: ["int", "required"],
  e: ["int", "required"],
  f: ["int", "required"],
  g: ["long", "required"],
  h: ["int", "required"],
  i: ["string", "optional"],
  j: ["int", "optional"],
  k: ["bool", "optional"],
  l: ["int", "optional"],
  m: ["bool", "optional"],
  n: ["string", "optional"],
});

function sendHeaderFromV1(w: SendMessageRequestHeaderV1Wire): SendMessageRequestHeader {
  const h: SendMessageRequestHeader = {
    producerGroup: w.producerGroup,
    topic: w.topic,
    defaultTopic: w.defaultTopic,
    defaultTopicQueueNums: w.defaultTopicQueueNums,
    queueId: w.queueId,
    sysFlag: w.sysFlag,
    bornTimestamp: w.bornTimestamp,
    flag: w.flag,
  };
  if (w.properties !== undefined) h.properties = w.properties;
  if (w.reconsumeTimes !== undefined) h.reconsumeTimes = w.reconsumeTimes;
  if (w.unitMode !== undefined) h.unitMode = w.unitMode;
  if (w.maxReconsumeTimes !== undefined) h.maxReconsumeTimes = w.maxReconsumeTimes;
  if (w.batch !== undefined) h.batch = w.batch;
  if (w.bname !== undefined) h.brokerName = w.bname;
  return h;
}

/**
 * Decode the V1 send header (request codes 10 and 324: long field names,
 * broker name as `bname`).
 *
 * @param extFields The request's `extFields`.
 * @returns The header; optional fields absent on the wire are absent.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeSendMessageRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeSendMessageRequestHeader({
 *   producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: "4", queueId: "1",
 *   sysFlag: "0", bornTimestamp: "1700000000000", flag: "0", bname: "broker-a",
 * });
 * assert.equal(h.brokerName, "broker-a");
 * assert.equal(h.bornTimestamp, 1700000000000);
 * ```
 */
export function decodeSendMessageRequestHeader(
  extFields: Readonly<Record<string, string>>,
): SendMessageRequestHeader {
  return sendHeaderFromV1(decode(SEND_V1, extFields));
}

/**
 * Decode the V2 send header (request codes 310, 320 and 325: fields `a`–`n`).
 *
 * @param extFields The request's `extFields`.
 * @returns The header with long field names.
 * @throws {CodecError} With reason `"schema"`, naming the wire field (`a`–`n`).
 *
 * @example
 * ```ts
 * import { decodeSendMessageRequestHeaderV2 } from "./ext_fields.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeSendMessageRequestHeaderV2({
 *   a: "PG", b: "T", c: "TBW102", d: "4", e: "1", f: "0", g: "1700000000000", h: "0", j: "0", k: "false", m: "true",
 * });
 * assert.equal(h.topic, "T");
 * assert.equal(h.batch, true);
 * assert.throws(() => decodeSendMessageRequestHeaderV2({ a: "PG" }), CodecError);
 * ```
 */
export function decodeSendMessageRequestHeaderV2(
  extFields: Readonly<Record<string, string>>,
): SendMessageRequestHeader {
  const w = decode(SEND_V2, extFields);
  const v1: SendMessageRequestHeaderV1Wire = {
    producerGroup: w.a,
    topic: w.b,
    defaultTopic: w.c,
    defaultTopicQueueNums: w.d,
    queueId: w.e,
    sysFlag: w.f,
    bornTimestamp: w.g,
    flag: w.h,
  };
  if (w.i !== undefined) v1.properties = w.i;
  if (w.j !== undefined) v1.reconsumeTimes = w.j;
  if (w.k !== undefined) v1.unitMode = w.k;
  if (w.l !== undefined) v1.maxReconsumeTimes = w.l;
  if (w.m !== undefined) v1.batch = w.m;
  if (w.n !== undefined) v1.bname = w.n;
  return sendHeaderFromV1(v1);
}

/**
 * Encode a send header with V1 (long) field names, as Java's producer fills
 * it: `reconsumeTimes` (default 0), `unitMode` and `batch` (default false)
 * are always written; `brokerName` goes out as `bname`.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or not a valid
 * int/long/string/boolean.
 *
 * @example
 * ```ts
 * import { encodeSendMessageRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = encodeSendMessageRequestHeader({
 *   producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 0,
 *   sysFlag: 0, bornTimestamp: 1, flag: 0, brokerName: "b",
 * });
 * assert.equal(ext.bname, "b");
 * assert.equal(ext.unitMode, "false");
 * ```
 */
export function encodeSendMessageRequestHeader(
  h: Readonly<SendMessageRequestHeader>,
): Record<string, string> {
  const wire: SendMessageRequestHeaderV1Wire = {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic,
    defaultTopicQueueNums: h.defaultTopicQueueNums,
    queueId: h.queueId,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    flag: h.flag,
    reconsumeTimes: h.reconsumeTimes ?? 0,
    unitMode: h.unitMode ?? false,
    batch: h.batch ?? false,
  };
  if (h.properties !== undefined) wire.properties = h.properties;
  if (h.maxReconsumeTimes !== undefined) wire.maxReconsumeTimes = h.maxReconsumeTimes;
  if (h.brokerName !== undefined) wire.bname = h.brokerName;
  return encode(SEND_V1, wire);
}

/**
 * Encode a send header with V2 (single-letter) field names `a`–`n`, as
 * Java's `createSendMessageRequestHeaderV2` does: `j` (reconsumeTimes,
 * default 0), `k` (unitMode) and `m` (batch, default false) are always
 * written; `l` and `n` only when set.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeSendMessageRequestHeaderV2 } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeSendMessageRequestHeaderV2({
 *   producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 2,
 *   sysFlag: 0, bornTimestamp: 1700000000000, flag: 0, properties: "WAIT\u0001true\u0002",
 * }), {
 *   a: "PG", b: "T", c: "TBW102", d: "4", e: "2", f: "0", g: "1700000000000", h: "0",
 *   i: "WAIT\u0001true\u0002", j: "0", k: "false", m: "false",
 * });
 * ```
 */
export function encodeSendMessageRequestHeaderV2(
  h: Readonly<SendMessageRequestHeader>,
): Record<string, string> {
  const wire: SendMessageRequestHeaderV2Wire = {
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic,
    d: h.defaultTopicQueueNums,
    e: h.queueId,
    f: h.sysFlag,
    g: h.bornTimestamp,
    h: h.flag,
    j: h.reconsumeTimes ?? 0,
    k: h.unitMode ?? false,
    m: h.batch ?? false,
  };
  if (h.properties !== undefined) wire.i = h.properties;
  if (h.maxReconsumeTimes !== undefined) wire.l = h.maxReconsumeTimes;
  if (h.brokerName !== undefined) wire.n = h.brokerName;
  return encode(SEND_V2, wire);
}

/**
 * Response header of a send (`SendMessageResponseHeader`), codes 0, 10, 11, 12.
 *
 * @example What a Java broker answers
 * ```ts
 * import { decodeSendMessageResponseHeader, type SendMessageResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: SendMessageResponseHeader = decodeSendMessageResponseHeader({
 *   msgId: "7F00000100002A9F0000000000000000", queueId: "3", queueOffset: "17",
 *   transactionId: "0A0000051234000000010000002A0000", MSG_REGION: "DefaultRegion", TRACE_ON: "true",
 * });
 * assert.equal(h.queueOffset, 17);
 * assert.equal(h.batchUniqId, undefined); // optional fields absent on the wire stay absent
 * ```
 */
export interface SendMessageResponseHeader {
  /** Offset message id of the stored message; comma-separated for a batch. */
  msgId: string;
  /** Queue the broker stored the message in. */
  queueId: number;
  /** Consume-queue offset of the (first) message. */
  queueOffset: number;
  /** UNIQ_KEY of the stored message. */
  transactionId?: string;
  /** 5.0+: batch id, batch consume-queue topics only. */
  batchUniqId?: string;
  /** 5.3.2+: handle to recall a delayed message. */
  recallHandle?: string;
  /** Broker region; the Java broker always adds it (default `DefaultRegion`). */
  MSG_REGION?: string;
  /** Trace switch; the Java broker always adds it (`"true"`/`"false"`). */
  TRACE_ON?: string;
}

const SEND_RESPONSE = codec<SendMessageResponseHeader>("SendMessageResponseHeader", {
  msgId: ["string", "required"],
  queueId: ["int", "required"],
  queueOffset: ["long", "required"],
  transactionId: ["string", "optional"],
  batchUniqId: ["string", "optional"],
  recallHandle: ["string", "optional"],
  MSG_REGION: ["string", "optional"],
  TRACE_ON: ["string", "optional"],
});

/**
 * Decode a send response header.
 *
 * @param extFields The response's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeSendMessageResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeSendMessageResponseHeader({
 *   msgId: "7F00000100002A9F0000000000000000", queueId: "3", queueOffset: "17", MSG_REGION: "DefaultRegion",
 * });
 * assert.equal(h.queueOffset, 17);
 * ```
 */
export function decodeSendMessageResponseHeader(
  extFields: Readonly<Record<string, string>>,
): SendMessageResponseHeader {
  return decode(SEND_RESPONSE, extFields);
}

/**
 * Encode a send response header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeSendMessageResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   encodeSendMessageResponseHeader({ msgId: "X", queueId: 0, queueOffset: 1, MSG_REGION: "DefaultRegion", TRACE_ON: "true" }),
 *   { msgId: "X", queueId: "0", queueOffset: "1", MSG_REGION: "DefaultRegion", TRACE_ON: "true" },
 * );
 * ```
 */
export function encodeSendMessageResponseHeader(
  h: Readonly<SendMessageResponseHeader>,
): Record<string, string> {
  return encode(SEND_RESPONSE, h);
}

// ---------------------------------------------------------------------------
// PULL_MESSAGE (11)

/**
 * Request header of PULL_MESSAGE (`PullMessageRequestHeader`).
 *
 * @example A push consumer's long poll
 * ```ts
 * import { encodePullMessageRequestHeader, type PullMessageRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: PullMessageRequestHeader = {
 *   consumerGroup: "CG", topic: "TopicTest", queueId: 0, queueOffset: 0, maxMsgNums: 32,
 *   sysFlag: 0b0010, // suspend: the broker holds the request until a message arrives
 *   commitOffset: 0, suspendTimeoutMillis: 15000, subVersion: 1700000000001, expressionType: "TAG",
 * };
 * const ext = encodePullMessageRequestHeader(h);
 * assert.equal(ext.sysFlag, "2");
 * assert.equal("subscription" in ext, false); // the broker uses the subscription of the heartbeat
 * ```
 */
export interface PullMessageRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
  /** Topic (also `%RETRY%<group>`). */
  topic: string;
  /** Queue id. */
  queueId: number;
  /** Next logical offset to read. */
  queueOffset: number;
  /** Most messages to return (push consumer: 32). */
  maxMsgNums: number;
  /** Bit 0 commit offset, bit 1 suspend, bit 2 subscription, bit 3 class filter, bit 4 lite pull. */
  sysFlag: number;
  /** The consumer's committed offset for this queue (0 if none). */
  commitOffset: number;
  /** Long-polling time in ms (push consumer: 15000). */
  suspendTimeoutMillis: number;
  /** Subscription expression; the push consumer leaves it out by default. */
  subscription?: string;
  /** Version (ms timestamp) of the subscription. */
  subVersion: number;
  /** `TAG` or `SQL92`. */
  expressionType?: string;
  /** 5.0+: most bytes to return. */
  maxMsgBytes?: number;
  /** 5.1+: proxy use only. */
  requestSource?: number;
  /** 5.1+: proxy use only (the Java spelling). */
  proxyFrowardClientId?: string;
  /** Broker name (4.9.5+ clients). */
  bname?: string;
}

const PULL_REQUEST = codec<PullMessageRequestHeader>("PullMessageRequestHeader", {
  consumerGroup: ["string", "required"],
  topic: ["string", "required"],
  queueId: ["int", "required"],
  queueOffset: ["long", "required"],
  maxMsgNums: ["int", "required"],
  sysFlag: ["int", "required"],
  commitOffset: ["long", "required"],
  suspendTimeoutMillis: ["long", "required"],
  subscription: ["string", "optional"],
  subVersion: ["long", "required"],
  expressionType: ["string", "optional"],
  maxMsgBytes: ["int", "optional"],
  requestSource: ["int", "optional"],
  proxyFrowardClientId: ["string", "optional"],
  bname: ["string", "optional"],
});

/**
 * Decode a PULL_MESSAGE request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example The push consumer's real request
 * ```ts
 * import { decodePullMessageRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodePullMessageRequestHeader(JSON.parse(
 *   '{"queueId":"1","maxMsgBytes":"262144","maxMsgNums":"32","sysFlag":"2","suspendTimeoutMillis":"15000",' +
 *   '"commitOffset":"0","bname":"broker-a","topic":"TopicTest","queueOffset":"0","expressionType":"TAG",' +
 *   '"subVersion":"1700000000001","consumerGroup":"CG"}',
 * ));
 * assert.equal(h.subVersion, 1700000000001);
 * assert.equal(h.subscription, undefined);
 * ```
 */
export function decodePullMessageRequestHeader(
  extFields: Readonly<Record<string, string>>,
): PullMessageRequestHeader {
  return decode(PULL_REQUEST, extFields);
}

/**
 * Encode a PULL_MESSAGE request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodePullMessageRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = encodePullMessageRequestHeader({
 *   consumerGroup: "CG", topic: "T", queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: 2,
 *   commitOffset: 0, suspendTimeoutMillis: 15000, subVersion: 1, expressionType: "TAG",
 * });
 * assert.equal(ext.suspendTimeoutMillis, "15000");
 * ```
 */
export function encodePullMessageRequestHeader(
  h: Readonly<PullMessageRequestHeader>,
): Record<string, string> {
  return encode(PULL_REQUEST, h);
}

/**
 * Response header of PULL_MESSAGE (`PullMessageResponseHeader`); sent with codes 0, 19, 20, 21.
 *
 * @example Nothing new yet (PULL_NOT_FOUND, code 19)
 * ```ts
 * import { encodePullMessageResponseHeader, type PullMessageResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * // The four required fields go with every pull response, found or not.
 * const h: PullMessageResponseHeader = { suggestWhichBrokerId: 0, nextBeginOffset: 8, minOffset: 0, maxOffset: 8 };
 * assert.deepEqual(encodePullMessageResponseHeader(h), {
 *   suggestWhichBrokerId: "0", nextBeginOffset: "8", minOffset: "0", maxOffset: "8",
 * });
 * ```
 */
export interface PullMessageResponseHeader {
  /** Broker id to pull from next time (0 = master). */
  suggestWhichBrokerId: number;
  /** Offset of the next pull. */
  nextBeginOffset: number;
  /** Smallest offset of the queue. */
  minOffset: number;
  /** Offset the next message of the queue will get. */
  maxOffset: number;
  /** 5.0+: static topics; added to each message's queue offset. */
  offsetDelta?: number;
  /** 5.0+: sys flag of the topic. */
  topicSysFlag?: number;
  /** 5.0+: sys flag of the group. */
  groupSysFlag?: number;
  /** 5.0+: forbidden type. */
  forbiddenType?: number;
}

const PULL_RESPONSE = codec<PullMessageResponseHeader>("PullMessageResponseHeader", {
  suggestWhichBrokerId: ["long", "required"],
  nextBeginOffset: ["long", "required"],
  minOffset: ["long", "required"],
  maxOffset: ["long", "required"],
  offsetDelta: ["long", "optional"],
  topicSysFlag: ["int", "optional"],
  groupSysFlag: ["int", "optional"],
  forbiddenType: ["int", "optional"],
});

/**
 * Decode a PULL_MESSAGE response header.
 *
 * @param extFields The response's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodePullMessageResponseHeader } from "./ext_fields.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => decodePullMessageResponseHeader({ suggestWhichBrokerId: "0", nextBeginOffset: "x", minOffset: "0", maxOffset: "0" }),
 *   (e) => e instanceof CodecError && e.message.includes("field nextBeginOffset"),
 * );
 * ```
 */
export function decodePullMessageResponseHeader(
  extFields: Readonly<Record<string, string>>,
): PullMessageResponseHeader {
  return decode(PULL_RESPONSE, extFields);
}

/**
 * Encode a PULL_MESSAGE response header. Send it with every pull response,
 * also 19/20/21: the Java client unboxes the four required fields.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodePullMessageResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodePullMessageResponseHeader({
 *   suggestWhichBrokerId: 0, nextBeginOffset: 3, minOffset: 0, maxOffset: 3, topicSysFlag: 0,
 * }).topicSysFlag, "0");
 * ```
 */
export function encodePullMessageResponseHeader(
  h: Readonly<PullMessageResponseHeader>,
): Record<string, string> {
  return encode(PULL_RESPONSE, h);
}

// ---------------------------------------------------------------------------
// QUERY_CONSUMER_OFFSET (14) / UPDATE_CONSUMER_OFFSET (15)

/**
 * Request header of QUERY_CONSUMER_OFFSET (`QueryConsumerOffsetRequestHeader`).
 *
 * @example A 5.x client asks for its committed offset
 * ```ts
 * import { encodeQueryConsumerOffsetRequestHeader, type QueryConsumerOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * // Without setZeroIfNotFound (4.x), a group with no offset yet gets code 22.
 * const h: QueryConsumerOffsetRequestHeader = { consumerGroup: "CG", topic: "T", queueId: 2, setZeroIfNotFound: false };
 * assert.deepEqual(encodeQueryConsumerOffsetRequestHeader(h), {
 *   consumerGroup: "CG", topic: "T", queueId: "2", setZeroIfNotFound: "false",
 * });
 * ```
 */
export interface QueryConsumerOffsetRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
  /** Topic. */
  topic: string;
  /** Queue id. */
  queueId: number;
  /** 5.0+: answer offset 0 instead of 22 for a new group on a young queue (Java default: true). */
  setZeroIfNotFound?: boolean;
  /** Broker name. */
  bname?: string;
}

const QUERY_OFFSET_REQUEST = codec<QueryConsumerOffsetRequestHeader>(
  "QueryConsumerOffsetRequestHeader",
  {
    consumerGroup: ["string", "required"],
    topic: ["string", "required"],
    queueId: ["int", "required"],
    setZeroIfNotFound: ["bool", "optional"],
    bname: ["string", "optional"],
  },
);

/**
 * Decode a QUERY_CONSUMER_OFFSET request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeQueryConsumerOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeQueryConsumerOffsetRequestHeader({ consumerGroup: "CG", topic: "T", queueId: "0", setZeroIfNotFound: "TRUE" });
 * assert.equal(h.setZeroIfNotFound, true);
 * ```
 */
export function decodeQueryConsumerOffsetRequestHeader(
  extFields: Readonly<Record<string, string>>,
): QueryConsumerOffsetRequestHeader {
  return decode(QUERY_OFFSET_REQUEST, extFields);
}

/**
 * Encode a QUERY_CONSUMER_OFFSET request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeQueryConsumerOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeQueryConsumerOffsetRequestHeader({ consumerGroup: "CG", topic: "T", queueId: 1 }), {
 *   consumerGroup: "CG", topic: "T", queueId: "1",
 * });
 * ```
 */
export function encodeQueryConsumerOffsetRequestHeader(
  h: Readonly<QueryConsumerOffsetRequestHeader>,
): Record<string, string> {
  return encode(QUERY_OFFSET_REQUEST, h);
}

/**
 * Response header carrying one offset: QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET,
 * GET_MIN_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP responses all have this shape.
 *
 * @example One shape, four responses
 * ```ts
 * import {
 *   decodeGetMaxOffsetResponseHeader, decodeSearchOffsetResponseHeader, type OffsetResponseHeader,
 * } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const max: OffsetResponseHeader = decodeGetMaxOffsetResponseHeader({ offset: "100" });
 * const found: OffsetResponseHeader = decodeSearchOffsetResponseHeader({ offset: "42" });
 * assert.deepEqual([max, found], [{ offset: 100 }, { offset: 42 }]);
 * ```
 */
export interface OffsetResponseHeader {
  /** The offset. */
  offset: number;
}

/**
 * Response header of QUERY_CONSUMER_OFFSET (`QueryConsumerOffsetResponseHeader`).
 *
 * @example
 * ```ts
 * import { encodeQueryConsumerOffsetResponseHeader, type QueryConsumerOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * // The group's next offset to consume (code 0); code 22 answers without a header.
 * const h: QueryConsumerOffsetResponseHeader = { offset: 42 };
 * assert.deepEqual(encodeQueryConsumerOffsetResponseHeader(h), { offset: "42" });
 * ```
 */
export type QueryConsumerOffsetResponseHeader = OffsetResponseHeader;
/**
 * Response header of GET_MAX_OFFSET (`GetMaxOffsetResponseHeader`).
 *
 * @example
 * ```ts
 * import { decodeGetMaxOffsetResponseHeader, type GetMaxOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * // The offset the next message will get: a queue holding offsets 0..99 answers 100.
 * const h: GetMaxOffsetResponseHeader = decodeGetMaxOffsetResponseHeader({ offset: "100" });
 * assert.equal(h.offset, 100);
 * ```
 */
export type GetMaxOffsetResponseHeader = OffsetResponseHeader;
/**
 * Response header of GET_MIN_OFFSET (`GetMinOffsetResponseHeader`).
 *
 * @example
 * ```ts
 * import { decodeGetMinOffsetResponseHeader, type GetMinOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * // The smallest offset still stored: above 0 once old messages were deleted.
 * const h: GetMinOffsetResponseHeader = decodeGetMinOffsetResponseHeader({ offset: "1000" });
 * assert.equal(h.offset, 1000);
 * ```
 */
export type GetMinOffsetResponseHeader = OffsetResponseHeader;
/**
 * Response header of SEARCH_OFFSET_BY_TIMESTAMP (`SearchOffsetResponseHeader`).
 *
 * @example
 * ```ts
 * import { encodeSearchOffsetResponseHeader, type SearchOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: SearchOffsetResponseHeader = { offset: 9 };
 * assert.deepEqual(encodeSearchOffsetResponseHeader(h), { offset: "9" });
 * ```
 */
export type SearchOffsetResponseHeader = OffsetResponseHeader;

const OFFSET_SPEC: HeaderSpec<OffsetResponseHeader> = { offset: ["long", "required"] };
const QUERY_OFFSET_RESPONSE = codec("QueryConsumerOffsetResponseHeader", OFFSET_SPEC);
const MAX_OFFSET_RESPONSE = codec("GetMaxOffsetResponseHeader", OFFSET_SPEC);
const MIN_OFFSET_RESPONSE = codec("GetMinOffsetResponseHeader", OFFSET_SPEC);
const SEARCH_OFFSET_RESPONSE = codec("SearchOffsetResponseHeader", OFFSET_SPEC);

/**
 * Decode a QUERY_CONSUMER_OFFSET response header (code 0; code 22 means "no
 * offset yet" and carries no header).
 *
 * @param extFields The response's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeQueryConsumerOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeQueryConsumerOffsetResponseHeader({ offset: "42" }), { offset: 42 });
 * ```
 */
export function decodeQueryConsumerOffsetResponseHeader(
  extFields: Readonly<Record<string, string>>,
): QueryConsumerOffsetResponseHeader {
  return decode(QUERY_OFFSET_RESPONSE, extFields);
}

/**
 * Encode a QUERY_CONSUMER_OFFSET response header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the offset is not a 64-bit integer.
 *
 * @example
 * ```ts
 * import { encodeQueryConsumerOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeQueryConsumerOffsetResponseHeader({ offset: 42 }), { offset: "42" });
 * ```
 */
export function encodeQueryConsumerOffsetResponseHeader(
  h: Readonly<QueryConsumerOffsetResponseHeader>,
): Record<string, string> {
  return encode(QUERY_OFFSET_RESPONSE, h);
}

/**
 * Request header of UPDATE_CONSUMER_OFFSET (`UpdateConsumerOffsetRequestHeader`).
 *
 * @example Commit after consuming offsets 0 to 4
 * ```ts
 * import { encodeUpdateConsumerOffsetRequestHeader, type UpdateConsumerOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * // commitOffset is the next offset to consume, not the last one consumed.
 * const h: UpdateConsumerOffsetRequestHeader = { consumerGroup: "CG", topic: "T", queueId: 0, commitOffset: 5 };
 * assert.deepEqual(encodeUpdateConsumerOffsetRequestHeader(h), {
 *   consumerGroup: "CG", topic: "T", queueId: "0", commitOffset: "5",
 * });
 * ```
 */
export interface UpdateConsumerOffsetRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
  /** Topic. */
  topic: string;
  /** Queue id. */
  queueId: number;
  /** Next offset to consume. */
  commitOffset: number;
  /** Broker name. */
  bname?: string;
}

const UPDATE_OFFSET_REQUEST = codec<UpdateConsumerOffsetRequestHeader>(
  "UpdateConsumerOffsetRequestHeader",
  {
    consumerGroup: ["string", "required"],
    topic: ["string", "required"],
    queueId: ["int", "required"],
    commitOffset: ["long", "required"],
    bname: ["string", "optional"],
  },
);

/**
 * Decode an UPDATE_CONSUMER_OFFSET request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeUpdateConsumerOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeUpdateConsumerOffsetRequestHeader({ consumerGroup: "CG", topic: "T", queueId: "0", commitOffset: "+007" });
 * assert.equal(h.commitOffset, 7);
 * ```
 */
export function decodeUpdateConsumerOffsetRequestHeader(
  extFields: Readonly<Record<string, string>>,
): UpdateConsumerOffsetRequestHeader {
  return decode(UPDATE_OFFSET_REQUEST, extFields);
}

/**
 * Encode an UPDATE_CONSUMER_OFFSET request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeUpdateConsumerOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = encodeUpdateConsumerOffsetRequestHeader({ consumerGroup: "CG", topic: "T", queueId: 0, commitOffset: 5 });
 * assert.equal(ext.commitOffset, "5");
 * ```
 */
export function encodeUpdateConsumerOffsetRequestHeader(
  h: Readonly<UpdateConsumerOffsetRequestHeader>,
): Record<string, string> {
  return encode(UPDATE_OFFSET_REQUEST, h);
}

// ---------------------------------------------------------------------------
// GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP (29)

/**
 * Request header of GET_MAX_OFFSET (`GetMaxOffsetRequestHeader`).
 *
 * @example
 * ```ts
 * import { encodeGetMaxOffsetRequestHeader, type GetMaxOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: GetMaxOffsetRequestHeader = { topic: "T", queueId: 3, committed: true, bname: "broker-a" };
 * assert.deepEqual(encodeGetMaxOffsetRequestHeader(h), {
 *   topic: "T", queueId: "3", committed: "true", bname: "broker-a",
 * });
 * ```
 */
export interface GetMaxOffsetRequestHeader {
  /** Topic. */
  topic: string;
  /** Queue id. */
  queueId: number;
  /** 5.0+: committed offset only (Java primitive, default true, always sent by 5.x). */
  committed?: boolean;
  /** Broker name. */
  bname?: string;
}

const MAX_OFFSET_REQUEST = codec<GetMaxOffsetRequestHeader>("GetMaxOffsetRequestHeader", {
  topic: ["string", "required"],
  queueId: ["int", "required"],
  committed: ["bool", "optional"],
  bname: ["string", "optional"],
});

/**
 * Decode a GET_MAX_OFFSET request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetMaxOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeGetMaxOffsetRequestHeader({ topic: "T", queueId: "3", committed: "true" }), {
 *   topic: "T", queueId: 3, committed: true,
 * });
 * ```
 */
export function decodeGetMaxOffsetRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetMaxOffsetRequestHeader {
  return decode(MAX_OFFSET_REQUEST, extFields);
}

/**
 * Encode a GET_MAX_OFFSET request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeGetMaxOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeGetMaxOffsetRequestHeader({ topic: "T", queueId: 0, committed: true }), {
 *   topic: "T", queueId: "0", committed: "true",
 * });
 * ```
 */
export function encodeGetMaxOffsetRequestHeader(
  h: Readonly<GetMaxOffsetRequestHeader>,
): Record<string, string> {
  return encode(MAX_OFFSET_REQUEST, h);
}

/**
 * Decode a GET_MAX_OFFSET response header.
 *
 * @param extFields The response's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetMaxOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeGetMaxOffsetResponseHeader({ offset: "100" }).offset, 100);
 * ```
 */
export function decodeGetMaxOffsetResponseHeader(
  extFields: Readonly<Record<string, string>>,
): GetMaxOffsetResponseHeader {
  return decode(MAX_OFFSET_RESPONSE, extFields);
}

/**
 * Encode a GET_MAX_OFFSET response header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the offset is not a 64-bit integer.
 *
 * @example
 * ```ts
 * import { encodeGetMaxOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeGetMaxOffsetResponseHeader({ offset: 100 }), { offset: "100" });
 * ```
 */
export function encodeGetMaxOffsetResponseHeader(
  h: Readonly<GetMaxOffsetResponseHeader>,
): Record<string, string> {
  return encode(MAX_OFFSET_RESPONSE, h);
}

/**
 * Request header of GET_MIN_OFFSET (`GetMinOffsetRequestHeader`).
 *
 * @example
 * ```ts
 * import { encodeGetMinOffsetRequestHeader, type GetMinOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: GetMinOffsetRequestHeader = { topic: "T", queueId: 0 };
 * assert.deepEqual(encodeGetMinOffsetRequestHeader(h), { topic: "T", queueId: "0" });
 * ```
 */
export interface GetMinOffsetRequestHeader {
  /** Topic. */
  topic: string;
  /** Queue id. */
  queueId: number;
  /** Broker name. */
  bname?: string;
}

const MIN_OFFSET_REQUEST = codec<GetMinOffsetRequestHeader>("GetMinOffsetRequestHeader", {
  topic: ["string", "required"],
  queueId: ["int", "required"],
  bname: ["string", "optional"],
});

/**
 * Decode a GET_MIN_OFFSET request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetMinOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeGetMinOffsetRequestHeader({ topic: "T", queueId: "0", extra: "ignored" }), { topic: "T", queueId: 0 });
 * ```
 */
export function decodeGetMinOffsetRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetMinOffsetRequestHeader {
  return decode(MIN_OFFSET_REQUEST, extFields);
}

/**
 * Encode a GET_MIN_OFFSET request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeGetMinOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeGetMinOffsetRequestHeader({ topic: "T", queueId: 0 }), { topic: "T", queueId: "0" });
 * ```
 */
export function encodeGetMinOffsetRequestHeader(
  h: Readonly<GetMinOffsetRequestHeader>,
): Record<string, string> {
  return encode(MIN_OFFSET_REQUEST, h);
}

/**
 * Decode a GET_MIN_OFFSET response header.
 *
 * @param extFields The response's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetMinOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeGetMinOffsetResponseHeader({ offset: "0" }).offset, 0);
 * ```
 */
export function decodeGetMinOffsetResponseHeader(
  extFields: Readonly<Record<string, string>>,
): GetMinOffsetResponseHeader {
  return decode(MIN_OFFSET_RESPONSE, extFields);
}

/**
 * Encode a GET_MIN_OFFSET response header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the offset is not a 64-bit integer.
 *
 * @example
 * ```ts
 * import { encodeGetMinOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeGetMinOffsetResponseHeader({ offset: 0 }), { offset: "0" });
 * ```
 */
export function encodeGetMinOffsetResponseHeader(
  h: Readonly<GetMinOffsetResponseHeader>,
): Record<string, string> {
  return encode(MIN_OFFSET_RESPONSE, h);
}

/**
 * Request header of SEARCH_OFFSET_BY_TIMESTAMP (`SearchOffsetRequestHeader`).
 *
 * @example The first message stored at or after a time
 * ```ts
 * import { encodeSearchOffsetRequestHeader, type SearchOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: SearchOffsetRequestHeader = { topic: "T", queueId: 0, timestamp: 1700000000000, boundaryType: "LOWER" };
 * assert.equal(encodeSearchOffsetRequestHeader(h).timestamp, "1700000000000");
 * ```
 */
export interface SearchOffsetRequestHeader {
  /** Topic. */
  topic: string;
  /** Queue id. */
  queueId: number;
  /** Store time in ms to search for. */
  timestamp: number;
  /** 5.1.4+: `LOWER` or `UPPER`. */
  boundaryType?: string;
  /** Broker name. */
  bname?: string;
}

const SEARCH_OFFSET_REQUEST = codec<SearchOffsetRequestHeader>("SearchOffsetRequestHeader", {
  topic: ["string", "required"],
  queueId: ["int", "required"],
  timestamp: ["long", "required"],
  boundaryType: ["string", "optional"],
  bname: ["string", "optional"],
});

/**
 * Decode a SEARCH_OFFSET_BY_TIMESTAMP request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeSearchOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeSearchOffsetRequestHeader({ topic: "T", queueId: "0", timestamp: "1700000000000" }).timestamp, 1700000000000);
 * ```
 */
export function decodeSearchOffsetRequestHeader(
  extFields: Readonly<Record<string, string>>,
): SearchOffsetRequestHeader {
  return decode(SEARCH_OFFSET_REQUEST, extFields);
}

/**
 * Encode a SEARCH_OFFSET_BY_TIMESTAMP request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeSearchOffsetRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeSearchOffsetRequestHeader({ topic: "T", queueId: 0, timestamp: 5, boundaryType: "LOWER" }), {
 *   topic: "T", queueId: "0", timestamp: "5", boundaryType: "LOWER",
 * });
 * ```
 */
export function encodeSearchOffsetRequestHeader(
  h: Readonly<SearchOffsetRequestHeader>,
): Record<string, string> {
  return encode(SEARCH_OFFSET_REQUEST, h);
}

/**
 * Decode a SEARCH_OFFSET_BY_TIMESTAMP response header.
 *
 * @param extFields The response's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeSearchOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeSearchOffsetResponseHeader({ offset: "9" }).offset, 9);
 * ```
 */
export function decodeSearchOffsetResponseHeader(
  extFields: Readonly<Record<string, string>>,
): SearchOffsetResponseHeader {
  return decode(SEARCH_OFFSET_RESPONSE, extFields);
}

/**
 * Encode a SEARCH_OFFSET_BY_TIMESTAMP response header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the offset is not a 64-bit integer.
 *
 * @example
 * ```ts
 * import { encodeSearchOffsetResponseHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeSearchOffsetResponseHeader({ offset: 9 }), { offset: "9" });
 * ```
 */
export function encodeSearchOffsetResponseHeader(
  h: Readonly<SearchOffsetResponseHeader>,
): Record<string, string> {
  return encode(SEARCH_OFFSET_RESPONSE, h);
}

// ---------------------------------------------------------------------------
// GET_CONSUMER_LIST_BY_GROUP (38), NOTIFY_CONSUMER_IDS_CHANGED (40)

/**
 * Request header of GET_CONSUMER_LIST_BY_GROUP (`GetConsumerListByGroupRequestHeader`).
 *
 * @example
 * ```ts
 * import { decodeGetConsumerListByGroupRequestHeader, type GetConsumerListByGroupRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: GetConsumerListByGroupRequestHeader = decodeGetConsumerListByGroupRequestHeader({ consumerGroup: "CG" });
 * assert.deepEqual(h, { consumerGroup: "CG" }); // an absent optional field stays absent
 * ```
 */
export interface GetConsumerListByGroupRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
  /** Broker name. */
  bname?: string;
}

const CONSUMER_LIST_REQUEST = codec<GetConsumerListByGroupRequestHeader>(
  "GetConsumerListByGroupRequestHeader",
  { consumerGroup: ["string", "required"], bname: ["string", "optional"] },
);

/**
 * Decode a GET_CONSUMER_LIST_BY_GROUP request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetConsumerListByGroupRequestHeader } from "./ext_fields.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeGetConsumerListByGroupRequestHeader({ consumerGroup: "CG" }).consumerGroup, "CG");
 * assert.throws(() => decodeGetConsumerListByGroupRequestHeader({}), (e) =>
 *   e instanceof CodecError && e.message === "GetConsumerListByGroupRequestHeader: field consumerGroup: is required but missing");
 * ```
 */
export function decodeGetConsumerListByGroupRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetConsumerListByGroupRequestHeader {
  return decode(CONSUMER_LIST_REQUEST, extFields);
}

/**
 * Encode a GET_CONSUMER_LIST_BY_GROUP request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the group is missing.
 *
 * @example
 * ```ts
 * import { encodeGetConsumerListByGroupRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeGetConsumerListByGroupRequestHeader({ consumerGroup: "CG" }), { consumerGroup: "CG" });
 * ```
 */
export function encodeGetConsumerListByGroupRequestHeader(
  h: Readonly<GetConsumerListByGroupRequestHeader>,
): Record<string, string> {
  return encode(CONSUMER_LIST_REQUEST, h);
}

/**
 * Request header of NOTIFY_CONSUMER_IDS_CHANGED (`NotifyConsumerIdsChangedRequestHeader`), B→C oneway.
 *
 * @example
 * ```ts
 * import {
 *   encodeNotifyConsumerIdsChangedRequestHeader, type NotifyConsumerIdsChangedRequestHeader,
 * } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: NotifyConsumerIdsChangedRequestHeader = { consumerGroup: "CG" };
 * assert.deepEqual(encodeNotifyConsumerIdsChangedRequestHeader(h), { consumerGroup: "CG" });
 * ```
 */
export interface NotifyConsumerIdsChangedRequestHeader {
  /** Consumer group whose membership changed. */
  consumerGroup: string;
}

const NOTIFY_IDS_CHANGED = codec<NotifyConsumerIdsChangedRequestHeader>(
  "NotifyConsumerIdsChangedRequestHeader",
  { consumerGroup: ["string", "required"] },
);

/**
 * Decode a NOTIFY_CONSUMER_IDS_CHANGED request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeNotifyConsumerIdsChangedRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeNotifyConsumerIdsChangedRequestHeader({ consumerGroup: "CG" }).consumerGroup, "CG");
 * ```
 */
export function decodeNotifyConsumerIdsChangedRequestHeader(
  extFields: Readonly<Record<string, string>>,
): NotifyConsumerIdsChangedRequestHeader {
  return decode(NOTIFY_IDS_CHANGED, extFields);
}

/**
 * Encode a NOTIFY_CONSUMER_IDS_CHANGED request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the group is missing.
 *
 * @example
 * ```ts
 * import { encodeNotifyConsumerIdsChangedRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeNotifyConsumerIdsChangedRequestHeader({ consumerGroup: "CG" }), { consumerGroup: "CG" });
 * ```
 */
export function encodeNotifyConsumerIdsChangedRequestHeader(
  h: Readonly<NotifyConsumerIdsChangedRequestHeader>,
): Record<string, string> {
  return encode(NOTIFY_IDS_CHANGED, h);
}

// ---------------------------------------------------------------------------
// CONSUMER_SEND_MSG_BACK (36), UNREGISTER_CLIENT (35), GET_ROUTEINFO_BY_TOPIC (105)

/**
 * Request header of CONSUMER_SEND_MSG_BACK (`ConsumerSendMsgBackRequestHeader`).
 *
 * @example Send a failed message back for a later retry
 * ```ts
 * import { encodeConsumerSendMsgBackRequestHeader, type ConsumerSendMsgBackRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: ConsumerSendMsgBackRequestHeader = {
 *   offset: 4096, group: "CG", delayLevel: 0, originMsgId: "7F00000100002A9F0000000000001000",
 *   originTopic: "TopicTest", unitMode: false, maxReconsumeTimes: 16,
 * };
 * const ext = encodeConsumerSendMsgBackRequestHeader(h);
 * assert.equal(ext.delayLevel, "0"); // 0: the broker picks the delay from the reconsume count
 * assert.equal(ext.maxReconsumeTimes, "16");
 * ```
 */
export interface ConsumerSendMsgBackRequestHeader {
  /** Commit-log (physical) offset of the failed message. */
  offset: number;
  /** Consumer group. */
  group: string;
  /** 0: the broker chooses; −1: straight to the DLQ. */
  delayLevel: number;
  /** Offset message id of the original message. */
  originMsgId?: string;
  /** Original topic. */
  originTopic?: string;
  /** Java primitive, always sent (default false). */
  unitMode?: boolean;
  /** Maximum reconsume times of the group. */
  maxReconsumeTimes?: number;
  /** Broker name. */
  bname?: string;
}

const SEND_BACK_REQUEST = codec<ConsumerSendMsgBackRequestHeader>(
  "ConsumerSendMsgBackRequestHeader",
  {
    offset: ["long", "required"],
    group: ["string", "required"],
    delayLevel: ["int", "required"],
    originMsgId: ["string", "optional"],
    originTopic: ["string", "optional"],
    unitMode: ["bool", "optional"],
    maxReconsumeTimes: ["int", "optional"],
    bname: ["string", "optional"],
  },
);

/**
 * Decode a CONSUMER_SEND_MSG_BACK request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeConsumerSendMsgBackRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeConsumerSendMsgBackRequestHeader({ offset: "1024", group: "CG", delayLevel: "-1", unitMode: "false" });
 * assert.equal(h.delayLevel, -1);
 * ```
 */
export function decodeConsumerSendMsgBackRequestHeader(
  extFields: Readonly<Record<string, string>>,
): ConsumerSendMsgBackRequestHeader {
  return decode(SEND_BACK_REQUEST, extFields);
}

/**
 * Encode a CONSUMER_SEND_MSG_BACK request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeConsumerSendMsgBackRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeConsumerSendMsgBackRequestHeader({ offset: 1024, group: "CG", delayLevel: 0, unitMode: false }), {
 *   offset: "1024", group: "CG", delayLevel: "0", unitMode: "false",
 * });
 * ```
 */
export function encodeConsumerSendMsgBackRequestHeader(
  h: Readonly<ConsumerSendMsgBackRequestHeader>,
): Record<string, string> {
  return encode(SEND_BACK_REQUEST, h);
}

/**
 * Request header of UNREGISTER_CLIENT (`UnregisterClientRequestHeader`).
 *
 * @example One group per call
 * ```ts
 * import { encodeUnregisterClientRequestHeader, type UnregisterClientRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: UnregisterClientRequestHeader = { clientID: "10.0.0.5@4242", producerGroup: "PG" };
 * assert.deepEqual(encodeUnregisterClientRequestHeader(h), { clientID: "10.0.0.5@4242", producerGroup: "PG" });
 * ```
 */
export interface UnregisterClientRequestHeader {
  /** Client id (`ip@instance`). */
  clientID: string;
  /** The producer group to unregister (one of the two groups per call). */
  producerGroup?: string;
  /** The consumer group to unregister. */
  consumerGroup?: string;
}

const UNREGISTER_CLIENT = codec<UnregisterClientRequestHeader>("UnregisterClientRequestHeader", {
  clientID: ["string", "required"],
  producerGroup: ["string", "optional"],
  consumerGroup: ["string", "optional"],
});

/**
 * Decode an UNREGISTER_CLIENT request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeUnregisterClientRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeUnregisterClientRequestHeader({ clientID: "10.0.0.5@1", producerGroup: "PG" }), {
 *   clientID: "10.0.0.5@1", producerGroup: "PG",
 * });
 * ```
 */
export function decodeUnregisterClientRequestHeader(
  extFields: Readonly<Record<string, string>>,
): UnregisterClientRequestHeader {
  return decode(UNREGISTER_CLIENT, extFields);
}

/**
 * Encode an UNREGISTER_CLIENT request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the client id is missing.
 *
 * @example
 * ```ts
 * import { encodeUnregisterClientRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeUnregisterClientRequestHeader({ clientID: "c", consumerGroup: "CG" }), { clientID: "c", consumerGroup: "CG" });
 * ```
 */
export function encodeUnregisterClientRequestHeader(
  h: Readonly<UnregisterClientRequestHeader>,
): Record<string, string> {
  return encode(UNREGISTER_CLIENT, h);
}

/**
 * Request header of GET_ROUTEINFO_BY_TOPIC (`GetRouteInfoRequestHeader`).
 *
 * @example
 * ```ts
 * import { decodeGetRouteInfoRequestHeader, type GetRouteInfoRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * // Booleans decode as Java's Boolean.parseBoolean: "true" in any case, anything else is false.
 * const h: GetRouteInfoRequestHeader = decodeGetRouteInfoRequestHeader({ topic: "T", acceptStandardJsonOnly: "TRUE" });
 * assert.equal(h.acceptStandardJsonOnly, true);
 * ```
 */
export interface GetRouteInfoRequestHeader {
  /** Topic. */
  topic: string;
  /** 4.9.4+: ask for standard JSON (quoted map keys). */
  acceptStandardJsonOnly?: boolean;
}

const ROUTE_REQUEST = codec<GetRouteInfoRequestHeader>("GetRouteInfoRequestHeader", {
  topic: ["string", "required"],
  acceptStandardJsonOnly: ["bool", "optional"],
});

/**
 * Decode a GET_ROUTEINFO_BY_TOPIC request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetRouteInfoRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeGetRouteInfoRequestHeader({ topic: "T", acceptStandardJsonOnly: "yes" }), {
 *   topic: "T", acceptStandardJsonOnly: false,
 * });
 * ```
 */
export function decodeGetRouteInfoRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetRouteInfoRequestHeader {
  return decode(ROUTE_REQUEST, extFields);
}

/**
 * Encode a GET_ROUTEINFO_BY_TOPIC request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the topic is missing.
 *
 * @example
 * ```ts
 * import { encodeGetRouteInfoRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeGetRouteInfoRequestHeader({ topic: "T", acceptStandardJsonOnly: true }), {
 *   topic: "T", acceptStandardJsonOnly: "true",
 * });
 * ```
 */
export function encodeGetRouteInfoRequestHeader(
  h: Readonly<GetRouteInfoRequestHeader>,
): Record<string, string> {
  return encode(ROUTE_REQUEST, h);
}

// ---------------------------------------------------------------------------
// PUSH_REPLY_MESSAGE_TO_CLIENT (326), END_TRANSACTION (37)

/**
 * Request header of PUSH_REPLY_MESSAGE_TO_CLIENT (`ReplyMessageRequestHeader`,
 * broker → requester): the replier's send header plus the broker's fields.
 *
 * @example A reply pushed by the broker
 * ```ts
 * import { decodeReplyMessageRequestHeader, type ReplyMessageRequestHeader } from "./ext_fields.ts";
 * import { parseHostAddress } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const h: ReplyMessageRequestHeader = decodeReplyMessageRequestHeader({
 *   producerGroup: "PG", topic: "DefaultCluster_REPLY_TOPIC", defaultTopic: "TBW102", defaultTopicQueueNums: "4",
 *   queueId: "0", sysFlag: "0", bornTimestamp: "1700000000000", flag: "0", reconsumeTimes: "0", unitMode: "false",
 *   bornHost: "0:0:0:0:0:0:0:1:53000", storeHost: "127.0.0.1:10911", storeTimestamp: "1700000000005",
 * });
 * assert.deepEqual(parseHostAddress(h.bornHost), { address: "0:0:0:0:0:0:0:1", port: 53000 });
 * assert.equal(h.storeTimestamp - h.bornTimestamp, 5);
 * ```
 */
export interface ReplyMessageRequestHeader {
  /** Producer group of the replier. */
  producerGroup: string;
  /** Reply topic. */
  topic: string;
  /** Default topic of the replier's send. */
  defaultTopic: string;
  /** Default queue count of the replier's send. */
  defaultTopicQueueNums: number;
  /** The replier's header queue id (may be −1). */
  queueId: number;
  /** sysFlag of the reply (bit 0: body compressed). */
  sysFlag: number;
  /** Born time in ms. */
  bornTimestamp: number;
  /** User flag. */
  flag: number;
  /** Properties string of the reply (plus `PUSH_REPLY_TIME`). */
  properties?: string;
  /** Reconsume times. */
  reconsumeTimes?: number;
  /** Java primitive, always sent. */
  unitMode?: boolean;
  /** `"<ip>:<port>"` of the replier's connection (IPv6 without brackets). */
  bornHost: string;
  /** `"<ip>:<port>"` of the broker. */
  storeHost: string;
  /** Broker ms time of the push. */
  storeTimestamp: number;
}

const REPLY_REQUEST = codec<ReplyMessageRequestHeader>("ReplyMessageRequestHeader", {
  producerGroup: ["string", "required"],
  topic: ["string", "required"],
  defaultTopic: ["string", "required"],
  defaultTopicQueueNums: ["int", "required"],
  queueId: ["int", "required"],
  sysFlag: ["int", "required"],
  bornTimestamp: ["long", "required"],
  flag: ["int", "required"],
  properties: ["string", "optional"],
  reconsumeTimes: ["int", "optional"],
  unitMode: ["bool", "optional"],
  bornHost: ["string", "required"],
  storeHost: ["string", "required"],
  storeTimestamp: ["long", "required"],
});

/**
 * Decode a PUSH_REPLY_MESSAGE_TO_CLIENT request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeReplyMessageRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeReplyMessageRequestHeader({
 *   producerGroup: "PG", topic: "C_REPLY_TOPIC", defaultTopic: "TBW102", defaultTopicQueueNums: "4", queueId: "-1",
 *   sysFlag: "0", bornTimestamp: "1", flag: "0", unitMode: "false",
 *   bornHost: "0:0:0:0:0:0:0:1:53000", storeHost: "127.0.0.1:10911", storeTimestamp: "2",
 * });
 * assert.equal(h.queueId, -1);
 * assert.equal(h.bornHost, "0:0:0:0:0:0:0:1:53000");
 * ```
 */
export function decodeReplyMessageRequestHeader(
  extFields: Readonly<Record<string, string>>,
): ReplyMessageRequestHeader {
  return decode(REPLY_REQUEST, extFields);
}

/**
 * Encode a PUSH_REPLY_MESSAGE_TO_CLIENT request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeReplyMessageRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = encodeReplyMessageRequestHeader({
 *   producerGroup: "PG", topic: "R", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 0, sysFlag: 0,
 *   bornTimestamp: 1, flag: 0, unitMode: false, bornHost: "127.0.0.1:5", storeHost: "127.0.0.1:10911", storeTimestamp: 2,
 * });
 * assert.equal(ext.storeTimestamp, "2");
 * ```
 */
export function encodeReplyMessageRequestHeader(
  h: Readonly<ReplyMessageRequestHeader>,
): Record<string, string> {
  return encode(REPLY_REQUEST, h);
}

/**
 * Request header of END_TRANSACTION (`EndTransactionRequestHeader`), producer → broker oneway.
 *
 * @example A rollback
 * ```ts
 * import { decodeEndTransactionRequestHeader, type EndTransactionRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h: EndTransactionRequestHeader = decodeEndTransactionRequestHeader({
 *   producerGroup: "PG", tranStateTableOffset: "3", commitLogOffset: "4096",
 *   commitOrRollback: "12", // 8 commit, 12 rollback, 0 unknown
 *   msgId: "0A0000051234000000010000002A0000",
 * });
 * assert.equal(h.commitOrRollback, 12);
 * assert.equal(h.fromTransactionCheck, undefined); // optional fields absent on the wire stay absent
 * ```
 */
export interface EndTransactionRequestHeader {
  /** Topic. */
  topic?: string;
  /** Producer group. */
  producerGroup: string;
  /** Queue offset of the half message (send result). */
  tranStateTableOffset: number;
  /** Commit-log offset of the half message. */
  commitLogOffset: number;
  /** 8 commit, 12 rollback, 0 unknown. */
  commitOrRollback: number;
  /** Whether this answers a CHECK_TRANSACTION_STATE. */
  fromTransactionCheck?: boolean;
  /** UNIQ_KEY of the half message. */
  msgId: string;
  /** Transaction id. */
  transactionId?: string;
  /** Broker name. */
  bname?: string;
}

const END_TRANSACTION = codec<EndTransactionRequestHeader>("EndTransactionRequestHeader", {
  topic: ["string", "optional"],
  producerGroup: ["string", "required"],
  tranStateTableOffset: ["long", "required"],
  commitLogOffset: ["long", "required"],
  commitOrRollback: ["int", "required"],
  fromTransactionCheck: ["bool", "optional"],
  msgId: ["string", "required"],
  transactionId: ["string", "optional"],
  bname: ["string", "optional"],
});

/**
 * Decode an END_TRANSACTION request header (the broker's side; this library
 * does not send transactions).
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeEndTransactionRequestHeader } from "./ext_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeEndTransactionRequestHeader({
 *   producerGroup: "PG", tranStateTableOffset: "3", commitLogOffset: "4096", commitOrRollback: "8", msgId: "U",
 *   fromTransactionCheck: "false",
 * });
 * assert.equal(h.commitOrRollback, 8);
 * ```
 */
export function decodeEndTransactionRequestHeader(
  extFields: Readonly<Record<string, string>>,
): EndTransactionRequestHeader {
  return decode(END_TRANSACTION, extFields);
}
