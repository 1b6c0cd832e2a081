/**
 * Headers of the admin calls that reach clients or list their connections,
 * and of this library's cancel codes:
 *
 * - 307 GET_CONSUMER_RUNNING_INFO (`GetConsumerRunningInfoRequestHeader`)
 * - 309 CONSUME_MESSAGE_DIRECTLY (`ConsumeMessageDirectlyResultRequestHeader`)
 * - 203 GET_CONSUMER_CONNECTION_LIST (`GetConsumerConnectionListRequestHeader`)
 * - 204 GET_PRODUCER_CONNECTION_LIST (`GetProducerConnectionListRequestHeader`)
 * - 208 GET_CONSUME_STATS (`GetConsumeStatsRequestHeader`)
 * - 12 QUERY_MESSAGE (`QueryMessageRequestHeader`, `QueryMessageResponseHeader`)
 * - 33 VIEW_MESSAGE_BY_ID (`ViewMessageRequestHeader`)
 * - CANCEL_REQUEST and PUSH_CANCEL_TO_CLIENT (`RpcRequestCode`)
 *
 * @example
 * ```ts
 * import { decodeGetConsumerRunningInfoRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeGetConsumerRunningInfoRequestHeader({ consumerGroup: "CG", clientId: "c1", jstackEnable: "false" });
 * assert.equal(h.jstackEnable, false);
 * ```
 *
 * @module
 */

import { codec, decode, encode } from "./_header_codec.ts";

/**
 * Request header of GET_CONSUMER_RUNNING_INFO (307): admin → broker →
 * client.
 *
 * @example
 * ```ts
 * import type { GetConsumerRunningInfoRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: GetConsumerRunningInfoRequestHeader = { consumerGroup: "CG", clientId: "10.0.0.5@1", jstackEnable: false };
 * assert.equal(h.clientId, "10.0.0.5@1");
 * ```
 */
export interface GetConsumerRunningInfoRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
  /** The client asked. */
  clientId: string;
  /** Include a thread dump (Java primitive: always sent). */
  jstackEnable?: boolean;
}

const RUNNING_INFO = codec<GetConsumerRunningInfoRequestHeader>(
  "GetConsumerRunningInfoRequestHeader",
  {
    consumerGroup: ["string", "required"],
    clientId: ["string", "required"],
    jstackEnable: ["bool", "optional"],
  },
);

/**
 * Decode a GET_CONSUMER_RUNNING_INFO request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetConsumerRunningInfoRequestHeader } from "./admin_headers.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => decodeGetConsumerRunningInfoRequestHeader({ clientId: "c" }), CodecError);
 * ```
 */
export function decodeGetConsumerRunningInfoRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetConsumerRunningInfoRequestHeader {
  return decode(RUNNING_INFO, extFields);
}

/**
 * Encode a GET_CONSUMER_RUNNING_INFO request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a required field is missing.
 *
 * @example
 * ```ts
 * import { encodeGetConsumerRunningInfoRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   encodeGetConsumerRunningInfoRequestHeader({ consumerGroup: "CG", clientId: "c", jstackEnable: false }),
 *   { consumerGroup: "CG", clientId: "c", jstackEnable: "false" },
 * );
 * ```
 */
export function encodeGetConsumerRunningInfoRequestHeader(
  h: Readonly<GetConsumerRunningInfoRequestHeader>,
): Record<string, string> {
  return encode(RUNNING_INFO, h);
}

/**
 * Request header of CONSUME_MESSAGE_DIRECTLY (309): admin → broker (which
 * adds `brokerName`, the sys flags and the stored message as the body) →
 * client.
 *
 * @example
 * ```ts
 * import type { ConsumeMessageDirectlyResultRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: ConsumeMessageDirectlyResultRequestHeader = {
 *   consumerGroup: "CG", clientId: "c1", msgId: "7F00000100002A9F0000000000000000", topic: "T",
 * };
 * assert.equal(h.brokerName, undefined);
 * ```
 */
export interface ConsumeMessageDirectlyResultRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
  /** The client asked. */
  clientId?: string;
  /** Offset message id of the message. */
  msgId?: string;
  /** Broker that stored it (added by the broker). */
  brokerName?: string;
  /** Its topic. */
  topic?: string;
  /** The topic's sys flag (added by the broker). */
  topicSysFlag?: number;
  /** The group's sys flag (added by the broker). */
  groupSysFlag?: number;
}

const CONSUME_DIRECTLY = codec<ConsumeMessageDirectlyResultRequestHeader>(
  "ConsumeMessageDirectlyResultRequestHeader",
  {
    consumerGroup: ["string", "required"],
    clientId: ["string", "optional"],
    msgId: ["string", "optional"],
    brokerName: ["string", "optional"],
    topic: ["string", "optional"],
    topicSysFlag: ["int", "optional"],
    groupSysFlag: ["int", "optional"],
  },
);

/**
 * Decode a CONSUME_MESSAGE_DIRECTLY request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeConsumeMessageDirectlyResultRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeConsumeMessageDirectlyResultRequestHeader({ consumerGroup: "CG", topicSysFlag: "0" });
 * assert.equal(h.topicSysFlag, 0);
 * ```
 */
export function decodeConsumeMessageDirectlyResultRequestHeader(
  extFields: Readonly<Record<string, string>>,
): ConsumeMessageDirectlyResultRequestHeader {
  return decode(CONSUME_DIRECTLY, extFields);
}

/**
 * Encode a CONSUME_MESSAGE_DIRECTLY request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a required field is missing.
 *
 * @example
 * ```ts
 * import { encodeConsumeMessageDirectlyResultRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeConsumeMessageDirectlyResultRequestHeader({ consumerGroup: "CG", msgId: "M" }), {
 *   consumerGroup: "CG", msgId: "M",
 * });
 * ```
 */
export function encodeConsumeMessageDirectlyResultRequestHeader(
  h: Readonly<ConsumeMessageDirectlyResultRequestHeader>,
): Record<string, string> {
  return encode(CONSUME_DIRECTLY, h);
}

/**
 * Request header of GET_CONSUMER_CONNECTION_LIST (203).
 *
 * @example
 * ```ts
 * import type { GetConsumerConnectionListRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: GetConsumerConnectionListRequestHeader = { consumerGroup: "CG" };
 * assert.equal(h.consumerGroup, "CG");
 * ```
 */
export interface GetConsumerConnectionListRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
}

const CONSUMER_CONNECTIONS = codec<GetConsumerConnectionListRequestHeader>(
  "GetConsumerConnectionListRequestHeader",
  { consumerGroup: ["string", "required"] },
);

/**
 * Decode a GET_CONSUMER_CONNECTION_LIST request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetConsumerConnectionListRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeGetConsumerConnectionListRequestHeader({ consumerGroup: "CG" }), { consumerGroup: "CG" });
 * ```
 */
export function decodeGetConsumerConnectionListRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetConsumerConnectionListRequestHeader {
  return decode(CONSUMER_CONNECTIONS, extFields);
}

/**
 * Request header of GET_PRODUCER_CONNECTION_LIST (204).
 *
 * @example
 * ```ts
 * import type { GetProducerConnectionListRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: GetProducerConnectionListRequestHeader = { producerGroup: "CLIENT_INNER_PRODUCER" };
 * assert.equal(h.producerGroup, "CLIENT_INNER_PRODUCER");
 * ```
 */
export interface GetProducerConnectionListRequestHeader {
  /** Producer group. */
  producerGroup: string;
}

const PRODUCER_CONNECTIONS = codec<GetProducerConnectionListRequestHeader>(
  "GetProducerConnectionListRequestHeader",
  { producerGroup: ["string", "required"] },
);

/**
 * Decode a GET_PRODUCER_CONNECTION_LIST request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetProducerConnectionListRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeGetProducerConnectionListRequestHeader({ producerGroup: "PG" }).producerGroup, "PG");
 * ```
 */
export function decodeGetProducerConnectionListRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetProducerConnectionListRequestHeader {
  return decode(PRODUCER_CONNECTIONS, extFields);
}

/**
 * Request header of GET_CONSUME_STATS (208): a group's progress on a broker,
 * for one topic or (without `topic`) every topic it has offsets for.
 *
 * @example
 * ```ts
 * import type { GetConsumeStatsRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: GetConsumeStatsRequestHeader = { consumerGroup: "CG" };
 * assert.equal(h.topic, undefined);
 * ```
 */
export interface GetConsumeStatsRequestHeader {
  /** Consumer group. */
  consumerGroup: string;
  /** One topic; every topic of the group when absent or empty. */
  topic?: string;
}

const CONSUME_STATS = codec<GetConsumeStatsRequestHeader>(
  "GetConsumeStatsRequestHeader",
  { consumerGroup: ["string", "required"], topic: ["string", "optional"] },
);

/**
 * Decode a GET_CONSUME_STATS request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeGetConsumeStatsRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeGetConsumeStatsRequestHeader({ consumerGroup: "CG", topic: "T" }), {
 *   consumerGroup: "CG", topic: "T",
 * });
 * assert.throws(() => decodeGetConsumeStatsRequestHeader({ topic: "T" }), /consumerGroup/);
 * ```
 */
export function decodeGetConsumeStatsRequestHeader(
  extFields: Readonly<Record<string, string>>,
): GetConsumeStatsRequestHeader {
  return decode(CONSUME_STATS, extFields);
}

/**
 * Encode a GET_CONSUME_STATS request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 *
 * @example
 * ```ts
 * import { encodeGetConsumeStatsRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeGetConsumeStatsRequestHeader({ consumerGroup: "CG" }), { consumerGroup: "CG" });
 * ```
 */
export function encodeGetConsumeStatsRequestHeader(
  h: Readonly<GetConsumeStatsRequestHeader>,
): Record<string, string> {
  return encode(CONSUME_STATS, h);
}

/**
 * Header of CANCEL_REQUEST (requester → broker) and PUSH_CANCEL_TO_CLIENT
 * (broker → consumer, with `consumerGroup`), this library's codes.
 *
 * @example
 * ```ts
 * import { decodeCancelRequestHeader, encodeCancelRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const wire = encodeCancelRequestHeader({ correlationId: "c1", topic: "rpc", queueId: 2 });
 * assert.deepEqual(wire, { correlationId: "c1", topic: "rpc", queueId: "2" });
 * assert.equal(decodeCancelRequestHeader(wire).queueId, 2);
 * ```
 */
export interface CancelRequestHeader {
  /** The request's correlation id. */
  correlationId: string;
  /** The request's topic. */
  topic?: string;
  /** The queue the request was stored in. */
  queueId?: number;
  /** The consumer group told (PUSH_CANCEL_TO_CLIENT). */
  consumerGroup?: string;
}

const CANCEL = codec<CancelRequestHeader>("CancelRequestHeader", {
  correlationId: ["string", "required"],
  topic: ["string", "optional"],
  queueId: ["int", "optional"],
  consumerGroup: ["string", "optional"],
});

/**
 * Decode a CANCEL_REQUEST or PUSH_CANCEL_TO_CLIENT header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeCancelRequestHeader } from "./admin_headers.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => decodeCancelRequestHeader({ topic: "rpc" }), CodecError);
 * ```
 */
export function decodeCancelRequestHeader(
  extFields: Readonly<Record<string, string>>,
): CancelRequestHeader {
  return decode(CANCEL, extFields);
}

/**
 * Encode a CANCEL_REQUEST or PUSH_CANCEL_TO_CLIENT header.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When the correlation id is missing.
 *
 * @example
 * ```ts
 * import { encodeCancelRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeCancelRequestHeader({ correlationId: "c1" }), { correlationId: "c1" });
 * ```
 */
export function encodeCancelRequestHeader(
  h: Readonly<CancelRequestHeader>,
): Record<string, string> {
  return encode(CANCEL, h);
}

/**
 * Request header of QUERY_MESSAGE (12): the messages of a topic with a key
 * stored in a time range. A query by unique key (`UNIQ_KEY`, the Java
 * client's message id) also carries the extField
 * {@linkcode UNIQUE_KEY_QUERY_FIELD} = `"true"`, outside the header.
 *
 * @example
 * ```ts
 * import type { QueryMessageRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: QueryMessageRequestHeader = { topic: "T", key: "order-1", maxNum: 32, beginTimestamp: 0, endTimestamp: Date.now() };
 * assert.equal(h.maxNum, 32);
 * ```
 */
export interface QueryMessageRequestHeader {
  /** Topic. */
  topic: string;
  /** A word of the messages' `KEYS`, or a unique key. */
  key: string;
  /** Most messages per broker. */
  maxNum: number;
  /** Earliest store time, ms. */
  beginTimestamp: number;
  /** Latest store time, ms. */
  endTimestamp: number;
}

/**
 * The extField marking a QUERY_MESSAGE by unique key (Java
 * `MixAll.UNIQUE_MSG_QUERY_FLAG`).
 *
 * @example
 * ```ts
 * import { UNIQUE_KEY_QUERY_FIELD } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(UNIQUE_KEY_QUERY_FIELD, "_UNIQUE_KEY_QUERY");
 * ```
 */
export const UNIQUE_KEY_QUERY_FIELD = "_UNIQUE_KEY_QUERY";

const QUERY_MESSAGE = codec<QueryMessageRequestHeader>("QueryMessageRequestHeader", {
  topic: ["string", "required"],
  key: ["string", "required"],
  maxNum: ["int", "required"],
  beginTimestamp: ["long", "required"],
  endTimestamp: ["long", "required"],
});

/**
 * Decode a QUERY_MESSAGE request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeQueryMessageRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeQueryMessageRequestHeader({ topic: "T", key: "k", maxNum: "32", beginTimestamp: "0",
 *   endTimestamp: "9223372036854775807", _UNIQUE_KEY_QUERY: "false" });
 * assert.equal(h.maxNum, 32);
 * assert.throws(() => decodeQueryMessageRequestHeader({ topic: "T", key: "k" }), /maxNum/);
 * ```
 */
export function decodeQueryMessageRequestHeader(
  extFields: Readonly<Record<string, string>>,
): QueryMessageRequestHeader {
  return decode(QUERY_MESSAGE, extFields);
}

/**
 * Encode a QUERY_MESSAGE request header.
 *
 * @param h The header.
 * @returns The `extFields` (add {@linkcode UNIQUE_KEY_QUERY_FIELD} for a
 * query by unique key).
 *
 * @example
 * ```ts
 * import { encodeQueryMessageRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeQueryMessageRequestHeader({ topic: "T", key: "k", maxNum: 1, beginTimestamp: 0, endTimestamp: 5 }),
 *   { topic: "T", key: "k", maxNum: "1", beginTimestamp: "0", endTimestamp: "5" });
 * ```
 */
export function encodeQueryMessageRequestHeader(
  h: Readonly<QueryMessageRequestHeader>,
): Record<string, string> {
  return encode(QUERY_MESSAGE, h);
}

/**
 * Response header of QUERY_MESSAGE: how far the broker's key index reaches.
 *
 * @example
 * ```ts
 * import type { QueryMessageResponseHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: QueryMessageResponseHeader = { indexLastUpdateTimestamp: 1_700_000_000_000, indexLastUpdatePhyoffset: 4096 };
 * assert.equal(h.indexLastUpdatePhyoffset, 4096);
 * ```
 */
export interface QueryMessageResponseHeader {
  /** Store time of the last message indexed. */
  indexLastUpdateTimestamp: number;
  /** Physical offset of the last message indexed. */
  indexLastUpdatePhyoffset: number;
}

const QUERY_MESSAGE_RESPONSE = codec<QueryMessageResponseHeader>("QueryMessageResponseHeader", {
  indexLastUpdateTimestamp: ["long", "required"],
  indexLastUpdatePhyoffset: ["long", "required"],
});

/**
 * Decode a QUERY_MESSAGE response header.
 *
 * @param extFields The response's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeQueryMessageResponseHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h = decodeQueryMessageResponseHeader({ indexLastUpdateTimestamp: "5", indexLastUpdatePhyoffset: "6" });
 * assert.deepEqual(h, { indexLastUpdateTimestamp: 5, indexLastUpdatePhyoffset: 6 });
 * ```
 */
export function decodeQueryMessageResponseHeader(
  extFields: Readonly<Record<string, string>>,
): QueryMessageResponseHeader {
  return decode(QUERY_MESSAGE_RESPONSE, extFields);
}

/**
 * Encode a QUERY_MESSAGE response header.
 *
 * @param h The header.
 * @returns The `extFields`.
 *
 * @example
 * ```ts
 * import { encodeQueryMessageResponseHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeQueryMessageResponseHeader({ indexLastUpdateTimestamp: 5, indexLastUpdatePhyoffset: 6 }),
 *   { indexLastUpdateTimestamp: "5", indexLastUpdatePhyoffset: "6" });
 * ```
 */
export function encodeQueryMessageResponseHeader(
  h: Readonly<QueryMessageResponseHeader>,
): Record<string, string> {
  return encode(QUERY_MESSAGE_RESPONSE, h);
}

/**
 * Request header of VIEW_MESSAGE_BY_ID (33): the message at a physical
 * offset (the last 16 hex digits of an offset message id).
 *
 * @example
 * ```ts
 * import type { ViewMessageRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * const h: ViewMessageRequestHeader = { offset: 4096 };
 * assert.equal(h.topic, undefined);
 * ```
 */
export interface ViewMessageRequestHeader {
  /** Topic (sent by 5.x clients, for access control; not needed to find the message). */
  topic?: string;
  /** Physical offset. */
  offset: number;
}

const VIEW_MESSAGE = codec<ViewMessageRequestHeader>("ViewMessageRequestHeader", {
  topic: ["string", "optional"],
  offset: ["long", "required"],
});

/**
 * Decode a VIEW_MESSAGE_BY_ID request header.
 *
 * @param extFields The request's `extFields`.
 * @returns The header.
 * @throws {CodecError} With reason `"schema"`, naming the field.
 *
 * @example
 * ```ts
 * import { decodeViewMessageRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeViewMessageRequestHeader({ topic: "T", offset: "4096" }), { topic: "T", offset: 4096 });
 * assert.throws(() => decodeViewMessageRequestHeader({ offset: "x" }), /offset/);
 * ```
 */
export function decodeViewMessageRequestHeader(
  extFields: Readonly<Record<string, string>>,
): ViewMessageRequestHeader {
  return decode(VIEW_MESSAGE, extFields);
}

/**
 * Encode a VIEW_MESSAGE_BY_ID request header.
 *
 * @param h The header.
 * @returns The `extFields`.
 *
 * @example
 * ```ts
 * import { encodeViewMessageRequestHeader } from "./admin_headers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeViewMessageRequestHeader({ offset: 7 }), { offset: "7" });
 * ```
 */
export function encodeViewMessageRequestHeader(
  h: Readonly<ViewMessageRequestHeader>,
): Record<string, string> {
  return encode(VIEW_MESSAGE, h);
}
