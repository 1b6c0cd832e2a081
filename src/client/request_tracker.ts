/**
 * The request tracker of RIP-16: correlation id → the request waiting for
 * its reply. One timer per request (so a timeout fires at its deadline, not
 * at the next once-a-second scan as in the Java client), settled exactly
 * once, and removed on every path: reply, timeout, abort, send failure,
 * close. Replies for ids that are no longer tracked are counted and dropped.
 *
 * @example
 * ```ts
 * import { RequestTracker } from "./request_tracker.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import { RequestTimeoutError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(1_000);
 * const tracker = new RequestTracker({ timers });
 * const { reply } = tracker.track("c1", { topic: "rpc", timeout: 50 });
 * tracker.stored("c1", { brokerName: "b", queueId: 0, queueOffset: 7, msgId: "M" });
 * timers.advance(50);
 * const err = await reply.catch((e) => e);
 * assert.ok(err instanceof RequestTimeoutError);
 * assert.equal(err.stage, "awaiting-reply");
 * assert.equal(tracker.size, 0);
 * ```
 *
 * @module
 */

import {
  RequestAbortedError,
  type RequestStage,
  type RequestTimeoutDetails,
  RequestTimeoutError,
  TooManyRequestsError,
} from "../errors.ts";
import { PendingTable } from "../remoting/pending.ts";
import { systemTimers, type Timers } from "../remoting/timers.ts";
import type { ReplyMessage } from "./message.ts";

/** How many finished correlation ids are remembered to tell late replies from foreign ones. */
const RECENT_IDS = 16_384;

/** Where a tracked request was stored. */
export type StoredAt = NonNullable<RequestTimeoutDetails["stored"]>;

interface Entry {
  topic: string;
  timeout: number;
  sentAt: number;
  stage: RequestStage;
  stored: StoredAt | undefined;
  detail: string | undefined;
  callSite: { stack?: string };
}

/** Frames kept of a request's call site: the caller and a few above it. */
const CALL_SITE_FRAMES = 6;

type CaptureStackTrace = (target: object, above?: (...args: never[]) => unknown) => void;

/**
 * V8's `Error.captureStackTrace` with a few frames costs a third of an
 * `Error`'s ten in Node (the same in Deno); Bun's costs tens of times more
 * than its `Error`, which captures lazily.
 */
const capture = "Bun" in globalThis
  ? undefined
  : (Error as { captureStackTrace?: CaptureStackTrace }).captureStackTrace;

/**
 * The stack of whoever called `above` (frames of `above` and below left
 * out, where the engine can), for the stack of a later rejection.
 */
function captureCallSite(above: (...args: never[]) => unknown): { stack?: string } {
  if (typeof capture !== "function") return new Error("request");
  const site: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = CALL_SITE_FRAMES;
  try {
    capture(site, above);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return site;
}

/** Options of {@linkcode RequestTracker}. */
export interface RequestTrackerOptions {
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /** Cap on requests in flight; beyond it `track()` throws. @default {Infinity} */
  maxInFlight?: number;
}

/**
 * Counters of a {@linkcode RequestTracker}.
 *
 * @example
 * ```ts
 * import { RequestTracker, type RequestTrackerStats } from "./request_tracker.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(0);
 * const tracker = new RequestTracker({ timers, maxInFlight: 1 });
 * const { reply } = tracker.track("c1", { topic: "rpc", timeout: 50 });
 * assert.throws(() => tracker.track("c2", { topic: "rpc", timeout: 50 })); // over the cap
 * timers.advance(50);
 * await reply.catch(() => {});
 * const stats: RequestTrackerStats = tracker.stats;
 * assert.deepEqual(stats, {
 *   inFlight: 0, replied: 0, timedOut: 1, aborted: 0, lateReplies: 0, foreignReplies: 0, rejectedOverCap: 1,
 * });
 * ```
 */
export interface RequestTrackerStats {
  /** Requests waiting for their reply now. */
  inFlight: number;
  /** Requests answered by a reply. */
  replied: number;
  /** Requests that timed out. */
  timedOut: number;
  /** Requests aborted by their signal. */
  aborted: number;
  /** Replies for requests no longer tracked (late or duplicate), dropped. */
  lateReplies: number;
  /**
   * Replies to requests this client never sent, dropped: another client
   * shares this client's id (see {@linkcode RequestTracker.noteForeignReply}).
   */
  foreignReplies: number;
  /** Requests refused because `maxInFlight` was reached. */
  rejectedOverCap: number;
}

/** Tracks requests waiting for replies. */
export class RequestTracker {
  readonly #timers: Timers;
  readonly #maxInFlight: number;
  readonly #entries = new Map<string, Entry>();
  readonly #pending: PendingTable<string, ReplyMessage>;
  #rejectedOverCap = 0;
  #errorReplies = 0;
  #lateErrorReplies = 0;
  #foreignReplies = 0;
  /** Correlation ids tracked lately (oldest first), to tell late replies from foreign ones. */
  readonly #recent = new Set<string>();

  /**
   * Create the instance.
   *
   * @param options Clock, timers and the in-flight cap.
   */
  constructor(options: RequestTrackerOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#maxInFlight = options.maxInFlight ?? Infinity;
    this.#pending = new PendingTable({ timers: this.#timers });
  }

  /** Requests in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** A snapshot of the counters. */
  get stats(): RequestTrackerStats {
    const s = this.#pending.stats;
    return {
      inFlight: this.#pending.size,
      replied: s.answered + this.#errorReplies,
      timedOut: s.timedOut,
      aborted: s.aborted,
      lateReplies: s.late + this.#lateErrorReplies,
      foreignReplies: this.#foreignReplies,
      rejectedOverCap: this.#rejectedOverCap,
    };
  }

  /**
   * Whether a correlation id is being tracked.
   *
   * @param correlationId The id.
   * @returns `true` while it waits.
   */
  has(correlationId: string): boolean {
    return this.#pending.has(correlationId);
  }

  /**
   * Start tracking a request, before it is sent (a reply may arrive before
   * the send is acknowledged).
   *
   * @param correlationId The request's `CORRELATION_ID`.
   * @param options Topic, timeout and abort signal.
   * @returns The reply promise.
   * @throws {TooManyRequestsError} When `maxInFlight` requests are already waiting.
   */
  track(
    correlationId: string,
    options: { topic: string; timeout: number; signal?: AbortSignal | undefined },
  ): { reply: Promise<ReplyMessage> } {
    if (this.#pending.size >= this.#maxInFlight) {
      this.#rejectedOverCap++;
      throw new TooManyRequestsError(this.#maxInFlight);
    }
    const entry: Entry = {
      topic: options.topic,
      timeout: options.timeout,
      sentAt: this.#timers.now(),
      stage: "sending",
      stored: undefined,
      detail: undefined,
      // Captured now so that a later rejection points at the caller.
      callSite: captureCallSite(this.track),
    };
    this.#entries.set(correlationId, entry);
    const reply = this.#pending.add(correlationId, {
      timeout: options.timeout,
      signal: options.signal,
      onTimeout: () => this.#timeoutError(correlationId, entry),
      onAbort: (reason) => new RequestAbortedError(correlationId, { cause: reason }),
    });
    const forget = () => {
      if (this.#entries.get(correlationId) === entry) this.#entries.delete(correlationId);
      this.#recent.add(correlationId);
      if (this.#recent.size > RECENT_IDS) {
        this.#recent.delete(this.#recent.values().next().value!);
      }
    };
    reply.then(forget, forget);
    return { reply };
  }

  /**
   * The time a tracked request started.
   *
   * @param correlationId The id.
   * @returns ms since the epoch, or `undefined`.
   */
  sentAt(correlationId: string): number | undefined {
    return this.#entries.get(correlationId)?.sentAt;
  }

  /**
   * Record that the broker stored the request.
   *
   * @param correlationId The id.
   * @param stored Where it was stored.
   */
  stored(correlationId: string, stored: StoredAt): void {
    const entry = this.#entries.get(correlationId);
    if (!entry || entry.stage !== "sending") return;
    entry.stage = "awaiting-reply";
    entry.stored = stored;
  }

  /**
   * Record evidence that replies may not reach this client (a connection to
   * a broker that pushes replies was lost). Affects every request already
   * stored and waiting.
   *
   * @param detail What happened.
   */
  replyPathLost(detail: string): void {
    for (const entry of this.#entries.values()) {
      if (entry.stage === "awaiting-reply") {
        entry.stage = "reply-undeliverable";
        entry.detail = detail;
      }
    }
  }

  /**
   * Settle a request with its reply.
   *
   * @param correlationId The id from the reply's properties.
   * @param reply The reply.
   * @returns `false` when the id is not tracked (counted as a late reply).
   */
  settle(correlationId: string, reply: ReplyMessage): boolean {
    return this.#pending.settle(correlationId, reply);
  }

  /** Count a reply that arrived for a request no longer tracked. */
  noteLateReply(): void {
    this.#lateErrorReplies++;
  }

  /**
   * Whether a correlation id is tracked now or was among the last requests
   * tracked: a reply for any other id answers a request this client never
   * sent.
   *
   * @param correlationId The id.
   * @returns `true` for ids of this tracker's recent requests.
   */
  knows(correlationId: string): boolean {
    return this.#pending.has(correlationId) || this.#recent.has(correlationId);
  }

  /**
   * Count a reply to a request this client never sent: another client uses
   * this client's id (with RocketMQ, whichever heartbeated last gets the
   * replies of both).
   *
   * @returns The number of such replies so far.
   */
  noteForeignReply(): number {
    return ++this.#foreignReplies;
  }

  /**
   * Fail one request now (send failure, undecodable reply).
   *
   * @param correlationId The id.
   * @param error The rejection.
   * @returns `false` when the id is not tracked.
   */
  fail(correlationId: string, error: unknown): boolean {
    return this.#pending.reject(correlationId, error);
  }

  /**
   * Fail a request because its reply says the responder failed. Counted as
   * a late reply when the request is no longer tracked.
   *
   * @param correlationId The id from the reply's properties.
   * @param error The rejection (a `RemoteError`).
   * @returns `false` when the id is not tracked.
   */
  settleWithError(correlationId: string, error: unknown): boolean {
    if (this.#pending.reject(correlationId, error)) {
      this.#errorReplies++;
      return true;
    }
    this.#lateErrorReplies++;
    return false;
  }

  /**
   * Fail every request (on close).
   *
   * @param error The rejection.
   */
  rejectAll(error: unknown): void {
    this.#pending.rejectAll(error);
  }

  #timeoutError(correlationId: string, entry: Entry): RequestTimeoutError {
    const details: RequestTimeoutDetails = {
      topic: entry.topic,
      correlationId,
      timeout: entry.timeout,
      stage: entry.stage,
    };
    if (entry.stored) details.stored = entry.stored;
    if (entry.detail) details.detail = entry.detail;
    const error = new RequestTimeoutError(details);
    const frames = entry.callSite.stack?.split("\n").slice(1).join("\n");
    if (frames) error.stack = `${error.name}: ${error.message}\n${frames}`;
    return error;
  }
}
