/**
 * The brokers' clock as seen from this client, for deadlines both sides
 * agree on. A request's TTL counts from its store time on the broker, so a
 * responder checks it against the broker's clock, not its own: a responder
 * whose clock runs ahead (or a requester whose clock runs behind) would
 * otherwise drop valid requests.
 *
 * Every message pulled carries its store timestamp, taken by the broker
 * before the message was sent here, so `storeTimestamp - localArrival` is a
 * lower bound of the offset between the broker's clock and ours. The
 * consumer feeds only messages returned by a pull sent when it had read the
 * whole queue: such a message was stored after the previous pull answer
 * left the broker, so the bound is tight to within one pull round trip
 * (long polling hands a new message over as it is stored). The estimate is
 * the largest bound seen in the last one to two windows; it errs towards an
 * earlier broker time, so skew never makes a valid request look expired
 * (one just expired may still be handled: its requester drops the reply).
 * Before the first sample, the local clock stands in. A consumer keeps one
 * per broker, since brokers' clocks may differ from each other too.
 *
 * @example
 * ```ts
 * import { BrokerClock } from "./broker_clock.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(10_000); // our clock: 2 s ahead of the broker
 * const clock = new BrokerClock(timers);
 * clock.observe(7_990); // stored at 7 990 on the broker, arrived at 10 000 here
 * clock.observe(7_000); // an older message says less
 * assert.equal(clock.offset, -2_010);
 * assert.equal(clock.now(), 7_990);
 * ```
 *
 * @module
 */

import type { Timers } from "../remoting/timers.ts";

/** Estimate of the brokers' clock from the store timestamps of pulled messages. */
export class BrokerClock {
  readonly #timers: Timers;
  readonly #window: number;
  #current = -Infinity;
  #previous = -Infinity;
  #windowStart: number;

  /**
   * @param timers The local clock.
   * @param window How long a sample counts (ms): between one and two windows.
   */
  constructor(timers: Timers, window = 60_000) {
    this.#timers = timers;
    this.#window = window;
    this.#windowStart = timers.now();
  }

  /**
   * Note a broker timestamp taken before `localTime` (a pulled message's
   * store time, observed on arrival).
   *
   * @param brokerTime The broker's timestamp.
   * @param localTime When it arrived here (local clock).
   */
  observe(brokerTime: number, localTime: number = this.#timers.now()): void {
    if (!Number.isFinite(brokerTime) || brokerTime <= 0) return;
    this.#rotate(localTime);
    const sample = brokerTime - localTime;
    if (sample > this.#current) this.#current = sample;
  }

  /** Broker clock minus local clock (ms); 0 before any sample. */
  get offset(): number {
    this.#rotate(this.#timers.now());
    const best = Math.max(this.#current, this.#previous);
    return Number.isFinite(best) ? best : 0;
  }

  /** The broker's time now, as estimated. */
  now(): number {
    return this.#timers.now() + this.offset;
  }

  /**
   * Local time at which the broker's clock shows `brokerTime`.
   *
   * @param brokerTime A time on the broker's clock.
   * @returns The same instant on the local clock.
   */
  toLocal(brokerTime: number): number {
    return brokerTime - this.offset;
  }

  #rotate(now: number): void {
    if (now - this.#windowStart < this.#window) return;
    const windows = Math.floor((now - this.#windowStart) / this.#window);
    this.#previous = windows === 1 ? this.#current : -Infinity;
    this.#current = -Infinity;
    this.#windowStart += windows * this.#window;
  }
}
