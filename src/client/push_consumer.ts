/**
 * The push consumer: subscribes to topics, shares their queues with the other
 * consumers of its group (the Java client's average allocation, so mixed
 * TypeScript/Java groups agree), long-polls each of its queues, calls the
 * handler, and commits offsets.
 *
 * For request messages (RIP-16), it is also the responder: the handler's
 * return value becomes the reply (automatic reply), or the handler calls
 * `context.reply()` (manual reply), or anyone calls `consumer.reply()` later.
 * A handler that throws on a request sends an error reply, which the
 * requester of this library sees as a `RemoteError`. A request whose TTL has
 * passed is not handed to the handler; it is counted instead.
 *
 * @example Automatic and manual replies
 * ```ts
 * import { PushConsumer } from "./push_consumer.ts";
 * import { Producer } from "./producer.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using consumer = new PushConsumer({ nameServer: broker.address, group: "calc" });
 * consumer.subscribe("add", "*", (msg) => {
 *   const [a, b] = JSON.parse(new TextDecoder().decode(msg.body));
 *   return String(a + b); // automatic reply
 * });
 * consumer.subscribe("mul", "*", async (msg, ctx) => {
 *   const [a, b] = JSON.parse(new TextDecoder().decode(msg.body));
 *   await ctx.reply(String(a * b)); // manual reply
 * });
 * await consumer.start();
 * await using producer = new Producer({ nameServer: broker.address });
 * await producer.start();
 * const sum = await producer.request({ topic: "add", body: "[2,3]" }, { timeout: 5000 });
 * const product = await producer.request({ topic: "mul", body: "[2,3]" }, { timeout: 5000 });
 * assert.equal(new TextDecoder().decode(sum.body), "5");
 * assert.equal(new TextDecoder().decode(product.body), "6");
 * ```
 *
 * @module
 */

import {
  BrokerError,
  ClientClosedError,
  ClientIdConflictError,
  ConnectionError,
  HandlerTimeoutError,
  IllegalStateError,
  InvalidArgumentError,
  RemotingTimeoutError,
} from "../errors.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { MessageProperty } from "../codec/properties.ts";
import { decodeStoredMessages, type StoredMessage } from "../codec/message_ext.ts";
import { offsetMessageId } from "../codec/message_id.ts";
import { decompressBody } from "../codec/compression.ts";
import {
  buildSubscriptionData,
  type ConsumerData,
  decodeConsumerListBody,
  type SubscriptionData,
} from "../codec/bodies.ts";
import { decodePullMessageResponseHeader } from "../codec/ext_fields.ts";
import type { TimerHandle } from "../remoting/timers.ts";
import { ClientInstance, type ClientOptions } from "./client_instance.ts";
import {
  type MessageExt,
  type MessageQueue,
  type ReplySerializer,
  type ReplyValue,
  toMessageExt,
  toOutgoing,
} from "./message.ts";
import { parseCloseOptions, parseConsumerOptions, type ParsedConsumerOptions } from "./options.ts";
import { BrokerClock } from "./broker_clock.ts";
import { OffsetStore, RETRY_PREFIX } from "./offset_store.ts";
import { ProcessQueue } from "./process_queue.ts";
import { type IdempotencyOptions, Replier } from "./replier.ts";
import { allocateAveragely, queueKey } from "./rebalance.ts";
import type { SendResult } from "./send_request.ts";

/**
 * Options of a {@linkcode PushConsumer}.
 *
 * @example
 * ```ts
 * import { PushConsumer, type PushConsumerOptions } from "./push_consumer.ts";
 * import { InvalidArgumentError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const options: PushConsumerOptions = { nameServer: "127.0.0.1:9876", group: "calc", consumeFrom: "first" };
 * assert.equal(new PushConsumer(options).group, "calc");
 * assert.throws( // the broker holds a pull for 1 to 60 s
 *   () => new PushConsumer({ ...options, pollTimeout: 500 }),
 *   (e) => e instanceof InvalidArgumentError && e.path === "pollTimeout",
 * );
 * ```
 */
export interface PushConsumerOptions extends ClientOptions {
  /** Consumer group: the consumers of a group share the topic's queues. */
  group: string;
  /**
   * Where a group without committed offsets starts: the end of each queue
   * (`"last"`), its start (`"first"`), or `consumeTimestamp`.
   * @default {"last"}
   */
  consumeFrom?: "last" | "first" | "timestamp";
  /** Start time for `consumeFrom: "timestamp"` (ms since the epoch). */
  consumeTimestamp?: number;
  /**
   * Handlers running at once, over all queues.
   * @default {20}
   */
  concurrency?: number;
  /**
   * Messages fetched per pull.
   * @default {32}
   */
  pullBatchSize?: number;
  /**
   * How long the broker holds a pull when no message is there (ms).
   * @default {15000}
   */
  pollTimeout?: number;
  /**
   * Pulling of a queue pauses while this many of its messages wait to be handled.
   * @default {1000}
   */
  maxCachedMessagesPerQueue?: number;
  /**
   * Failed ordinary messages are retried this many times before going to the
   * group's dead-letter queue.
   * @default {16}
   */
  maxReconsumeTimes?: number;
  /**
   * Interval of offset commits (ms).
   * @default {5000}
   */
  offsetPersistInterval?: number;
  /**
   * Interval of rebalances when nothing triggers one (ms).
   * @default {20000}
   */
  rebalanceInterval?: number;
  /**
   * Largest decompressed body accepted (bytes).
   * @default {16777216}
   */
  maxBodySize?: number;
  /**
   * Do not hand requests whose TTL has passed to the handler (count them in
   * `stats.expiredRequests` instead).
   * @default {true}
   */
  skipExpiredRequests?: boolean;
  /**
   * Time allowed to send a reply (ms).
   * @default {3000}
   */
  replyTimeout?: number;
  /**
   * Largest reply body (bytes, before compression). A larger reply is not
   * sent: the requester gets a `RemoteError` (`ReplyTooLargeError`) naming
   * both sizes at once. The default matches the requester's `maxBodySize`
   * and RocketMQ's `maxMessageSize`.
   * @default {4194304}
   */
  maxReplySize?: number;
  /**
   * Encodes replies other than text, bytes and `{ body, properties }`
   * (numbers, `null`, objects, arrays), with its content type in the
   * `RPC_CONTENT_TYPE` property. Give the producer the same one.
   * @default {jsonSerializer}
   */
  serializer?: ReplySerializer;
  /**
   * Idempotent responder: a redelivered request (same reply-to client and
   * correlation id, before its deadline) does not run the handler again; it
   * gets the first run's reply (waiting for it if still running). Bounds of
   * the memory it keeps, or `false` to run every copy.
   * @default {{ maxEntries: 10000, maxBytes: 33554432 }}
   */
  idempotency?: IdempotencyOptions | false;
  /**
   * Time an ordinary message's handler may run (ms), like the Java client's
   * `consumeTimeout` (15 minutes). Past it, `context.signal` is aborted, the
   * handler's slot is freed and the message is sent back for a later retry.
   * A request's handler has until the request's deadline instead.
   * @default {900000}
   */
  consumeTimeout?: number;
  /**
   * Default of `close({ drainTimeout })` (ms).
   * @default {10000}
   */
  drainTimeout?: number;
}

/**
 * Options of {@linkcode PushConsumer.close}.
 *
 * @example
 * ```ts
 * import type { CloseOptions } from "./push_consumer.ts";
 * import assert from "node:assert/strict";
 *
 * const options: CloseOptions = { drainTimeout: 5000 };
 * assert.equal(options.drainTimeout, 5000);
 * ```
 */
export interface CloseOptions {
  /**
   * How long running handlers may finish and reply (ms). `close()` always
   * returns within this time (plus the final commit, bounded by it too).
   * @default {the consumer's drainTimeout option, 10000}
   */
  drainTimeout?: number;
}

/**
 * What a handler gets besides the message.
 *
 * @example Unit-test a handler that replies manually
 * ```ts
 * import type { ConsumeContext, MessageHandler } from "./push_consumer.ts";
 * import { bodyText, type MessageExt, type ReplyValue } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const handler: MessageHandler = async (msg, ctx) => {
 *   await ctx.reply(`pong: ${bodyText(msg)}`);
 * };
 * const replies: ReplyValue[] = [];
 * const queue = { topic: "rpc", brokerName: "broker-a", queueId: 0 };
 * const ctx: ConsumeContext = {
 *   isRequest: true,
 *   queue,
 *   signal: new AbortController().signal,
 *   deadline: Date.now() + 3000,
 *   reply: (value) => {
 *     replies.push(value);
 *     return Promise.resolve({
 *       status: "SEND_OK", msgId: "R", offsetMsgId: "O", queue, queueOffset: 0, transactionId: undefined,
 *     });
 *   },
 * };
 * const msg = { body: new TextEncoder().encode("ping") } as MessageExt;
 * await handler(msg, ctx);
 * assert.deepEqual(replies, ["pong: ping"]);
 * ```
 */
export interface ConsumeContext {
  /** Whether the message is a request (it carries a correlation id and a reply-to client). */
  readonly isRequest: boolean;
  /** The queue the message came from. */
  readonly queue: MessageQueue;
  /**
   * Aborted when the handler's time is up: a request's deadline (its
   * requester gives up; the reason is a `HandlerTimeoutError`), an ordinary
   * message's `consumeTimeout`, or the consumer's drain timeout at
   * `close()` (a `ClientClosedError`). Pass it on to what the handler waits
   * for.
   */
  readonly signal: AbortSignal;
  /**
   * When the handler's time is up (ms since the epoch, local clock): for a
   * request, when its requester gives up (its TTL counted from the broker's
   * store time); for an ordinary message, the end of `consumeTimeout`.
   */
  readonly deadline: number;
  /**
   * Send the reply now (manual reply). The handler's return value is then
   * not sent. A second reply to the same request throws `IllegalStateError`.
   * Works while the consumer drains at `close()`.
   */
  reply(value: ReplyValue): Promise<SendResult>;
}

/**
 * Handles one message. For a request, a returned value other than
 * `undefined` is sent as the reply. For an ordinary message, a throw (or a
 * rejected promise) means "retry later" through the broker.
 *
 * @example Automatic reply
 * ```ts
 * import type { ConsumeContext, MessageHandler } from "./push_consumer.ts";
 * import { bodyText, type MessageExt } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * // For a request, what the handler returns is the reply; for other messages it is ignored.
 * const echo: MessageHandler = (msg) => `echo: ${bodyText(msg)}`;
 * const msg = { body: new TextEncoder().encode("hi") } as MessageExt;
 * assert.equal(echo(msg, {} as ConsumeContext), "echo: hi");
 * ```
 */
export type MessageHandler = (message: MessageExt, context: ConsumeContext) => unknown;

/**
 * Counters of a push consumer.
 *
 * @example A new consumer
 * ```ts
 * import { type ConsumerStats, PushConsumer } from "./push_consumer.ts";
 * import assert from "node:assert/strict";
 *
 * const stats: ConsumerStats = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc" }).stats;
 * assert.deepEqual(stats, {
 *   received: 0, handled: 0, failed: 0, expiredRequests: 0, duplicateRequests: 0, timedOut: 0,
 *   replied: 0, replyFailures: 0, sentBack: 0, queues: 0,
 * });
 * ```
 */
export interface ConsumerStats {
  /** Messages pulled. */
  received: number;
  /** Handler calls that succeeded. */
  handled: number;
  /** Handler calls that threw. */
  failed: number;
  /** Requests dropped because their TTL had passed before handling. */
  expiredRequests: number;
  /** Redelivered requests answered from the first run, without running the handler again. */
  duplicateRequests: number;
  /** Handlers given up at their deadline (requests) or `consumeTimeout` (ordinary messages). */
  timedOut: number;
  /** Replies sent (error replies included). */
  replied: number;
  /** Replies the broker could not store or push. */
  replyFailures: number;
  /** Failed ordinary messages sent back for retry. */
  sentBack: number;
  /** Queues currently assigned to this consumer. */
  queues: number;
}

interface Subscription {
  topic: string;
  expression: string;
  data: SubscriptionData;
  handler: MessageHandler | undefined;
}

interface Work {
  pq: ProcessQueue;
  message: MessageExt;
  subscription: Subscription;
}

/**
 * A push consumer that also replies to requests.
 *
 * @example Reply later, from anywhere
 * ```ts
 * import { PushConsumer } from "./push_consumer.ts";
 * import { Producer } from "./producer.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import type { MessageExt } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using consumer = new PushConsumer({ nameServer: broker.address, group: "jobs" });
 * const waiting: MessageExt[] = [];
 * consumer.subscribe("jobs", "*", (msg) => { waiting.push(msg); }); // no reply yet
 * await consumer.start();
 * await using producer = new Producer({ nameServer: broker.address });
 * await producer.start();
 * const pending = producer.request({ topic: "jobs", body: "job-1" }, { timeout: 5000 });
 * while (waiting.length === 0) await new Promise((r) => setTimeout(r, 10));
 * await consumer.reply(waiting[0]!, "done");
 * assert.equal(new TextDecoder().decode((await pending).body), "done");
 * ```
 */
const REBALANCE_RETRY_MIN_MS = 20;
const REBALANCE_RETRY_MAX_MS = 1000;

export class PushConsumer {
  /** Consumer group. */
  readonly group: string;
  readonly #options: ParsedConsumerOptions;
  readonly #instance: ClientInstance;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #queues = new Map<string, ProcessQueue>();
  readonly #offsets: OffsetStore;
  readonly #work: Work[] = [];
  readonly #replier: Replier;
  readonly #clock: BrokerClock;
  /** Abort controllers of the handlers running now. */
  readonly #running = new Set<AbortController>();
  /** Queues taken away by a rebalance whose last commit is under way. */
  readonly #releasing = new Map<string, Promise<void>>();
  #active = 0;
  #state: "new" | "running" | "closing" | "closed" = "new";
  #closing: Promise<void> | undefined;
  #retryDelay = 0;
  #rebalanceTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #persistTimer: TimerHandle | undefined;
  #rebalancing: Promise<void> | undefined;
  #rebalanceAgain = false;
  #idle: Array<() => void> = [];
  #stats = {
    received: 0,
    handled: 0,
    failed: 0,
    expiredRequests: 0,
    timedOut: 0,
    sentBack: 0,
  };

  /**
   * Create a push consumer; call `subscribe()`, then `start()`.
   *
   * @param options Name server, group and tuning.
   * @throws {InvalidArgumentError} When an option is invalid.
   */
  constructor(options: PushConsumerOptions) {
    this.#options = parseConsumerOptions(options);
    this.group = this.#options.group;
    this.#instance = new ClientInstance(options);
    this.#offsets = new OffsetStore({
      instance: this.#instance,
      group: this.group,
      consumeFrom: this.#options.consumeFrom,
      consumeTimestamp: this.#options.consumeTimestamp,
      brokerAddress: (queue) => this.#brokerAddress(queue),
    });
    this.#replier = new Replier(this.#instance, {
      replyTimeout: this.#options.replyTimeout,
      maxReplySize: this.#options.maxReplySize,
      ...(this.#options.serializer ? { serializer: this.#options.serializer } : {}),
      idempotency: this.#options.idempotency,
    });
    this.#clock = new BrokerClock(this.#instance.timers);
    this.#instance.setPushHandlers({
      consumerIdsChanged: (group) => {
        if (group === this.group) this.#triggerRebalance();
      },
    });
  }

  /** The client id brokers know this consumer by. */
  get clientId(): string {
    return this.#instance.clientId;
  }

  /** Counters. */
  get stats(): ConsumerStats {
    const { replied, replyFailures, duplicateRequests } = this.#replier.stats;
    const s = this.#stats;
    return {
      received: s.received,
      handled: s.handled,
      failed: s.failed,
      expiredRequests: s.expiredRequests,
      duplicateRequests,
      timedOut: s.timedOut,
      replied,
      replyFailures,
      sentBack: s.sentBack,
      queues: this.#queues.size,
    };
  }

  /** Queues currently assigned to this consumer. */
  get assignedQueues(): MessageQueue[] {
    return [...this.#queues.values()].map((pq) => pq.queue);
  }

  /**
   * Subscribe to a topic. Call before `start()`; calling again for a topic
   * replaces its expression and handler.
   *
   * @param topic The topic.
   * @param expression `*` for all messages, or tags: `tagA || tagB`.
   * @param handler Called for each message.
   * @throws {InvalidArgumentError} On an invalid topic or handler.
   */
  subscribe(topic: string, expression: string, handler: MessageHandler): void {
    if (this.#state === "closed" || this.#state === "closing") {
      throw new ClientClosedError("consumer closed");
    }
    toOutgoing({ topic, body: " " }); // validates the topic name
    if (typeof expression !== "string") {
      throw new InvalidArgumentError("expression", "must be a string");
    }
    if (typeof handler !== "function") {
      throw new InvalidArgumentError("handler", "must be a function");
    }
    const data = buildSubscriptionData(topic, expression, this.#instance.timers.now());
    this.#subscriptions.set(topic, { topic, expression: data.subString, data, handler });
    if (this.#state === "running") {
      void this.#instance.heartbeatAll().then(() => this.#triggerRebalance());
    }
  }

  /**
   * Start consuming: register with the brokers of the subscribed topics,
   * take a share of their queues, and start pulling.
   *
   * @throws {IllegalStateError} Without subscriptions.
   * @throws {ConnectionError} When no name server answers (connection
   * refused, or no answer within `rpcTimeout`); the consumer is then closed.
   * @throws {ClientIdConflictError} When another client has this client's id
   *   (same `instanceName` in this process, or a broker refused the
   *   heartbeat); the consumer is closed.
   */
  async start(): Promise<void> {
    if (this.#state === "closed" || this.#state === "closing") {
      throw new ClientClosedError("consumer closed");
    }
    if (this.#state === "running") return;
    if (this.#subscriptions.size === 0) {
      throw new IllegalStateError("subscribe to at least one topic before start()");
    }
    const retryTopic = RETRY_PREFIX + this.group;
    this.#subscriptions.set(retryTopic, {
      topic: retryTopic,
      expression: "*",
      data: buildSubscriptionData(retryTopic, "*", this.#instance.timers.now()),
      handler: undefined,
    });
    this.#instance.addConsumer({ group: this.group, consumerData: () => this.#consumerData() });
    this.#instance.start();
    this.#state = "running";
    // Learn the brokers, register with all of them, then take our queues. A
    // topic without a route yet is fine (it may be created later); no name
    // server answering at all is not: starting would only pretend to consume.
    const topics = [...this.#subscriptions.keys()];
    const lookups = await Promise.allSettled(topics.map((topic) => this.#instance.getRoute(topic)));
    for (const lookup of lookups) {
      const reason: unknown = lookup.status === "rejected" ? lookup.reason : undefined;
      if (reason instanceof ConnectionError || reason instanceof RemotingTimeoutError) {
        await this.close();
        throw new ConnectionError(
          this.#instance.nameServers.join(";"),
          `no name server answered, so the consumer did not start (it is closed): ${reason.message}`,
          { cause: reason },
        );
      }
    }
    // A topic that does not exist yet teaches us no broker: register with
    // the cluster's brokers anyway, so they know our subscription (a broker
    // tells us when the topic appears; a fail-fast requester sees us online).
    if (lookups.some((r, i) => r.status === "rejected" && !topics[i]!.startsWith(RETRY_PREFIX))) {
      await this.#instance.discoverBrokers();
    }
    const failures = await this.#instance.heartbeatAll();
    const conflict = failures.find((e) => e instanceof ClientIdConflictError);
    if (conflict) {
      await this.close();
      throw conflict;
    }
    await this.#rebalance();
    this.#scheduleRebalance();
    this.#schedulePersist();
  }

  /**
   * Close, losing nothing: stop pulling; let running handlers finish and
   * reply (manual replies included) until `drainTimeout`; then abort the
   * `context.signal` of those still running; commit each queue's offset up
   * to what was handled (messages pulled but not started, and handlers given
   * up, stay uncommitted, so the group's other consumers take them over);
   * unregister and close connections. Always returns within `drainTimeout`.
   * Idempotent: later calls wait for the first.
   *
   * @param options `drainTimeout` (ms), default the consumer's option (10 s).
   * @throws {InvalidArgumentError} On an invalid drain timeout.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.#closing) return this.#closing;
    let drainTimeout: number;
    try {
      drainTimeout = parseCloseOptions(options, this.#options.drainTimeout);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#closing = this.#shutdown(drainTimeout);
    return this.#closing;
  }

  async #shutdown(drainTimeout: number): Promise<void> {
    const timers = this.#instance.timers;
    const deadline = timers.now() + drainTimeout;
    const wasRunning = this.#state === "running";
    this.#state = wasRunning ? "closing" : "closed";
    timers.clearTimeout(this.#rebalanceTimer);
    timers.clearTimeout(this.#retryTimer);
    timers.clearTimeout(this.#persistTimer);
    if (wasRunning) {
      // Stop pulling. What was pulled and not started stays unhandled: its
      // offset is not committed, so the next owner of the queue reads it.
      for (const pq of this.#queues.values()) pq.drop();
      this.#work.length = 0;
      // Running handlers finish and reply; keep a little time for the commit.
      const reserve = Math.min(250, drainTimeout / 5);
      await this.#within(
        Promise.all([
          this.#whenIdle(),
          this.#rebalancing?.catch(() => undefined),
          ...this.#releasing.values(),
        ]),
        deadline - reserve,
      );
      for (const controller of this.#running) {
        controller.abort(new ClientClosedError("consumer closed before the handler finished"));
      }
      await this.#within(
        this.#offsets.persistAll(false, Math.max(1, deadline - timers.now())),
        deadline,
      );
    }
    this.#state = "closed";
    for (const pq of this.#queues.values()) pq.retired = true;
    this.#queues.clear();
    this.#instance.removeConsumer(this.group);
    await this.#instance.close(Math.max(1, Math.min(1000, deadline - timers.now())));
  }

  /** Wait for `promise`, but not past `deadline` (local ms). */
  async #within(promise: Promise<unknown>, deadline: number): Promise<void> {
    const left = deadline - this.#instance.timers.now();
    if (left <= 0) return;
    let timer: TimerHandle | undefined;
    await Promise.race([
      promise.catch(() => undefined),
      new Promise<void>((resolve) => timer = this.#instance.timers.setTimeout(resolve, left)),
    ]);
    this.#instance.timers.clearTimeout(timer);
  }

  #whenIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** `await using` support: same as {@linkcode PushConsumer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #consumerData(): ConsumerData {
    return {
      groupName: this.group,
      consumeType: "CONSUME_PASSIVELY",
      messageModel: "CLUSTERING",
      consumeFromWhere: this.#options.consumeFrom === "first"
        ? "CONSUME_FROM_FIRST_OFFSET"
        : this.#options.consumeFrom === "timestamp"
        ? "CONSUME_FROM_TIMESTAMP"
        : "CONSUME_FROM_LAST_OFFSET",
      subscriptionDataSet: [...this.#subscriptions.values()].map((s) => s.data),
      unitMode: false,
    };
  }

  // ---- replies ---------------------------------------------------------------------------------

  /**
   * Reply to a request message, from anywhere and at any time before its
   * requester gives up.
   *
   * @param request The request as the handler received it.
   * @param value The reply: text, bytes, `{ body, properties }`, or any value
   *   the serializer encodes (JSON by default).
   * @returns Where the broker stored the reply.
   * @throws {InvalidArgumentError} When `request` is not a request message,
   *   or the value cannot be serialized or exceeds `maxReplySize` (the
   *   requester then gets an error reply at once).
   * @throws {IllegalStateError} When the request was already replied to.
   * @throws {ClientClosedError} After `close()` returned (replies work while
   *   it drains).
   * @throws {BrokerError} When the broker could not push the reply (for
   * example `SYSTEM_ERROR` "channel of <id> not found": the requester is gone).
   */
  async reply(request: MessageExt, value: ReplyValue): Promise<SendResult> {
    if (this.#state === "closed") throw new ClientClosedError("consumer closed");
    return await this.#replier.reply(request, value);
  }

  // ---- rebalance -------------------------------------------------------------------------------

  #triggerRebalance(): void {
    if (this.#state !== "running") return;
    void this.#rebalance();
  }

  #scheduleRebalance(): void {
    this.#rebalanceTimer = this.#instance.timers.setTimeout(async () => {
      if (this.#state !== "running") return;
      await this.#rebalance();
      if (this.#state === "running") this.#scheduleRebalance();
    }, this.#options.rebalanceInterval);
  }

  /** Run a rebalance; a request during one runs another right after. */
  async #rebalance(): Promise<void> {
    if (this.#rebalancing) {
      this.#rebalanceAgain = true;
      return await this.#rebalancing;
    }
    this.#rebalancing = (async () => {
      let incomplete = false;
      do {
        this.#rebalanceAgain = false;
        incomplete = false;
        for (const subscription of this.#subscriptions.values()) {
          if (this.#state !== "running") return;
          try {
            if (!(await this.#rebalanceTopic(subscription))) incomplete = true;
          } catch (err) {
            incomplete = true;
            this.#instance.logger.warn("rebalance failed", {
              topic: subscription.topic,
              error: err,
            });
          }
        }
      } while (this.#rebalanceAgain && this.#state === "running");
      // A subscribed topic that does not exist yet (the first send creates it)
      // or a broker that does not list us yet: look again soon, not at the next
      // periodic rebalance, so early requests are not left unanswered.
      // Short first (a topic the first request creates is there within
      // milliseconds), doubling to once a second.
      if (!incomplete) {
        this.#retryDelay = 0;
      } else if (this.#state === "running" && this.#retryTimer === undefined) {
        this.#retryDelay = this.#retryDelay === 0
          ? REBALANCE_RETRY_MIN_MS
          : Math.min(REBALANCE_RETRY_MAX_MS, this.#retryDelay * 2);
        this.#retryTimer = this.#instance.timers.setTimeout(() => {
          this.#retryTimer = undefined;
          this.#triggerRebalance();
        }, this.#retryDelay);
      }
    })();
    try {
      await this.#rebalancing;
    } finally {
      this.#rebalancing = undefined;
    }
  }

  /** Rebalance one topic; `false` when it could not be completed (try again soon). */
  async #rebalanceTopic(subscription: Subscription): Promise<boolean> {
    let route;
    try {
      route = await this.#instance.refreshRoute(subscription.topic);
    } catch (err) {
      this.#instance.logger.debug("no route for subscribed topic", {
        topic: subscription.topic,
        error: err,
      });
      await this.#assign(subscription.topic, []);
      return false;
    }
    const queues = route.subscribeQueues;
    const brokers = route.masterAddresses;
    if (brokers.length === 0) return false;
    // A broker learnt from this route (or reconnected since) must know our
    // subscriptions before it can list us among the group's consumers.
    await this.#instance.ensureRegistered(route.addresses);
    const address = brokers[Math.floor(Math.random() * brokers.length)]!;
    const response = await this.#instance.remoting.invoke(
      address,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: this.group }),
      { timeout: this.#instance.rpcTimeout },
    );
    if (response.code !== ResponseCode.SUCCESS || response.body.length === 0) {
      this.#instance.logger.debug("no consumer list yet", {
        group: this.group,
        code: response.code,
      });
      return false;
    }
    const ids = decodeConsumerListBody(response.body).consumerIdList;
    if (!ids.includes(this.clientId)) {
      // The broker does not list us yet (heartbeat in flight): register and retry.
      await this.#instance.ensureRegistered([address]);
      return false;
    }
    const mine = allocateAveragely(queues, ids, this.clientId);
    return await this.#assign(subscription.topic, mine);
  }

  /** Take and release queues; `false` when a start offset could not be computed. */
  async #assign(topic: string, mine: readonly MessageQueue[]): Promise<boolean> {
    let complete = true;
    const wanted = new Map(mine.map((q) => [queueKey(q), q]));
    for (const [key, pq] of this.#queues) {
      if (pq.queue.topic !== topic || wanted.has(key)) continue;
      pq.drop();
      this.#queues.delete(key);
      this.#release(key, pq);
    }
    for (const [key, queue] of wanted) {
      if (this.#queues.has(key)) continue;
      // Taken back before its release finished: start after that commit.
      await this.#releasing.get(key);
      let offset: number;
      try {
        offset = await this.#offsets.startOffset(queue);
      } catch (err) {
        if (this.#state !== "running") return false;
        this.#instance.logger.warn("cannot compute start offset; will retry", {
          queue: key,
          error: err,
        });
        complete = false;
        continue;
      }
      if (this.#state !== "running" || this.#queues.has(key)) continue;
      const pq = new ProcessQueue(queue);
      pq.nextOffset = offset;
      this.#queues.set(key, pq);
      this.#offsets.track(queue, offset);
      void this.#pullLoop(pq);
    }
    return complete;
  }

  /**
   * Hand a queue over: commit its offset up to what was handled now; let its
   * running handlers finish (bounded by the drain timeout) and commit again.
   * RocketMQ's rebalance gives no handover point: the next owner may read
   * the queue before the second commit, so a message still running here can
   * run there too (at-least-once). `close()` has no such overlap.
   */
  #release(key: string, pq: ProcessQueue): void {
    const done = (async () => {
      // Commit what was handled at once: the next owner asks for the offset
      // as soon as it learns the queue is its own.
      const first = this.#offsets.persist(key, true).catch(() => undefined);
      if (pq.running > 0) {
        await this.#within(pq.idle(), this.#instance.timers.now() + this.#options.drainTimeout);
      }
      await first;
      pq.retired = true;
      await this.#offsets.release(key);
    })().finally(() => {
      if (this.#releasing.get(key) === done) this.#releasing.delete(key);
    });
    this.#releasing.set(key, done);
  }

  #brokerAddress(queue: MessageQueue): string {
    const route = this.#instance.cachedRoute(queue.topic);
    const address = route?.masterAddress(queue.brokerName);
    if (!address) throw new ConnectionError(queue.brokerName, "no known address for broker");
    return address;
  }

  // ---- pulling ---------------------------------------------------------------------------------

  async #pullLoop(pq: ProcessQueue): Promise<void> {
    let failures = 0;
    while (!pq.dropped && this.#state === "running") {
      if (pq.cached >= this.#options.maxCachedMessagesPerQueue) {
        await pq.waitForRoom();
        continue;
      }
      try {
        await this.#pullOnce(pq);
        failures = 0;
      } catch (err) {
        if (pq.dropped || this.#state !== "running") return;
        failures++;
        const delay = err instanceof BrokerError && err.responseCode === ResponseCode.FLOW_CONTROL
          ? 20
          : Math.min(3000, 200 * 2 ** Math.min(failures, 4));
        this.#instance.logger.warn("pull failed; retrying", {
          queue: queueKey(pq.queue),
          delayMs: delay,
          error: err,
        });
        await this.#sleep(delay, pq.abort.signal);
      }
    }
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        this.#instance.timers.clearTimeout(handle);
        resolve();
      };
      const handle = this.#instance.timers.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async #pullOnce(pq: ProcessQueue): Promise<void> {
    const queue = pq.queue;
    const subscription = this.#subscriptions.get(queue.topic);
    if (!subscription) {
      pq.drop();
      return;
    }
    const address = this.#brokerAddress(queue);
    const commit = this.#offsets.offset(queue) ?? 0;
    // Caught up: messages this pull returns were stored after it was sent,
    // so their store times tell the broker's clock (see BrokerClock). The
    // first pull of a queue does not wait, to learn where the queue ends.
    const caughtUp = pq.maxOffset >= 0 && pq.nextOffset >= pq.maxOffset;
    // suspend (2, not on the first pull) | subscription (4) | commitOffset (1) when there is one to piggyback
    const sysFlag = (pq.maxOffset >= 0 ? 2 : 0) | 4 | (commit > 0 ? 1 : 0);
    const request = createRequest(RequestCode.PULL_MESSAGE, {
      consumerGroup: this.group,
      topic: queue.topic,
      queueId: queue.queueId,
      queueOffset: pq.nextOffset,
      maxMsgNums: this.#options.pullBatchSize,
      sysFlag,
      commitOffset: commit,
      suspendTimeoutMillis: this.#options.pollTimeout,
      subscription: subscription.expression,
      subVersion: subscription.data.subVersion,
      expressionType: "TAG",
      maxMsgBytes: 256 * 1024 * 8,
      bname: queue.brokerName,
    });
    const response = await this.#instance.remoting.invoke(address, request, {
      timeout: this.#options.pollTimeout + 15_000,
      signal: pq.abort.signal,
    });
    const arrived = this.#instance.timers.now();
    if (pq.dropped) return;
    switch (response.code) {
      case ResponseCode.SUCCESS: {
        const header = decodePullMessageResponseHeader(response.extFields);
        const records = decodeStoredMessages(response.body);
        pq.nextOffset = header.nextBeginOffset;
        pq.maxOffset = header.maxOffset;
        if (caughtUp) {
          let newest = 0;
          for (const record of records) newest = Math.max(newest, record.storeTimestamp);
          this.#clock.observe(newest, arrived);
        }
        await this.#accept(pq, subscription, records, header.minOffset, header.maxOffset);
        return;
      }
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY: {
        const header = decodePullMessageResponseHeader(response.extFields);
        pq.nextOffset = header.nextBeginOffset;
        pq.maxOffset = header.maxOffset;
        if (pq.cached === 0) this.#offsets.update(queue, header.nextBeginOffset);
        return;
      }
      case ResponseCode.PULL_OFFSET_MOVED: {
        const header = decodePullMessageResponseHeader(response.extFields);
        let next = header.nextBeginOffset;
        // Past the queue's end: its offsets went back (a broker that lost its
        // store restarted, or the queue was recreated). Everything it holds
        // now came after what we read: read from its new minimum, not from
        // where the broker suggests (4.x brokers say the maximum).
        if (pq.nextOffset > header.maxOffset && header.minOffset < next) next = header.minOffset;
        this.#instance.logger.warn("offset moved; resetting", {
          queue: queueKey(queue),
          from: pq.nextOffset,
          to: next,
          minOffset: header.minOffset,
          maxOffset: header.maxOffset,
        });
        pq.nextOffset = next;
        pq.maxOffset = header.maxOffset;
        this.#offsets.update(queue, next);
        return;
      }
      default:
        throw BrokerError.fromResponse(response, {
          requestCode: RequestCode.PULL_MESSAGE,
          address,
        });
    }
  }

  async #accept(
    pq: ProcessQueue,
    subscription: Subscription,
    records: StoredMessage[],
    minOffset: number,
    maxOffset: number,
  ): Promise<void> {
    const tags = subscription.data.tagsSet;
    for (const record of records) {
      this.#stats.received++;
      pq.add(record.queueOffset);
      const tag = record.properties[MessageProperty.TAGS];
      if (tags.length > 0 && (tag === undefined || !tags.includes(tag))) {
        this.#complete(pq, record.queueOffset);
        continue;
      }
      let body: Uint8Array;
      try {
        body = await decompressBody(record.body, record.sysFlag, this.#options.maxBodySize);
      } catch (err) {
        this.#instance.logger.error("message body cannot be decompressed; skipped", {
          queue: queueKey(pq.queue),
          offset: record.queueOffset,
          error: err,
        });
        this.#complete(pq, record.queueOffset);
        continue;
      }
      const message = toMessageExt(
        record,
        body,
        pq.queue.brokerName,
        offsetMessageId(record.storeHost, record.commitLogOffset),
      );
      message.properties[MessageProperty.MIN_OFFSET] = String(minOffset);
      message.properties[MessageProperty.MAX_OFFSET] = String(maxOffset);
      const target = message.topic === subscription.topic
        ? subscription
        : this.#subscriptions.get(message.topic) ?? subscription;
      this.#work.push({ pq, message, subscription: target });
    }
    this.#pump();
  }

  // ---- consuming -------------------------------------------------------------------------------

  #pump(): void {
    if (this.#state !== "running") {
      this.#work.length = 0; // left for the queues' next owners (offsets not committed)
      return;
    }
    while (this.#active < this.#options.concurrency && this.#work.length > 0) {
      const work = this.#work.shift()!;
      if (work.pq.dropped) continue;
      this.#active++;
      void this.#consume(work).finally(() => {
        this.#active--;
        if (this.#active === 0 && this.#idle.length > 0) {
          for (const wake of this.#idle.splice(0)) wake();
        }
        this.#pump();
      });
    }
  }

  async #consume(work: Work): Promise<void> {
    const { pq, message, subscription } = work;
    const props = message.properties;
    const isRequest = props[MessageProperty.CORRELATION_ID] !== undefined &&
      props[MessageProperty.REPLY_TO_CLIENT] !== undefined &&
      props[MessageProperty.MSG_TYPE] !== "reply";
    // The handler in force now (subscribe() may have replaced it since the pull).
    const handler = this.#subscriptions.get(message.topic)?.handler ?? subscription.handler;
    if (!handler) {
      // A retried message whose topic we no longer subscribe to.
      this.#complete(pq, message.queueOffset);
      return;
    }
    const timers = this.#instance.timers;
    const now = timers.now();
    const requestDeadline = isRequest ? this.#requestDeadline(message) : undefined;
    if (
      requestDeadline !== undefined && requestDeadline <= now && this.#options.skipExpiredRequests
    ) {
      this.#stats.expiredRequests++;
      this.#complete(pq, message.queueOffset);
      return;
    }
    const deadline = requestDeadline ?? now + this.#options.consumeTimeout;
    if (isRequest) {
      const claim = this.#replier.claim(message, deadline);
      if (!claim.first) {
        // A copy of a request handled (or being handled) here: no second run.
        await claim.replay();
        this.#complete(pq, message.queueOffset);
        return;
      }
    }

    const controller = new AbortController();
    const context: ConsumeContext = {
      isRequest,
      queue: pq.queue,
      signal: controller.signal,
      deadline,
      reply: (value) => this.reply(message, value),
    };
    this.#replier.started(message);
    this.#running.add(controller);
    pq.begin();
    let timer: TimerHandle | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await Promise.race([
      (async () => await handler(message, context))().then(
        (value) => ({ kind: "done" as const, value }),
        (error: unknown) => ({ kind: "failed" as const, error }),
      ),
      new Promise<{ kind: "timeout" }>((resolve) => {
        timer = timers.setTimeout(() => resolve({ kind: "timeout" }), deadline - now);
      }),
      new Promise<{ kind: "aborted" }>((resolve) => {
        onAbort = () => resolve({ kind: "aborted" });
        controller.signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    timers.clearTimeout(timer);
    if (onAbort) controller.signal.removeEventListener("abort", onAbort);
    this.#running.delete(controller);
    pq.end();

    switch (outcome.kind) {
      case "done": {
        this.#stats.handled++;
        if (isRequest && outcome.value !== undefined) {
          if (this.#replier.replied(message)) {
            this.#instance.logger.warn("handler returned a value after replying; value not sent", {
              msgId: message.msgId,
            });
          } else {
            try {
              await this.#replier.reply(message, outcome.value as ReplyValue);
            } catch (err) {
              this.#instance.logger.warn("automatic reply failed", {
                msgId: message.msgId,
                error: err,
              });
            }
          }
        }
        this.#complete(pq, message.queueOffset);
        return;
      }
      case "failed": {
        this.#stats.failed++;
        if (isRequest) {
          await this.#replier.sendError(message, outcome.error);
          this.#complete(pq, message.queueOffset);
        } else {
          await this.#retryLater(pq, message, outcome.error);
        }
        return;
      }
      case "timeout": {
        // The slot is freed now; whatever the handler does later is ignored.
        this.#stats.timedOut++;
        const allowed = deadline - now;
        controller.abort(
          new HandlerTimeoutError(isRequest ? "request deadline" : "consumeTimeout", allowed),
        );
        this.#instance.logger.warn("handler ran past its time; given up", {
          msgId: message.msgId,
          request: isRequest,
          timeoutMs: allowed,
        });
        if (isRequest) {
          // Its requester has given up: nothing to reply to, nothing to retry.
          this.#complete(pq, message.queueOffset);
        } else {
          await this.#retryLater(pq, message, controller.signal.reason);
        }
        return;
      }
      case "aborted": {
        // close() gave up on the handler: unless it replied, leave the
        // message uncommitted for the queue's next owner.
        if (isRequest && this.#replier.replied(message)) {
          this.#complete(pq, message.queueOffset);
        } else if (isRequest) {
          this.#replier.release(message);
        }
        return;
      }
    }
  }

  /**
   * When a request's requester gives up, on the local clock: its TTL counted
   * from the broker's store time, on the broker's clock as estimated here
   * (so a skewed clock on either side does not drop valid requests).
   */
  #requestDeadline(message: MessageExt): number | undefined {
    const ttl = Number(message.properties[MessageProperty.TTL]);
    if (!Number.isFinite(ttl) || ttl <= 0) return undefined;
    const start = message.storeTimestamp > 0 ? message.storeTimestamp : message.bornTimestamp;
    return this.#clock.toLocal(start + ttl);
  }

  /** Send a failed ordinary message back to the broker for a later retry. */
  async #retryLater(pq: ProcessQueue, message: MessageExt, cause: unknown): Promise<void> {
    this.#instance.logger.debug("handler failed; sending back", {
      msgId: message.msgId,
      error: cause,
    });
    try {
      const address = this.#brokerAddress(pq.queue);
      await this.#instance.call(
        address,
        createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
          offset: message.commitLogOffset,
          group: this.group,
          delayLevel: 0,
          originMsgId: message.msgId,
          originTopic: message.topic,
          unitMode: false,
          maxReconsumeTimes: this.#options.maxReconsumeTimes,
          bname: pq.queue.brokerName,
        }),
      );
      this.#stats.sentBack++;
      this.#complete(pq, message.queueOffset);
    } catch (err) {
      // Keep the message: consume it again here after a pause (its offset stays uncommitted).
      this.#instance.logger.warn("send-back failed; retrying locally in 5 s", {
        msgId: message.msgId,
        error: err,
      });
      await this.#sleep(5000, pq.abort.signal);
      if (!pq.dropped) {
        message.reconsumeTimes++;
        this.#work.push({ pq, message, subscription: this.#subscriptions.get(pq.queue.topic)! });
      }
    }
  }

  #complete(pq: ProcessQueue, offset: number): void {
    const next = pq.complete(offset);
    // Also while the queue drains (dropped, not yet retired): what completes
    // then is committed with it.
    if (!pq.retired) this.#offsets.update(pq.queue, next);
  }

  // ---- offsets ---------------------------------------------------------------------------------

  #schedulePersist(): void {
    this.#persistTimer = this.#instance.timers.setTimeout(async () => {
      if (this.#state !== "running") return;
      await this.#offsets.persistAll(true);
      if (this.#state === "running") this.#schedulePersist();
    }, this.#options.offsetPersistInterval);
  }
}
