/**
 * One assigned queue on the consumer side: the offsets pulled and not yet
 * handled, in offset order, so the offset committed is always the oldest one
 * still open (nothing handled is skipped, nothing unhandled is committed).
 *
 * @example
 * ```ts
 * import { ProcessQueue } from "./process_queue.ts";
 * import assert from "node:assert/strict";
 *
 * const pq = new ProcessQueue({ topic: "t", brokerName: "b", queueId: 0 });
 * pq.add(10);
 * pq.add(11);
 * assert.equal(pq.complete(11), 10); // 10 still open: commit stays at 10
 * assert.equal(pq.complete(10), 12);
 * ```
 *
 * @module
 */

import { ClientClosedError } from "../errors.ts";
import type { MessageQueue } from "./message.ts";

/** One assigned queue: pulled messages waiting and in flight, in offset order. */
export class ProcessQueue {
  readonly queue: MessageQueue;
  readonly abort = new AbortController();
  nextOffset = 0;
  /** The queue's end as the last pull response said; -1 before the first. */
  maxOffset = -1;
  /** Offsets received and not yet done, in increasing order. */
  readonly #offsets: number[] = [];
  readonly #done = new Set<number>();
  #head = 0;
  #maxSeen = -1;
  #waiters: Array<() => void> = [];
  #running = 0;
  #idleWaiters: Array<() => void> = [];
  /**
   * Set once the queue's offset was committed for the last time (after a
   * release): later completions no longer move it.
   */
  retired = false;
  /** Whether this client holds the queue's broker lock (queue handover "lock"). */
  locked = false;
  /** When a pull of this queue was last sent (ms since the epoch; 0: never). */
  lastPullTimestamp = 0;
  /** When a message of this queue was last given to a handler or the loop (0: never). */
  lastConsumeTimestamp = 0;
  /** When the lock was last granted or renewed (ms since the epoch; 0: never). */
  lastLockTimestamp = 0;
  /**
   * Pulled without the lock: it stayed refused for `handoverTimeout` (a
   * crashed holder's lock outlives it on RocketMQ); renewals keep trying.
   */
  lockForced = false;
  /** A lock call under way for this queue. */
  lockAttempt: Promise<unknown> | undefined;

  constructor(queue: MessageQueue) {
    this.queue = queue;
  }

  get dropped(): boolean {
    return this.abort.signal.aborted;
  }

  get cached(): number {
    return this.#offsets.length - this.#head - this.#done.size;
  }

  add(offset: number): void {
    this.#offsets.push(offset);
    if (offset > this.#maxSeen) this.#maxSeen = offset;
  }

  /** Mark an offset handled; returns the offset to commit (next to consume). */
  complete(offset: number): number {
    this.#done.add(offset);
    while (this.#head < this.#offsets.length && this.#done.has(this.#offsets[this.#head]!)) {
      this.#done.delete(this.#offsets[this.#head]!);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#offsets.length) {
      this.#offsets.splice(0, this.#head);
      this.#head = 0;
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return this.commitOffset();
  }

  /** Next offset to consume: the oldest not yet handled, or past everything seen. */
  commitOffset(): number {
    return this.#head < this.#offsets.length
      ? this.#offsets[this.#head]!
      : Math.max(this.#maxSeen + 1, 0);
  }

  /** Resolves when a message completes or the queue is dropped. */
  waitForRoom(): Promise<void> {
    if (this.dropped) return Promise.resolve();
    // drop() wakes every waiter, so no abort listener is needed (one per wait
    // would pile up on the signal while the queue stays full).
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** This queue's messages being consumed (handler, reply, commit or send-back under way). */
  get running(): number {
    return this.#running;
  }

  /** Consumption of one of this queue's messages starts. */
  begin(): void {
    this.#running++;
  }

  /** Consumption of one of this queue's messages ended (completed, or given up). */
  end(): void {
    this.#running--;
    if (this.#running === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves when none of this queue's messages is being consumed. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stop pulling (and wake whoever waits for room). */
  drop(): void {
    this.abort.abort(new ClientClosedError("queue dropped"));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
