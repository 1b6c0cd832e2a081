/**
 * The switch behind `PushConsumer.suspend()` and `resume()` (the Java
 * client's `suspend()`/`resume()`): while suspended, the consumer pulls
 * nothing and starts no handler; it keeps its queues, their offsets and its
 * place in the group, and messages already pulled wait for `resume()`.
 *
 * @example
 * ```ts
 * import { SuspendGate } from "./suspend_gate.ts";
 * import assert from "node:assert/strict";
 *
 * const gate = new SuspendGate();
 * gate.suspend();
 * const waiting = gate.wait(new AbortController().signal);
 * assert.equal(gate.suspended, true);
 * gate.resume();
 * await waiting; // resolved by resume()
 * assert.equal(gate.suspended, false);
 * ```
 *
 * @module
 */

import { Waiters } from "./_waiters.ts";

/** Open (consuming) or closed (suspended); waiters wake when it opens. */
export class SuspendGate {
  #suspended = false;
  readonly #waiters = new Waiters();

  /** Whether consumption is suspended. */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** Suspend: pull loops and handler starts wait at the gate. */
  suspend(): void {
    this.#suspended = true;
  }

  /** Resume: wake everyone waiting at the gate. */
  resume(): void {
    this.#suspended = false;
    this.#waiters.wakeAll();
  }

  /**
   * Wait until resumed (at once when not suspended), or until `signal` aborts.
   *
   * @param signal Ends the wait early (a queue dropped, the consumer closed).
   * @returns Resolves when it may go on.
   */
  wait(signal: AbortSignal): Promise<void> {
    if (!this.#suspended) return Promise.resolve();
    return this.#waiters.wait(signal);
  }
}
