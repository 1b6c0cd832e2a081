/**
 * A consumer's recent rates per topic, as the Java client's
 * `ConsumerStatsManager` keeps them and `GET_CONSUMER_RUNNING_INFO` reports
 * them (the `statusTable` that `mqadmin consumerStatus` and the Dashboard
 * print): pull round trip and messages pulled per second, handler time and
 * messages handled or failed per second, over the last minute, and messages
 * failed over the last hour.
 *
 * @example
 * ```ts
 * import { TopicRates } from "./consume_stats.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(0);
 * const rates = new TopicRates(timers);
 * timers.advance(60_000);
 * rates.pulled(4, 32); // one pull: 4 ms, 32 messages
 * rates.consumed(2, true);
 * rates.consumed(6, false);
 * const status = rates.status();
 * assert.equal(status.pullRT, 4);
 * assert.equal(status.pullTPS, 32 / 60);
 * assert.equal(status.consumeRT, 4);
 * assert.equal(status.consumeFailedMsgs, 1);
 * ```
 *
 * @module
 */

import type { Timers } from "../remoting/timers.ts";
import { SlidingWindow } from "../_sliding_window.ts";
import type { ConsumeStatus } from "../codec/admin_bodies.ts";

const MINUTE = 60_000;

/**
 * Recent rates of one topic on one consumer (see the module documentation).
 * Rates per second divide by the last minute, or by the time since this
 * object was made when that is shorter.
 */
export class TopicRates {
  readonly #timers: Timers;
  readonly #since: number;
  readonly #pullRt = new SlidingWindow(60, 1000);
  readonly #pulledMsgs = new SlidingWindow(60, 1000);
  readonly #consumeRt = new SlidingWindow(60, 1000);
  readonly #ok = new SlidingWindow(60, 1000);
  readonly #failed = new SlidingWindow(60, 1000);
  readonly #failedHour = new SlidingWindow(60, MINUTE);

  /** @param timers The clock. */
  constructor(timers: Timers) {
    this.#timers = timers;
    this.#since = timers.now();
  }

  /** A pull answered after `rtMs` with `messages` messages. */
  pulled(rtMs: number, messages: number): void {
    const now = this.#timers.now();
    this.#pullRt.add(now, rtMs);
    this.#pulledMsgs.add(now, messages);
  }

  /**
   * A message handled in `rtMs` (`undefined`: not timed, as a message
   * iterated rather than given to a handler), successfully or not.
   */
  consumed(rtMs: number | undefined, ok: boolean): void {
    const now = this.#timers.now();
    if (rtMs !== undefined) this.#consumeRt.add(now, rtMs);
    if (ok) {
      this.#ok.add(now, 1);
    } else {
      this.#failed.add(now, 1);
      this.#failedHour.add(now, 1);
    }
  }

  /** The rates now, in the shape of Java's `ConsumeStatus`. */
  status(): ConsumeStatus {
    const now = this.#timers.now();
    const seconds = Math.max(1, Math.min(MINUTE, now - this.#since)) / 1000;
    const avg = (w: SlidingWindow) => {
      const { sum, count } = w.totals(now);
      return count === 0 ? 0 : sum / count;
    };
    return {
      pullRT: avg(this.#pullRt),
      pullTPS: this.#pulledMsgs.totals(now).sum / seconds,
      consumeRT: avg(this.#consumeRt),
      consumeOKTPS: this.#ok.totals(now).sum / seconds,
      consumeFailedTPS: this.#failed.totals(now).sum / seconds,
      consumeFailedMsgs: this.#failedHour.totals(now).sum,
    };
  }
}
