/**
 * The responder's side of RIP-16: sends replies to request messages through
 * the broker (SEND_REPLY_MESSAGE_V2 on `<cluster>_REPLY_TOPIC`), at most once
 * per request, with the timing properties the requester reads.
 *
 * A requester is never left waiting for a reply that cannot come: a value
 * that cannot be serialized, a reply larger than `maxReplySize`, or a reply
 * the broker refuses becomes a small error reply naming the cause (the
 * requester's `RemoteError`).
 *
 * Idempotency: the first run of a request (by reply-to client and
 * correlation id) claims an entry that keeps its reply until the request's
 * deadline passes. A redelivered copy does not run the handler again: it
 * waits for the first run if that is still going, then gets the same reply.
 * Memory is bounded by entry count and cached bytes (oldest entries go
 * first).
 *
 * @example
 * ```ts
 * import { Replier } from "./replier.ts";
 * import { ClientInstance } from "./client_instance.ts";
 * import assert from "node:assert/strict";
 *
 * const replier = new Replier(new ClientInstance({ nameServer: "127.0.0.1:9876" }), { replyTimeout: 3000 });
 * assert.deepEqual(replier.stats, { replied: 0, replyFailures: 0, duplicateRequests: 0 });
 * ```
 *
 * @module
 */

import type { CompressionType } from "../codec/compression.ts";
import {
  BrokerError,
  FrameTooLargeError,
  IllegalStateError,
  InvalidArgumentError,
} from "../errors.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { MessageProperty } from "../codec/properties.ts";
import { UniqueKeyGenerator } from "../codec/message_id.ts";
import type { ClientInstance } from "./client_instance.ts";
import {
  jsonSerializer,
  type MessageExt,
  type ReplySerializer,
  type ReplyValue,
  RpcProperty,
  toReplyParts,
} from "./message.ts";
import { buildSendCommand, readSendResponse, type SendResult } from "./send_request.ts";
import { startSpanSafely, type TraceContext, writeTraceContext } from "./trace.ts";

/** Internal mark on a received message: when the handler started on it. */
const CONSUME_START: unique symbol = Symbol("consumeStart");

/** Reply bodies at least this large are compressed (as Java does). */
const COMPRESS_THRESHOLD = 4096;

/**
 * Bounds of a responder's idempotency memory (the consumer's `idempotency`
 * option).
 *
 * @example Remember fewer requests
 * ```ts
 * import type { IdempotencyOptions } from "./replier.ts";
 * import { PushConsumer } from "./push_consumer.ts";
 * import assert from "node:assert/strict";
 *
 * const idempotency: IdempotencyOptions = { maxEntries: 1000, maxBytes: 4 * 1024 * 1024 };
 * const consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc", idempotency });
 * assert.equal(consumer.group, "calc");
 * ```
 */
export interface IdempotencyOptions {
  /**
   * Requests remembered at most.
   * @default {10000}
   */
  maxEntries?: number | undefined;
  /**
   * Reply bytes kept at most; a reply larger than a quarter of this is
   * remembered without its body (a copy then runs nothing and sends nothing).
   * @default {33554432}
   */
  maxBytes?: number | undefined;
}

/**
 * Compression of a responder's reply bodies (the consumer's
 * `replyCompression` option). The Java client's responders always use zlib
 * from 4096 bytes; LZ4 and zstd need RocketMQ 4.9.4+ requesters (or this
 * library) to read them.
 *
 * @example Large replies as LZ4
 * ```ts
 * import type { ReplyCompression } from "./replier.ts";
 * import assert from "node:assert/strict";
 *
 * const compression: ReplyCompression = { type: "lz4", threshold: 16 * 1024 };
 * assert.equal(compression.type, "lz4");
 * ```
 */
export interface ReplyCompression {
  /** Algorithm. @default {"zlib"} */
  type?: CompressionType;
  /** Bodies of at least this many bytes are compressed. @default {4096} */
  threshold?: number;
  /** zstd level, 1-22. @default {5} */
  level?: number;
}

/** Options of a {@linkcode Replier}. */
export interface ReplierOptions {
  /** Time allowed to send a reply (ms). */
  replyTimeout: number;
  /**
   * Largest reply body (bytes, before compression); the default matches a
   * requester's default `maxBodySize` and a broker's `maxMessageSize`.
   * @default {4194304}
   */
  maxReplySize?: number;
  /** Encodes reply values other than text, bytes and `{ body }`. */
  serializer?: ReplySerializer;
  /** How reply bodies are compressed. @default {zlib from 4096 bytes, as Java} */
  compression?: ReplyCompression;
  /** Idempotency cache bounds, or `false` to run every copy. */
  idempotency?: IdempotencyOptions | false;
  /** The consumer group, named on every reply (`RPC_GROUP`). */
  group?: string;
}

/**
 * How a reply is sent.
 *
 * @example Stream a report in parts
 * ```ts
 * import type { ReplyOptions } from "./replier.ts";
 * import assert from "node:assert/strict";
 *
 * // In a handler: `await context.reply("page 1", part)` twice, then `return "last page"`.
 * const part: ReplyOptions = { more: true };
 * assert.equal(part.more, true);
 * ```
 */
export interface ReplyOptions {
  /**
   * More replies follow (a streamed part): the request is not done, and
   * `requestMany()` waits for the rest. The last reply (or the handler's
   * return) goes without it.
   */
  more?: boolean;
}

type Parts = { body: Uint8Array; properties: Record<string, string> };

interface Entry {
  /** Local time after which the entry may go. */
  expires: number;
  /** The reply sent, once one was; `null` when too large to keep. */
  parts: Parts | null | undefined;
  bytes: number;
  settled: Promise<void>;
  settle: () => void;
}

/** What {@linkcode Replier.claim} says about a request. */
export type Claim =
  | { readonly first: true }
  | { readonly first: false; readonly replay: () => Promise<void> };

/** Sends replies for one consumer. */
export class Replier {
  readonly #instance: ClientInstance;
  readonly #options: ReplierOptions;
  readonly #maxReplySize: number;
  readonly #serializer: ReplySerializer;
  readonly #replied = new WeakSet<MessageExt>();
  /** Requests some parts of which went out (`more: true`), and no last reply yet. */
  readonly #streaming = new WeakSet<MessageExt>();
  /** The trace context a request's replies carry back (the handle span's, or the request's). */
  readonly #traces = new WeakMap<MessageExt, TraceContext>();
  readonly #keys: UniqueKeyGenerator;
  readonly #entries = new Map<string, Entry>();
  /**
   * Claims in the order they came, oldest from `#head` (records of entries
   * forgotten meanwhile are skipped): pruning and eviction read from here,
   * not by iterating `#entries` from its start, which costs V8 a walk over
   * every deleted slot (13 % of a responder's CPU).
   */
  #order: Array<{ key: string; entry: Entry }> = [];
  #head = 0;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #cachedBytes = 0;
  #replySendIndex = 0;
  readonly #stats = { replied: 0, replyFailures: 0, duplicateRequests: 0 };

  /**
   * @param instance The consumer's client machinery.
   * @param options Reply timeout, size limit, serializer, idempotency.
   */
  constructor(instance: ClientInstance, options: ReplierOptions) {
    this.#instance = instance;
    this.#options = options;
    this.#maxReplySize = options.maxReplySize ?? 4 * 1024 * 1024;
    this.#serializer = options.serializer ?? jsonSerializer;
    const idempotency = options.idempotency ?? {};
    this.#maxEntries = idempotency === false ? 0 : idempotency.maxEntries ?? 10_000;
    this.#maxBytes = idempotency === false ? 0 : idempotency.maxBytes ?? 32 * 1024 * 1024;
    this.#keys = new UniqueKeyGenerator({ now: () => instance.timers.now() });
  }

  /** Replies sent, replies the broker could not take, copies not run again. */
  get stats(): { replied: number; replyFailures: number; duplicateRequests: number } {
    return { ...this.#stats };
  }

  /** Requests remembered for idempotency now. */
  get remembered(): number {
    return this.#entries.size;
  }

  /** Whether a reply to `request` was sent (or is being sent). */
  replied(request: MessageExt): boolean {
    return this.#replied.has(request);
  }

  /** Note that the handler starts on `request` now (the reply's CONSUME_TIME). */
  started(request: MessageExt): void {
    (request as { [CONSUME_START]?: number })[CONSUME_START] = this.#instance.timers.now();
  }

  /**
   * The trace context the replies to `request` carry back, and the parent of
   * their reply spans.
   *
   * @param request The request.
   * @param trace The handle span's context, or the request's.
   */
  setTrace(request: MessageExt, trace: TraceContext | undefined): void {
    if (trace) this.#traces.set(request, trace);
  }

  /** Whether parts of a reply to `request` went out and its last did not. */
  streaming(request: MessageExt): boolean {
    return this.#streaming.has(request) && !this.#replied.has(request);
  }

  /**
   * End a streamed reply whose handler returned nothing: a reply marked
   * `RPC_END` (body `end`: RocketMQ 5.x brokers fail on an empty reply
   * body), so a `requestMany()` counts this responder done and yields
   * nothing for it.
   *
   * @param request The request.
   */
  async endStream(request: MessageExt): Promise<void> {
    if (!this.streaming(request)) return;
    try {
      await this.send(request, new TextEncoder().encode("end"), { [RpcProperty.END]: "true" });
    } catch (err) {
      this.#instance.logger.warn("end of a streamed reply failed", {
        msgId: request.msgId,
        error: err,
      });
    }
  }

  /**
   * Claim a request before running its handler. The first copy of a
   * request is to run; a later copy (same reply-to client and correlation
   * id, before the first one's deadline) gets `replay`, which waits for the
   * first run to reply (until `deadline`) and sends the same reply.
   *
   * @param request The request.
   * @param deadline Local time at which its requester gives up.
   * @returns Whether to run the handler.
   */
  claim(request: MessageExt, deadline: number): Claim {
    if (this.#maxEntries === 0) return { first: true };
    const key = requestKey(request);
    if (key === undefined) return { first: true };
    const now = this.#instance.timers.now();
    this.#prune(now);
    const existing = this.#entries.get(key);
    if (existing && existing.expires > now) {
      this.#stats.duplicateRequests++;
      return { first: false, replay: () => this.#replay(request, existing, deadline) };
    }
    if (existing) this.#forget(key, existing);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => settle = resolve);
    const entry: Entry = { expires: deadline, parts: undefined, bytes: 0, settled, settle };
    this.#entries.set(key, entry);
    this.#order.push({ key, entry });
    while (this.#entries.size > this.#maxEntries) this.#evictOldest();
    this.#compact();
    return { first: true };
  }

  /**
   * Forget a claim whose handler will not reply (it failed before replying
   * in a way that calls for a retry, or the consumer gave it up), so a later
   * copy runs.
   *
   * @param request The request.
   */
  release(request: MessageExt): void {
    const key = requestKey(request);
    const entry = key === undefined ? undefined : this.#entries.get(key);
    if (key !== undefined && entry && entry.parts === undefined) this.#forget(key, entry);
  }

  async #replay(request: MessageExt, entry: Entry, deadline: number): Promise<void> {
    const left = deadline - this.#instance.timers.now();
    if (entry.parts === undefined && left > 0) {
      let timer: unknown;
      await Promise.race([
        entry.settled,
        new Promise<void>((resolve) => timer = this.#instance.timers.setTimeout(resolve, left)),
      ]);
      this.#instance.timers.clearTimeout(timer);
    }
    if (!entry.parts || this.#replied.has(request)) return;
    try {
      await this.send(request, entry.parts.body, entry.parts.properties);
    } catch (err) {
      this.#instance.logger.warn("reply to a redelivered request failed", {
        msgId: request.msgId,
        error: err,
      });
    }
  }

  /**
   * Reply with a value (see `ReplyValue`): encode, check the size, send. A
   * value that cannot be encoded or is too large is refused with
   * `InvalidArgumentError`, and the requester gets an error reply naming the
   * cause at once.
   *
   * @param request The request.
   * @param value The reply.
   * @returns Where the broker stored the reply.
   */
  async reply(
    request: MessageExt,
    value: ReplyValue,
    options: ReplyOptions = {},
  ): Promise<SendResult> {
    checkRequest(request);
    if (this.#replied.has(request)) {
      throw new IllegalStateError(
        `request ${request.properties[MessageProperty.CORRELATION_ID]} was already replied to`,
      );
    }
    let parts: Parts;
    try {
      parts = toReplyParts(value, this.#serializer);
    } catch (err) {
      await this.#sendErrorParts(request, "ReplySerializationError", describe(err));
      throw err;
    }
    if (parts.body.length > this.#maxReplySize) {
      const text =
        `reply of ${parts.body.length} bytes exceeds the responder's maxReplySize of ${this.#maxReplySize} bytes`;
      await this.#sendErrorParts(request, "ReplyTooLargeError", text);
      throw new InvalidArgumentError("reply", text);
    }
    try {
      if (options.more === true) {
        return await this.send(
          request,
          parts.body,
          {
            ...parts.properties,
            [RpcProperty.MORE]: "true",
          },
          false,
          true,
        );
      }
      return await this.send(request, parts.body, parts.properties);
    } catch (err) {
      if (tooLargeForBroker(err)) {
        await this.#sendErrorParts(
          request,
          "ReplyTooLargeError",
          `reply of ${parts.body.length} bytes could not be sent: ${describe(err)}`,
          true,
        );
      }
      throw err;
    }
  }

  /** Send an error reply naming `err` (nothing when already replied). */
  async sendError(message: MessageExt, err: unknown): Promise<void> {
    if (this.#replied.has(message)) return;
    const name = err instanceof Error ? err.name : "Error";
    const text = err instanceof Error ? err.message : String(err);
    await this.#sendErrorParts(message, name, text);
  }

  async #sendErrorParts(
    message: MessageExt,
    name: string,
    text: string,
    again = false,
  ): Promise<void> {
    if (this.#replied.has(message) && !again) return;
    const safe = (s: string) => s.replaceAll("\u0001", " ").replaceAll("\u0002", " ");
    try {
      await this.send(
        message,
        new TextEncoder().encode(`${name}: ${text}`),
        {
          [RpcProperty.ERROR_NAME]: safe(name),
          [RpcProperty.ERROR_MESSAGE]: safe(text),
        },
        again,
      );
    } catch (replyErr) {
      this.#instance.logger.warn("error reply failed", { msgId: message.msgId, error: replyErr });
    }
  }

  /**
   * Send a reply to `request` (once): body and extra properties.
   *
   * @param request The request.
   * @param body Reply body.
   * @param extra Extra properties.
   * @param again Send although a reply was already attempted (the error
   *   reply that replaces a reply the broker refused).
   * @param part A streamed part (`more`): the request stays open.
   * @returns Where the broker stored the reply.
   */
  async send(
    request: MessageExt,
    body: Uint8Array,
    extra: Record<string, string>,
    again = false,
    part = false,
  ): Promise<SendResult> {
    const { correlationId, replyTo, cluster } = checkRequest(request);
    if (this.#replied.has(request) && !again) {
      throw new IllegalStateError(`request ${correlationId} was already replied to`);
    }
    if (part) {
      this.#streaming.add(request);
    } else {
      this.#replied.add(request);
      this.#remember(request, body, extra);
    }
    const props = request.properties;
    const topic = `${cluster}_REPLY_TOPIC`;
    const properties: Record<string, string> = {
      ...extra,
      [MessageProperty.MSG_TYPE]: "reply",
      [MessageProperty.CORRELATION_ID]: correlationId,
      [MessageProperty.REPLY_TO_CLIENT]: replyTo,
      [RpcProperty.REQUEST_STORE_TIME]: String(request.storeTimestamp),
      [MessageProperty.WAIT]: "true",
    };
    const ttl = props[MessageProperty.TTL];
    if (ttl !== undefined) properties[MessageProperty.TTL] = ttl;
    const consumed = (request as { [CONSUME_START]?: number })[CONSUME_START];
    if (consumed !== undefined) properties[RpcProperty.CONSUME_TIME] = String(consumed);
    if (this.#options.group !== undefined) properties[RpcProperty.GROUP] = this.#options.group;
    const parent = this.#traces.get(request);
    const span = startSpanSafely(this.#instance.spanHooks, {
      kind: "reply",
      topic: request.topic,
      correlationId,
      group: this.#options.group ?? "",
      parent,
    }, (error) => this.#instance.logger.warn("span hook failed", { error }));
    writeTraceContext(properties, span?.context ?? parent);
    try {
      const route = await this.#instance.getRoute(topic);
      const queues = route.publishQueues;
      if (queues.length === 0) {
        throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `no writable queue of ${topic}`);
      }
      // The requester is surely registered with the broker that stored its request.
      const queue = queues.find((q) => q.brokerName === request.brokerName) ??
        queues[this.#replySendIndex++ % queues.length]!;
      const address = route.masterAddress(queue.brokerName)!;
      const uniqKey = this.#keys.next();
      const command = await buildSendCommand({
        code: RequestCode.SEND_REPLY_MESSAGE_V2,
        producerGroup: "CLIENT_INNER_PRODUCER",
        queue,
        out: { topic, body: body.length > 0 ? body : new Uint8Array(0), flag: 0, properties },
        uniqKey,
        compressThreshold: this.#options.compression?.threshold ?? COMPRESS_THRESHOLD,
        compressType: this.#options.compression?.type ?? "zlib",
        compressLevel: this.#options.compression?.level ?? 5,
        defaultTopicQueueNums: 4,
        now: this.#instance.timers.now(),
      });
      // No retries: a failed push (code 1) means the requester is gone, and
      // every retry would store another copy.
      const response = await this.#instance.remoting.invoke(address, command, {
        timeout: this.#options.replyTimeout,
      });
      const result = readSendResponse(response, queue, uniqKey, address);
      this.#stats.replied++;
      span?.end();
      return result;
    } catch (err) {
      this.#stats.replyFailures++;
      span?.end(err);
      throw err;
    }
  }

  /** Keep the reply of a claimed request for its copies. */
  #remember(request: MessageExt, body: Uint8Array, properties: Record<string, string>): void {
    const key = requestKey(request);
    const entry = key === undefined ? undefined : this.#entries.get(key);
    if (!entry) return;
    this.#cachedBytes -= entry.bytes;
    if (body.length > this.#maxBytes / 4) {
      entry.parts = null;
      entry.bytes = 0;
    } else {
      entry.parts = { body, properties: { ...properties } };
      entry.bytes = body.length;
      this.#cachedBytes += body.length;
      while (this.#cachedBytes > this.#maxBytes && this.#entries.size > 1) this.#evictOldest();
    }
    entry.settle();
  }

  #prune(now: number): void {
    const order = this.#order;
    while (this.#head < order.length) {
      const { key, entry } = order[this.#head]!;
      if (this.#entries.get(key) === entry) {
        if (entry.expires > now) break;
        this.#forget(key, entry);
      }
      this.#head++;
    }
  }

  #evictOldest(): void {
    const order = this.#order;
    while (this.#head < order.length) {
      const { key, entry } = order[this.#head++]!;
      if (this.#entries.get(key) === entry) {
        this.#forget(key, entry);
        return;
      }
    }
  }

  /** Drop the records behind `#head`, and those of forgotten claims when they pile up. */
  #compact(): void {
    const order = this.#order;
    if (order.length > 2 * this.#entries.size + 1024) {
      this.#order = order.slice(this.#head).filter((o) => this.#entries.get(o.key) === o.entry);
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > order.length) {
      order.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #forget(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#cachedBytes -= entry.bytes;
    entry.settle();
  }
}

function requestKey(request: MessageExt): string | undefined {
  const props = request.properties ?? {};
  const correlationId = props[MessageProperty.CORRELATION_ID];
  const replyTo = props[MessageProperty.REPLY_TO_CLIENT];
  return correlationId && replyTo ? `${replyTo}\u0000${correlationId}` : undefined;
}

function checkRequest(
  request: MessageExt,
): { correlationId: string; replyTo: string; cluster: string } {
  const props = request?.properties ?? {};
  const correlationId = props[MessageProperty.CORRELATION_ID];
  const replyTo = props[MessageProperty.REPLY_TO_CLIENT];
  const cluster = props[MessageProperty.CLUSTER];
  if (!correlationId || !replyTo) {
    throw new InvalidArgumentError(
      "request",
      "not a request message (no CORRELATION_ID or REPLY_TO_CLIENT)",
    );
  }
  if (!cluster) {
    throw new InvalidArgumentError(
      "request",
      "request has no CLUSTER property (broker older than 4.6?)",
    );
  }
  return { correlationId, replyTo, cluster };
}

/** The reply itself was too large for the frame or the broker. */
function tooLargeForBroker(err: unknown): boolean {
  return err instanceof FrameTooLargeError ||
    (err instanceof BrokerError && err.responseCode === ResponseCode.MESSAGE_ILLEGAL);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
