/**
 * Orderly consumption (`orderly: true`), as the Java client's
 * `MessageListenerOrderly` (`ConsumeMessageOrderlyService`): the messages of
 * a queue are handled one at a time, in queue-offset order, and only while
 * this client holds the queue's broker lock (LOCK_BATCH_MQ, renewed every
 * 20 s, see queue_lock.ts); a handler starts only once the previous one of
 * its queue finished and its reply went out, so the replies of a queue
 * reach their requesters in order too. Queues still run side by side, up to
 * `concurrency` handlers over all of them.
 *
 * A handler that fails (throws, or an ordinary message's `consumeTimeout`
 * passes) suspends its queue for `orderlyRetryDelay` (Java's
 * `SUSPEND_CURRENT_QUEUE_A_MOMENT`, 1 s) and the same message runs again,
 * its `reconsumeTimes` one higher; the messages behind it wait. After
 * `maxReconsumeTimes` retries an ordinary message goes to the group's
 * dead-letter queue (as Java's orderly consumer, whose retry count then
 * exceeds the maximum) and a request gets an error reply with the last
 * failure; a request is not retried past its deadline either (its requester
 * gets the error reply instead of a timeout). A handler given up at its
 * timeout has its signal aborted and is waited for before the queue goes
 * on: two handlers of a queue never overlap. Offsets advance only over
 * messages done with.
 *
 * @example Requests of one account handled in the order they were sent
 * ```ts
 * import { PushConsumer } from "./push_consumer.ts";
 * import { Producer } from "./producer.ts";
 * import { bodyText, type MessageQueue } from "./message.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using consumer = new PushConsumer({ nameServer: broker.address, group: "ledger", orderly: true });
 * const offsets: number[] = [];
 * consumer.subscribe("ledger", "*", async (msg) => {
 *   await new Promise((r) => setTimeout(r, Math.random() * 5)); // uneven work
 *   offsets.push(msg.queueOffset);
 *   return `ok ${bodyText(msg)}`;
 * });
 * await consumer.start();
 * await using producer = new Producer({ nameServer: broker.address });
 * await producer.start();
 * const byAccount = (queues: readonly MessageQueue[]) => queues[0]!; // one account, one queue
 * const replies = await Promise.all(["1", "2", "3", "4"].map((n) =>
 *   producer.request({ topic: "ledger", body: n }, { timeout: 5000, selector: byAccount, arg: "acct-1" })
 * ));
 * assert.deepEqual(replies.map(bodyText), ["ok 1", "ok 2", "ok 3", "ok 4"]);
 * assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b)); // one at a time, in queue order
 * ```
 *
 * @module
 */

import type { MessageExt } from "./message.ts";
import type { ProcessQueue } from "./process_queue.ts";
import { queueKey } from "./rebalance.ts";
import type { ConsumeService, OrderlyRetry } from "./consume_service.ts";
import { type ConsumerCore, sendMessageBack, sleep, type Subscription } from "./consumer_core.ts";

interface Pending {
  message: MessageExt;
  subscription: Subscription;
}

/** A queue's messages waiting, in offset order, and whether its loop runs. */
interface QueueWork {
  readonly pq: ProcessQueue;
  readonly pending: Pending[];
  head: number;
  running: boolean;
}

/** How long a queue whose lock is not held waits before looking again (ms). */
const LOCK_WAIT_MS = 100;

/**
 * Runs a push consumer's handlers queue by queue, in order (the consumer's
 * `orderly: true`). It takes the place of the concurrent consume service
 * towards the pull service and the consumer, and runs each message through
 * that service's {@linkcode ConsumeService.runOrderly}.
 *
 * @example
 * ```ts
 * import { OrderlyConsumeService } from "./orderly_consume.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof OrderlyConsumeService.prototype.submit, "function");
 * ```
 */
export class OrderlyConsumeService {
  readonly #core: ConsumerCore;
  readonly #inner: ConsumeService;
  readonly #queues = new Map<ProcessQueue, QueueWork>();
  /** Handlers running now, over all queues. */
  #active = 0;
  /** Queue loops waiting for a free handler slot. */
  #slotWaiters: Array<() => void> = [];
  #idle: Array<() => void> = [];

  /**
   * @param core The consumer's shared state.
   * @param inner The consume service that runs one message (handler, reply, commit).
   */
  constructor(core: ConsumerCore, inner: ConsumeService) {
    this.#core = core;
    this.#inner = inner;
  }

  /** Handlers running now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Queue a pulled message behind the others of its queue (call `pump()`
   * after a batch).
   *
   * @param pq Its queue.
   * @param message The message.
   * @param subscription Its subscription.
   */
  submit(pq: ProcessQueue, message: MessageExt, subscription: Subscription): void {
    let work = this.#queues.get(pq);
    if (!work) this.#queues.set(pq, work = { pq, pending: [], head: 0, running: false });
    work.pending.push({ message, subscription });
  }

  /** Start the loop of every queue with messages waiting and none running. */
  pump(): void {
    if (!this.#core.running()) {
      this.discardPending();
      return;
    }
    for (const work of this.#queues.values()) {
      if (work.running) continue;
      if (work.pq.dropped) {
        this.#queues.delete(work.pq);
        continue;
      }
      if (work.head < work.pending.length) void this.#drain(work);
    }
  }

  /**
   * Mark a message done with (filtered out, or undecodable): its offset may
   * be committed.
   *
   * @param pq Its queue.
   * @param offset Its queue offset.
   */
  complete(pq: ProcessQueue, offset: number): void {
    this.#inner.complete(pq, offset);
  }

  /** Drop the messages not started: their offsets stay uncommitted for the queues' next owners. */
  discardPending(): void {
    for (const work of this.#queues.values()) {
      work.pending.length = 0;
      work.head = 0;
    }
  }

  /** Resolves when no handler runs. */
  whenIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /**
   * Abort the signal of every running handler (close() past its drain timeout).
   *
   * @param reason The abort reason.
   */
  abortRunning(reason: unknown): void {
    this.#inner.abortRunning(reason);
  }

  /**
   * CONSUME_MESSAGE_DIRECTLY: run the handler on one message now, outside
   * the queues.
   *
   * @param message The message.
   * @returns How it went.
   */
  runDirectly(message: MessageExt): Promise<{ handled: boolean; error: unknown; ms: number }> {
    return this.#inner.runDirectly(message);
  }

  /** Whether a queue's messages may start now: not dropped, consumer running. */
  #open(pq: ProcessQueue): boolean {
    return !pq.dropped && this.#core.running();
  }

  /** Handle a queue's waiting messages one at a time, in order. */
  async #drain(work: QueueWork): Promise<void> {
    const { pq } = work;
    work.running = true;
    try {
      while (this.#open(pq) && work.head < work.pending.length) {
        if (!(await this.#holdLock(pq))) continue;
        const next = work.pending[work.head]!;
        const retry = await this.#runOne(pq, next);
        if (retry && this.#open(pq) && (await this.#retry(pq, next.message, retry))) continue;
        work.head++;
        if (work.head > 1024 && work.head * 2 > work.pending.length) {
          work.pending.splice(0, work.head);
          work.head = 0;
        }
      }
    } catch (err) {
      this.#core.instance.logger.error("orderly consumption of a queue failed", {
        queue: queueKey(pq.queue),
        error: err,
      });
    } finally {
      work.running = false;
      if (pq.dropped) this.#queues.delete(pq);
      else if (work.head >= work.pending.length) {
        work.pending.length = 0;
        work.head = 0;
      } else if (this.#core.running()) {
        // Messages arrived as it stopped (a failure above): go on later.
        this.#core.instance.timers.setTimeout(() => this.pump(), LOCK_WAIT_MS);
      }
    }
  }

  /**
   * Wait until this client holds the queue's lock (false to look again:
   * the queue may have been dropped meanwhile). A lock lost to a failed
   * renewal is asked for by the pull loop; one only too old is renewed here.
   */
  async #holdLock(pq: ProcessQueue): Promise<boolean> {
    const locks = this.#core.locks;
    if (locks.holds(pq)) return true;
    if (pq.locked && (await locks.tryLock(pq))) return true;
    await sleep(this.#core.instance.timers, LOCK_WAIT_MS, pq.abort.signal);
    return false;
  }

  /** Run one message in a handler slot; the retry to make, if any. */
  async #runOne(pq: ProcessQueue, next: Pending): Promise<OrderlyRetry | undefined> {
    await this.#slot();
    // The queue counts the message until it completed (replied, committed),
    // so a handover waits for it before its last commit.
    pq.begin();
    try {
      if (!this.#open(pq)) return undefined;
      return await this.#inner.runOrderly(pq, next.message, next.subscription);
    } finally {
      pq.end();
      this.#release();
    }
  }

  /**
   * After a failure: wait `orderlyRetryDelay` and run the message again
   * (`true`), or, its retries used up or its requester's deadline too near,
   * send it to the dead-letter queue or answer the request with the error,
   * and go on (`false`).
   */
  async #retry(pq: ProcessQueue, message: MessageExt, retry: OrderlyRetry): Promise<boolean> {
    const { options, instance, replier } = this.#core;
    const timers = instance.timers;
    const delay = options.orderlyRetryDelay;
    const exhausted = message.reconsumeTimes >= options.maxReconsumeTimes;
    if (retry.request && (exhausted || timers.now() + delay >= retry.deadline)) {
      // No retry left in time: the requester gets the handler's error.
      await replier.sendError(message, retry.error);
      this.complete(pq, message.queueOffset);
      return false;
    }
    if (!retry.request && exhausted && (await this.#toDeadLetters(pq, message))) {
      this.complete(pq, message.queueOffset);
      return false;
    }
    instance.logger.debug("orderly handler failed; queue suspended, same message again", {
      queue: queueKey(pq.queue),
      msgId: message.msgId,
      reconsumeTimes: message.reconsumeTimes,
      delayMs: delay,
      error: retry.error,
    });
    await sleep(timers, delay, pq.abort.signal);
    message.reconsumeTimes++;
    return true;
  }

  /** CONSUMER_SEND_MSG_BACK with a negative delay level: straight to the group's DLQ. */
  async #toDeadLetters(pq: ProcessQueue, message: MessageExt): Promise<boolean> {
    try {
      await sendMessageBack(this.#core, pq.queue, message, -1);
      return true;
    } catch (err) {
      // Keep it: the queue stays on this message, retried after the delay.
      this.#core.instance.logger.warn("sending to the dead-letter queue failed; retrying", {
        queue: queueKey(pq.queue),
        msgId: message.msgId,
        error: err,
      });
      return false;
    }
  }

  /** Wait for one of the `concurrency` handler slots. */
  async #slot(): Promise<void> {
    while (this.#active >= this.#core.options.concurrency) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    this.#active++;
  }

  #release(): void {
    this.#active--;
    this.#slotWaiters.shift()?.();
    if (this.#active === 0 && this.#idle.length > 0) {
      for (const wake of this.#idle.splice(0)) wake();
    }
  }
}
