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
