/**
 * The messages users send and receive: {@linkcode Message} (what a producer
 * sends), {@linkcode MessageExt} (what a consumer receives),
 * {@linkcode ReplyMessage} (what a request resolves with), and the
 * validation and conversion helpers between them and the wire.
 *
 * @example The shape of a request
 * ```ts
 * import type { Message } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const request: Message = { topic: "rpc", body: "ping", tags: "v1", keys: ["order-42"] };
 * assert.equal(request.topic, "rpc");
 * ```
 *
 * @module
 */

import { InvalidArgumentError, type RemoteError } from "../errors.ts";
import { MessageProperty } from "../codec/properties.ts";
import { utf8Decode, utf8Encode } from "../codec/_utf8.ts";
import type { HostAddress, StoredMessage } from "../codec/message_ext.ts";
import { formatAddress } from "../remoting/connection.ts";
import type { TraceContext } from "./trace.ts";

/**
 * A message to send.
 *
 * @example What a message becomes on the wire
 * ```ts
 * import { type Message, toOutgoing } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const message: Message = { topic: "orders", body: "{}", tags: "created", keys: ["order-42"], delayLevel: 3 };
 * const out = toOutgoing(message);
 * assert.deepEqual(out.properties, { TAGS: "created", KEYS: "order-42", DELAY: "3", WAIT: "true" });
 * ```
 */
export interface Message {
  /** Topic: up to 127 characters of `[%|a-zA-Z0-9_-]`. */
  topic: string;
  /** Body; a string is sent as UTF-8. Must not be empty. */
  body: Uint8Array | string;
  /** Tag, used by consumers to filter (`tagA || tagB`). */
  tags?: string;
  /** Business keys (indexed by the broker). */
  keys?: string | string[];
  /** User properties. Keys and values must not contain `\u0001` or `\u0002`. */
  properties?: Record<string, string>;
  /** User flag (an int carried as is). */
  flag?: number;
  /** Delay level 1..18 (1s … 2h) before the message becomes visible. */
  delayLevel?: number;
}

/**
 * One queue of a topic on one broker.
 *
 * @example
 * ```ts
 * import type { MessageQueue } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * // A topic with 4 queues on each of two brokers has 8 queues, told apart by broker and id.
 * const queues: MessageQueue[] = ["broker-a", "broker-b"].flatMap((brokerName) =>
 *   [0, 1, 2, 3].map((queueId) => ({ topic: "orders", brokerName, queueId }))
 * );
 * assert.equal(queues.length, 8);
 * assert.deepEqual(queues[4], { topic: "orders", brokerName: "broker-b", queueId: 0 });
 * ```
 */
export interface MessageQueue {
  /** Topic. */
  topic: string;
  /** Broker that hosts the queue. */
  brokerName: string;
  /** Queue index on that broker. */
  queueId: number;
}

/**
 * A message as received by a consumer.
 *
 * @example A retried message shows its original topic
 * ```ts
 * import { type MessageExt, toMessageExt } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const body = new TextEncoder().encode("{}");
 * const m: MessageExt = toMessageExt({
 *   storeSize: 0, magicCode: 0, bodyCRC: 0, queueId: 0, flag: 0, queueOffset: 3, commitLogOffset: 4096,
 *   sysFlag: 0, bornTimestamp: 1, bornHost: { address: "10.0.0.5", port: 50000 }, storeTimestamp: 2,
 *   storeHost: { address: "10.0.0.1", port: 10911 }, reconsumeTimes: 1, preparedTransactionOffset: 0,
 *   body, topic: "%RETRY%CG", properties: { UNIQ_KEY: "U1", RETRY_TOPIC: "orders" },
 * }, body, "broker-a", "0A00000100002A9F0000000000001000");
 * assert.equal(m.topic, "orders");
 * assert.equal(m.reconsumeTimes, 1);
 * assert.equal(m.msgId, "U1"); // the producer's UNIQ_KEY; offsetMsgId is the broker's id
 * assert.equal(m.bornHost, "10.0.0.5:50000");
 * ```
 */
export interface MessageExt {
  /** Topic (the original topic for retried messages). */
  topic: string;
  /** Body, decompressed. */
  body: Uint8Array;
  /** Tag, if any. */
  tags: string | undefined;
  /** Business keys. */
  keys: string[];
  /** All properties, system ones included. */
  properties: Record<string, string>;
  /** Client message id (`UNIQ_KEY`), or the offset id when absent. */
  msgId: string;
  /** Broker's offset message id. */
  offsetMsgId: string;
  /** Queue the message was read from. */
  queueId: number;
  /** Offset of the message in its queue. */
  queueOffset: number;
  /** Broker the message was read from. */
  brokerName: string;
  /** Producer's send time (ms, producer clock). */
  bornTimestamp: number;
  /** Broker's store time (ms, broker clock). */
  storeTimestamp: number;
  /** Producer address, `host:port`. */
  bornHost: string;
  /** Broker address, `host:port`. */
  storeHost: string;
  /** How many times this message was consumed unsuccessfully before. */
  reconsumeTimes: number;
  /** Physical offset in the broker's log. */
  commitLogOffset: number;
  /** Message sysFlag. */
  sysFlag: number;
  /** User flag. */
  flag: number;
}

/**
 * Where the time of a request went, in ms since the epoch. Each stamp comes
 * from a different clock: the requester (`sent`, `arrived`), the broker
 * (`stored`, `pushed`), the responder (`consumed`, `replied`).
 *
 * @example Subtract stamps of one clock only
 * ```ts
 * import type { RequestTiming } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const timing: RequestTiming = {
 *   sent: 1_000, stored: 1_004, consumed: 1_010, replied: 1_030, pushed: 1_033, arrived: 1_036,
 * };
 * assert.equal(timing.arrived - timing.sent, 36); // round trip, requester's clock
 * assert.equal(timing.replied - (timing.consumed ?? timing.replied), 20); // handling, responder's clock
 * ```
 */
export interface RequestTiming {
  /** The requester sent the request. */
  sent: number;
  /** The broker stored the request (only with responders of this library). */
  stored: number | undefined;
  /** The responder started handling it (only with responders of this library). */
  consumed: number | undefined;
  /** The responder sent the reply. */
  replied: number;
  /** The broker pushed the reply (`PUSH_REPLY_TIME`). */
  pushed: number | undefined;
  /** The reply arrived here (`ARRIVE_TIME`). */
  arrived: number;
}

/**
 * The reply to a request.
 *
 * @example
 * ```ts
 * import { bodyText, type ReplyMessage } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const reply: ReplyMessage = {
 *   topic: "DefaultCluster_REPLY_TOPIC",
 *   body: new TextEncoder().encode("pong"),
 *   properties: { CORRELATION_ID: "c-1", MSG_TYPE: "reply" },
 *   correlationId: "c-1",
 *   bornHost: "10.0.0.7:50123",
 *   timing: { sent: 1, stored: undefined, consumed: undefined, replied: 5, pushed: 6, arrived: 8 },
 *   value: "pong",
 * };
 * assert.equal(bodyText(reply), "pong");
 * assert.equal(reply.correlationId, reply.properties.CORRELATION_ID);
 * ```
 */
export interface ReplyMessage {
  /** Reply topic (`<cluster>_REPLY_TOPIC`). */
  topic: string;
  /** Body, decompressed. */
  body: Uint8Array;
  /** All properties, system ones included. */
  properties: Record<string, string>;
  /** The request's correlation id. */
  correlationId: string;
  /** The responder's address, `host:port`, when the broker said. */
  bornHost: string | undefined;
  /** Where the time went. */
  timing: RequestTiming;
  /**
   * The reply decoded by its `RPC_CONTENT_TYPE` (see
   * {@linkcode ReplyValue}): the value the handler returned for a JSON (or
   * serializer) reply, a string for a text reply, and the body itself when
   * the reply names no content type (bytes, Java responders).
   */
  value: unknown;
  /**
   * `true` when the responder said more replies follow
   * (`context.reply(value, { more: true })`); only `requestMany()` waits for them.
   */
  more?: boolean;
  /** The responder's consumer group (responders of this library say it). */
  responderGroup?: string;
  /** The trace context the reply carried back (`traceparent`, `tracestate`). */
  trace?: TraceContext;
  /**
   * In a `requestMany()` stream, set when this reply says the responder's
   * handler failed (`request()` rejects with the error instead).
   */
  error?: RemoteError;
}

/**
 * What a handler may return (or pass to `reply()`) as a reply:
 *
 * - a string: sent as UTF-8 text (content type `text/plain;charset=utf-8`);
 * - a `Uint8Array`: sent as is;
 * - `{ body, properties? }` (an object with exactly these keys, `body` a
 *   string or bytes): the body as above, plus reply properties;
 * - any other value (`42`, `null`, `{ a: 1 }`, arrays): serialized by the
 *   consumer's `serializer` (JSON by default) with its content type in the
 *   `RPC_CONTENT_TYPE` property, which the requester decodes back into
 *   {@linkcode ReplyMessage.value}. A Java requester gets the JSON text.
 *
 * A value that cannot be serialized (a `bigint`, a cycle, a function) is
 * never dropped: the requester gets a `RemoteError` at once.
 *
 * @example The forms
 * ```ts
 * import { type ReplyValue, toReplyParts } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const values: ReplyValue[] = ["ok", new Uint8Array([111, 107]), { body: "ok", properties: { status: "200" } }];
 * const parts = values.map((v) => toReplyParts(v));
 * assert.ok(parts.every((p) => new TextDecoder().decode(p.body) === "ok"));
 * assert.deepEqual(parts[2]?.properties, { status: "200" });
 * const json = toReplyParts({ total: 5 });
 * assert.equal(new TextDecoder().decode(json.body), '{"total":5}');
 * assert.equal(json.properties.RPC_CONTENT_TYPE, "application/json");
 * ```
 */
export type ReplyValue =
  | Uint8Array
  | string
  | {
    /** Reply body; a string is sent as UTF-8. */
    body: Uint8Array | string;
    /** Extra reply properties. */
    properties?: Record<string, string>;
  }
  | number
  | boolean
  | null
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/**
 * Turns reply values into bytes (responder) and back (requester). Give the
 * same one to both sides, as the consumer's and the producer's
 * `serializer` option; the default is {@linkcode jsonSerializer}.
 *
 * @example A serializer for one more content type
 * ```ts
 * import type { ReplySerializer } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const csv: ReplySerializer = {
 *   contentType: "text/csv",
 *   serialize: (value) => new TextEncoder().encode((value as unknown[]).join(",")),
 *   deserialize: (body) => new TextDecoder().decode(body).split(","),
 * };
 * assert.deepEqual(csv.deserialize(csv.serialize(["a", "b"])), ["a", "b"]);
 * ```
 */
export interface ReplySerializer {
  /** Value of the reply's `RPC_CONTENT_TYPE` property. */
  readonly contentType: string;
  /** Encode a value; throw when it cannot be encoded. */
  serialize(value: unknown): Uint8Array;
  /** Decode a body of this content type. */
  deserialize(body: Uint8Array): unknown;
}

/**
 * The default {@linkcode ReplySerializer}: JSON as UTF-8, content type
 * `application/json`. Values JSON cannot represent (`undefined` inside a
 * value is dropped as JSON does; a `bigint`, a cycle or a top-level
 * function or symbol) throw.
 *
 * @example
 * ```ts
 * import { jsonSerializer } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(jsonSerializer.deserialize(jsonSerializer.serialize({ a: [1, null] })), { a: [1, null] });
 * assert.throws(() => jsonSerializer.serialize(10n));
 * ```
 */
export const jsonSerializer: ReplySerializer = {
  contentType: "application/json",
  serialize(value: unknown): Uint8Array {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`a ${typeof value} has no JSON form`);
    return utf8Encode(text);
  },
  deserialize(body: Uint8Array): unknown {
    return JSON.parse(utf8Decode(body));
  },
};

/** Content type of string replies. */
export const TEXT_CONTENT_TYPE = "text/plain;charset=utf-8";

/**
 * Decode a reply body by its `RPC_CONTENT_TYPE`: text as a string, the
 * serializer's content type through it, anything else (no content type: a
 * Java responder, bytes) as the body itself.
 *
 * @param body The reply body.
 * @param contentType The reply's `RPC_CONTENT_TYPE`, if any.
 * @param serializer The requester's serializer.
 * @returns The value.
 * @throws {Error} What the serializer throws on a malformed body.
 *
 * @example
 * ```ts
 * import { decodeReplyValue, jsonSerializer } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("[1,2]");
 * assert.deepEqual(decodeReplyValue(bytes, "application/json", jsonSerializer), [1, 2]);
 * assert.equal(decodeReplyValue(bytes, undefined, jsonSerializer), bytes);
 * ```
 */
export function decodeReplyValue(
  body: Uint8Array,
  contentType: string | undefined,
  serializer: ReplySerializer,
): unknown {
  if (contentType === undefined) return body;
  if (contentType === TEXT_CONTENT_TYPE) return utf8Decode(body);
  if (contentType === serializer.contentType) return serializer.deserialize(body);
  if (serializer !== jsonSerializer && contentType === jsonSerializer.contentType) {
    return jsonSerializer.deserialize(body);
  }
  return body;
}

/**
 * Property keys this library adds beyond RocketMQ's own. Java peers ignore
 * them.
 *
 * @example
 * ```ts
 * import { RpcProperty } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(RpcProperty.ERROR_NAME, "RPC_ERROR_NAME");
 * ```
 */
export const RpcProperty = {
  /** Name of the responder's error, on an error reply. */
  ERROR_NAME: "RPC_ERROR_NAME",
  /** Message of the responder's error, on an error reply. */
  ERROR_MESSAGE: "RPC_ERROR_MESSAGE",
  /** The request's store time, copied into the reply by the responder. */
  REQUEST_STORE_TIME: "RPC_REQUEST_STORE_TIME",
  /** When the responder started handling the request. */
  CONSUME_TIME: "RPC_CONSUME_TIME",
  /** How the reply body is encoded (`application/json`, `text/plain;charset=utf-8`, …). */
  CONTENT_TYPE: "RPC_CONTENT_TYPE",
  /** `"true"` on a reply that is not its responder's last (`reply(value, { more: true })`). */
  MORE: "RPC_MORE",
  /** `"true"` on a reply that only ends its responder's stream of replies (never yielded). */
  END: "RPC_END",
  /** The responder's consumer group, on replies. */
  GROUP: "RPC_GROUP",
  /**
   * On a cancel message routed like a reply to the responder's client (real
   * RocketMQ brokers): the request's topic. Never a reply to the requester.
   */
  CANCEL: "RPC_CANCEL",
  /**
   * `"many"` on a request of `requestMany()`: brokers of this library take
   * any number of replies to it until its deadline or its cancel.
   */
  REPLIES: "RPC_REPLIES",
} as const;

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

/**
 * Check a topic name as the Java client does (`Validators.checkTopic`).
 *
 * @param topic The topic.
 * @param path Argument path for the error.
 * @throws {InvalidArgumentError} When the name is empty, too long or has other characters.
 *
 * @example
 * ```ts
 * import { checkTopic } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * checkTopic("orders");
 * assert.throws(() => checkTopic("bad topic"), /invalid topic/);
 * ```
 */
export function checkTopic(topic: unknown, path = "topic"): asserts topic is string {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new InvalidArgumentError(path, "must be a non-empty string");
  }
  if (topic.length > 127) throw new InvalidArgumentError(path, "longer than 127 characters");
  if (!TOPIC_PATTERN.test(topic)) {
    throw new InvalidArgumentError(path, `"${topic}" has characters outside [%|a-zA-Z0-9_-]`);
  }
}

function checkPropertyText(text: string, path: string): void {
  if (text.includes("\u0001") || text.includes("\u0002")) {
    throw new InvalidArgumentError(path, "must not contain \\u0001 or \\u0002");
  }
}

/** A message validated and reduced to wire fields. */
export interface OutgoingMessage {
  topic: string;
  body: Uint8Array;
  flag: number;
  properties: Record<string, string>;
}

/**
 * Validate a message and build its wire form: body bytes and the property
 * map with `TAGS`, `KEYS`, `DELAY` and `WAIT` set (`UNIQ_KEY` is added at
 * send time).
 *
 * @param message The message.
 * @param maxBodySize Largest body accepted.
 * @returns The wire form.
 * @throws {InvalidArgumentError} When anything is invalid; nothing is sent then.
 *
 * @example
 * ```ts
 * import { toOutgoing } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const out = toOutgoing({ topic: "t", body: "hi", tags: "a", keys: ["k1", "k2"] });
 * assert.equal(out.properties.KEYS, "k1 k2");
 * assert.equal(out.properties.WAIT, "true");
 * ```
 */
export function toOutgoing(message: Message, maxBodySize = 4 * 1024 * 1024): OutgoingMessage {
  if (typeof message !== "object" || message === null) {
    throw new InvalidArgumentError("message", "must be an object");
  }
  checkTopic(message.topic, "message.topic");
  const body = typeof message.body === "string"
    ? utf8Encode(message.body)
    : message.body instanceof Uint8Array
    ? message.body
    : undefined;
  if (!body) throw new InvalidArgumentError("message.body", "must be a string or a Uint8Array");
  if (body.length === 0) throw new InvalidArgumentError("message.body", "must not be empty");
  if (body.length > maxBodySize) {
    throw new InvalidArgumentError(
      "message.body",
      `${body.length} bytes exceed the maximum of ${maxBodySize}`,
    );
  }
  const properties: Record<string, string> = {};
  if (message.properties !== undefined) {
    if (typeof message.properties !== "object" || message.properties === null) {
      throw new InvalidArgumentError("message.properties", "must be an object of strings");
    }
    for (const [key, value] of Object.entries(message.properties)) {
      if (typeof value !== "string") {
        throw new InvalidArgumentError(`message.properties.${key}`, "must be a string");
      }
      if (key.length === 0) throw new InvalidArgumentError("message.properties", "empty key");
      checkPropertyText(key, `message.properties.${key}`);
      checkPropertyText(value, `message.properties.${key}`);
      Object.defineProperty(properties, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  if (message.tags !== undefined) {
    if (typeof message.tags !== "string") {
      throw new InvalidArgumentError("message.tags", "must be a string");
    }
    checkPropertyText(message.tags, "message.tags");
    if (message.tags.length > 0) properties[MessageProperty.TAGS] = message.tags;
  }
  if (message.keys !== undefined) {
    const keys = typeof message.keys === "string" ? [message.keys] : message.keys;
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
      throw new InvalidArgumentError("message.keys", "must be a string or an array of strings");
    }
    for (const key of keys) checkPropertyText(key, "message.keys");
    const joined = keys.filter((k) => k.length > 0).join(" ");
    if (joined.length > 0) properties[MessageProperty.KEYS] = joined;
  }
  if (message.delayLevel !== undefined) {
    if (
      !Number.isInteger(message.delayLevel) || message.delayLevel < 1 || message.delayLevel > 18
    ) {
      throw new InvalidArgumentError("message.delayLevel", "must be an integer from 1 to 18");
    }
    properties[MessageProperty.DELAY] = String(message.delayLevel);
  }
  const flag = message.flag ?? 0;
  if (!Number.isInteger(flag) || flag < -2147483648 || flag > 2147483647) {
    throw new InvalidArgumentError("message.flag", "must be a 32-bit integer");
  }
  properties[MessageProperty.WAIT] ??= "true";
  return { topic: message.topic, body, flag, properties };
}

/**
 * Turn a reply value into a body and extra properties (see
 * {@linkcode ReplyValue} for the forms).
 *
 * @param value What the handler returned or passed to `reply()`.
 * @param serializer Encodes values other than text, bytes and `{ body }`.
 * @returns Body bytes and properties.
 * @throws {InvalidArgumentError} When `{ body, properties }` has a bad
 *   property, or the serializer cannot encode the value (`path` "reply",
 *   the serializer's error as `cause`).
 *
 * @example
 * ```ts
 * import { toReplyParts } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(toReplyParts("ok").body, new TextEncoder().encode("ok"));
 * assert.deepEqual(toReplyParts({ body: "x", properties: { a: "1" } }).properties, { a: "1" });
 * assert.equal(new TextDecoder().decode(toReplyParts(null).body), "null");
 * assert.throws(() => toReplyParts(10n as unknown as null), /cannot be serialized/);
 * ```
 */
export function toReplyParts(
  value: ReplyValue,
  serializer: ReplySerializer = jsonSerializer,
): { body: Uint8Array; properties: Record<string, string> } {
  if (typeof value === "string") {
    return {
      body: utf8Encode(value),
      properties: { [RpcProperty.CONTENT_TYPE]: TEXT_CONTENT_TYPE },
    };
  }
  if (value instanceof Uint8Array) return { body: value, properties: {} };
  if (isEnvelope(value)) {
    const body = typeof value.body === "string" ? utf8Encode(value.body) : value.body;
    const properties: Record<string, string> = {};
    const given = value.properties ?? {};
    if (typeof given !== "object" || given === null) {
      throw new InvalidArgumentError("reply.properties", "must be an object of strings");
    }
    for (const [key, v] of Object.entries(given)) {
      if (typeof v !== "string") {
        throw new InvalidArgumentError(`reply.properties.${key}`, "must be a string");
      }
      checkPropertyText(key, `reply.properties.${key}`);
      checkPropertyText(v, `reply.properties.${key}`);
      properties[key] = v;
    }
    return { body, properties };
  }
  let body: Uint8Array;
  try {
    body = serializer.serialize(value);
    if (!(body instanceof Uint8Array)) throw new TypeError("serializer did not return bytes");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InvalidArgumentError(
      "reply",
      `cannot be serialized as ${serializer.contentType}: ${reason}`,
      { cause: err },
    );
  }
  return { body, properties: { [RpcProperty.CONTENT_TYPE]: serializer.contentType } };
}

/** `{ body, properties? }` with nothing else, `body` text or bytes. */
function isEnvelope(
  value: unknown,
): value is { body: Uint8Array | string; properties?: Record<string, string> } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (!keys.includes("body") || keys.some((k) => k !== "body" && k !== "properties")) return false;
  const body = (value as { body: unknown }).body;
  return typeof body === "string" || body instanceof Uint8Array;
}

/**
 * Format a host address as `host:port` (IPv6 in brackets).
 *
 * @param host The address.
 * @returns `host:port`.
 *
 * @example
 * ```ts
 * import { hostToString } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(hostToString({ address: "10.0.0.1", port: 5 }), "10.0.0.1:5");
 * ```
 */
export function hostToString(host: HostAddress): string {
  return formatAddress(host.address, host.port);
}

/**
 * Build the consumer's view of a stored message.
 *
 * @param stored The decoded record.
 * @param body The body, decompressed.
 * @param brokerName The broker it was read from.
 * @param offsetMsgId The offset message id of the record.
 * @returns The message.
 *
 * @example
 * ```ts
 * import { toMessageExt } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const m = toMessageExt({
 *   storeSize: 0, magicCode: 0, bodyCRC: 0, queueId: 1, flag: 0, queueOffset: 5, commitLogOffset: 99,
 *   sysFlag: 0, bornTimestamp: 1, bornHost: { address: "10.0.0.1", port: 1 }, storeTimestamp: 2,
 *   storeHost: { address: "10.0.0.2", port: 2 }, reconsumeTimes: 0, preparedTransactionOffset: 0,
 *   body: new Uint8Array([1]), topic: "t", properties: { UNIQ_KEY: "U", TAGS: "a", KEYS: "k1 k2" },
 * }, new Uint8Array([1]), "broker-a", "OFFSETID");
 * assert.equal(m.msgId, "U");
 * assert.deepEqual(m.keys, ["k1", "k2"]);
 * ```
 */
export function toMessageExt(
  stored: StoredMessage,
  body: Uint8Array,
  brokerName: string,
  offsetMsgId: string,
): MessageExt {
  const properties = stored.properties;
  const keys = properties[MessageProperty.KEYS];
  const retryTopic = properties[MessageProperty.RETRY_TOPIC];
  return {
    topic: retryTopic && stored.topic.startsWith("%RETRY%") ? retryTopic : stored.topic,
    body,
    tags: properties[MessageProperty.TAGS],
    keys: keys ? keys.split(" ").filter((k) => k.length > 0) : [],
    properties,
    msgId: properties[MessageProperty.UNIQ_KEY] ?? offsetMsgId,
    offsetMsgId,
    queueId: stored.queueId,
    queueOffset: stored.queueOffset,
    brokerName,
    bornTimestamp: stored.bornTimestamp,
    storeTimestamp: stored.storeTimestamp,
    bornHost: hostToString(stored.bornHost),
    storeHost: hostToString(stored.storeHost),
    reconsumeTimes: stored.reconsumeTimes,
    commitLogOffset: stored.commitLogOffset,
    sysFlag: stored.sysFlag,
    flag: stored.flag,
  };
}

/**
 * Decode a body as UTF-8 text, replacing malformed sequences.
 *
 * @param message Anything with a `body`.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { bodyText } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(bodyText({ body: new TextEncoder().encode("pong") }), "pong");
 * ```
 */
export function bodyText(message: { body: Uint8Array }): string {
  return utf8Decode(message.body);
}
