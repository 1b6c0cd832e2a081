/**
 * The broker's recent rates, as RocketMQ's StoreStatsService and
 * BrokerStatsManager report them to `mqadmin brokerStatus`, `topicStatus`,
 * `consumerProgress` and the Dashboard: messages stored, store reads that
 * found messages or not, and messages handed to consumers, per second over
 * the last 10 s, minute and 10 minutes; per topic, messages stored per second
 * over the last minute; per group and topic, messages pulled per second over
 * the last minute.
 *
 * @example
 * ```ts
 * import { BrokerMeters } from "./meters.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(1_800_000_000_000);
 * const meters = new BrokerMeters(timers);
 * timers.advance(60_000);
 * meters.stored("orders", 120);
 * meters.read("billing", "orders", 30);
 * meters.read("billing", "orders", 0);
 * assert.equal(meters.topicPutTps("orders"), 2);
 * assert.equal(meters.consumeTps("billing", "orders"), 0.5);
 * assert.equal(meters.runtimeInfo().putTps, "12 2 2");
 * assert.equal(meters.runtimeInfo().getMissTps, "0.1 0.02 0.02");
 * ```
 *
 * @module
 */

import type { Timers } from "../remoting/timers.ts";
import { SlidingWindow } from "../_sliding_window.ts";

/** Windows of the broker-wide rates: 10 minutes of 1 s slots. */
const SPAN = 600;
/** Topics or group-topic pairs with a rate of their own; beyond, the oldest goes. */
const MAX_KEYS = 10_000;

/** A map that forgets its oldest entry beyond `max`. */
function bounded<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    if (map.size >= MAX_KEYS) map.delete(map.keys().next().value!);
    map.set(key, value = make());
  }
  return value;
}

const rounded = (x: number) => String(Math.round(x * 100) / 100);

/** The broker's rates (see the module documentation). */
export class BrokerMeters {
  readonly #timers: Timers;
  readonly #since: number;
  readonly #put = new SlidingWindow(SPAN, 1000);
  readonly #found = new SlidingWindow(SPAN, 1000);
  readonly #missed = new SlidingWindow(SPAN, 1000);
  readonly #transferred = new SlidingWindow(SPAN, 1000);
  readonly #topicPut = new Map<string, SlidingWindow>();
  readonly #groupGet = new Map<string, SlidingWindow>();

  /** @param timers The clock. */
  constructor(timers: Timers) {
    this.#timers = timers;
    this.#since = timers.now();
  }

  /** `messages` messages of `topic` were stored. */
  stored(topic: string, messages: number): void {
    const now = this.#timers.now();
    this.#put.add(now, messages);
    bounded(this.#topicPut, topic, () => new SlidingWindow(60, 1000)).add(now, messages);
  }

  /** A pull of `group` read `topic` and handed over `messages` messages (0: nothing found). */
  read(group: string, topic: string, messages: number): void {
    const now = this.#timers.now();
    if (messages === 0) {
      this.#missed.add(now, 1);
      return;
    }
    this.#found.add(now, 1);
    this.#transferred.add(now, messages);
    bounded(this.#groupGet, `${group}\n${topic}`, () => new SlidingWindow(60, 1000))
      .add(now, messages);
  }

  /** Per second over the last `seconds` (or since the broker started, if shorter). */
  #tps(window: SlidingWindow, seconds: number, now: number): number {
    const elapsed = Math.max(1, Math.min(seconds, Math.ceil((now - this.#since) / 1000)));
    return window.totals(now, seconds).sum / elapsed;
  }

  /** Messages of a topic stored per second over the last minute. */
  topicPutTps(topic: string): number {
    const w = this.#topicPut.get(topic);
    return w ? this.#tps(w, 60, this.#timers.now()) : 0;
  }

  /** Messages of a topic pulled by a group per second over the last minute. */
  consumeTps(group: string, topic: string): number {
    const w = this.#groupGet.get(`${group}\n${topic}`);
    return w ? this.#tps(w, 60, this.#timers.now()) : 0;
  }

  /**
   * The rate keys of GET_BROKER_RUNTIME_INFO, each "<10 s> <1 min> <10 min>"
   * per second, as RocketMQ's StoreStatsService writes them.
   */
  runtimeInfo(): Record<string, string> {
    const now = this.#timers.now();
    const three = (w: SlidingWindow) =>
      [10, 60, 600].map((s) => rounded(this.#tps(w, s, now))).join(" ");
    const total = (s: number) =>
      rounded(this.#tps(this.#found, s, now) + this.#tps(this.#missed, s, now));
    return {
      putTps: three(this.#put),
      getFoundTps: three(this.#found),
      getMissTps: three(this.#missed),
      getTotalTps: [10, 60, 600].map(total).join(" "),
      getTransferedTps: three(this.#transferred),
    };
  }
}
