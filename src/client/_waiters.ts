/**
 * Callers parked until their owner wakes them all, each one free to leave
 * when its own signal aborts (it then leaves the list, so nothing is kept
 * for it). What `SuspendGate` and `FlowLimit` wait on. Internal.
 *
 * @module
 */

/** A list of parked callers. */
export class Waiters {
  #waiting: Array<() => void> = [];

  /** How many wait. */
  get size(): number {
    return this.#waiting.length;
  }

  /**
   * Park until {@linkcode Waiters.wakeAll} or until `signal` aborts (at once
   * when it already has).
   */
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((w) => w !== wake);
        resolve();
      };
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(wake);
    });
  }

  /** Wake everyone parked now. */
  wakeAll(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }
}
