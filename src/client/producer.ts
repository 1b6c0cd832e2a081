/**
 * The producer: sends messages and, for RIP-16 request-reply, sends a request
 * and waits for the reply a consumer produces.
 *
 * @example Request-reply against the embedded broker
 * ```ts
 * import { Producer } from "./producer.ts";
 * import { PushConsumer } from "./push_consumer.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using responder = new PushConsumer({ nameServer: broker.address, group: "echo" });
 * responder.subscribe("echo", "*", (msg) => `echo: ${new TextDecoder().decode(msg.body)}`);
 * await responder.start();
 * await using requester = new Producer({ nameServer: broker.address });
 * await requester.start();
 * const reply = await requester.request({ topic: "echo", body: "hi" }, { timeout: 5000 });
 * assert.equal(new TextDecoder().decode(reply.body), "echo: hi");
 * ```
 *
 * @module
 */

import {
  BrokerError,
  ClientClosedError,
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  IllegalStateError,
  InvalidArgumentError,
  NoResponderError,
  NoRouteError,
  RemoteError,
  RemotingTimeoutError,
  RequestTimeoutError,
} from "../errors.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { createRequest, createResponse, type RemotingCommand } from "../codec/remoting_command.ts";
import { decodeProperties, MessageProperty } from "../codec/properties.ts";
import { UniqueKeyGenerator } from "../codec/message_id.ts";
import { type CompressionType, decompressBody } from "../codec/compression.ts";
import { decodeReplyMessageRequestHeader } from "../codec/ext_fields.ts";
import { decodeConsumerListBody } from "../codec/bodies.ts";
import { parseFastJson } from "../codec/fastjson.ts";
import { utf8Decode } from "../codec/_utf8.ts";
import { ClientInstance, type ClientOptions } from "./client_instance.ts";
import {
  checkTopic,
  decodeReplyValue,
  jsonSerializer,
  type Message,
  type MessageQueue,
  type OutgoingMessage,
  type ReplyMessage,
  type ReplySerializer,
  RpcProperty,
  toOutgoing,
} from "./message.ts";
import { type GiveUp, RequestTracker, type RequestTrackerStats } from "./request_tracker.ts";
import type { ReplyStream } from "./reply_stream.ts";
import { TopicRoute } from "./route.ts";
import {
  parseProducerOptions,
  parseRequestManyOptions,
  parseRequestOptions,
  parseSendOptions,
} from "./options.ts";
import { CancelSender, type CancelStats } from "./cancel_sender.ts";
import { discoverResponders, type ResponderGroup, type RespondersOptions } from "./discovery.ts";
import {
  checkTraceContext,
  readTraceContext,
  type RpcSpan,
  startSpanSafely,
  type TraceContext,
  writeTraceContext,
} from "./trace.ts";
import {
  type BatchSendResult,
  buildBatchCommand,
  encodeBatchBody,
  prepareBatch,
  type PreparedBatch,
  readBatchSendResponse,
} from "./batch.ts";
import {
  AUTO_CREATE_TOPIC,
  buildSendCommand,
  readSendResponse,
  type SendResult,
} from "./send_request.ts";

export type { SendResult, SendStatus } from "./send_request.ts";
export type { BatchSendResult } from "./batch.ts";
export type { ReplyStream, ReplyStreamEnd } from "./reply_stream.ts";
export type { ResponderClient, ResponderGroup, RespondersOptions } from "./discovery.ts";

/**
 * Options of a {@linkcode Producer}.
 *
 * @example
 * ```ts
 * import { Producer, type ProducerOptions } from "./producer.ts";
 * import { InvalidArgumentError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ProducerOptions = { nameServer: "127.0.0.1:9876", requestTimeout: 10_000 };
 * assert.equal(new Producer(options).group, "RPC_PRODUCER"); // the default group
 * assert.throws( // options are checked when the producer is created
 *   () => new Producer({ ...options, retryTimes: 17 }),
 *   (e) => e instanceof InvalidArgumentError && e.path === "retryTimes",
 * );
 * ```
 */
export interface ProducerOptions extends ClientOptions {
  /**
   * Producer group, registered with brokers by heartbeat.
   * @default {"RPC_PRODUCER"}
   */
  group?: string;
  /**
   * Time allowed for a send, retries included (ms).
   * @default {3000}
   */
  sendTimeout?: number;
  /**
   * Extra attempts of a failed send (on another broker when possible).
   * @default {2}
   */
  retryTimes?: number;
  /**
   * Bodies of at least this many bytes are compressed with `compressType`,
   * as Java does (`compressMsgBodyOverHowmuch`). Batches are never
   * compressed.
   * @default {4096}
   */
  compressThreshold?: number;
  /**
   * Compression of bodies over the threshold (Java's `compressType`): zlib
   * (every RocketMQ version reads it), or LZ4 / zstd, which consumers need
   * RocketMQ 4.9.4+ clients (or this library) to read. zstd compression
   * loads WebAssembly on first use and is not available in Cloudflare
   * Workers (reading it is).
   * @default {"zlib"}
   */
  compressType?: CompressionType;
  /**
   * zstd compression level, 1–22 (Java's `compressLevel`); LZ4 and zlib
   * have a fixed level here.
   * @default {5}
   */
  compressLevel?: number;
  /**
   * Largest body accepted (bytes).
   * @default {4194304}
   */
  maxBodySize?: number;
  /**
   * Queues per broker for a topic created on first send.
   * @default {4}
   */
  defaultTopicQueueNums?: number;
  /**
   * Default timeout of `request()` (ms).
   * @default {3000}
   */
  requestTimeout?: number;
  /**
   * Cap on requests waiting for replies; beyond it `request()` fails at once
   * with `TooManyRequestsError`.
   * @default {Infinity}
   */
  maxInFlightRequests?: number;
  /**
   * Tell the responder when a request is given up (its timeout passed, its
   * signal aborted, a `requestMany()` ended before every responder
   * finished): the consumer holding it aborts its handler's
   * `context.signal`, or skips the request if it has not started it.
   * @default {true}
   */
  propagateCancel?: boolean;
  /**
   * Decodes replies whose `RPC_CONTENT_TYPE` is its content type into
   * `reply.value` (JSON is always understood). Give the responder the same.
   * @default {jsonSerializer}
   */
  serializer?: ReplySerializer;
}

/**
 * Picks the queue for a message from the topic's writable queues.
 *
 * @param queues The writable queues of the topic, sorted by broker then id.
 * @param message The message being sent.
 * @param arg The `arg` given with the send or request.
 * @returns One of `queues`.
 *
 * @example Keep the messages of one order in one queue
 * ```ts
 * import type { QueueSelector } from "./producer.ts";
 * import type { MessageQueue } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const byOrderId: QueueSelector = (queues, _message, arg) => queues[Number(arg) % queues.length]!;
 * const queues: MessageQueue[] = [0, 1, 2, 3].map((queueId) => ({ topic: "orders", brokerName: "b", queueId }));
 * const message = { topic: "orders", body: "paid" };
 * assert.equal(byOrderId(queues, message, 42).queueId, 2);
 * assert.equal(byOrderId(queues, message, 42), byOrderId(queues, message, 42));
 * ```
 */
export type QueueSelector = (
  queues: readonly MessageQueue[],
  message: Message,
  arg: unknown,
) => MessageQueue;

/**
 * Routing and timing of one send.
 *
 * @example
 * ```ts
 * import type { SendOptions } from "./producer.ts";
 * import assert from "node:assert/strict";
 *
 * // Either `queue` or `selector` (with `arg`), not both: the producer rejects both together.
 * const options: SendOptions = {
 *   queue: { topic: "orders", brokerName: "broker-a", queueId: 1 },
 *   timeout: 1000,
 *   signal: new AbortController().signal,
 * };
 * assert.equal(options.selector, undefined);
 * ```
 */
export interface SendOptions {
  /** Send to this queue exactly. */
  queue?: MessageQueue;
  /** Let a function pick the queue (ordered messages by key, …). */
  selector?: QueueSelector;
  /** Passed to `selector`. */
  arg?: unknown;
  /** Time allowed for the send (ms). @default {the producer's sendTimeout} */
  timeout?: number;
  /** Abandons the send. */
  signal?: AbortSignal;
}

/**
 * Routing and timing of one request.
 *
 * @example Fail at once when nobody listens
 * ```ts
 * import type { RequestOptions } from "./producer.ts";
 * import assert from "node:assert/strict";
 *
 * // With `failFast: { group }`, a request to a group with no online consumer fails
 * // with NoResponderError instead of waiting out the timeout.
 * const options: RequestOptions = { timeout: 5000, failFast: { group: "calc" } };
 * assert.deepEqual(options.failFast, { group: "calc" });
 * ```
 */
export interface RequestOptions {
  /** Time allowed from the call to the reply (ms). @default {the producer's requestTimeout} */
  timeout?: number;
  /** Send the request to this queue exactly. */
  queue?: MessageQueue;
  /** Let a function pick the queue. */
  selector?: QueueSelector;
  /** Passed to `selector`. */
  arg?: unknown;
  /** Abandons the request; the promise rejects with `RequestAbortedError`. */
  signal?: AbortSignal;
  /**
   * Fail at once with `NoResponderError` when no consumer group is online
   * for the topic (`true`), or when the given group has no online consumer.
   * Costs one or two calls to a broker, cached for a few seconds.
   */
  failFast?: boolean | { group: string };
  /**
   * The context of the caller's own work, usually the `context` of the
   * handler making this request: the request inherits its deadline (the
   * timeout shrinks to the time left, and a deadline already passed fails at
   * once), its signal (aborting it aborts this request) and its trace
   * context (this request becomes its child).
   */
  parent?: RequestParent;
  /**
   * W3C trace context to put on the request (`traceparent`, `tracestate`
   * properties). With span hooks, the send span's context is put instead, as
   * a child of this one.
   */
  trace?: TraceContext;
}

/**
 * What a request inherits from the work it is part of. A responder's
 * `ConsumeContext` is one; so is any object with these fields.
 *
 * @example A nested call never outlives its caller
 * ```ts
 * import type { RequestParent } from "./producer.ts";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const parent: RequestParent = { deadline: Date.now() + 500, signal: controller.signal };
 * // producer.request(message, { timeout: 10_000, parent }) waits at most ~500 ms.
 * assert.ok(parent.deadline! - Date.now() <= 500);
 * ```
 */
export interface RequestParent {
  /** Absolute deadline (ms since the epoch, this process's clock). */
  readonly deadline?: number | undefined;
  /** Aborted when the parent work is abandoned. */
  readonly signal?: AbortSignal | undefined;
  /** The parent's trace context. */
  readonly trace?: TraceContext | undefined;
}

/**
 * Options of {@linkcode Producer.requestMany}: routing and `parent`/`trace`
 * as for `request()`, the strategies that end the stream (the first that
 * applies wins), and its memory bound.
 *
 * @example Scatter-gather: at most 2 s, ended early once 3 responders finished
 * ```ts
 * import type { RequestManyOptions } from "./producer.ts";
 * import assert from "node:assert/strict";
 *
 * const options: RequestManyOptions = { timeout: 2000, responders: 3, sentinel: false };
 * assert.equal(options.responders, 3);
 * ```
 */
export interface RequestManyOptions extends Omit<RequestOptions, "failFast"> {
  /**
   * Overall time allowed (ms). Ending on it with some replies is a partial
   * result (`stream.partial`); with none the iteration throws
   * `RequestTimeoutError`.
   * @default {the producer's requestTimeout}
   */
  timeout?: number;
  /** End after this many replies. @default {Infinity} */
  maxReplies?: number;
  /** End when no new reply came for this long after the last one (ms). */
  stall?: number;
  /**
   * A reply for which it returns `true` ends the stream and is not yielded
   * (NATS's sentinel). `false` turns it off.
   * @default {a reply with an empty body}
   */
  sentinel?: ((reply: ReplyMessage) => boolean) | false;
  /**
   * End once this many responders sent their last reply (a reply without
   * `more`; every reply of a Java responder is its last). Use the number of
   * responder groups for scatter-gather (see `responders()`).
   */
  responders?: number;
  /**
   * Replies waiting to be read, at most; beyond it pushes are held (the
   * responder waits), then refused (`stream.overflow`).
   * @default {256}
   */
  maxBuffered?: number;
}

/**
 * Called exactly once with the outcome of a request.
 *
 * @example A callback request that cannot start
 * ```ts
 * import { Producer, type RequestCallback } from "./producer.ts";
 * import { IllegalStateError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const outcomes: string[] = [];
 * const callback: RequestCallback = {
 *   onSuccess: (reply) => outcomes.push(`reply ${reply.correlationId}`),
 *   onException: (error) => outcomes.push(`error ${error}`),
 * };
 * const producer = new Producer({ nameServer: "127.0.0.1:9876" }); // not started
 * await assert.rejects(producer.request({ topic: "rpc", body: "x" }, {}, callback), IllegalStateError);
 * assert.deepEqual(outcomes, []); // the call rejected, so the callback is never called
 * ```
 */
export interface RequestCallback {
  /** The reply arrived. */
  onSuccess(reply: ReplyMessage): void;
  /** The request failed: send error, timeout, abort, responder error, close. */
  onException(error: unknown): void;
}

/**
 * Counters of a producer.
 *
 * @example A new producer
 * ```ts
 * import { Producer, type ProducerStats } from "./producer.ts";
 * import assert from "node:assert/strict";
 *
 * const stats: ProducerStats = new Producer({ nameServer: "127.0.0.1:9876" }).stats;
 * assert.deepEqual(stats, {
 *   inFlight: 0, replied: 0, timedOut: 0,
 *   timedOutByStage: { "sending": 0, "awaiting-reply": 0, "reply-undeliverable": 0 },
 *   aborted: 0, lateReplies: 0, duplicateReplies: 0, foreignReplies: 0, rejectedOverCap: 0,
 *   streams: 0, streamReplies: 0, partialStreams: 0, overflowReplies: 0,
 *   cancelsSent: 0, cancelsFailed: 0, sent: 0, sendRetries: 0, sendFailures: 0,
 * });
 * ```
 */
export interface ProducerStats extends RequestTrackerStats, CancelStats {
  /** Sends acknowledged by a broker. */
  sent: number;
  /** Send attempts that failed and were retried. */
  sendRetries: number;
  /** Sends that failed for good. */
  sendFailures: number;
}

const RETRY_CODES: ReadonlySet<number> = new Set([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
  ResponseCode.GO_AWAY,
]);

/** Internal: one send as the kernel performs it. */
interface SendPlan {
  out: OutgoingMessage;
  message: Message;
  code: number;
  queue: MessageQueue | undefined;
  selector: QueueSelector | undefined;
  arg: unknown;
  deadline: number;
  signal: AbortSignal | undefined;
  /** Brokers the send should avoid (a previous attempt failed there). */
  avoid: Set<string>;
  /**
   * Sent at most once (a request): never retried after a failure that leaves
   * unknown whether a broker stored it.
   */
  atMostOnce: boolean;
  /** A batch send (SEND_BATCH_MESSAGE), its keys stamped once for every attempt. */
  batch?: { prepared: PreparedBatch; keys: string[]; batchKey: string; body: Uint8Array };
}

/**
 * A RocketMQ producer with request-reply.
 *
 * @example Send a message
 * ```ts
 * import { Producer } from "./producer.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using producer = new Producer({ nameServer: broker.address, group: "orders" });
 * await producer.start();
 * const result = await producer.send({ topic: "orders", body: "order #1", keys: "1" });
 * assert.equal(result.status, "SEND_OK");
 * ```
 */
export class Producer {
  /** Producer group. */
  readonly group: string;
  readonly #options: Required<
    Pick<
      ProducerOptions,
      | "sendTimeout"
      | "retryTimes"
      | "compressThreshold"
      | "compressType"
      | "compressLevel"
      | "maxBodySize"
      | "defaultTopicQueueNums"
      | "requestTimeout"
    >
  >;
  readonly #instance: ClientInstance;
  readonly #tracker: RequestTracker;
  readonly #cancels: CancelSender;
  readonly #keys: UniqueKeyGenerator;
  #state: "new" | "running" | "closed" = "new";
  #sendIndex = Math.floor(Math.random() * 1024);
  #stats = { sent: 0, sendRetries: 0, sendFailures: 0 };
  /** failFast probes under way: concurrent requests share one (no answer is kept). */
  readonly #probes = new Map<string, Promise<boolean>>();
  readonly #serializer: ReplySerializer;

  /**
   * Create a producer; call `start()` before sending.
   *
   * @param options Name server, group and tuning.
   * @throws {InvalidArgumentError} When an option is invalid.
   */
  constructor(options: ProducerOptions) {
    const parsed = parseProducerOptions(options);
    this.group = parsed.group;
    this.#options = parsed;
    this.#instance = new ClientInstance(options);
    this.#cancels = new CancelSender(this.#instance, this.group);
    const propagateCancel = parsed.propagateCancel;
    this.#serializer = parsed.serializer ?? jsonSerializer;
    this.#tracker = new RequestTracker({
      timers: this.#instance.timers,
      maxInFlight: options.maxInFlightRequests ?? Infinity,
      onGiveUp: propagateCancel ? (giveUp: GiveUp) => this.#cancels.send(giveUp) : undefined,
    });
    this.#keys = new UniqueKeyGenerator({ now: () => this.#instance.timers.now() });
    this.#instance.addProducerGroup(this.group);
    this.#instance.setPushHandlers({ reply: (request) => this.#onReply(request) });
    this.#instance.onDisconnect((address, error) => {
      if (this.#state !== "running") return;
      this.#tracker.replyPathLost(
        `connection to ${address} lost${
          error ? ` (${error.message})` : ""
        }; a reply pushed then is lost`,
      );
    });
  }

  /** The client id brokers know this producer by (`REPLY_TO_CLIENT` of its requests). */
  get clientId(): string {
    return this.#instance.clientId;
  }

  /** Counters: sends, retries, requests in flight, replies, timeouts, late replies. */
  get stats(): ProducerStats {
    return { ...this.#tracker.stats, ...this.#cancels.stats, ...this.#stats };
  }

  /**
   * Start the producer: heartbeats and route refresh begin. Connections are
   * opened on first use; a broker that refuses this client's id (another
   * live client has it) fails the first request with
   * `ClientIdConflictError`.
   *
   * @throws {ClientClosedError} After `close()`.
   * @throws {ClientIdConflictError} When another running client of this
   *   process has the same `instanceName`.
   */
  start(): Promise<void> {
    if (this.#state === "closed") return Promise.reject(new ClientClosedError());
    if (this.#state === "new") {
      try {
        this.#instance.start();
      } catch (err) {
        return Promise.reject(err);
      }
      this.#state = "running";
    }
    return Promise.resolve();
  }

  /**
   * Close the producer: every request still waiting fails with
   * `ClientClosedError`, the producer unregisters from brokers, connections
   * close. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#tracker.rejectAll(new ClientClosedError("producer closed"));
    await this.#cancels.settled();
    await this.#instance.close();
  }

  /** `await using` support: same as {@linkcode Producer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #checkRunning(): void {
    if (this.#state === "closed") throw new ClientClosedError("producer closed");
    if (this.#state !== "running") {
      throw new IllegalStateError("producer not started: call start() first");
    }
  }

  /**
   * Send a message and wait until a broker stored it. Failed attempts are
   * retried (on another broker when the route has one) within the timeout.
   *
   * @param message The message.
   * @param options Queue, selector, timeout.
   * @returns Where and how it was stored.
   * @throws {InvalidArgumentError} On invalid input (nothing sent).
   * @throws {BrokerError} When the broker refused it.
   * @throws {NoRouteError} When the topic has no route and cannot be auto-created.
   */
  send(message: Message, options?: SendOptions): Promise<SendResult>;
  /**
   * Send a list of messages as one batch (SEND_BATCH_MESSAGE), stored in
   * one queue in this order, as Java's `send(Collection<Message>)`: all for
   * one topic, with the same `WAIT`, none delayed, not to a `%RETRY%` topic.
   * Each message gets its own `UNIQ_KEY` (kept across retries); the batch
   * is never compressed. Its encoded body must stay within `maxBodySize`
   * (4 MiB, a broker's `maxMessageSize`); `splitBatch()` cuts a longer list.
   * A selector sees the first message.
   *
   * @param messages The messages.
   * @param options Queue, selector, timeout.
   * @returns Where they were stored, with every message's id.
   * @throws {InvalidArgumentError} When a batch rule is broken or the batch
   * is too large (the error names both sizes; nothing is sent).
   * @throws {BrokerError} When the broker refused it.
   *
   * @example
   * ```ts
   * import { Producer } from "./producer.ts";
   * import { startBroker } from "../broker/mod.ts";
   * import assert from "node:assert/strict";
   *
   * await using broker = await startBroker({ port: 0 });
   * await using producer = new Producer({ nameServer: broker.address });
   * await producer.start();
   * const result = await producer.send([
   *   { topic: "orders", body: "order #1", keys: "1" },
   *   { topic: "orders", body: "order #2", keys: "2" },
   * ]);
   * assert.equal(result.msgIds.length, 2);
   * assert.equal(result.msgId, result.msgIds.join(",")); // as Java reports it
   * ```
   */
  send(messages: readonly Message[], options?: SendOptions): Promise<BatchSendResult>;
  async send(
    message: Message | readonly Message[],
    options: SendOptions = {},
  ): Promise<SendResult | BatchSendResult> {
    this.#checkRunning();
    const parsed = parseSendOptions(options, this.#options.sendTimeout);
    if (Array.isArray(message)) return await this.#sendBatch(message, parsed);
    const single = message as Message;
    const out = toOutgoing(single, this.#options.maxBodySize);
    return await this.#send(this.#plan(single, out, RequestCode.SEND_MESSAGE_V2, parsed));
  }

  async #sendBatch(
    messages: readonly Message[],
    parsed: ReturnType<typeof parseSendOptions>,
  ): Promise<BatchSendResult> {
    const prepared = prepareBatch(messages, this.#options.maxBodySize);
    const keys = prepared.entries.map((e) =>
      e.properties[MessageProperty.UNIQ_KEY] ?? this.#keys.next()
    );
    // Encoded and size-checked once, before any route lookup: nothing leaves
    // when it is too large, and retries reuse the body.
    const body = encodeBatchBody(prepared, keys, this.#options.maxBodySize);
    const batch = { prepared, keys, batchKey: this.#keys.next(), body };
    const out = { topic: prepared.topic, body: new Uint8Array(0), flag: 0, properties: {} };
    const plan = this.#plan(prepared.first, out, RequestCode.SEND_BATCH_MESSAGE, parsed);
    plan.batch = batch;
    return await this.#send(plan) as BatchSendResult;
  }

  /**
   * Send a message without waiting for the broker (no retries, no result).
   *
   * @param message The message.
   * @param options Queue or selector.
   * @returns Resolves once the message was written to a connection.
   */
  async sendOneway(message: Message, options: Omit<SendOptions, "timeout"> = {}): Promise<void> {
    this.#checkRunning();
    const parsed = parseSendOptions(options, this.#options.sendTimeout);
    const out = toOutgoing(message, this.#options.maxBodySize);
    const plan = this.#plan(message, out, RequestCode.SEND_MESSAGE_V2, parsed);
    const { route, queue } = await this.#select(plan);
    const { address, request } = await this.#buildSend(plan, route, queue);
    await this.#instance.remoting.invokeOneway(address, request);
  }

  /**
   * Send a request message and wait for the reply a consumer sends back.
   *
   * The producer registers with every broker that may push the reply before
   * sending, so an immediate reply is not lost. On failure the promise
   * rejects with what went wrong: the send error (`BrokerError`,
   * `NoRouteError`, `ConnectionError`), `RequestTimeoutError` with the stage
   * the request reached, `RemoteError` when the responder's handler threw,
   * `RequestAbortedError`, `NoResponderError` (`failFast`),
   * `TooManyRequestsError`, or `ClientClosedError`.
   *
   * @param message The request message.
   * @param options Timeout, routing (`queue` or `selector` + `arg`), signal, failFast.
   * @returns The reply.
   */
  request(message: Message, options?: RequestOptions): Promise<ReplyMessage>;
  /**
   * Send a request message; the callback gets the outcome, exactly once.
   *
   * @param message The request message.
   * @param options Timeout, routing, signal, failFast.
   * @param callback Called exactly once with the reply or the error.
   * @returns Resolves once the send phase is over (whether it succeeded or
   * not; the callback has the outcome). Rejects when the request cannot
   * start (invalid arguments, a producer not started or closed, or
   * `maxInFlightRequests` reached), in which case the callback is not called.
   */
  request(message: Message, options: RequestOptions, callback: RequestCallback): Promise<void>;
  request(
    message: Message,
    options: RequestOptions = {},
    callback?: RequestCallback,
  ): Promise<ReplyMessage | void> {
    let started: { reply: Promise<ReplyMessage>; sending: Promise<unknown> };
    try {
      if (callback !== undefined) {
        if (
          typeof callback !== "object" || callback === null ||
          typeof callback.onSuccess !== "function" ||
          typeof callback.onException !== "function"
        ) {
          throw new InvalidArgumentError(
            "callback",
            "must have onSuccess and onException functions",
          );
        }
      }
      this.#checkRunning();
      started = this.#startRequest(message, options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!callback) return started.reply;
    let fired = false;
    const fire = (fn: () => void) => {
      if (fired) return;
      fired = true;
      try {
        fn();
      } catch (err) {
        this.#instance.logger.error("request callback threw", { error: err });
      }
    };
    started.reply.then(
      (reply) => fire(() => callback.onSuccess(reply)),
      (error) => fire(() => callback.onException(error)),
    );
    return started.sending.then(() => undefined, () => undefined);
  }

  #startRequest(
    message: Message,
    options: RequestOptions,
  ): { reply: Promise<ReplyMessage>; sending: Promise<unknown> } {
    const parsed = parseRequestOptions(options, this.#options.requestTimeout);
    const begun = this.#begin(message, parsed);
    if (begun.expired) {
      begun.span?.end(begun.expired);
      return { reply: Promise.reject(begun.expired), sending: Promise.resolve() };
    }
    const { reply } = this.#tracker.track(begun.correlationId, {
      topic: begun.out.topic,
      timeout: begun.timeout,
      signal: begun.signal,
    });
    if (begun.span) {
      const span = begun.span;
      reply.then(() => span.end(), (error) => span.end(error));
    }
    const sending = this.#dispatch(begun, parsed.failFast);
    return { reply, sending };
  }

  /**
   * Send a request and iterate over every reply it gets: several responder
   * groups subscribed to the topic each answer (scatter-gather), and a
   * responder may stream parts (`context.reply(value, { more: true })`).
   *
   * The request goes out at once; replies that arrive before the iteration
   * starts wait in the stream's buffer. The stream ends on the first of:
   * `timeout` (with replies: a normal end, `stream.partial` set; with none:
   * `RequestTimeoutError`), `maxReplies`, `stall`, a `sentinel` reply (by
   * default an empty body), `responders` finished, `break`, the `signal`
   * (`RequestAbortedError`). Replies after the end are dropped and counted
   * (`stream.lateReplies`). Ending before every responder finished tells the
   * responders to stop (see `propagateCancel`). A reply saying the
   * responder's handler failed is yielded with `reply.error` set, so one
   * failing responder does not end a scatter-gather.
   *
   * Memory is bounded by `maxBuffered`: while that many replies wait to be
   * read, further pushes are held unacknowledged (the responder's `reply()`
   * waits) for up to 2 s, then refused (the responder's `reply()` fails;
   * `stream.overflow` counts them).
   *
   * @param message The request message.
   * @param options Strategies, bounds, routing, signal, parent, trace.
   * @returns The replies, as an async iterable.
   * @throws {InvalidArgumentError} On invalid input (nothing sent).
   * @throws {IllegalStateError} Before `start()`.
   * @throws {ClientClosedError} After `close()`.
   * @throws {TooManyRequestsError} When `maxInFlightRequests` is reached.
   *
   * @example Gather the replies of every responder group
   * ```ts
   * import { Producer } from "./producer.ts";
   * import { PushConsumer } from "./push_consumer.ts";
   * import { startBroker } from "../broker/mod.ts";
   * import { bodyText } from "./message.ts";
   * import assert from "node:assert/strict";
   *
   * await using broker = await startBroker({ port: 0 });
   * await using requester = new Producer({ nameServer: broker.address });
   * await requester.start();
   * await requester.send({ topic: "quote", body: "create the topic" });
   * const responders = await Promise.all(["bank-a", "bank-b"].map(async (group) => {
   *   const c = new PushConsumer({ nameServer: broker.address, group });
   *   c.subscribe("quote", "*", () => `${group}: 1.08`);
   *   await c.start();
   *   return c;
   * }));
   * while (responders.some((c) => c.assignedQueues.length < 4)) await new Promise((r) => setTimeout(r, 10));
   * const quotes: string[] = [];
   * for await (const reply of requester.requestMany({ topic: "quote", body: "EURUSD" }, { timeout: 5000, responders: 2 })) {
   *   quotes.push(bodyText(reply));
   * }
   * assert.deepEqual(quotes.sort(), ["bank-a: 1.08", "bank-b: 1.08"]);
   * await Promise.all(responders.map((c) => c.close()));
   * ```
   */
  requestMany(message: Message, options: RequestManyOptions = {}): ReplyStream {
    this.#checkRunning();
    const parsed = parseRequestManyOptions(options, this.#options.requestTimeout);
    const begun = this.#begin(message, parsed);
    begun.out.properties[RpcProperty.REPLIES] = "many";
    const span = begun.span;
    const stream = this.#tracker.trackMany(begun.correlationId, {
      topic: begun.out.topic,
      timeout: Math.max(1, begun.timeout),
      signal: begun.signal,
      maxReplies: parsed.maxReplies,
      stall: parsed.stall,
      sentinel: parsed.sentinel,
      responders: parsed.responders,
      maxBuffered: parsed.maxBuffered,
      onEnded: span
        ? (reason, ended) => {
          const failed = reason === "aborted" || reason === "failed" || reason === "closed" ||
            (reason === "timeout" && ended.received === 0);
          span.end(failed ? new Error(`reply stream ended: ${reason}`) : undefined);
        }
        : undefined,
    });
    if (begun.expired) {
      stream.fail(begun.expired);
      return stream;
    }
    void this.#dispatch(begun, undefined).catch(() => undefined);
    return stream;
  }

  /**
   * The responders of a topic: the consumer groups subscribed to it with a
   * client online, each client with the counters and per-topic handler
   * latency it reports (responders of this library do; Java clients show
   * their running-info properties only). Built on RocketMQ's own admin
   * codes (QUERY_TOPIC_CONSUME_BY_WHO, GET_CONSUMER_CONNECTION_LIST,
   * GET_CONSUMER_RUNNING_INFO), so it works against RocketMQ brokers too.
   *
   * @param topic The topic.
   * @param options `stats: false` skips the call to each client.
   * @returns The groups, sorted by name; a client whose running info could
   * not be read has `error` set.
   * @throws {NoRouteError} When the topic has no route.
   * @throws {BrokerError} When the broker refuses the queries.
   *
   * @example How many groups will answer a scatter-gather
   * ```ts
   * import { Producer } from "./producer.ts";
   * import { PushConsumer } from "./push_consumer.ts";
   * import { startBroker } from "../broker/mod.ts";
   * import assert from "node:assert/strict";
   *
   * await using broker = await startBroker({ port: 0 });
   * await using producer = new Producer({ nameServer: broker.address });
   * await producer.start();
   * await producer.send({ topic: "prices", body: "create the topic" });
   * await using consumer = new PushConsumer({ nameServer: broker.address, group: "pricing" });
   * consumer.subscribe("prices", "*", () => "42");
   * await consumer.start();
   * const groups = await producer.responders("prices", { stats: false });
   * assert.deepEqual(groups.map((g) => [g.group, g.clients.length]), [["pricing", 1]]);
   * ```
   */
  responders(topic: string, options: RespondersOptions = {}): Promise<ResponderGroup[]> {
    try {
      this.#checkRunning();
      checkTopic(topic);
    } catch (err) {
      return Promise.reject(err);
    }
    return discoverResponders(this.#instance, topic, options);
  }

  /**
   * The common start of `request()` and `requestMany()`: wire form, the
   * inherited deadline, signal and trace context, the send span.
   */
  #begin(
    message: Message,
    parsed: {
      timeout: number;
      queue?: MessageQueue | undefined;
      selector?: QueueSelector | undefined;
      arg?: unknown;
      signal?: AbortSignal | undefined;
      parent?: RequestParent | undefined;
      trace?: TraceContext | undefined;
    },
  ): Begun {
    const out = toOutgoing(message, this.#options.maxBodySize);
    const trace = parsed.trace !== undefined
      ? checkTraceContext(parsed.trace)
      : parsed.parent?.trace !== undefined
      ? checkTraceContext(parsed.parent.trace, "parent.trace")
      : undefined;
    const correlationId = crypto.randomUUID();
    let timeout = parsed.timeout;
    let signal = parsed.signal;
    let expired: RequestTimeoutError | undefined;
    const parent = parsed.parent;
    if (parent) {
      if (parent.deadline !== undefined) {
        const left = parent.deadline - this.#instance.timers.now();
        if (left <= 0) {
          expired = new RequestTimeoutError({
            topic: out.topic,
            correlationId,
            timeout: 0,
            stage: "sending",
            detail: "the parent's deadline had passed; nothing was sent",
          });
        } else if (left < timeout) {
          timeout = Math.ceil(left);
        }
      }
      if (parent.signal) signal = signal ? AbortSignal.any([signal, parent.signal]) : parent.signal;
    }
    out.properties[MessageProperty.CORRELATION_ID] = correlationId;
    out.properties[MessageProperty.REPLY_TO_CLIENT] = this.clientId;
    out.properties[MessageProperty.TTL] = String(timeout);
    const span = startSpanSafely(this.#instance.spanHooks, {
      kind: "send",
      topic: out.topic,
      correlationId,
      group: this.group,
      parent: trace,
    }, (error) => this.#instance.logger.warn("span hook failed", { error }));
    writeTraceContext(out.properties, span?.context ?? trace);
    const plan = this.#plan(message, out, RequestCode.SEND_MESSAGE_V2, {
      ...parsed,
      timeout,
      signal,
    });
    plan.atMostOnce = true;
    return { out, correlationId, timeout, signal, span, expired, plan };
  }

  /** Send a begun request (fail fast first, if asked) and record where it was stored. */
  #dispatch(
    begun: Begun,
    failFast: true | false | { group: string } | undefined,
  ): Promise<SendResult> {
    const { correlationId, plan } = begun;
    const sending = (async () => {
      if (failFast) await this.#checkResponders(plan.out.topic, failFast, plan.deadline);
      const result = await this.#send(plan, async (route) => {
        // Every broker that may push the reply must know us first.
        await this.#instance.ensureRegistered(
          await this.#replyBrokers(route),
          Math.max(1, plan.deadline - this.#instance.timers.now()),
          plan.signal,
        );
      });
      this.#tracker.stored(correlationId, {
        brokerName: result.queue.brokerName,
        queueId: result.queue.queueId,
        queueOffset: result.queueOffset,
        msgId: result.msgId,
      });
      return result;
    })();
    sending.catch((err) => this.#tracker.fail(correlationId, err));
    return sending;
  }

  #plan(
    message: Message,
    out: OutgoingMessage,
    code: number,
    options: {
      timeout: number;
      queue?: MessageQueue | undefined;
      selector?: QueueSelector | undefined;
      arg?: unknown;
      signal?: AbortSignal | undefined;
    },
  ): SendPlan {
    return {
      out,
      message,
      code,
      queue: options.queue,
      selector: options.selector,
      arg: options.arg,
      deadline: this.#instance.timers.now() + options.timeout,
      signal: options.signal,
      avoid: new Set(),
      atMostOnce: false,
    };
  }

  /** Brokers that may push a reply to a request sent through `route`. */
  async #replyBrokers(route: TopicRoute): Promise<string[]> {
    const addresses = new Set(route.masterAddresses);
    for (const cluster of route.clusters) {
      try {
        const replyRoute = await this.#instance.getRoute(`${cluster}_REPLY_TOPIC`);
        for (const address of replyRoute.masterAddresses) addresses.add(address);
      } catch (err) {
        // Brokers older than 4.6 have no reply topic; register with the route's brokers.
        this.#instance.logger.debug("no reply topic route", { cluster, error: err });
      }
    }
    return [...addresses];
  }

  async #publishRoute(topic: string): Promise<TopicRoute> {
    const cached = this.#instance.cachedRoute(topic);
    if (cached && cached.publishQueues.length > 0) return cached;
    let route: TopicRoute | undefined;
    try {
      route = await this.#instance.getRoute(topic);
    } catch (err) {
      if (!(err instanceof NoRouteError)) throw err;
      const template = await this.#instance.fetchRoute(AUTO_CREATE_TOPIC);
      if (!template) throw err;
      route = new TopicRoute(topic, template.data, this.#options.defaultTopicQueueNums);
      this.#instance.putRoute(route);
    }
    if (route.publishQueues.length === 0) throw new NoRouteError(topic);
    return route;
  }

  async #select(plan: SendPlan): Promise<{ route: TopicRoute; queue: MessageQueue }> {
    const route = await this.#publishRoute(plan.out.topic);
    if (plan.queue) return { route, queue: plan.queue };
    const queues = route.publishQueues;
    if (plan.selector) {
      const queue = plan.selector(queues, plan.message, plan.arg);
      if (!queue || typeof queue.brokerName !== "string" || typeof queue.queueId !== "number") {
        throw new InvalidArgumentError("selector", "did not return a queue of the topic");
      }
      return { route, queue };
    }
    for (let i = 0; i < queues.length; i++) {
      const queue = queues[(this.#sendIndex++ & 0x7fffffff) % queues.length]!;
      if (!plan.avoid.has(queue.brokerName)) return { route, queue };
    }
    return { route, queue: queues[(this.#sendIndex++ & 0x7fffffff) % queues.length]! };
  }

  async #buildSend(
    plan: SendPlan,
    route: TopicRoute,
    queue: MessageQueue,
  ): Promise<{ address: string; request: RemotingCommand; uniqKey: string }> {
    const address = route.masterAddress(queue.brokerName);
    if (!address) {
      throw new NoRouteError(plan.out.topic, { cause: `no master for ${queue.brokerName}` });
    }
    if (plan.batch) {
      const request = buildBatchCommand({
        producerGroup: this.group,
        queue,
        batch: plan.batch.prepared,
        keys: plan.batch.keys,
        batchKey: plan.batch.batchKey,
        body: plan.batch.body,
        maxBatchSize: this.#options.maxBodySize,
        defaultTopicQueueNums: this.#options.defaultTopicQueueNums,
        now: this.#instance.timers.now(),
      });
      return { address, request, uniqKey: plan.batch.keys.join(",") };
    }
    const uniqKey = plan.out.properties[MessageProperty.UNIQ_KEY] ?? this.#keys.next();
    const request = await buildSendCommand({
      code: plan.code,
      producerGroup: this.group,
      queue,
      out: plan.out,
      uniqKey,
      compressThreshold: this.#options.compressThreshold,
      compressType: this.#options.compressType,
      compressLevel: this.#options.compressLevel,
      defaultTopicQueueNums: this.#options.defaultTopicQueueNums,
      now: this.#instance.timers.now(),
    });
    return { address, request, uniqKey };
  }

  /**
   * Send with retries. `beforeSend` runs once the route is known (request():
   * registration with the reply brokers).
   */
  async #send(
    plan: SendPlan,
    beforeSend?: (route: TopicRoute) => Promise<void>,
  ): Promise<SendResult> {
    const attempts = (plan.queue ? 1 : 0) + this.#options.retryTimes + (plan.queue ? 0 : 1);
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const left = plan.deadline - this.#instance.timers.now();
      if (left <= 0) break;
      if (plan.signal?.aborted) throw plan.signal.reason;
      let queue: MessageQueue | undefined;
      try {
        const selected = await this.#select(plan);
        queue = selected.queue;
        if (attempt === 0 && beforeSend) await beforeSend(selected.route);
        const { address, request, uniqKey } = await this.#buildSend(plan, selected.route, queue);
        if (plan.signal?.aborted) throw plan.signal.reason;
        const timeout = Math.max(1, plan.deadline - this.#instance.timers.now());
        const response = await this.#instance.remoting.invoke(address, request, {
          timeout,
          // A request, once written, waits for its send response even when
          // its caller gave up: where it was stored is what a cancel needs.
          signal: plan.atMostOnce ? undefined : plan.signal,
        });
        const result = plan.batch
          ? readBatchSendResponse(response, queue, plan.batch.keys, address)
          : readSendResponse(response, queue, uniqKey, address);
        this.#stats.sent++;
        return result;
      } catch (err) {
        lastError = err;
        if (!this.#retryable(err, plan) || plan.signal?.aborted) break;
        if (queue) plan.avoid.add(queue.brokerName);
        if (err instanceof BrokerError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
          await this.#instance.refreshRoute(plan.out.topic).catch(() => undefined);
        }
        if (attempt + 1 < attempts) this.#stats.sendRetries++;
        this.#instance.logger.warn("send failed, retrying", {
          topic: plan.out.topic,
          attempt,
          error: err,
        });
      }
    }
    this.#stats.sendFailures++;
    if (lastError === undefined) {
      throw new RemotingTimeoutError("(no attempt)", plan.code, 0);
    }
    throw lastError;
  }

  #retryable(err: unknown, plan: SendPlan): boolean {
    if (err instanceof BrokerError) return RETRY_CODES.has(err.responseCode);
    // A request whose connection closed, or that timed out, after it was
    // written may have been stored: a second copy (with the same correlation
    // id) could then run on another consumer. A request is sent at most once;
    // the caller gets the error, which says storage is unknown. One that never
    // left (`unsent`) is sent again.
    if (plan.atMostOnce) {
      if (err instanceof ConnectionClosedError) return err.unsent;
      if (err instanceof RemotingTimeoutError) return false;
    }
    return err instanceof ConnectionError || err instanceof RemotingTimeoutError;
  }

  /**
   * failFast: is any consumer group online for the topic (or the given
   * group)? Asked of the broker each time (a consumer that closed is gone at
   * once); concurrent requests share one probe.
   */
  async #checkResponders(
    topic: string,
    failFast: true | { group: string },
    deadline: number,
  ): Promise<void> {
    const key = failFast === true ? `topic:${topic}` : `group:${topic}:${failFast.group}`;
    let probe = this.#probes.get(key);
    if (!probe) {
      probe = this.#probeResponders(topic, failFast, deadline);
      this.#probes.set(key, probe);
      const clear = () => {
        if (this.#probes.get(key) === probe) this.#probes.delete(key);
      };
      probe.then(clear, clear);
    }
    if (!(await probe)) {
      throw new NoResponderError(
        topic,
        failFast === true
          ? "no online consumer group subscribes to it"
          : `group ${failFast.group} has no online consumer`,
      );
    }
  }

  async #probeResponders(
    topic: string,
    failFast: true | { group: string },
    deadline: number,
  ): Promise<boolean> {
    const route = await this.#publishRoute(topic);
    const address = route.masterAddresses[0];
    if (!address) return false;
    const timeout = Math.max(1, deadline - this.#instance.timers.now());
    let groups: string[];
    if (failFast === true) {
      const response = await this.#instance.call(
        address,
        createRequest(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic }),
        { timeout },
      );
      // GroupList body: {"groupList":["g1","g2"]}
      const list = (parseFastJson(utf8Decode(response.body)) as { groupList?: unknown } | null)
        ?.groupList;
      groups = Array.isArray(list) ? list.filter((g): g is string => typeof g === "string") : [];
    } else {
      groups = [failFast.group];
    }
    for (const group of groups) {
      const response = await this.#instance.remoting.invoke(
        address,
        createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group }),
        { timeout },
      );
      if (response.code === ResponseCode.SUCCESS && response.body.length > 0) {
        if (decodeConsumerListBody(response.body).consumerIdList.length > 0) return true;
      }
    }
    return false;
  }

  #foreignReply(correlationId: string, replyTo: string | undefined): void {
    const count = this.#tracker.noteForeignReply();
    if (count === 1 || count % 100 === 0) {
      this.#instance.logger.error(
        "received a reply to a request this client never sent: another client uses this " +
          "client's id, and replies are split between the two; give every client its own " +
          "instanceName",
        { clientId: this.clientId, replyTo, correlationId, foreignReplies: count },
      );
    }
  }

  /** PUSH_REPLY_MESSAGE_TO_CLIENT: a reply for one of our requests. */
  async #onReply(request: RemotingCommand): Promise<RemotingCommand> {
    const arrived = this.#instance.timers.now();
    let correlationId: string | undefined;
    try {
      const header = decodeReplyMessageRequestHeader(request.extFields);
      const properties = decodeProperties(header.properties ?? "");
      correlationId = properties[MessageProperty.CORRELATION_ID];
      if (!correlationId) {
        throw new CodecError("properties", "reply without CORRELATION_ID");
      }
      const replyTo = properties[MessageProperty.REPLY_TO_CLIENT];
      if (
        (replyTo !== undefined && replyTo !== this.clientId) || !this.#tracker.knows(correlationId)
      ) {
        // A reply to a request this client never sent: another client shares
        // our client id, and RocketMQ splits the replies of both between us.
        this.#foreignReply(correlationId, replyTo);
        return createResponse(request, ResponseCode.SUCCESS);
      }
      if (!this.#tracker.has(correlationId)) {
        // Late or duplicate: drop without decompressing, still acknowledge.
        this.#tracker.noteUntracked(correlationId);
        return createResponse(request, ResponseCode.SUCCESS);
      }
      const body = await decompressBody(request.body, header.sysFlag, this.#options.maxBodySize);
      properties[MessageProperty.ARRIVE_TIME] = String(arrived);
      const sent = this.#tracker.sentAt(correlationId) ?? header.bornTimestamp;
      const num = (key: string) => {
        const value = properties[key];
        return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
      };
      const reply: ReplyMessage = {
        topic: header.topic,
        body,
        properties,
        correlationId,
        bornHost: header.bornHost,
        timing: {
          sent,
          stored: num(RpcProperty.REQUEST_STORE_TIME),
          consumed: num(RpcProperty.CONSUME_TIME),
          replied: header.bornTimestamp,
          pushed: num(MessageProperty.PUSH_REPLY_TIME) ?? header.storeTimestamp,
          arrived,
        },
        value: undefined,
      };
      const more = properties[RpcProperty.MORE] === "true";
      if (more) reply.more = true;
      const group = properties[RpcProperty.GROUP];
      if (group !== undefined) reply.responderGroup = group;
      const trace = readTraceContext(properties);
      if (trace) reply.trace = trace;
      const errorName = properties[RpcProperty.ERROR_NAME];
      let error: RemoteError | undefined;
      if (errorName !== undefined) {
        error = new RemoteError(
          errorName,
          properties[RpcProperty.ERROR_MESSAGE] ?? "",
          correlationId,
        );
        reply.error = error;
      } else {
        try {
          reply.value = decodeReplyValue(
            body,
            properties[RpcProperty.CONTENT_TYPE],
            this.#serializer,
          );
        } catch (err) {
          throw new CodecError(
            "message",
            `reply body is not valid ${properties[RpcProperty.CONTENT_TYPE]}`,
            { cause: err },
          );
        }
      }
      const outcome = await this.#tracker.deliver(correlationId, reply, {
        more,
        endMarker: properties[RpcProperty.END] === "true",
        ...(error ? { error } : {}),
      });
      if (outcome === "overflow") {
        return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
          remark: "requester's reply buffer is full",
        });
      }
      return createResponse(request, ResponseCode.SUCCESS);
    } catch (err) {
      this.#instance.logger.warn("reply could not be processed", { error: err });
      if (correlationId) this.#tracker.fail(correlationId, err);
      return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
        remark: "process reply message fail",
      });
    }
  }
}

/** A request under way: wire form, inherited limits, span, send plan. */
interface Begun {
  out: OutgoingMessage;
  correlationId: string;
  timeout: number;
  signal: AbortSignal | undefined;
  span: RpcSpan | undefined;
  /** Set when the parent's deadline had passed: nothing may be sent. */
  expired: RequestTimeoutError | undefined;
  plan: SendPlan;
}
