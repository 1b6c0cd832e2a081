/**
 * A bound on the messages of one subscription held in memory: pulled and
 * not yet handled, plus those asked for by pulls under way. A pull asks for
 * no more than the room left (and no more than its queue's fair share of it,
 * so every queue keeps a pull under way when the bound allows it); when
 * there is no room, the queue's pull loop waits until messages are handled.
 * An async iterator (`consumer.messages()`) uses one as its buffer bound.
 *
 * @example
 * ```ts
 * import { FlowLimit } from "./flow_limit.ts";
 * import assert from "node:assert/strict";
 *
 * const flow = new FlowLimit(4);
 * assert.equal(flow.reserve(32, 2), 2); // one of two queues: half of the room
 * assert.equal(flow.reserve(32, 2), 2);
 * assert.equal(flow.reserve(32, 2), 0); // full: pulls wait
 * flow.arrived(); // a message came with the first pull
 * flow.unreserve(2); // that pull is over
 * assert.equal(flow.held, 3);
 * flow.handled();
 * assert.equal(flow.held, 2);
 * ```
 *
 * @module
 */

import { Waiters } from "./_waiters.ts";

/** Room for a bounded number of messages, shared by the pull loops of a subscription. */
export class FlowLimit {
  /** Most messages held at once. */
  readonly capacity: number;
  #used = 0;
  #reserved = 0;
  readonly #waiters = new Waiters();

  /** @param capacity Most messages held at once (at least 1). */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Messages arrived and not yet handled or given up. */
  get used(): number {
    return this.#used;
  }

  /** Messages held or asked for by pulls under way. */
  get held(): number {
    return this.#used + this.#reserved;
  }

  /**
   * Room for one pull: at most `max` messages, and at most `share` (a
   * queue's fair share); 0 when full.
   *
   * @param max Most messages the pull would fetch.
   * @param share Its queue's share of the room.
   * @returns Messages the pull may ask for (reserved until `unreserve`).
   */
  reserve(max: number, share: number): number {
    const n = Math.min(max, Math.max(1, share), this.capacity - this.#used - this.#reserved);
    if (n <= 0) return 0;
    this.#reserved += n;
    return n;
  }

  /** A pull is over: its reservation goes (what arrived was counted by `arrived`). */
  unreserve(n: number): void {
    this.#reserved -= n;
    this.#wake();
  }

  /** A message arrived. */
  arrived(): void {
    this.#used++;
  }

  /** A message was handled or given up: its room is free. */
  handled(): void {
    this.#used--;
    this.#wake();
  }

  /**
   * Wait until there is room, or `signal` aborts.
   *
   * @param signal Ends the wait early.
   * @returns Resolves then.
   */
  waitForRoom(signal: AbortSignal): Promise<void> {
    if (this.held < this.capacity) return Promise.resolve();
    return this.#waiters.wait(signal);
  }

  #wake(): void {
    if (this.#waiters.size > 0 && this.held < this.capacity) this.#waiters.wakeAll();
  }
}
