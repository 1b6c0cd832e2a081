/**
 * Which consumer channels pulled each queue lately, by group: where the
 * broker forwards a requester's cancel (the consumer holding the request,
 * plus the previous owner for a while after a rebalance). Entries older than
 * `window` are dropped when read; a closed channel is removed at once.
 *
 * @example
 * ```ts
 * import { QueuePullers } from "./queue_pullers.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(1000);
 * const pullers = new QueuePullers<string>({ timers, window: 60_000 });
 * pullers.recordPull("calc", "rpc", 2, "consumer-channel");
 * assert.deepEqual(pullers.holders("rpc", 2), [{ group: "calc", channel: "consumer-channel" }]);
 * timers.advance(60_001);
 * assert.deepEqual(pullers.holders("rpc", 2), []);
 * ```
 *
 * @module
 */

import { systemTimers, type Timers } from "../remoting/timers.ts";

/** Options of {@linkcode QueuePullers}. */
export interface QueuePullersOptions {
  /** Clock. @default {systemTimers} */
  timers?: Timers;
  /** How long a pull counts its channel as a holder of the queue (ms). @default {120000} */
  window?: number;
}

/**
 * Queue pullers of one broker.
 *
 * @typeParam C The channel type.
 */
export class QueuePullers<C> {
  readonly #timers: Timers;
  readonly #window: number;
  /** `topic\u0001queueId` → group → channel → last pull time. */
  readonly #pullers = new Map<string, Map<string, Map<C, number>>>();

  /** @param options Clock and window. */
  constructor(options: QueuePullersOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#window = options.window ?? 120_000;
  }

  /**
   * Note that a consumer channel pulled a queue.
   *
   * @param group The consumer group.
   * @param topic The topic.
   * @param queueId The queue.
   * @param channel The channel.
   */
  recordPull(group: string, topic: string, queueId: number, channel: C): void {
    const key = `${topic}\u0001${queueId}`;
    let groups = this.#pullers.get(key);
    if (!groups) {
      groups = new Map();
      this.#pullers.set(key, groups);
    }
    let channels = groups.get(group);
    if (!channels) {
      channels = new Map();
      groups.set(group, channels);
    }
    channels.set(channel, this.#timers.now());
  }

  /**
   * The channels that pulled a queue lately, by group.
   *
   * @param topic The topic.
   * @param queueId The queue.
   * @returns One entry per group and channel.
   */
  holders(topic: string, queueId: number): Array<{ group: string; channel: C }> {
    const groups = this.#pullers.get(`${topic}\u0001${queueId}`);
    if (!groups) return [];
    const since = this.#timers.now() - this.#window;
    const out: Array<{ group: string; channel: C }> = [];
    for (const [group, channels] of groups) {
      for (const [channel, at] of channels) {
        if (at < since) channels.delete(channel);
        else out.push({ group, channel });
      }
    }
    return out;
  }

  /**
   * Forget a channel (it closed).
   *
   * @param channel The channel.
   */
  removeChannel(channel: C): void {
    for (const [key, groups] of this.#pullers) {
      for (const [group, channels] of groups) {
        channels.delete(channel);
        if (channels.size === 0) groups.delete(group);
      }
      if (groups.size === 0) this.#pullers.delete(key);
    }
  }
}
