/**
 * RocketMQ's numeric codes as `as const` tables: request codes
 * (`RequestCode.java`), response codes (`ResponseCode.java`,
 * `RemotingSysResponseCode.java`), language codes (`LanguageCode.java`) and the
 * flag bits of a command.
 *
 * @example
 * ```ts
 * import { RequestCode, ResponseCode, responseCodeName } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(RequestCode.SEND_MESSAGE_V2, 310);
 * assert.equal(responseCodeName(ResponseCode.TOPIC_NOT_EXIST), "TOPIC_NOT_EXIST");
 * ```
 *
 * @module
 */

/**
 * Request codes used by clients, brokers and name servers
 * (`remoting/.../protocol/RequestCode.java`).
 *
 * @example
 * ```ts
 * import { RequestCode } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, 326);
 * ```
 */
export const RequestCode = {
  SEND_MESSAGE: 10,
  PULL_MESSAGE: 11,
  QUERY_MESSAGE: 12,
  QUERY_CONSUMER_OFFSET: 14,
  UPDATE_CONSUMER_OFFSET: 15,
  UPDATE_AND_CREATE_TOPIC: 17,
  GET_ALL_TOPIC_CONFIG: 21,
  GET_BROKER_RUNTIME_INFO: 28,
  SEARCH_OFFSET_BY_TIMESTAMP: 29,
  GET_MAX_OFFSET: 30,
  GET_MIN_OFFSET: 31,
  GET_EARLIEST_MSG_STORETIME: 32,
  VIEW_MESSAGE_BY_ID: 33,
  HEART_BEAT: 34,
  UNREGISTER_CLIENT: 35,
  CONSUMER_SEND_MSG_BACK: 36,
  END_TRANSACTION: 37,
  GET_CONSUMER_LIST_BY_GROUP: 38,
  CHECK_TRANSACTION_STATE: 39,
  NOTIFY_CONSUMER_IDS_CHANGED: 40,
  LOCK_BATCH_MQ: 41,
  UNLOCK_BATCH_MQ: 42,
  CHECK_CLIENT_CONFIG: 46,
  REGISTER_BROKER: 103,
  UNREGISTER_BROKER: 104,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
  GET_ALL_TOPIC_LIST_FROM_NAMESERVER: 206,
  GET_TOPIC_STATS_INFO: 202,
  GET_CONSUMER_CONNECTION_LIST: 203,
  GET_PRODUCER_CONNECTION_LIST: 204,
  GET_CONSUME_STATS: 208,
  QUERY_TOPIC_CONSUME_BY_WHO: 300,
  RESET_CONSUMER_CLIENT_OFFSET: 220,
  GET_CONSUMER_STATUS_FROM_CLIENT: 221,
  GET_CONSUMER_RUNNING_INFO: 307,
  CONSUME_MESSAGE_DIRECTLY: 309,
  SEND_MESSAGE_V2: 310,
  SEND_BATCH_MESSAGE: 320,
  GET_TOPIC_CONFIG: 351,
  QUERY_DATA_VERSION: 322,
  SEND_REPLY_MESSAGE: 324,
  SEND_REPLY_MESSAGE_V2: 325,
  PUSH_REPLY_MESSAGE_TO_CLIENT: 326,
  LITE_PULL_MESSAGE: 361,
  QUERY_ASSIGNMENT: 400,
  SET_MESSAGE_REQUEST_MODE: 401,
} as const;

/**
 * Request codes this library adds to the protocol, outside every range
 * RocketMQ uses (and below 32768, so the binary header can carry them).
 * Brokers that do not know them answer REQUEST_CODE_NOT_SUPPORTED (3), as
 * RocketMQ's do; clients then fall back to what RocketMQ offers.
 *
 * - `CANCEL_REQUEST` (C→B): a requester gives up on a request; header
 *   `correlationId`, `topic`. The broker forwards it to the consumers that
 *   pulled the request's queue and answers `forwarded` (a count).
 * - `PUSH_CANCEL_TO_CLIENT` (B→C, oneway): the broker tells a consumer that
 *   the requester of `correlationId` (header, with `topic` and
 *   `consumerGroup`) gave up.
 *
 * @example
 * ```ts
 * import { RequestCode, RpcRequestCode } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(!Object.values(RequestCode).includes(RpcRequestCode.CANCEL_REQUEST as never));
 * assert.ok(RpcRequestCode.PUSH_CANCEL_TO_CLIENT < 32768);
 * ```
 */
export const RpcRequestCode = {
  CANCEL_REQUEST: 16001,
  PUSH_CANCEL_TO_CLIENT: 16002,
} as const;

/**
 * A known request code: the union of the values of {@linkcode RequestCode}.
 *
 * @example
 * ```ts
 * import { RequestCode } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const code: RequestCode = RequestCode.HEART_BEAT;
 * assert.equal(code, 34);
 * ```
 */
export type RequestCode = typeof RequestCode[keyof typeof RequestCode];

/**
 * Response codes (`ResponseCode.java` and `RemotingSysResponseCode.java`).
 *
 * @example
 * ```ts
 * import { ResponseCode } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ResponseCode.PULL_NOT_FOUND, 19);
 * ```
 */
export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  TRANSACTION_FAILED: 4,
  FLUSH_DISK_TIMEOUT: 10,
  SLAVE_NOT_AVAILABLE: 11,
  FLUSH_SLAVE_TIMEOUT: 12,
  MESSAGE_ILLEGAL: 13,
  SERVICE_NOT_AVAILABLE: 14,
  VERSION_NOT_SUPPORTED: 15,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  TOPIC_EXIST_ALREADY: 18,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
  SUBSCRIPTION_PARSE_FAILED: 23,
  SUBSCRIPTION_NOT_EXIST: 24,
  SUBSCRIPTION_NOT_LATEST: 25,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
  FILTER_DATA_NOT_EXIST: 27,
  FILTER_DATA_NOT_LATEST: 28,
  INVALID_PARAMETER: 29,
  TRANSACTION_SHOULD_COMMIT: 200,
  TRANSACTION_SHOULD_ROLLBACK: 201,
  TRANSACTION_STATE_UNKNOW: 202,
  TRANSACTION_STATE_GROUP_WRONG: 203,
  NO_BUYER_ID: 204,
  NOT_IN_CURRENT_UNIT: 205,
  CONSUMER_NOT_ONLINE: 206,
  CONSUME_MSG_TIMEOUT: 207,
  NO_MESSAGE: 208,
  POLLING_FULL: 209,
  POLLING_TIMEOUT: 210,
  BROKER_NOT_EXIST: 211,
  BROKER_DISPATCH_NOT_COMPLETE: 212,
  BROADCAST_CONSUMPTION: 213,
  FLOW_CONTROL: 215,
  NOT_LEADER_FOR_QUEUE: 501,
  ILLEGAL_OPERATION: 604,
  GO_AWAY: 1500,
} as const;

/**
 * A known response code: the union of the values of {@linkcode ResponseCode}.
 *
 * @example
 * ```ts
 * import { ResponseCode, responseCodeName } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const code: ResponseCode = ResponseCode.PULL_NOT_FOUND;
 * assert.equal(responseCodeName(code), "PULL_NOT_FOUND");
 * ```
 */
export type ResponseCode = typeof ResponseCode[keyof typeof ResponseCode];

const RESPONSE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ResponseCode).map(([name, code]) => [code, name]),
);

/**
 * The Java name of a response code, or `"UNKNOWN"`.
 *
 * @param code A response code.
 * @returns Its name in `ResponseCode.java`.
 *
 * @example
 * ```ts
 * import { responseCodeName } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(responseCodeName(1), "SYSTEM_ERROR");
 * assert.equal(responseCodeName(12345), "UNKNOWN");
 * ```
 */
export function responseCodeName(code: number): string {
  return RESPONSE_NAMES.get(code) ?? "UNKNOWN";
}

/**
 * Language codes (`LanguageCode.java`). The JSON header carries the name, the
 * binary header the number.
 *
 * @example
 * ```ts
 * import { LanguageCode } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(LanguageCode.JAVA, 0);
 * ```
 */
export const LanguageCode = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
  RUST: 12,
  NODE_JS: 13,
} as const;

/**
 * A known language code: the union of the values of {@linkcode LanguageCode}.
 *
 * @example
 * ```ts
 * import { LanguageCode, languageName } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const code: LanguageCode = LanguageCode.JAVA; // what this library announces by default
 * assert.equal(languageName(code), "JAVA");
 * ```
 */
export type LanguageCode = typeof LanguageCode[keyof typeof LanguageCode];

/**
 * The name of a language code, as written in JSON headers.
 *
 * @example
 * ```ts
 * import { LanguageCode, languageName, type LanguageName } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const name: LanguageName = "NODE_JS";
 * assert.equal(LanguageCode[name], 13);
 * assert.equal(languageName(13), name);
 * ```
 */
export type LanguageName = keyof typeof LanguageCode;

const LANGUAGE_NAMES: ReadonlyMap<number, LanguageName> = new Map(
  (Object.entries(LanguageCode) as [LanguageName, number][]).map(([name, code]) => [code, name]),
);

/**
 * The JSON name of a language code, or `undefined` when unknown.
 *
 * @param code A language code.
 * @returns Its name in `LanguageCode.java`.
 *
 * @example
 * ```ts
 * import { languageName } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(languageName(9), "GO");
 * ```
 */
export function languageName(code: number): LanguageName | undefined {
  return LANGUAGE_NAMES.get(code);
}

/**
 * Bits of a command's `flag` field.
 *
 * @example
 * ```ts
 * import { CommandFlag } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal((3 & CommandFlag.RESPONSE) !== 0, true);
 * ```
 */
export const CommandFlag = {
  /** Bit 0: the command is a response. */
  RESPONSE: 1,
  /** Bit 1: the request is oneway and is never answered. */
  ONEWAY: 2,
} as const;

/**
 * Serialization of the command header, the high byte of the header-length
 * word (`SerializeType.java`).
 *
 * @example
 * ```ts
 * import { SerializeType } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SerializeType.ROCKETMQ, 1);
 * ```
 */
export const SerializeType = {
  JSON: 0,
  ROCKETMQ: 1,
} as const;

/**
 * A header serialization: the union of the values of {@linkcode SerializeType}.
 *
 * @example
 * ```ts
 * import { SerializeType } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const type: SerializeType = SerializeType.ROCKETMQ; // the binary header
 * assert.equal(type, 1);
 * ```
 */
export type SerializeType = typeof SerializeType[keyof typeof SerializeType];

/**
 * Ordinals of `MQVersion.Version` that matter on the wire.
 *
 * @example
 * ```ts
 * import { MQVersion } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(MQVersion.V5_3_3 > MQVersion.V4_9_4);
 * ```
 */
export const MQVersion = {
  V3_4_9: 121,
  V4_1_0: 232,
  V4_6_0: 333,
  V4_9_3: 399,
  V4_9_4: 401,
  V5_0_0: 413,
  V5_3_1: 475,
  V5_3_3: 479,
} as const;
