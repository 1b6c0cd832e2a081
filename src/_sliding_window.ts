/**
 * Sums and counts over a sliding window of equal time slots (60 slots of
 * 1 s: the last minute), for the rates a consumer and the broker report.
 * Fixed size whatever the traffic; a slot is cleared when time moves past it.
 *
 * @example
 * ```ts
 * import { SlidingWindow } from "./_sliding_window.ts";
 * import assert from "node:assert/strict";
 *
 * const w = new SlidingWindow(60, 1000);
 * w.add(10_000, 5);
 * w.add(10_500, 7);
 * assert.deepEqual(w.totals(11_000), { sum: 12, count: 2 });
 * assert.deepEqual(w.totals(11_000, 1), { sum: 0, count: 0 }); // only the current second
 * assert.deepEqual(w.totals(70_500), { sum: 0, count: 0 }); // a minute later
 * ```
 *
 * @module
 */

/** Sums and counts over the last `slots` periods of `slotMs`. */
export class SlidingWindow {
  readonly #sums: Float64Array;
  readonly #counts: Float64Array;
  readonly #slotMs: number;
  /** Absolute number of the newest slot (time / slotMs); -Infinity before the first. */
  #newest = -Infinity;

  /**
   * @param slots How many slots the window holds.
   * @param slotMs How long each slot lasts (ms).
   */
  constructor(slots: number, slotMs: number) {
    this.#sums = new Float64Array(slots);
    this.#counts = new Float64Array(slots);
    this.#slotMs = slotMs;
  }

  #index(slot: number): number {
    const n = this.#sums.length;
    return ((slot % n) + n) % n;
  }

  /** Clear the slots that fell out of the window by `now`; the current slot's number. */
  #advance(now: number): number {
    const slot = Math.floor(now / this.#slotMs);
    if (slot > this.#newest) {
      const stale = Math.min(this.#sums.length, slot - this.#newest);
      for (let i = 0; i < stale; i++) {
        const k = this.#index(slot - i);
        this.#sums[k] = 0;
        this.#counts[k] = 0;
      }
      this.#newest = slot;
    }
    return slot;
  }

  /**
   * Add a value at time `now`.
   *
   * @param now The time (ms; never earlier than a previous call's by more than the window).
   * @param value Added to the slot's sum.
   * @param count Added to the slot's count.
   */
  add(now: number, value: number, count = 1): void {
    const k = this.#index(this.#advance(now));
    this.#sums[k]! += value;
    this.#counts[k]! += count;
  }

  /**
   * Sum and count of the window at time `now`, or of its newest `slots`
   * slots (the current one included).
   *
   * @param now The time (ms).
   * @param slots How many of the newest slots. @default {all}
   * @returns The sum of the values and of the counts.
   */
  totals(now: number, slots: number = this.#sums.length): { sum: number; count: number } {
    const newest = this.#advance(now);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < Math.min(slots, this.#sums.length); i++) {
      const k = this.#index(newest - i);
      sum += this.#sums[k]!;
      count += this.#counts[k]!;
    }
    return { sum, count };
  }
}
