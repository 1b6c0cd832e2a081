/**
 * Typed errors. Every error this library throws or rejects with is a
 * {@linkcode RocketMQError} with a stable `code`, except programming errors in
 * the caller's own code. Errors that come from a broker carry its response
 * code and remark.
 *
 * Instances are recognised across copies of this package (an npm copy and a
 * JSR copy in one process): `instanceof` checks a brand registered with
 * `Symbol.for`, not the class identity.
 *
 * @example Handle a timeout and a broker error differently
 * ```ts
 * import { BrokerError, RequestTimeoutError, RocketMQError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * function describe(err: unknown): string {
 *   if (err instanceof RequestTimeoutError) return `timeout while ${err.stage}`;
 *   if (err instanceof BrokerError) return `broker said ${err.responseCode}: ${err.remark}`;
 *   if (err instanceof RocketMQError) return err.code;
 *   throw err;
 * }
 * assert.equal(describe(new BrokerError(17, "no route", { requestCode: 310 })), "broker said 17: no route");
 * ```
 *
 * @module
 */

import { responseCodeName } from "./codec/codes.ts";

const BRANDS: unique symbol = Symbol.for("rocketmq-rpc.error.brands") as never;

function brand(target: object, name: string): void {
  const record = target as { [BRANDS]?: Set<string> };
  if (!record[BRANDS]) {
    Object.defineProperty(record, BRANDS, { value: new Set<string>(), enumerable: false });
  }
  record[BRANDS]!.add(name);
}

function hasBrand(value: unknown, name: string): boolean {
  if (typeof value !== "object" || value === null) return false;
  const brands = (value as { [BRANDS]?: Set<string> })[BRANDS];
  return brands instanceof Set && brands.has(name);
}

/**
 * Every stable error code this library uses. A code never changes meaning once
 * released; new kinds get new codes.
 *
 * @example Decide by code, not by message
 * ```ts
 * import { ConnectionClosedError, type ErrorCode, FrameTooLargeError, NoRouteError, RocketMQError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const transient: ReadonlySet<ErrorCode> = new Set(["ERR_CONNECTION", "ERR_CONNECTION_CLOSED", "ERR_REMOTING_TIMEOUT"]);
 * const isTransient = (e: unknown): boolean => e instanceof RocketMQError && transient.has(e.code);
 * assert.equal(isTransient(new ConnectionClosedError("10.0.0.1:10911")), true);
 * assert.equal(isTransient(new NoRouteError("orders")), false);
 * // A subclass has its own code: a FrameTooLargeError is a CodecError, but not ERR_CODEC.
 * assert.equal(new FrameTooLargeError(20_000_000, 16_777_216).code, "ERR_FRAME_TOO_LARGE");
 * ```
 */
export type ErrorCode =
  | "ERR_CODEC"
  | "ERR_FRAME_TOO_LARGE"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_ILLEGAL_STATE"
  | "ERR_CONNECTION"
  | "ERR_CONNECTION_CLOSED"
  | "ERR_REMOTING_TIMEOUT"
  | "ERR_BROKER"
  | "ERR_NO_ROUTE"
  | "ERR_CLIENT_CLOSED"
  | "ERR_REQUEST_TIMEOUT"
  | "ERR_REQUEST_ABORTED"
  | "ERR_REMOTE"
  | "ERR_NO_RESPONDER"
  | "ERR_TOO_MANY_REQUESTS"
  | "ERR_HANDLER_TIMEOUT"
  | "ERR_STORE"
  | "ERR_CLIENT_ID_CONFLICT"
  | "ERR_REQUEST_CANCELLED"
  | "ERR_FILTER_EXPRESSION";

/**
 * Base class of every error of this library.
 *
 * @example Catch everything from this library
 * ```ts
 * import { ClientClosedError, RocketMQError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err: unknown = new ClientClosedError();
 * assert.ok(err instanceof RocketMQError);
 * assert.equal((err as RocketMQError).code, "ERR_CLIENT_CLOSED");
 * ```
 */
export class RocketMQError extends Error {
  /** Stable, machine-readable kind of this error. */
  readonly code: ErrorCode;

  /**
   * Create the error.
   *
   * @param code Stable code of the error kind.
   * @param message Human-readable description.
   * @param options Standard error options; `cause` is kept.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = "RocketMQError";
    brand(this, "RocketMQError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "RocketMQError");
  }
}

/**
 * The kinds of malformed input a {@linkcode CodecError} reports.
 *
 * @example
 * ```ts
 * import { CodecError, type CodecErrorReason } from "./errors.ts";
 * import { parseFastJson } from "./codec/fastjson.ts";
 * import { parseOffsetMessageId } from "./codec/message_id.ts";
 * import { decodeCommand } from "./codec/frame.ts";
 * import assert from "node:assert/strict";
 *
 * function reasonOf(decode: () => unknown): CodecErrorReason | undefined {
 *   try {
 *     decode();
 *   } catch (e) {
 *     if (e instanceof CodecError) return e.reason;
 *   }
 *   return undefined;
 * }
 * assert.equal(reasonOf(() => parseFastJson('{"a":')), "json");
 * assert.equal(reasonOf(() => parseOffsetMessageId("not-an-id")), "message-id");
 * assert.equal(reasonOf(() => decodeCommand(new Uint8Array([0, 0, 0, 4, 9, 0, 0, 0]))), "frame"); // serialize type 9
 * ```
 */
export type CodecErrorReason =
  | "frame"
  | "header"
  | "json"
  | "message"
  | "properties"
  | "message-id"
  | "compression"
  | "schema";

/**
 * Bytes that do not form a valid RocketMQ frame, header, message or body.
 * Decoding untrusted bytes throws nothing else.
 *
 * @example
 * ```ts
 * import { CodecError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new CodecError("header", "header length 99 exceeds frame length 12");
 * assert.equal(err.code, "ERR_CODEC");
 * assert.equal(err.reason, "header");
 * ```
 */
export class CodecError extends RocketMQError {
  /** Which layer of the format was malformed. */
  readonly reason: CodecErrorReason;
  /**
   * The opaque (request id) of the frame, when the frame boundary and the
   * opaque could still be read; lets a server answer the bad request instead
   * of dropping the connection.
   */
  opaque?: number;

  /**
   * Create the error.
   *
   * @param reason Which layer of the format was malformed.
   * @param message What exactly was wrong.
   * @param options Standard error options.
   * @param code Stable code (subclasses only).
   */
  constructor(
    reason: CodecErrorReason,
    message: string,
    options?: ErrorOptions,
    code: ErrorCode = "ERR_CODEC",
  ) {
    super(code, message, options);
    this.reason = reason;
    this.name = "CodecError";
    brand(this, "CodecError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "CodecError");
  }
}

/**
 * A frame whose declared length exceeds the configured maximum. Raised before
 * any memory is allocated for the frame.
 *
 * @example
 * ```ts
 * import { CodecError, FrameTooLargeError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new FrameTooLargeError(20_000_000, 16_777_216);
 * assert.ok(err instanceof CodecError);
 * assert.equal(err.code, "ERR_FRAME_TOO_LARGE");
 * ```
 */
export class FrameTooLargeError extends CodecError {
  /** Declared size of the frame in bytes, including the length field. */
  readonly size: number;
  /** Configured maximum frame size in bytes. */
  readonly maxFrameSize: number;

  /**
   * Create the error.
   *
   * @param size Declared frame size, including the 4-byte length field.
   * @param maxFrameSize The maximum allowed.
   */
  constructor(size: number, maxFrameSize: number) {
    super(
      "frame",
      `frame of ${size} bytes exceeds the maximum of ${maxFrameSize} bytes`,
      undefined,
      "ERR_FRAME_TOO_LARGE",
    );
    this.size = size;
    this.maxFrameSize = maxFrameSize;
    this.name = "FrameTooLargeError";
    brand(this, "FrameTooLargeError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "FrameTooLargeError");
  }
}

/**
 * An argument or option that the caller passed is invalid. Nothing was sent.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new InvalidArgumentError("timeout", "must be a positive number, got -1");
 * assert.equal(err.message, "invalid timeout: must be a positive number, got -1");
 * assert.equal(err.path, "timeout");
 * ```
 */
export class InvalidArgumentError extends RocketMQError {
  /** Dotted path of the offending argument or option. */
  readonly path: string;

  /**
   * Create the error.
   *
   * @param path Dotted path of the offending argument or option.
   * @param problem What is wrong with it.
   * @param options Standard error options.
   */
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super("ERR_INVALID_ARGUMENT", `invalid ${path}: ${problem}`, options);
    this.path = path;
    this.name = "InvalidArgumentError";
    brand(this, "InvalidArgumentError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "InvalidArgumentError");
  }
}

/**
 * The object is not in a state that allows the call (for example, `send()`
 * before `start()`).
 *
 * @example
 * ```ts
 * import { IllegalStateError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new IllegalStateError("producer not started").code, "ERR_ILLEGAL_STATE");
 * ```
 */
export class IllegalStateError extends RocketMQError {
  /**
   * Create the error.
   *
   * @param message What state was expected.
   * @param options Standard error options.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_ILLEGAL_STATE", message, options);
    this.name = "IllegalStateError";
    brand(this, "IllegalStateError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "IllegalStateError");
  }
}

/**
 * The broker's message store failed to read or write its files (disk full,
 * I/O error, failed fsync), or found them corrupt where it cannot repair them
 * without losing acknowledged data. A failed append wrote nothing that will
 * be served; after a failed fsync the store refuses further appends until it
 * is reopened.
 *
 * @example
 * ```ts
 * import { StoreError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new StoreError("append failed", { path: "/data/commitlog/00000000000000000000" });
 * assert.equal(err.code, "ERR_STORE");
 * assert.equal(err.path, "/data/commitlog/00000000000000000000");
 * assert.match(err.message, /append failed/);
 * ```
 */
export class StoreError extends RocketMQError {
  /** The file or directory concerned, when one is. */
  readonly path: string | undefined;

  /**
   * Create the error.
   *
   * @param message What failed.
   * @param options Standard error options (`cause` is the file system's
   * error) and the path concerned.
   */
  constructor(message: string, options?: ErrorOptions & { path?: string | undefined }) {
    super("ERR_STORE", options?.path ? `${message} (${options.path})` : message, options);
    this.path = options?.path;
    this.name = "StoreError";
    brand(this, "StoreError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "StoreError");
  }
}

/**
 * A connection to a broker or name server could not be opened, or failed.
 *
 * @example
 * ```ts
 * import { ConnectionError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new ConnectionError("127.0.0.1:9", "connection refused");
 * assert.equal(err.address, "127.0.0.1:9");
 * assert.match(err.message, /127\.0\.0\.1:9/);
 * ```
 */
export class ConnectionError extends RocketMQError {
  /** `host:port` of the peer. */
  readonly address: string;

  /**
   * Create the error.
   *
   * @param address `host:port` of the peer.
   * @param problem What went wrong.
   * @param options Standard error options; `cause` is the runtime's error.
   * @param code Stable code (subclasses only).
   */
  constructor(
    address: string,
    problem: string,
    options?: ErrorOptions,
    code: ErrorCode = "ERR_CONNECTION",
  ) {
    super(code, `${address}: ${problem}`, options);
    this.address = address;
    this.name = "ConnectionError";
    brand(this, "ConnectionError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "ConnectionError");
  }
}

/**
 * The connection closed while a call on it was still waiting for its answer.
 * Whether the peer processed the call is unknown, unless `unsent` says the
 * call never left this side.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError, ConnectionError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new ConnectionClosedError("127.0.0.1:10911");
 * assert.ok(err instanceof ConnectionError);
 * assert.equal(err.code, "ERR_CONNECTION_CLOSED");
 * assert.equal(err.unsent, false); // it may have been processed
 * assert.equal(new ConnectionClosedError("127.0.0.1:10911", { unsent: true }).unsent, true);
 * ```
 */
export class ConnectionClosedError extends ConnectionError {
  /**
   * `true` when the call's frame was never accepted by the transport (the
   * connection was closed already, or the write failed): the peer cannot
   * have processed it, and sending it again is safe.
   */
  readonly unsent: boolean;

  /**
   * Create the error.
   *
   * @param address `host:port` of the peer.
   * @param options Standard error options (`cause` is why it closed, if
   * known), and `unsent` (default `false`).
   */
  constructor(address: string, options?: ErrorOptions & { unsent?: boolean }) {
    super(
      address,
      options?.unsent ? "connection closed before the call was sent" : "connection closed",
      options,
      "ERR_CONNECTION_CLOSED",
    );
    this.unsent = options?.unsent ?? false;
    this.name = "ConnectionClosedError";
    brand(this, "ConnectionClosedError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "ConnectionClosedError");
  }
}

/**
 * A remoting call (one request frame, one response frame) got no response in
 * time. Whether the peer processed it is unknown.
 *
 * @example
 * ```ts
 * import { RemotingTimeoutError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RemotingTimeoutError("127.0.0.1:9876", 105, 3000);
 * assert.equal(err.requestCode, 105);
 * assert.equal(err.timeout, 3000);
 * ```
 */
export class RemotingTimeoutError extends RocketMQError {
  /** `host:port` of the peer. */
  readonly address: string;
  /** Request code of the call. */
  readonly requestCode: number;
  /** The timeout that elapsed, in milliseconds. */
  readonly timeout: number;

  /**
   * Create the error.
   *
   * @param address `host:port` of the peer.
   * @param requestCode Request code of the call.
   * @param timeout The timeout that elapsed, in milliseconds.
   * @param options Standard error options.
   */
  constructor(address: string, requestCode: number, timeout: number, options?: ErrorOptions) {
    super(
      "ERR_REMOTING_TIMEOUT",
      `${address}: no response to request code ${requestCode} within ${timeout} ms`,
      options,
    );
    this.address = address;
    this.requestCode = requestCode;
    this.timeout = timeout;
    this.name = "RemotingTimeoutError";
    brand(this, "RemotingTimeoutError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "RemotingTimeoutError");
  }
}

/**
 * Where a {@linkcode BrokerError} came from.
 *
 * @example
 * ```ts
 * import { BrokerError, type BrokerErrorContext } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const context: BrokerErrorContext = { requestCode: 310, address: "10.0.0.1:10911" };
 * const err = new BrokerError(14, "service not available now", context);
 * assert.equal(err.message, "response 14 SERVICE_NOT_AVAILABLE to request code 310 from 10.0.0.1:10911: service not available now");
 * assert.equal(new BrokerError(14, undefined).message, "response 14 SERVICE_NOT_AVAILABLE"); // both fields are optional
 * ```
 */
export interface BrokerErrorContext {
  /** Request code of the call that failed. */
  requestCode?: number;
  /** `host:port` of the broker or name server that answered. */
  address?: string;
}

/**
 * A broker or name server answered a call with a non-success response code.
 *
 * @example Build from a response
 * ```ts
 * import { BrokerError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = BrokerError.fromResponse(
 *   { code: 17, remark: "topic[T] not exist" },
 *   { requestCode: 310, address: "127.0.0.1:10911" },
 * );
 * assert.equal(err.responseCode, 17);
 * assert.equal(err.remark, "topic[T] not exist");
 * assert.match(err.message, /TOPIC_NOT_EXIST/);
 * ```
 */
export class BrokerError extends RocketMQError {
  /** The response code (RocketMQ `ResponseCode`). */
  readonly responseCode: number;
  /** The response's remark, usually the broker's error text. */
  readonly remark: string | undefined;
  /** Request code of the call that failed. */
  readonly requestCode: number | undefined;
  /** `host:port` of the peer that answered. */
  readonly address: string | undefined;

  /**
   * Create the error.
   *
   * @param responseCode The response code.
   * @param remark The response's remark.
   * @param context Which call failed, and where.
   * @param options Standard error options.
   */
  constructor(
    responseCode: number,
    remark: string | undefined,
    context: BrokerErrorContext = {},
    options?: ErrorOptions,
  ) {
    const name = responseCodeName(responseCode);
    const where = context.address ? ` from ${context.address}` : "";
    const call = context.requestCode !== undefined ? ` to request code ${context.requestCode}` : "";
    super(
      "ERR_BROKER",
      `response ${responseCode} ${name}${call}${where}${remark ? `: ${remark}` : ""}`,
      options,
    );
    this.responseCode = responseCode;
    this.remark = remark;
    this.requestCode = context.requestCode;
    this.address = context.address;
    this.name = "BrokerError";
    brand(this, "BrokerError");
  }

  /**
   * Build the error from a response command.
   *
   * @param response The response (its `code` and `remark` are used).
   * @param context Which call failed, and where.
   * @returns The error.
   */
  static fromResponse(
    response: { code: number; remark?: string | undefined },
    context: BrokerErrorContext = {},
  ): BrokerError {
    return new BrokerError(response.code, response.remark, context);
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "BrokerError");
  }
}

/**
 * The name server knows no route for a topic (and auto-creation through
 * `TBW102` is not available either).
 *
 * @example
 * ```ts
 * import { NoRouteError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new NoRouteError("orders").topic, "orders");
 * ```
 */
export class NoRouteError extends RocketMQError {
  /** The topic without a route. */
  readonly topic: string;

  /**
   * Create the error.
   *
   * @param topic The topic without a route.
   * @param options Standard error options; `cause` is the name server's answer.
   */
  constructor(topic: string, options?: ErrorOptions) {
    super("ERR_NO_ROUTE", `no route for topic ${topic}`, options);
    this.topic = topic;
    this.name = "NoRouteError";
    brand(this, "NoRouteError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "NoRouteError");
  }
}

/**
 * The client was closed: raised by calls after `close()`, and given to every
 * call still pending when `close()` ran.
 *
 * @example
 * ```ts
 * import { ClientClosedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new ClientClosedError().message, "client closed");
 * ```
 */
export class ClientClosedError extends RocketMQError {
  /**
   * Create the error.
   *
   * @param message Optional detail.
   * @param options Standard error options.
   */
  constructor(message = "client closed", options?: ErrorOptions) {
    super("ERR_CLIENT_CLOSED", message, options);
    this.name = "ClientClosedError";
    brand(this, "ClientClosedError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "ClientClosedError");
  }
}

/**
 * How far a request got before its deadline:
 *
 * - `"sending"`: the request message was not confirmed stored by a broker
 *   (route lookup, connection or the send itself was still under way or
 *   failed and was being retried);
 * - `"awaiting-reply"`: the broker stored the request, and no reply arrived;
 * - `"reply-undeliverable"`: the broker stored the request and there is
 *   evidence that a reply could not reach this client (the connection to a
 *   broker that pushes replies was lost during the wait, or a pushed reply
 *   for this request could not be decoded).
 *
 * @example
 * ```ts
 * import { type RequestStage, RequestTimeoutError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RequestTimeoutError({
 *   topic: "rpc", correlationId: "c1", timeout: 3000, stage: "reply-undeliverable",
 *   detail: "connection to 10.0.0.1:10911 lost",
 * });
 * const stage: RequestStage = err.stage;
 * // The request was stored: a responder may have handled it even though no reply came back.
 * assert.equal(stage, "reply-undeliverable");
 * assert.match(err.message, /could not reach this client \(connection to 10\.0\.0\.1:10911 lost\)$/);
 * ```
 */
export type RequestStage = "sending" | "awaiting-reply" | "reply-undeliverable";

/**
 * Details of a {@linkcode RequestTimeoutError}.
 *
 * @example
 * ```ts
 * import { RequestTimeoutError, type RequestTimeoutDetails } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const details: RequestTimeoutDetails = {
 *   topic: "rpc", correlationId: "c1", timeout: 3000, stage: "awaiting-reply",
 *   stored: { brokerName: "broker-a", queueId: 2, queueOffset: 41, msgId: "0A0000051234000000010000002A0000" },
 * };
 * const err = new RequestTimeoutError(details);
 * assert.equal(err.stored?.queueOffset, 41); // where to look for the request on the broker
 * assert.equal(err.message, "request c1 to rpc timed out after 3000 ms: stored by the broker, but no reply arrived");
 * ```
 */
export interface RequestTimeoutDetails {
  /** The request's topic. */
  topic: string;
  /** The request's correlation id (`CORRELATION_ID`). */
  correlationId: string;
  /** The timeout, in milliseconds. */
  timeout: number;
  /** How far the request got. */
  stage: RequestStage;
  /** Where the request was stored, once it was. */
  stored?: { brokerName: string; queueId: number; queueOffset: bigint | number; msgId: string };
  /** Free-text evidence for the stage (for example which connection dropped). */
  detail?: string;
}

/**
 * A request got no reply within its timeout. `stage` says how far it got.
 *
 * @example
 * ```ts
 * import { RequestTimeoutError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RequestTimeoutError({
 *   topic: "rpc", correlationId: "c1", timeout: 3000, stage: "awaiting-reply",
 * });
 * assert.match(err.message, /stored by the broker, but no reply/);
 * ```
 */
export class RequestTimeoutError extends RocketMQError {
  /** The request's topic. */
  readonly topic: string;
  /** The request's correlation id. */
  readonly correlationId: string;
  /** The timeout, in milliseconds. */
  readonly timeout: number;
  /** How far the request got. */
  readonly stage: RequestStage;
  /** Where the request was stored, once it was. */
  readonly stored: RequestTimeoutDetails["stored"];

  /**
   * Create the error.
   *
   * @param details What timed out and how far it got.
   * @param options Standard error options; `cause` is the last send error, if any.
   */
  constructor(details: RequestTimeoutDetails, options?: ErrorOptions) {
    const what = {
      "sending": "not stored by any broker (the send did not complete)",
      "awaiting-reply": "stored by the broker, but no reply arrived",
      "reply-undeliverable": "stored by the broker, but the reply could not reach this client",
    }[details.stage];
    super(
      "ERR_REQUEST_TIMEOUT",
      `request ${details.correlationId} to ${details.topic} timed out after ${details.timeout} ms: ${what}` +
        (details.detail ? ` (${details.detail})` : ""),
      options,
    );
    this.topic = details.topic;
    this.correlationId = details.correlationId;
    this.timeout = details.timeout;
    this.stage = details.stage;
    this.stored = details.stored;
    this.name = "RequestTimeoutError";
    brand(this, "RequestTimeoutError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "RequestTimeoutError");
  }
}

/**
 * The caller aborted a request through its `AbortSignal`. `cause` is the
 * signal's reason.
 *
 * @example
 * ```ts
 * import { RequestAbortedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RequestAbortedError("c1", { cause: "user gave up" });
 * assert.equal(err.cause, "user gave up");
 * ```
 */
export class RequestAbortedError extends RocketMQError {
  /** The request's correlation id. */
  readonly correlationId: string;

  /**
   * Create the error.
   *
   * @param correlationId The request's correlation id.
   * @param options Standard error options; `cause` is the abort reason.
   */
  constructor(correlationId: string, options?: ErrorOptions) {
    super("ERR_REQUEST_ABORTED", `request ${correlationId} aborted`, options);
    this.correlationId = correlationId;
    this.name = "RequestAbortedError";
    brand(this, "RequestAbortedError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "RequestAbortedError");
  }
}

/**
 * The requester of a request gave up on it (its timeout passed, its signal
 * aborted, its `requestMany()` ended): the reason a responder's
 * `context.signal` aborts with, so the handler can stop its work.
 *
 * @example
 * ```ts
 * import { RequestCancelledError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RequestCancelledError("c1", "rpc");
 * assert.equal(err.code, "ERR_REQUEST_CANCELLED");
 * assert.equal(err.message, "request c1 to rpc was cancelled by its requester");
 * ```
 */
export class RequestCancelledError extends RocketMQError {
  /** The request's correlation id. */
  readonly correlationId: string;
  /** The request's topic, when known. */
  readonly topic: string | undefined;

  /**
   * Create the error.
   *
   * @param correlationId The request's correlation id.
   * @param topic The request's topic, when known.
   * @param options Standard error options.
   */
  constructor(correlationId: string, topic?: string, options?: ErrorOptions) {
    super(
      "ERR_REQUEST_CANCELLED",
      `request ${correlationId}${topic ? ` to ${topic}` : ""} was cancelled by its requester`,
      options,
    );
    this.correlationId = correlationId;
    this.topic = topic;
    this.name = "RequestCancelledError";
    brand(this, "RequestCancelledError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "RequestCancelledError");
  }
}

/**
 * The responder's handler failed. Its error's name and message travel in the
 * reply's properties; the reply is still a normal reply message for clients
 * that do not know them.
 *
 * @example
 * ```ts
 * import { RemoteError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RemoteError("TypeError", "x is undefined", "c1");
 * assert.equal(err.message, "responder failed: TypeError: x is undefined");
 * ```
 */
export class RemoteError extends RocketMQError {
  /** Name of the responder's error (for example `TypeError`). */
  readonly remoteName: string;
  /** Message of the responder's error. */
  readonly remoteMessage: string;
  /** The request's correlation id. */
  readonly correlationId: string;

  /**
   * Create the error.
   *
   * @param remoteName Name of the responder's error.
   * @param remoteMessage Message of the responder's error.
   * @param correlationId The request's correlation id.
   * @param options Standard error options.
   */
  constructor(
    remoteName: string,
    remoteMessage: string,
    correlationId: string,
    options?: ErrorOptions,
  ) {
    super("ERR_REMOTE", `responder failed: ${remoteName}: ${remoteMessage}`, options);
    this.remoteName = remoteName;
    this.remoteMessage = remoteMessage;
    this.correlationId = correlationId;
    this.name = "RemoteError";
    brand(this, "RemoteError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "RemoteError");
  }
}

/**
 * A fail-fast request found no online consumer group for its topic, so no
 * reply could ever come. Nothing was sent.
 *
 * @example
 * ```ts
 * import { NoResponderError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new NoResponderError("rpc").code, "ERR_NO_RESPONDER");
 * ```
 */
export class NoResponderError extends RocketMQError {
  /** The request's topic. */
  readonly topic: string;

  /**
   * Create the error.
   *
   * @param topic The request's topic.
   * @param detail Why no responder was found.
   * @param options Standard error options.
   */
  constructor(topic: string, detail = "no online consumer group", options?: ErrorOptions) {
    super("ERR_NO_RESPONDER", `no responder for topic ${topic}: ${detail}`, options);
    this.topic = topic;
    this.name = "NoResponderError";
    brand(this, "NoResponderError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "NoResponderError");
  }
}

/**
 * The cap on requests in flight was reached. Nothing was sent.
 *
 * @example
 * ```ts
 * import { TooManyRequestsError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new TooManyRequestsError(100).limit, 100);
 * ```
 */
export class TooManyRequestsError extends RocketMQError {
  /** The configured cap. */
  readonly limit: number;

  /**
   * Create the error.
   *
   * @param limit The configured cap on requests in flight.
   * @param options Standard error options.
   */
  constructor(limit: number, options?: ErrorOptions) {
    super("ERR_TOO_MANY_REQUESTS", `${limit} requests already in flight`, options);
    this.limit = limit;
    this.name = "TooManyRequestsError";
    brand(this, "TooManyRequestsError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "TooManyRequestsError");
  }
}

/**
 * Another client uses this client's id (`ip@instanceName`): another client
 * of this process with the same `instanceName`, or a broker that refused the
 * heartbeat because a live connection already holds the id. RocketMQ would
 * push replies to whichever of the two heartbeated last, so both would lose
 * replies; give every client its own `instanceName` (or leave it unset).
 *
 * @example
 * ```ts
 * import { ClientIdConflictError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new ClientIdConflictError("10.0.0.5@billing", {
 *   address: "127.0.0.1:9876",
 *   remark: "client id 10.0.0.5@billing is in use by connection 127.0.0.1:50122",
 * });
 * assert.equal(err.code, "ERR_CLIENT_ID_CONFLICT");
 * assert.equal(err.clientId, "10.0.0.5@billing");
 * assert.match(err.message, /instanceName/);
 * ```
 */
export class ClientIdConflictError extends RocketMQError {
  /** The client id in conflict. */
  readonly clientId: string;
  /** The broker that refused it, when a broker did. */
  readonly address: string | undefined;
  /** The broker's remark, when a broker refused it. */
  readonly remark: string | undefined;

  /**
   * Create the error.
   *
   * @param clientId The client id in conflict.
   * @param details The refusing broker and its remark, when a broker refused it.
   * @param options Standard error options.
   */
  constructor(
    clientId: string,
    details: { address?: string | undefined; remark?: string | undefined } = {},
    options?: ErrorOptions,
  ) {
    const where = details.address
      ? `broker ${details.address} refused it${details.remark ? ` (${details.remark})` : ""}`
      : "another client of this process uses it";
    super(
      "ERR_CLIENT_ID_CONFLICT",
      `client id ${clientId} is already in use: ${where}; every client needs its own instanceName`,
      options,
    );
    this.clientId = clientId;
    this.address = details.address;
    this.remark = details.remark;
    this.name = "ClientIdConflictError";
    brand(this, "ClientIdConflictError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "ClientIdConflictError");
  }
}

/**
 * A message handler ran past its time: a request's deadline (its requester
 * has given up) or `consumeTimeout` for an ordinary message. The handler's
 * `context.signal` is aborted with this error and its slot is freed; an
 * ordinary message is sent back for a later retry.
 *
 * @example
 * ```ts
 * import { HandlerTimeoutError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new HandlerTimeoutError("request deadline", 3000);
 * assert.equal(err.code, "ERR_HANDLER_TIMEOUT");
 * assert.equal(err.timeout, 3000);
 * assert.match(err.message, /request deadline/);
 * ```
 */
export class HandlerTimeoutError extends RocketMQError {
  /** The time the handler had (ms). */
  readonly timeout: number;

  /**
   * Create the error.
   *
   * @param what Which limit passed (`"request deadline"`, `"consumeTimeout"`).
   * @param timeout The time the handler had (ms).
   * @param options Standard error options.
   */
  constructor(what: string, timeout: number, options?: ErrorOptions) {
    super("ERR_HANDLER_TIMEOUT", `handler ran past its ${what} (${timeout} ms)`, options);
    this.timeout = timeout;
    this.name = "HandlerTimeoutError";
    brand(this, "HandlerTimeoutError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "HandlerTimeoutError");
  }
}

/**
 * A SQL92 message filter that does not compile (`reason` `"syntax"`, with the
 * offending position), or whose evaluation failed on a message's properties
 * (`"evaluation"`: a property that must be a number is not one, as RocketMQ's
 * `NumberFormatException`; such a message does not match).
 *
 * @example
 * ```ts
 * import { FilterExpressionError } from "./errors.ts";
 * import { compileSql92 } from "./codec/sql92.ts";
 * import assert from "node:assert/strict";
 *
 * try {
 *   compileSql92("n > 5 AND");
 *   assert.fail("should not compile");
 * } catch (err) {
 *   assert.ok(err instanceof FilterExpressionError);
 *   assert.equal(err.code, "ERR_FILTER_EXPRESSION");
 *   assert.equal(err.reason, "syntax");
 *   assert.equal(err.position, 9); // the end of the text: an operand is missing
 * }
 * ```
 */
export class FilterExpressionError extends RocketMQError {
  /** `"syntax"`: the expression does not compile; `"evaluation"`: a message made it fail. */
  readonly reason: "syntax" | "evaluation";
  /** The expression. */
  readonly expression: string;
  /** Offset (UTF-16 code units) in the expression where the problem is, when known. */
  readonly position: number | undefined;

  /**
   * Create the error.
   *
   * @param reason `"syntax"` or `"evaluation"`.
   * @param expression The expression.
   * @param problem What is wrong.
   * @param position Offset of the problem in the expression, when known.
   * @param options Standard error options.
   */
  constructor(
    reason: "syntax" | "evaluation",
    expression: string,
    problem: string,
    position?: number,
    options?: ErrorOptions,
  ) {
    const where = position === undefined ? "" : ` at position ${position}`;
    super(
      "ERR_FILTER_EXPRESSION",
      reason === "syntax"
        ? `invalid SQL92 filter${where}: ${problem} (in ${JSON.stringify(expression)})`
        : `SQL92 filter ${JSON.stringify(expression)} failed on a message: ${problem}`,
      options,
    );
    this.reason = reason;
    this.expression = expression;
    this.position = position;
    this.name = "FilterExpressionError";
    brand(this, "FilterExpressionError");
  }

  /** Brand check that works across copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, "FilterExpressionError");
  }
}
