/**
 * The push consumer: subscribes to topics, shares their queues with the other
 * consumers of its group (the Java client's average allocation, so mixed
 * TypeScript/Java groups agree), long-polls each of its queues, calls the
 * handler, and commits offsets.
 *
 * For request messages (RIP-16), it is also the responder: the handler's
 * return value becomes the reply (automatic reply), or the handler calls
 * `context.reply()` (manual reply), or anyone calls `consumer.reply()` later.
 * The reply may be text, bytes, `{ body, properties }` or any JSON value
 * (decoded back into `reply.value`). A handler that throws on a request,
 * or a reply that cannot be sent, becomes an error reply, which the
 * requester of this library sees as a `RemoteError`. A request whose TTL has
 * passed is not handed to the handler; it is counted instead. A copy of a
 * request already handled here gets the same reply without a second run.
 * Handlers get `context.signal` and `context.deadline`; `close()` drains.
 *
 * The parts: `RebalanceService` (rebalance.ts) takes and hands
 * over queues, `PullService` (pull_service.ts) pulls them, `ConsumeService`
 * (consume_service.ts) runs handlers, `Replier` (replier.ts) replies,
 * `OffsetStore` (offset_store.ts) commits, `QueueLocks` (queue_lock.ts)
 * keeps the queue locks of the handover; they share one `ConsumerCore`.
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

import { TopicRates } from "./consume_stats.ts";
import {
  ClientClosedError,
  ClientIdConflictError,
  ConnectionError,
  IllegalStateError,
  InvalidArgumentError,
  RemotingTimeoutError,
} from "../errors.ts";
import {
  buildSubscriptionData,
  type ConsumerData,
  decodeLockBatchResponseBody,
  encodeLockBatchRequestBody,
  type SubscriptionData,
} from "../codec/bodies.ts";
import { checkSqlSubscriptions, type MessageSelector, subscriptionFor } from "./selector.ts";
import { RequestCode } from "../codec/codes.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { MessageProperty } from "../codec/properties.ts";
import type { TimerHandle } from "../remoting/timers.ts";
import { ClientInstance, type ClientOptions } from "./client_instance.ts";
import {
  type MessageExt,
  type MessageQueue,
  type ReplySerializer,
  type ReplyValue,
  toOutgoing,
} from "./message.ts";
import { parseCloseOptions, parseConsumerOptions, type ParsedConsumerOptions } from "./options.ts";
import { BrokerClock } from "./broker_clock.ts";
import { OffsetStore, RETRY_PREFIX } from "./offset_store.ts";
import type { ProcessQueue } from "./process_queue.ts";
import {
  type IdempotencyOptions,
  Replier,
  type ReplyCompression,
  type ReplyOptions,
} from "./replier.ts";
import { CancelRegistry } from "./cancel_registry.ts";
import { RequesterAliveChecker } from "./requester_alive.ts";
import { LatencyHistogram, type LatencySummary, serviceStatsProperties } from "./service_stats.ts";
import type { ConsumeMessageDirectlyResult, ConsumerRunningInfo } from "../codec/admin_bodies.ts";
import { decodeStoredMessages } from "../codec/message_ext.ts";
import { offsetMessageId } from "../codec/message_id.ts";
import { decompressBody } from "../codec/compression.ts";
import { toMessageExt } from "./message.ts";
import { RebalanceService } from "./rebalance.ts";
import { QueueLocks } from "./queue_lock.ts";
import { PullService } from "./pull_service.ts";
import { ConsumeService, type MessageHandler } from "./consume_service.ts";
import { OrderlyConsumeService } from "./orderly_consume.ts";
import { type ConsumerCore, type CoreStats, type Subscription, within } from "./consumer_core.ts";
import type { SendResult } from "./send_request.ts";
import { LocalOffsetStore } from "./local_offset_store.ts";
import { SuspendGate } from "./suspend_gate.ts";
import { type MessageIterator, type MessagesOptions, TopicIterator } from "./message_iterator.ts";
import { throwIfIterated, unsubscribeTopic } from "./consumer_control.ts";
import { parseMessagesOptions } from "./options.ts";

export type { ConsumeContext, MessageHandler } from "./consume_service.ts";

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
   * group's dead-letter queue. With `orderly: true`: the retries in place of
   * a failed handler, requests included.
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
   * How reply bodies are compressed: `type` (`"zlib"`, `"lz4"` or
   * `"zstd"`), from `threshold` bytes, zstd at `level`. Java responders
   * always use zlib from 4096 bytes (the default here too); LZ4 and zstd
   * need RocketMQ 4.9.4+ requesters or this library to read them.
   * @default {{ type: "zlib", threshold: 4096, level: 5 }}
   */
  replyCompression?: ReplyCompression;
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
  /**
   * How a queue moves between the group's consumers (rebalance, `close()`).
   * `"lock"`: a consumer pulls a queue only while it holds the queue's
   * broker lock (LOCK_BATCH_MQ, renewed every 20 s); the one giving the
   * queue up lets its running handlers finish, commits, and only then
   * unlocks, so the next owner starts after every request handled: no
   * request runs twice across a graceful rebalance or close. `"none"`: the
   * next owner starts at once from the last commit, and requests still
   * running on the previous owner run again there (at-least-once). Java
   * consumers of the same group do not lock: mixing them with this library's
   * loses the guarantee.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   *
   * new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc", queueHandover: "none" });
   * ```
   * @default {"lock"}
   */
  queueHandover?: "lock" | "none";
  /**
   * With `queueHandover: "lock"`, how long a consumer given a queue waits
   * for its lock (ms) before pulling it anyway. The lock stays refused while
   * the previous owner drains (this library's broker frees a crashed
   * client's locks at once; RocketMQ keeps them up to 60 s). Past it, the
   * crashed holder's unfinished requests may run again (at-least-once). The
   * default exceeds the requester's default timeout (3 s), so the requests a
   * draining owner still runs have expired by then and are skipped, not run
   * again; raise it for longer requests or handlers.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   *
   * new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc", handoverTimeout: 30_000 });
   * ```
   * @default {5000}
   */
  handoverTimeout?: number;
  /**
   * Orderly consumption, as the Java client's `MessageListenerOrderly`: the
   * messages of a queue are handled one at a time, in queue order, each
   * started once the previous one finished and its reply (automatic, or
   * sent with `context.reply()`) went out; only while this consumer holds
   * the queue's broker lock (renewed every 20 s; a queue whose lock was
   * lost waits for it). Send related requests to one queue (a `selector`
   * and `arg`, such as an account id) and they are handled and answered in
   * the order sent. A failing handler suspends its queue for
   * `orderlyRetryDelay` and runs the same message again, up to
   * `maxReconsumeTimes` times (then an ordinary message goes to the
   * dead-letter queue, a request gets an error reply; a request is not
   * retried past its deadline). Queues still run side by side, up to
   * `concurrency` handlers. Needs `queueHandover: "lock"`; with
   * `messageModel: "BROADCASTING"` every instance reads every queue, so no
   * lock is taken and each instance handles each queue in order.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   *
   * new PushConsumer({ nameServer: "127.0.0.1:9876", group: "ledger", orderly: true });
   * ```
   * @default {false}
   */
  orderly?: boolean;
  /**
   * With `orderly: true`, how long a queue waits after a failed handler
   * before its message runs again (ms, 10 to 30000), as Java's
   * `suspendCurrentQueueTimeMillis`.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   *
   * new PushConsumer({ nameServer: "127.0.0.1:9876", group: "ledger", orderly: true, orderlyRetryDelay: 200 });
   * ```
   * @default {1000}
   */
  orderlyRetryDelay?: number;
  /**
   * `"CLUSTERING"`: the consumers of the group share the queues, each
   * message is handled by one of them, offsets are committed to the
   * brokers. `"BROADCASTING"`: every consumer of the group reads every
   * queue of its topics and handles every message (no rebalance, no queue
   * locks, no retry: a failed ordinary message is dropped, as in Java);
   * each keeps its own offsets, never committed to a broker (in memory, or
   * in `offsetFile`). A request is then handled by every consumer: each
   * replies, `request()` takes the first reply (the broker refuses the
   * others, which the responders count in `stats.replyFailures`),
   * `requestMany()` gets all of them.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   *
   * new PushConsumer({ nameServer: "127.0.0.1:9876", group: "cache-invalidation", messageModel: "BROADCASTING" });
   * ```
   * @default {"CLUSTERING"}
   */
  messageModel?: "CLUSTERING" | "BROADCASTING";
  /**
   * With `messageModel: "BROADCASTING"`: a JSON file keeping this
   * consumer's offsets across restarts (Deno 2, Bun, Node 20.16+; refused
   * where there is no file system, as in a Worker; the Java client's
   * `LocalFileOffsetStore` keeps them under `~/.rocketmq_offsets`).
   * Written at every `offsetPersistInterval`, when a topic is unsubscribed
   * and at `close()`; read when the consumer takes its queues. One file per
   * consumer. Without it, offsets live in memory and a new consumer starts
   * at `consumeFrom`.
   *
   * @example
   * ```ts ignore
   * import { PushConsumer } from "./push_consumer.ts";
   *
   * new PushConsumer({
   *   nameServer: "127.0.0.1:9876", group: "cache-invalidation",
   *   messageModel: "BROADCASTING", offsetFile: "/var/lib/app/offsets.json",
   * });
   * ```
   */
  offsetFile?: string;
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
   * returns within this time: the final commit and unregistration share it
   * (the last fifth, at most 250 ms, is kept for them).
   * @default {the consumer's drainTimeout option, 10000}
   */
  drainTimeout?: number;
}

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
 *   received: 0, handled: 0, failed: 0, requests: 0, expiredRequests: 0, duplicateRequests: 0,
 *   cancelsReceived: 0, cancelled: 0, cancelledBeforeStart: 0, timedOut: 0,
 *   replied: 0, replyFailures: 0, sentBack: 0, queues: 0, lockRefused: 0,
 * });
 * ```
 */
export interface ConsumerStats {
  /** Messages pulled. */
  received: number;
  /** Handler calls that succeeded. */
  handled: number;
  /** Handler calls that threw (handler errors; for a request an error reply went back). */
  failed: number;
  /** Request messages taken for handling (copies and expired ones included). */
  requests: number;
  /** Requests dropped because their TTL had passed before handling. */
  expiredRequests: number;
  /** Redelivered requests answered from the first run, without running the handler again. */
  duplicateRequests: number;
  /** Cancels received from requesters that gave up (some for requests not held here). */
  cancelsReceived: number;
  /** Handlers whose `context.signal` a requester's cancel aborted. */
  cancelled: number;
  /** Requests skipped because their requester had cancelled them before they started. */
  cancelledBeforeStart: number;
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
  /**
   * Queue locks refused (`queueHandover: "lock"`): a queue given to this
   * consumer was still held by its previous owner, draining it.
   */
  lockRefused: number;
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
export class PushConsumer {
  /** Consumer group. */
  readonly group: string;
  readonly #options: ParsedConsumerOptions;
  readonly #instance: ClientInstance;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #queues = new Map<string, ProcessQueue>();
  readonly #offsets: OffsetStore;
  readonly #locks: QueueLocks;
  readonly #replier: Replier;
  readonly #consume: ConsumeService | OrderlyConsumeService;
  readonly #rebalance: RebalanceService;
  readonly #core: ConsumerCore;
  readonly #gate = new SuspendGate();
  readonly #iterators = new Set<TopicIterator>();
  #state: "new" | "running" | "closing" | "closed" = "new";
  #closing: Promise<void> | undefined;
  #persistTimer: TimerHandle | undefined;
  readonly #stats: CoreStats = {
    received: 0,
    handled: 0,
    failed: 0,
    expiredRequests: 0,
    timedOut: 0,
    sentBack: 0,
    requests: 0,
    cancelled: 0,
    cancelledBeforeStart: 0,
  };
  readonly #cancels: CancelRegistry;
  readonly #alive: RequesterAliveChecker;
  readonly #latency = new Map<string, LatencyHistogram>();
  readonly #rates = new Map<string, TopicRates>();
  #startedAt = 0;

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
    const broadcasting = this.#options.messageModel === "BROADCASTING";
    const offsetOptions = {
      instance: this.#instance,
      group: this.group,
      consumeFrom: this.#options.consumeFrom,
      consumeTimestamp: this.#options.consumeTimestamp,
      brokerAddress: (queue: MessageQueue) => this.#brokerAddress(queue),
    };
    this.#offsets = broadcasting
      ? new LocalOffsetStore({ ...offsetOptions, file: this.#options.offsetFile })
      : new OffsetStore(offsetOptions);
    const lockBody = (mqSet: MessageQueue[]) =>
      encodeLockBatchRequestBody({
        consumerGroup: this.group,
        clientId: this.#instance.clientId,
        mqSet,
      });
    this.#locks = new QueueLocks({
      // Broadcasting: no queue changes hands, so no lock (Java locks none either;
      // an orderly broadcasting consumer runs each queue in order without one).
      mode: broadcasting ? "none" : this.#options.queueHandover,
      strict: this.#options.orderly && !broadcasting, // orderly: never consume a queue without its lock
      handoverTimeout: this.#options.handoverTimeout,
      timers: this.#instance.timers,
      logger: this.#instance.logger,
      address: (queue) => this.#brokerAddress(queue),
      transport: {
        lock: async (address, queues) => {
          const response = await this.#instance.call(
            address,
            createRequest(RequestCode.LOCK_BATCH_MQ, {}, { body: lockBody(queues) }),
          );
          return decodeLockBatchResponseBody(response.body).lockOKMQSet;
        },
        unlock: async (address, queues, timeout) => {
          await this.#instance.call(
            address,
            createRequest(RequestCode.UNLOCK_BATCH_MQ, {}, { body: lockBody(queues) }),
            { timeout: Math.min(timeout ?? this.#instance.rpcTimeout, this.#instance.rpcTimeout) },
          );
        },
      },
    });
    this.#replier = new Replier(this.#instance, {
      replyTimeout: this.#options.replyTimeout,
      maxReplySize: this.#options.maxReplySize,
      compression: this.#options.replyCompression,
      ...(this.#options.serializer ? { serializer: this.#options.serializer } : {}),
      idempotency: this.#options.idempotency,
      group: this.group,
    });
    this.#cancels = new CancelRegistry({ timers: this.#instance.timers });
    this.#alive = new RequesterAliveChecker(this.#instance);
    const clocks = new Map<string, BrokerClock>();
    const core: ConsumerCore = {
      group: this.group,
      instance: this.#instance,
      options: this.#options,
      subscriptions: this.#subscriptions,
      queues: this.#queues,
      offsets: this.#offsets,
      locks: this.#locks,
      replier: this.#replier,
      clock: (brokerName) => {
        let clock = clocks.get(brokerName);
        if (!clock) clocks.set(brokerName, clock = new BrokerClock(this.#instance.timers));
        return clock;
      },
      stats: this.#stats,
      gate: this.#gate,
      running: () => this.#state === "running",
      brokerAddress: (queue) => this.#brokerAddress(queue),
      cancels: this.#cancels,
      latency: (topic) => {
        let histogram = this.#latency.get(topic);
        if (!histogram) this.#latency.set(topic, histogram = new LatencyHistogram());
        return histogram;
      },
      rates: (topic) => {
        let rates = this.#rates.get(topic);
        if (!rates) this.#rates.set(topic, rates = new TopicRates(this.#instance.timers));
        return rates;
      },
      requesterAlive: (request) =>
        this.#alive.isAlive(
          this.#brokerAddress({
            topic: request.topic,
            brokerName: request.brokerName,
            queueId: request.queueId,
          }),
          request.properties[MessageProperty.REPLY_TO_CLIENT] ?? "",
        ),
    };
    this.#core = core;
    const consume = new ConsumeService(
      core,
      (request, value, options) => this.reply(request, value, options),
    );
    this.#consume = this.#options.orderly ? new OrderlyConsumeService(core, consume) : consume;
    this.#rebalance = new RebalanceService(core, new PullService(core, this.#consume));
    this.#instance.setPushHandlers({
      consumerIdsChanged: (group) => {
        if (group === this.group) this.#rebalance.trigger();
      },
      cancel: (notice) => {
        if (notice.group === undefined || notice.group === this.group) {
          this.#cancels.cancel(notice.correlationId, notice.topic);
        }
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
      requests: s.requests,
      expiredRequests: s.expiredRequests,
      duplicateRequests,
      cancelsReceived: this.#cancels.stats.cancelsReceived,
      cancelled: s.cancelled,
      cancelledBeforeStart: s.cancelledBeforeStart,
      timedOut: s.timedOut,
      replied,
      replyFailures,
      sentBack: s.sentBack,
      queues: this.#queues.size,
      lockRefused: this.#locks.refused,
    };
  }

  /**
   * Handler latency per topic since start: count, mean, median and 99th
   * percentile (ms; percentiles within 5 %, from a fixed-size histogram).
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   * import assert from "node:assert/strict";
   *
   * const consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc" });
   * assert.deepEqual(consumer.handlerLatency, {}); // nothing handled yet
   * ```
   */
  get handlerLatency(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [topic, histogram] of this.#latency) out[topic] = histogram.summary();
    return out;
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
   * @param expression `*` for all messages, tags (`tagA || tagB`), or a
   *   SQL92 filter on message properties: `{ sql: "n > 5 AND region IN ('eu','us')" }`
   *   (RocketMQ brokers need `enablePropertyFilter=true`; `start()` asks them).
   * @param handler Called for each message.
   * @throws {InvalidArgumentError} On an invalid topic, expression or handler.
   * @throws {FilterExpressionError} When a SQL92 expression does not compile
   *   (`position` says where).
   */
  subscribe(topic: string, expression: MessageSelector, handler: MessageHandler): void {
    if (this.#state === "closed" || this.#state === "closing") {
      throw new ClientClosedError("consumer closed");
    }
    toOutgoing({ topic, body: " " }); // validates the topic name
    if (typeof handler !== "function") {
      throw new InvalidArgumentError("handler", "must be a function");
    }
    throwIfIterated(this.#subscriptions.get(topic));
    const data = subscriptionFor(topic, expression, this.#instance.timers.now());
    this.#subscriptions.set(topic, { topic, expression: data.subString, data, handler });
    if (this.#state === "running") {
      void this.#instance.heartbeatAll().then(() => this.#rebalance.trigger());
    }
  }

  /**
   * Start consuming: register with the brokers of the subscribed topics,
   * take a share of their queues, and start pulling.
   *
   * @throws {IllegalStateError} Without subscriptions; with a SQL92
   *   subscription, when a broker is older than 4.1.0 (the consumer is closed).
   * @throws {ConnectionError} When no name server answers (connection
   * refused, or no answer within `rpcTimeout`); the consumer is then closed.
   * @throws {ClientIdConflictError} When another client has this client's id
   *   (same `instanceName` in this process, or a broker refused the
   *   heartbeat); the consumer is closed.
   * @throws {BrokerError} When a broker refuses a SQL92 subscription
   *   (RocketMQ without `enablePropertyFilter=true`: SYSTEM_ERROR; an
   *   expression it cannot parse: SUBSCRIPTION_PARSE_FAILED); the consumer
   *   is closed.
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
    // Broadcasting has no retry topic (as in Java: failed messages are dropped).
    if (this.#options.messageModel === "CLUSTERING") {
      this.#subscriptions.set(retryTopic, {
        topic: retryTopic,
        expression: "*",
        data: buildSubscriptionData(retryTopic, "*", this.#instance.timers.now()),
        handler: undefined,
      });
    }
    this.#startedAt = this.#instance.timers.now();
    this.#instance.addConsumer({
      group: this.group,
      consumerData: () => this.#consumerData(),
      runningInfo: () => this.#runningInfo(),
      consumeDirectly: (record, brokerName) => this.#consumeDirectly(record, brokerName),
    });
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
    // SQL92 subscriptions: the brokers must accept the expressions (Java's
    // checkClientInBroker); a refusal fails start() with the broker's answer.
    try {
      await checkSqlSubscriptions(this.#instance, this.group, this.#subscriptionData());
    } catch (err) {
      await this.close();
      throw err;
    }
    const failures = await this.#instance.heartbeatAll();
    const conflict = failures.find((e) => e instanceof ClientIdConflictError);
    if (conflict) {
      await this.close();
      throw conflict;
    }
    await this.#rebalance.run();
    this.#rebalance.schedule();
    this.#locks.start();
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
    this.#rebalance.stop();
    timers.clearTimeout(this.#persistTimer);
    // Iterators end: buffered messages stay uncommitted; the one a loop holds may finish.
    for (const iterator of this.#iterators) iterator.end();
    if (wasRunning) {
      // Stop pulling. What was pulled and not started stays unhandled: its
      // offset is not committed, so the next owner of the queue reads it.
      for (const pq of this.#queues.values()) pq.drop();
      this.#consume.discardPending();
      // Running handlers finish and reply; keep a little time for the commit.
      const reserve = Math.min(250, drainTimeout / 5);
      await within(
        timers,
        Promise.all([
          this.#consume.whenIdle(),
          this.#rebalance.settled(),
          ...[...this.#iterators].map((iterator) => iterator.idle()),
        ]),
        deadline - reserve,
      );
      this.#consume.abortRunning(
        new ClientClosedError("consumer closed before the handler finished"),
      );
      await within(
        timers,
        this.#offsets.persistAll(false, Math.max(1, deadline - timers.now())),
        deadline,
      );
      // Only now may the next owners lock these queues: they start after
      // every request handled here.
      this.#locks.stop();
      await within(
        timers,
        this.#locks.releaseAll(undefined, Math.max(1, deadline - timers.now())),
        deadline,
      );
    }
    this.#locks.stop();
    this.#state = "closed";
    for (const pq of this.#queues.values()) pq.retired = true;
    this.#queues.clear();
    this.#instance.removeConsumer(this.group);
    await this.#instance.close(Math.max(1, Math.min(1000, deadline - timers.now())));
  }

  /** `await using` support: same as {@linkcode PushConsumer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #subscriptionData(): SubscriptionData[] {
    return [...this.#subscriptions.values()].map((s) => s.data);
  }

  #consumerData(): ConsumerData {
    return {
      groupName: this.group,
      consumeType: "CONSUME_PASSIVELY",
      messageModel: this.#options.messageModel,
      consumeFromWhere: this.#options.consumeFrom === "first"
        ? "CONSUME_FROM_FIRST_OFFSET"
        : this.#options.consumeFrom === "timestamp"
        ? "CONSUME_FROM_TIMESTAMP"
        : "CONSUME_FROM_LAST_OFFSET",
      subscriptionDataSet: [...this.#subscriptions.values()].map((s) => s.data),
      unitMode: false,
    };
  }

  // ---- control and iteration (consumer_control.ts, message_iterator.ts) -----------------------

  /**
   * Suspend consumption (Java's `suspend()`): pull nothing more and start no
   * handler; handlers running now finish. The consumer keeps its queues,
   * their offsets (committed as usual) and its place in the group; messages
   * already pulled wait here for `resume()` (Java's paused consumer still
   * consumes those, and skips rebalances; this one keeps rebalancing, so a
   * queue given to another member meanwhile is handed over, its waiting
   * messages left to the new owner). Idempotent.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   * import assert from "node:assert/strict";
   *
   * const consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc" });
   * consumer.suspend();
   * assert.equal(consumer.suspended, true);
   * consumer.resume();
   * assert.equal(consumer.suspended, false);
   * ```
   */
  suspend(): void {
    this.#gate.suspend();
  }

  /** Resume after `suspend()`: where it stopped, nothing lost. Idempotent. */
  resume(): void {
    this.#gate.resume();
    this.#consume.pump();
  }

  /** Whether consumption is suspended. */
  get suspended(): boolean {
    return this.#gate.suspended;
  }

  /**
   * Stop consuming a topic: it leaves the subscriptions (and the next
   * heartbeat); its queues stop being pulled, their running handlers finish
   * (within `drainTimeout`) and reply, and their offsets are committed up to
   * what was handled (messages pulled and not started stay uncommitted: the
   * next consumer of the topic gets them). An iterator of the topic ends.
   * `subscribe()` may take the topic again later. Nothing to do for a topic
   * not subscribed. In a clustering group, as in RocketMQ, the members
   * should subscribe the same topics: a topic's queues stay shared among
   * all members, so the share of one that unsubscribed goes unread until it
   * subscribes again or the others unsubscribe too (use a group per topic
   * to start and stop topics independently).
   *
   * @param topic The topic.
   * @returns Resolves when the topic's queues were drained and committed.
   * @throws {InvalidArgumentError} On an invalid topic, or the retry topic.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   * import assert from "node:assert/strict";
   *
   * const consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc" });
   * consumer.subscribe("add", "*", () => "ok");
   * await consumer.unsubscribe("add");
   * await assert.rejects(consumer.start(), /subscribe to at least one topic/);
   * ```
   */
  unsubscribe(topic: string): Promise<void> {
    return unsubscribeTopic({
      topic,
      subscriptions: this.#subscriptions,
      iterators: this.#iterators,
      running: () => this.#state === "running",
      dropTopic: (t) => this.#rebalance.dropTopic(t),
      heartbeat: () => this.#instance.heartbeatAll(),
    });
  }

  /**
   * A topic's messages as an async iterator, instead of a handler:
   * `for await (const msg of consumer.messages(topic))`. Starts the
   * consumer on the first `next()` when not started. Holds at most
   * `bufferSize` messages; a message is done when the loop asks for the next
   * one (or calls `msg.ack()`); `msg.reply(value)` answers a request;
   * `break` unsubscribes the topic, leaving the messages not done
   * uncommitted; so does the `signal` option when it aborts (the loop then
   * throws its reason). See {@linkcode MessageIterator}.
   *
   * @param topic The topic.
   * @param expression `*` for all messages, tags (`tagA || tagB`), or a
   *   SQL92 expression on properties (`{ sql: "n > 5" }`), as `subscribe()`.
   * @param options `bufferSize` (default 32), `signal`.
   * @returns The iterator.
   * @throws {InvalidArgumentError} On an invalid topic, expression or option.
   * @throws {FilterExpressionError} When a SQL92 expression does not compile.
   * @throws {IllegalStateError} When the topic is subscribed already.
   * @throws {ClientClosedError} After `close()`.
   *
   * @example
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   * import assert from "node:assert/strict";
   *
   * const consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "calc" });
   * const messages = consumer.messages("jobs", "*", { bufferSize: 16 });
   * assert.throws(() => consumer.messages("jobs"), /subscribed already/);
   * await messages.return(); // unsubscribes
   * ```
   */
  messages(
    topic: string,
    expression: MessageSelector = "*",
    options?: MessagesOptions,
  ): MessageIterator {
    if (this.#state === "closed" || this.#state === "closing") {
      throw new ClientClosedError("consumer closed");
    }
    toOutgoing({ topic, body: " " }); // validates the topic name
    if (this.#subscriptions.has(topic)) {
      throw new IllegalStateError(
        `topic ${topic} is subscribed already: unsubscribe() it before iterating it`,
      );
    }
    const data = subscriptionFor(topic, expression, this.#instance.timers.now());
    const { bufferSize, signal } = parseMessagesOptions(options);
    const iterator = new TopicIterator(
      {
        core: this.#core,
        complete: (pq, offset) => this.#consume.complete(pq, offset),
        reply: (request, value, replyOptions) => this.reply(request, value, replyOptions),
        state: () => this.#state,
        start: () => this.start(),
        release: async (it) => {
          this.#iterators.delete(it);
          if (this.#subscriptions.get(it.topic)?.sink === it.sink) await this.unsubscribe(it.topic);
        },
      },
      topic,
      bufferSize,
      signal,
    );
    if (iterator.ended) return iterator; // its signal aborted already: nothing to subscribe
    this.#iterators.add(iterator);
    this.#subscriptions.set(topic, {
      topic,
      expression: data.subString,
      data,
      handler: undefined,
      sink: iterator.sink,
      flow: iterator.flow,
    });
    if (this.#state === "running") {
      void this.#instance.heartbeatAll().then(() => this.#rebalance.trigger());
    }
    return iterator;
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
  async reply(
    request: MessageExt,
    value: ReplyValue,
    options: ReplyOptions = {},
  ): Promise<SendResult> {
    if (this.#state === "closed") throw new ClientClosedError("consumer closed");
    return await this.#replier.reply(request, value, options);
  }

  /** What `mqadmin consumerStatus` and the Dashboard show (GET_CONSUMER_RUNNING_INFO). */
  #runningInfo(): ConsumerRunningInfo {
    const stats = this.stats;
    const latency = this.handlerLatency;
    const properties: Record<string, string> = {
      PROP_CONSUMER_START_TIMESTAMP: String(this.#startedAt),
      PROP_CONSUMEORDERLY: String(this.#options.orderly),
      PROP_THREADPOOL_CORE_SIZE: String(this.#options.concurrency),
      consumerGroup: this.group,
      messageModel: this.#options.messageModel,
      consumeFromWhere: this.#consumerData().consumeFromWhere,
      pullBatchSize: String(this.#options.pullBatchSize),
      RPC_CLIENT: "rocketmq-rpc",
      ...serviceStatsProperties(stats as unknown as Record<string, number>, latency),
    };
    const mqTable = [...this.#queues.values()].map((pq) => ({
      queue: pq.queue,
      info: {
        commitOffset: this.#offsets.offset(pq.queue) ?? pq.commitOffset(),
        cachedMsgMinOffset: pq.cached > 0 ? pq.commitOffset() : 0,
        cachedMsgMaxOffset: pq.cached > 0 ? pq.nextOffset - 1 : 0,
        cachedMsgCount: pq.cached,
        cachedMsgSizeInMiB: 0,
        transactionMsgMinOffset: 0,
        transactionMsgMaxOffset: 0,
        transactionMsgCount: 0,
        locked: pq.locked,
        tryUnlockTimes: 0,
        lastLockTimestamp: pq.lastLockTimestamp,
        droped: pq.dropped,
        lastPullTimestamp: pq.lastPullTimestamp,
        lastConsumeTimestamp: pq.lastConsumeTimestamp,
      },
    }));
    const statusTable: ConsumerRunningInfo["statusTable"] = {};
    for (const subscription of this.#subscriptions.values()) {
      statusTable[subscription.topic] = this.#core.rates(subscription.topic).status();
    }
    return {
      properties,
      subscriptionSet: [...this.#subscriptions.values()].map((sub) => sub.data),
      mqTable,
      statusTable,
      userConsumerInfo: {},
    };
  }

  /** CONSUME_MESSAGE_DIRECTLY: run the handler on one stored message now. */
  async #consumeDirectly(
    record: Uint8Array,
    brokerName: string,
  ): Promise<ConsumeMessageDirectlyResult> {
    const result: ConsumeMessageDirectlyResult = {
      order: this.#options.orderly,
      autoCommit: true,
      consumeResult: "CR_THROW_EXCEPTION",
      spentTimeMills: 0,
    };
    try {
      const [stored] = decodeStoredMessages(record);
      if (!stored) throw new InvalidArgumentError("body", "no stored message");
      const body = await decompressBody(stored.body, stored.sysFlag, this.#options.maxBodySize);
      const message = toMessageExt(
        stored,
        body,
        brokerName,
        offsetMessageId(stored.storeHost, stored.commitLogOffset),
      );
      const run = await this.#consume.runDirectly(message);
      result.spentTimeMills = run.ms;
      if (!run.handled) {
        result.consumeResult = "CR_RETURN_NULL";
        result.remark = `no handler for topic ${message.topic} in group ${this.group}`;
      } else if (run.error !== undefined) {
        result.remark = run.error instanceof Error
          ? `${run.error.name}: ${run.error.message}`
          : String(run.error);
      } else {
        result.consumeResult = "CR_SUCCESS";
      }
    } catch (err) {
      result.remark = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    return result;
  }

  #brokerAddress(queue: MessageQueue): string {
    const route = this.#instance.cachedRoute(queue.topic);
    const address = route?.masterAddress(queue.brokerName);
    if (!address) throw new ConnectionError(queue.brokerName, "no known address for broker");
    return address;
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
