/**
 * Headers of the admin calls that reach clients or list their connections,
 * and of this library's cancel codes:
 *
 * - 307 GET_CONSUMER_RUNNING_INFO (`GetConsumerRunningInfoRequestHeader`)
 * - 309 CONSUME_MESSAGE_DIRECTLY (`ConsumeMessageDirectlyResultRequestHeader`)
 * - 203 GET_CONSUMER_CONNECTION_LIST (`GetConsumerConnectionListRequestHeader`)
 * - 204 GET_PRODUCER_CONNECTION_LIST (`GetProducerConnectionListRequestHeader`)
 * - 208 GET_CONSUME_STATS (`GetConsumeStatsRequestHeader`)
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
