/**
 * A correlation table: id → pending call, each with its own deadline (all on
 * one runtime timer, see {@linkcode DeadlineQueue}) and optional `AbortSignal`. The remoting layer keys it by opaque; the request
 * tracker keys it by correlation id.
 *
 * Every entry is settled exactly once: by its answer, its timeout, its signal,
 * or `rejectAll()`. An answer for an id that is no longer pending is counted
 * as late (or duplicate) and dropped.
 *
 * @example
 * ```ts
 * import { PendingTable } from "./pending.ts";
 * import { ManualTimers } from "./timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers();
 * const table = new PendingTable<number, string>({ timers });
 * const answer = table.add(1, { timeout: 100, onTimeout: () => new Error("timeout") });
 * assert.equal(table.settle(1, "ok"), true);
 * assert.equal(await answer, "ok");
 * assert.equal(table.settle(1, "again"), false);
 * assert.equal(table.stats.late, 1);
 * ```
 *
 * @module
 */

import { type Deadline, DeadlineQueue, systemTimers, type Timers } from "./timers.ts";

/** How one pending entry ends when nobody answers. */
export interface PendingOptions {
  /** Milliseconds until `onTimeout` rejects the entry. */
  timeout: number;
  /** Builds the rejection on timeout (create the error at call time for a useful stack). */
  onTimeout: () => unknown;
  /** Aborts the entry with `onAbort(signal.reason)`. */
  signal?: AbortSignal | undefined;
  /** Builds the rejection on abort. Defaults to the signal's reason. */
  onAbort?: (reason: unknown) => unknown;
}

/** Counters of a {@linkcode PendingTable}. */
export interface PendingStats {
  /** Entries settled by an answer. */
  answered: number;
  /** Entries rejected by their timeout. */
  timedOut: number;
  /** Entries rejected by their signal. */
  aborted: number;
  /** Answers for ids that were not pending (late or duplicate). */
  late: number;
}

interface Entry<V> {
  resolve(value: V): void;
  reject(reason: unknown): void;
  deadline: Deadline;
  signal: AbortSignal | undefined;
  onAbortListener: (() => void) | undefined;
}

/** Options of {@linkcode PendingTable}. */
export interface PendingTableOptions {
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
}

/**
 * A table of pending calls keyed by `K`, settled with a `V`.
 *
 * @typeParam K Key type (opaque number, correlation id string).
 * @typeParam V Answer type.
 *
 * @example Reject everything on close
 * ```ts
 * import { PendingTable } from "./pending.ts";
 * import assert from "node:assert/strict";
 *
 * const table = new PendingTable<string, number>();
 * const p = table.add("a", { timeout: 10_000, onTimeout: () => new Error("t") });
 * table.rejectAll(new Error("closed"));
 * await assert.rejects(p, /closed/);
 * assert.equal(table.size, 0);
 * ```
 */
export class PendingTable<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  /** One runtime timer for all the table's timeouts, not one per entry. */
  readonly #deadlines: DeadlineQueue;
  readonly #stats: PendingStats = { answered: 0, timedOut: 0, aborted: 0, late: 0 };

  /**
   * Create the instance.
   *
   * @param options Clock and timers.
   */
  constructor(options: PendingTableOptions = {}) {
    this.#deadlines = new DeadlineQueue(options.timers ?? systemTimers);
  }

  /** Number of pending entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** A snapshot of the counters. */
  get stats(): PendingStats {
    return { ...this.#stats };
  }

  /**
   * Whether an id is pending.
   *
   * @param id The id.
   * @returns `true` while the entry waits for its answer.
   */
  has(id: K): boolean {
    return this.#entries.has(id);
  }

  /**
   * Register a pending entry.
   *
   * @param id The id; must not be pending already.
   * @param options Timeout and abort handling.
   * @returns A promise settled exactly once.
   * @throws {RangeError} When the id is already pending (a caller bug).
   */
  add(id: K, options: PendingOptions): Promise<V> {
    if (this.#entries.has(id)) throw new RangeError(`id ${String(id)} is already pending`);
    let resolve!: (value: V) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<V>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const signal = options.signal;
    if (signal?.aborted) {
      this.#stats.aborted++;
      reject(options.onAbort ? options.onAbort(signal.reason) : signal.reason);
      return promise;
    }
    const entry: Entry<V> = {
      resolve,
      reject,
      signal,
      onAbortListener: undefined,
      deadline: this.#deadlines.add(options.timeout, () => {
        if (this.#remove(id) !== entry) return;
        this.#stats.timedOut++;
        reject(options.onTimeout());
      }),
    };
    if (signal) {
      entry.onAbortListener = () => {
        if (this.#remove(id) !== entry) return;
        this.#stats.aborted++;
        reject(options.onAbort ? options.onAbort(signal.reason) : signal.reason);
      };
      signal.addEventListener("abort", entry.onAbortListener, { once: true });
    }
    this.#entries.set(id, entry);
    return promise;
  }

  /**
   * Settle an entry with its answer.
   *
   * @param id The id.
   * @param value The answer.
   * @returns `false` when the id was not pending (the answer is counted as late).
   */
  settle(id: K, value: V): boolean {
    const entry = this.#remove(id);
    if (!entry) {
      this.#stats.late++;
      return false;
    }
    this.#stats.answered++;
    entry.resolve(value);
    return true;
  }

  /**
   * Reject one entry now.
   *
   * @param id The id.
   * @param reason The rejection.
   * @returns `false` when the id was not pending.
   */
  reject(id: K, reason: unknown): boolean {
    const entry = this.#remove(id);
    if (!entry) return false;
    entry.reject(reason);
    return true;
  }

  /**
   * Reject every pending entry (on close).
   *
   * @param reason The rejection, or a function building one per id.
   */
  rejectAll(reason: unknown | ((id: K) => unknown)): void {
    const ids = [...this.#entries.keys()];
    for (const id of ids) {
      const entry = this.#remove(id);
      if (entry) {
        entry.reject(typeof reason === "function" ? (reason as (id: K) => unknown)(id) : reason);
      }
    }
  }

  #remove(id: K): Entry<V> | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    this.#entries.delete(id);
    this.#deadlines.cancel(entry.deadline);
    if (entry.signal && entry.onAbortListener) {
      entry.signal.removeEventListener("abort", entry.onAbortListener);
    }
    return entry;
  }
}
