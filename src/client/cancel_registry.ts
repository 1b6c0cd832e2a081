/**
 * The responder's side of cancellation: which requests their requesters gave
 * up on. A cancel for a request whose handler runs aborts that handler's
 * signal (reason: `RequestCancelledError`); a cancel for a request not
 * started yet (still in the consumer's queue, or not even pulled) is
 * remembered, so the request is skipped when its turn comes.
 *
 * Bounded: at most `maxRemembered` cancels are remembered, each until the
 * request's deadline (or `rememberMs` when unknown), the oldest forgotten
 * first.
 *
 * @example
 * ```ts
 * import { CancelRegistry } from "./cancel_registry.ts";
 * import { RequestCancelledError } from "../errors.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new CancelRegistry({ timers: new ManualTimers() });
 * const running = new AbortController();
 * const done = registry.track("c1", running, "rpc");
 * registry.cancel("c1", "rpc");
 * assert.ok(running.signal.reason instanceof RequestCancelledError);
 * done();
 * registry.cancel("c2", "rpc"); // not started yet
 * assert.equal(registry.isCancelled("c2"), true);
 * assert.deepEqual(registry.stats, { cancelsReceived: 2, handlersCancelled: 1 });
 * ```
 *
 * @module
 */

import { RequestCancelledError } from "../errors.ts";
import { systemTimers, type Timers } from "../remoting/timers.ts";

/** Options of {@linkcode CancelRegistry}. */
export interface CancelRegistryOptions {
  /** Clock. @default {systemTimers} */
  timers?: Timers;
  /** Cancels of requests not started that are remembered, at most. @default {10000} */
  maxRemembered?: number;
  /** How long such a cancel is remembered (ms). @default {600000} */
  rememberMs?: number;
}

/**
 * Counters of a {@linkcode CancelRegistry}.
 *
 * @example
 * ```ts
 * import type { CancelRegistryStats } from "./cancel_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const stats: CancelRegistryStats = { cancelsReceived: 3, handlersCancelled: 1 };
 * assert.equal(stats.cancelsReceived - stats.handlersCancelled, 2); // remembered for requests not started
 * ```
 */
export interface CancelRegistryStats {
  /** Cancels received (both routes; a duplicate counts once per arrival). */
  cancelsReceived: number;
  /** Running handlers whose signal a cancel aborted. */
  handlersCancelled: number;
}

/** Cancels for one consumer. */
export class CancelRegistry {
  readonly #timers: Timers;
  readonly #max: number;
  readonly #rememberMs: number;
  readonly #running = new Map<string, { controller: AbortController; topic: string | undefined }>();
  /** Correlation id → when the cancel stops mattering. */
  readonly #cancelled = new Map<string, number>();
  readonly stats: CancelRegistryStats = { cancelsReceived: 0, handlersCancelled: 0 };

  /** @param options Clock and bounds. */
  constructor(options: CancelRegistryOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#max = options.maxRemembered ?? 10_000;
    this.#rememberMs = options.rememberMs ?? 600_000;
  }

  /** Cancels remembered for requests not started. */
  get remembered(): number {
    return this.#cancelled.size;
  }

  /**
   * A requester gave up on a request.
   *
   * @param correlationId The request's correlation id.
   * @param topic Its topic, when known.
   */
  cancel(correlationId: string, topic?: string): void {
    this.stats.cancelsReceived++;
    const running = this.#running.get(correlationId);
    if (running) {
      if (!running.controller.signal.aborted) {
        this.stats.handlersCancelled++;
        running.controller.abort(new RequestCancelledError(correlationId, topic ?? running.topic));
      }
      return;
    }
    const now = this.#timers.now();
    this.#cancelled.delete(correlationId);
    this.#cancelled.set(correlationId, now + this.#rememberMs);
    // Forget the expired at the front, and the oldest beyond the cap.
    for (const [id, until] of this.#cancelled) {
      if (until >= now && this.#cancelled.size <= this.#max) break;
      this.#cancelled.delete(id);
    }
  }

  /**
   * Whether a request was cancelled before its handler started (it is then
   * skipped; the cancel is forgotten).
   *
   * @param correlationId The request's correlation id.
   * @returns `true` to skip it.
   */
  isCancelled(correlationId: string): boolean {
    const until = this.#cancelled.get(correlationId);
    if (until === undefined) return false;
    this.#cancelled.delete(correlationId);
    return until >= this.#timers.now();
  }

  /**
   * A handler starts on a request: a cancel will abort `controller`.
   *
   * @param correlationId The request's correlation id.
   * @param controller The handler's abort controller (its `context.signal`).
   * @param topic The request's topic.
   * @returns Call when the handler is done.
   */
  track(correlationId: string, controller: AbortController, topic?: string): () => void {
    const entry = { controller, topic };
    this.#running.set(correlationId, entry);
    return () => {
      if (this.#running.get(correlationId) === entry) this.#running.delete(correlationId);
    };
  }
}
