/**
 * The clock and timers used by the remoting, client and broker layers,
 * injectable so that tests can drive time by hand.
 *
 * @example A manual clock for tests
 * ```ts
 * import { ManualTimers } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers();
 * let fired = false;
 * timers.setTimeout(() => fired = true, 100);
 * timers.advance(99);
 * assert.equal(fired, false);
 * timers.advance(1);
 * assert.equal(fired, true);
 * ```
 *
 * @module
 */

/**
 * An opaque timer handle.
 *
 * @example
 * ```ts
 * import { ManualTimers, type TimerHandle } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers();
 * let fired = false;
 * const handle: TimerHandle = timers.setTimeout(() => fired = true, 10);
 * timers.clearTimeout(handle); // only ever passed back to the same Timers
 * timers.advance(10);
 * assert.equal(fired, false);
 * ```
 */
export type TimerHandle = unknown;

/**
 * Clock and one-shot timers.
 *
 * @example Code written against Timers runs on a manual clock in tests
 * ```ts
 * import { ManualTimers, type Timers } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * function after(timers: Timers, ms: number): Promise<number> {
 *   return new Promise((resolve) => timers.setTimeout(() => resolve(timers.now()), ms));
 * }
 * const timers = new ManualTimers(1_000);
 * const done = after(timers, 250);
 * timers.advance(250);
 * assert.equal(await done, 1_250);
 * ```
 */
export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock and timers of the runtime.
 *
 * @example
 * ```ts
 * import { systemTimers } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const handle = systemTimers.setTimeout(() => {}, 1000);
 * systemTimers.clearTimeout(handle);
 * assert.ok(systemTimers.now() > 0);
 * ```
 */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Timers driven by {@linkcode ManualTimers.advance}, for deterministic tests.
 *
 * @example
 * ```ts
 * import { ManualTimers } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(1_000);
 * const order: number[] = [];
 * timers.setTimeout(() => order.push(2), 20);
 * timers.setTimeout(() => order.push(1), 10);
 * timers.advance(30);
 * assert.deepEqual(order, [1, 2]);
 * assert.equal(timers.now(), 1_030);
 * ```
 */
export class ManualTimers implements Timers {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, ManualTimer>();

  /**
   * Create manual timers starting at `start`.
   *
   * @param start The initial time, in ms since the epoch.
   */
  constructor(start = 0) {
    this.#now = start;
  }

  /** The current manual time. */
  now(): number {
    return this.#now;
  }

  /** Schedule `fn` at now + `ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + Math.max(0, ms), seq, fn });
    return seq;
  }

  /** Cancel a timer. */
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Move time forward by `ms`, firing due timers in order of due time.
   *
   * @param ms Milliseconds to advance.
   */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const timer of this.#timers.values()) {
        if (
          timer.at <= target &&
          (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))
        ) {
          next = timer;
        }
      }
      if (!next) break;
      this.#timers.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }
}

/**
 * One deadline of a {@linkcode DeadlineQueue}; pass it back to
 * {@linkcode DeadlineQueue.cancel}.
 *
 * @example
 * ```ts
 * import { type Deadline, DeadlineQueue, ManualTimers } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const queue = new DeadlineQueue(new ManualTimers(0));
 * const deadline: Deadline = queue.add(100, () => {});
 * assert.equal(deadline.at, 100);
 * ```
 */
export interface Deadline {
  /** When it is due (ms, on the queue's clock). */
  readonly at: number;
}

interface Entry extends Deadline {
  seq: number;
  /** Undefined once fired or cancelled. */
  fn: (() => void) | undefined;
}

/**
 * Many one-shot deadlines on one runtime timer: what a table of calls in
 * flight needs, where nearly every deadline is cancelled long before it is
 * due. Adding and cancelling cost a heap push and a flag, not a timer each;
 * the one timer is set for the earliest deadline and moved only when an
 * earlier one arrives, and cancelled deadlines are dropped when they reach
 * the front. Deadlines fire in order of due time (then of adding), on time:
 * never later than a timer of their own would.
 *
 * @example
 * ```ts
 * import { DeadlineQueue, ManualTimers } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(0);
 * const queue = new DeadlineQueue(timers);
 * const fired: string[] = [];
 * const a = queue.add(50, () => fired.push("a"));
 * queue.add(100, () => fired.push("b"));
 * queue.cancel(a);
 * timers.advance(99);
 * assert.deepEqual(fired, []);
 * timers.advance(1);
 * assert.deepEqual(fired, ["b"]);
 * assert.equal(queue.size, 0);
 * assert.equal(timers.pending, 0); // no timer left behind once nothing is due
 * ```
 */
export class DeadlineQueue {
  readonly #timers: Timers;
  readonly #heap: Entry[] = [];
  #live = 0;
  #seq = 0;
  #timer: TimerHandle = undefined;
  #armedAt = Infinity;
  #firing = false;

  /**
   * Create an empty queue.
   *
   * @param timers Clock and timer to run on.
   */
  constructor(timers: Timers = systemTimers) {
    this.#timers = timers;
  }

  /** Deadlines scheduled and not yet fired or cancelled. */
  get size(): number {
    return this.#live;
  }

  /**
   * Run `fn` once `ms` milliseconds have passed, unless cancelled first.
   *
   * @param ms Delay; negative counts as 0.
   * @param fn Runs once, when due.
   * @returns The deadline, to cancel it.
   */
  add(ms: number, fn: () => void): Deadline {
    const entry: Entry = { at: this.#timers.now() + Math.max(0, ms), seq: this.#seq++, fn };
    this.#push(entry);
    this.#live++;
    if (entry.at < this.#armedAt && !this.#firing) this.#arm(entry.at);
    return entry;
  }

  /**
   * Cancel a deadline; one that fired or was cancelled already is ignored.
   *
   * @param deadline What {@linkcode DeadlineQueue.add} returned.
   */
  cancel(deadline: Deadline): void {
    const entry = deadline as Entry;
    if (entry.fn === undefined) return;
    entry.fn = undefined;
    this.#live--;
    if (this.#live === 0) {
      // Nothing left to wait for: no timer keeps the process up.
      this.#heap.length = 0;
      this.#disarm();
    } else if (this.#heap.length > 1024 && this.#heap.length > 2 * this.#live) {
      this.#compact();
    }
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.#timers.now();
    const heap = this.#heap;
    let error: unknown;
    let failed = false;
    // Deadlines added by the callbacks are armed for below, with the rest.
    this.#firing = true;
    try {
      while (heap.length > 0 && heap[0]!.at <= now) {
        const entry = this.#pop();
        const fn = entry.fn;
        if (fn === undefined) continue;
        entry.fn = undefined;
        this.#live--;
        try {
          fn();
        } catch (err) {
          if (!failed) error = err;
          failed = true;
        }
      }
    } finally {
      this.#firing = false;
    }
    while (heap.length > 0 && heap[0]!.fn === undefined) this.#pop();
    if (heap.length > 0) this.#arm(heap[0]!.at);
    if (failed) throw error;
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedAt = at;
    this.#timer = this.#timers.setTimeout(
      () => this.#fire(),
      Math.max(0, at - this.#timers.now()),
    );
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #compact(): void {
    const live = this.#heap.filter((e) => e.fn !== undefined);
    this.#heap.length = 0;
    for (const entry of live) this.#push(entry);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
        if (!before(heap[child]!, last)) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
