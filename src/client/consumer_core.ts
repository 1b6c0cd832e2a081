/**
 * What the parts of a push consumer share: its options, client machinery,
 * subscriptions, assigned queues, offsets, replier and broker clock. The
 * {@linkcode PushConsumer} owns one and hands it to its services (rebalance,
 * pulling, consuming), so each service knows its room and nothing more.
 *
 * @example
 * ```ts
 * import { sleep } from "./consumer_core.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(0);
 * const stop = new AbortController();
 * const waiting = sleep(timers, 1000, stop.signal);
 * stop.abort(); // an abort ends the sleep early
 * await waiting;
 * assert.equal(timers.now(), 0);
 * ```
 *
 * @module
 */

import type { TopicRates } from "./consume_stats.ts";
import type { SubscriptionData } from "../codec/bodies.ts";
import { RequestCode } from "../codec/codes.ts";
import { createRequest } from "../codec/remoting_command.ts";
import type { Timers } from "../remoting/timers.ts";
import type { BrokerClock } from "./broker_clock.ts";
import type { ClientInstance } from "./client_instance.ts";
import type { OffsetStore } from "./offset_store.ts";
import type { ParsedConsumerOptions } from "./options.ts";
import type { ProcessQueue } from "./process_queue.ts";
import type { Replier } from "./replier.ts";
import type { MessageHandler } from "./consume_service.ts";
import type { CancelRegistry } from "./cancel_registry.ts";
import type { LatencyHistogram } from "./service_stats.ts";
import type { MessageExt, MessageQueue } from "./message.ts";
import type { QueueLocks } from "./queue_lock.ts";
import type { SuspendGate } from "./suspend_gate.ts";
import type { FlowLimit } from "./flow_limit.ts";

/** One subscribed topic. */
export interface Subscription {
  /** The topic. */
  topic: string;
  /** Its expression as sent to brokers. */
  expression: string;
  /** What heartbeats carry. */
  data: SubscriptionData;
  /** The handler; none for the retry topic (its messages name their topic). */
  handler: MessageHandler | undefined;
  /**
   * Instead of the handler, where pulled messages go (`consumer.messages()`:
   * an async iterator's buffer, which marks them handled itself).
   */
  sink?: ((pq: ProcessQueue, message: MessageExt) => void) | undefined;
  /** Bound of the messages of this topic pulled and not yet handled (an iterator's buffer). */
  flow?: FlowLimit | undefined;
}

/** Counters the services keep (the replier keeps its own). */
export interface CoreStats {
  /** Messages pulled. */
  received: number;
  /** Handler calls that succeeded. */
  handled: number;
  /** Handler calls that threw. */
  failed: number;
  /** Requests not handled because their TTL had passed. */
  expiredRequests: number;
  /** Handlers given up at their deadline. */
  timedOut: number;
  /** Ordinary messages sent back for a retry. */
  sentBack: number;
  /** Request messages taken for handling (copies and expired ones included). */
  requests: number;
  /** Handlers whose signal a cancel from the requester aborted. */
  cancelled: number;
  /** Requests skipped because their requester had cancelled them before they started. */
  cancelledBeforeStart: number;
}

/** The state a push consumer's services share. */
export interface ConsumerCore {
  /** Consumer group. */
  readonly group: string;
  /** Connections, routes, heartbeats, timers, logger. */
  readonly instance: ClientInstance;
  /** Validated options. */
  readonly options: ParsedConsumerOptions;
  /** Subscriptions by topic (the retry topic included once started). */
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  /** Queues assigned now, by `queueKey`. */
  readonly queues: Map<string, ProcessQueue>;
  /** Offsets and their commits. */
  readonly offsets: OffsetStore;
  /** Queue locks: a queue is pulled only while held (`queueHandover: "lock"`). */
  readonly locks: QueueLocks;
  /** Replies, at most once, idempotent. */
  readonly replier: Replier;
  /**
   * A broker's clock as estimated here, for request deadlines (one per
   * broker: brokers' clocks may differ from each other too).
   */
  clock(brokerName: string): BrokerClock;
  /** Counters. */
  readonly stats: CoreStats;
  /** `suspend()`/`resume()`: while suspended, nothing is pulled and no handler starts. */
  readonly gate: SuspendGate;
  /** Whether the consumer runs (not new, closing or closed). */
  running(): boolean;
  /** Master address of a queue's broker (throws `ConnectionError` when unknown). */
  brokerAddress(queue: MessageQueue): string;
  /** Cancels from requesters: running handlers to abort, requests to skip. */
  readonly cancels: CancelRegistry;
  /** Handler latency of a topic. */
  latency(topic: string): LatencyHistogram;
  /** Recent pull and consume rates of a topic (the running info's `statusTable`). */
  rates(topic: string): TopicRates;
  /** Whether a request's requester is still registered with the broker that stored it. */
  requesterAlive(request: MessageExt): Promise<boolean>;
}

/**
 * Wait `ms`, or less when `signal` aborts.
 *
 * @param timers The clock.
 * @param ms How long.
 * @param signal Ends the wait early.
 * @returns Resolves when the time passed or the signal aborted.
 */
export function sleep(timers: Timers, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      timers.clearTimeout(handle);
      resolve();
    };
    const handle = timers.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Wait for `promise` (its rejection ignored), but not past `deadline`.
 *
 * @param timers The clock.
 * @param promise What to wait for.
 * @param deadline Local time (ms since the epoch).
 * @returns Resolves at whichever comes first.
 */
export async function within(
  timers: Timers,
  promise: Promise<unknown>,
  deadline: number,
): Promise<void> {
  const left = deadline - timers.now();
  if (left <= 0) return;
  let timer: unknown;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => timer = timers.setTimeout(resolve, left)),
  ]);
  timers.clearTimeout(timer);
}

/**
 * CONSUMER_SEND_MSG_BACK: hand a message the handler failed on back to its
 * broker, which stores it in the group's retry topic at `delayLevel` (0: the
 * broker picks it from the reconsume count) or, at -1, in its dead-letter
 * queue; counted in `stats.sentBack`.
 *
 * @param core The consumer.
 * @param queue The queue the message was pulled from.
 * @param message The message.
 * @param delayLevel 0 for a retry, -1 for the dead-letter queue.
 * @throws What the call to the broker throws (then nothing is counted).
 */
export async function sendMessageBack(
  core: ConsumerCore,
  queue: MessageQueue,
  message: MessageExt,
  delayLevel: 0 | -1,
): Promise<void> {
  await core.instance.call(
    core.brokerAddress(queue),
    createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
      offset: message.commitLogOffset,
      group: core.group,
      delayLevel,
      originMsgId: message.msgId,
      originTopic: message.topic,
      unitMode: false,
      maxReconsumeTimes: core.options.maxReconsumeTimes,
      bname: queue.brokerName,
    }),
  );
  core.stats.sentBack++;
}
