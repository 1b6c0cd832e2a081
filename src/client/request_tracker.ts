/**
 * The request tracker of RIP-16: correlation id → the request waiting for
 * its reply. One timer per request (so a timeout fires at its deadline, not
 * at the next once-a-second scan as in the Java client), settled exactly
 * once, and removed on every path: reply, timeout, abort, send failure,
 * close. Replies for ids that are no longer tracked are counted and dropped,
 * as late (the request ended without its reply) or duplicate (it had its
 * reply already).
 *
 * A `requestMany()` is tracked the same way, with a {@linkcode ReplyStreamImpl}
 * taking any number of replies for its correlation id until it ends.
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
import { type ReplyStreamEnd, ReplyStreamImpl, type ReplyStreamOptions } from "./reply_stream.ts";

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
  stream: ReplyStreamImpl | undefined;
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

/**
 * A request that ended without (all of) its replies after it may have reached
 * a responder: the producer tells the responder to stop.
 *
 * @example
 * ```ts
 * import type { GiveUp } from "./request_tracker.ts";
 * import assert from "node:assert/strict";
 *
 * const giveUp: GiveUp = { correlationId: "c1", topic: "rpc", reason: "timeout", stored: undefined };
 * assert.equal(giveUp.reason, "timeout");
 * ```
 */
export interface GiveUp {
  /** The request's correlation id. */
  correlationId: string;
  /** The request's topic. */
  topic: string;
  /** Why: a timeout, an abort, or how a reply stream ended. */
  reason: "timeout" | "aborted" | ReplyStreamEnd;
  /** Where the request was stored; `undefined` when the send had not completed. */
  stored: StoredAt | undefined;
}

/** Options of {@linkcode RequestTracker}. */
export interface RequestTrackerOptions {
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /** Cap on requests in flight; beyond it `track()` throws. @default {Infinity} */
  maxInFlight?: number;
  /** Told when a request ends without its reply (timeout, abort, a reply stream cut). */
  onGiveUp?: ((giveUp: GiveUp) => void) | undefined;
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
 *   inFlight: 0, replied: 0, timedOut: 1,
 *   timedOutByStage: { "sending": 1, "awaiting-reply": 0, "reply-undeliverable": 0 },
 *   aborted: 0, lateReplies: 0, duplicateReplies: 0, foreignReplies: 0, rejectedOverCap: 1,
 *   streams: 0, streamReplies: 0, partialStreams: 0, overflowReplies: 0,
 * });
 * ```
 */
export interface RequestTrackerStats {
  /** Requests (and reply streams) waiting now. */
  inFlight: number;
  /** Requests answered by a reply (error replies included). */
  replied: number;
  /** Requests that timed out without a reply (reply streams with none included). */
  timedOut: number;
  /** `timedOut` by the stage the request had reached. */
  timedOutByStage: Record<RequestStage, number>;
  /** Requests aborted by their signal. */
  aborted: number;
  /** Replies that came after their request ended without them (timeout, abort, close, a finished stream), dropped. */
  lateReplies: number;
  /**
   * Replies to requests this client never sent, dropped: another client
   * shares this client's id (see {@linkcode RequestTracker.noteForeignReply}).
   */
  foreignReplies: number;
  /** Replies for a request that had its reply already, dropped. */
  duplicateReplies: number;
  /** Requests refused because `maxInFlight` was reached. */
  rejectedOverCap: number;
  /** `requestMany()` calls. */
  streams: number;
  /** Replies accepted by reply streams. */
  streamReplies: number;
  /** Reply streams the timeout cut short after some replies. */
  partialStreams: number;
  /** Replies a full reply stream refused. */
  overflowReplies: number;
}

/** How a delivered reply was taken. */
export type DeliverOutcome = "accepted" | "late" | "duplicate" | "overflow";

/**
 * How many ended correlation ids are remembered, to tell late replies from
 * duplicate ones, and both from foreign ones (for a request never sent here).
 */
const RECENT_ENDS = 16_384;

/** Tracks requests waiting for replies. */
export class RequestTracker {
  readonly #timers: Timers;
  readonly #maxInFlight: number;
  readonly #onGiveUp: RequestTrackerOptions["onGiveUp"];
  readonly #entries = new Map<string, Entry>();
  readonly #pending: PendingTable<string, ReplyMessage>;
  readonly #streams = new Map<string, ReplyStreamImpl>();
  /**
   * Correlation ids that ended lately: `true` when answered, `false`
   * otherwise, the stream for a reply stream (it counts its late replies).
   */
  readonly #recent = new Map<string, boolean | ReplyStreamImpl>();
  /**
   * `#recent`'s ids in the order they came, as a ring of `RECENT_ENDS`: the
   * oldest is dropped from here, not by iterating the map from its start,
   * which costs V8 a walk over every deleted slot (6 % of a requester's CPU).
   */
  readonly #recentOrder: string[] = [];
  #recentNext = 0;
  /**
   * Requests given up while their send was still in flight: told to
   * `onGiveUp` once the send says where they were stored (`stored()`), or
   * forgotten when it fails (`fail()`). One per send in flight at most.
   */
  readonly #givenUpWhileSending = new Map<string, Omit<GiveUp, "stored">>();
  #rejectedOverCap = 0;
  #errorReplies = 0;
  #foreignReplies = 0;
  #late = 0;
  #duplicate = 0;
  readonly #byStage: Record<RequestStage, number> = {
    "sending": 0,
    "awaiting-reply": 0,
    "reply-undeliverable": 0,
  };
  #streamStats = { streams: 0, replies: 0, partial: 0, overflow: 0, timedOut: 0, aborted: 0 };

  /**
   * Create the instance.
   *
   * @param options Clock, timers, the in-flight cap and the give-up callback.
   */
  constructor(options: RequestTrackerOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#maxInFlight = options.maxInFlight ?? Infinity;
    this.#onGiveUp = options.onGiveUp;
    this.#pending = new PendingTable({ timers: this.#timers });
  }

  /** Requests (and reply streams) in flight. */
  get size(): number {
    return this.#pending.size + this.#streams.size;
  }

  /** A snapshot of the counters. */
  get stats(): RequestTrackerStats {
    const s = this.#pending.stats;
    const st = this.#streamStats;
    return {
      inFlight: this.size,
      replied: s.answered + this.#errorReplies,
      timedOut: s.timedOut + st.timedOut,
      timedOutByStage: { ...this.#byStage },
      aborted: s.aborted + st.aborted,
      lateReplies: this.#late,
      duplicateReplies: this.#duplicate,
      foreignReplies: this.#foreignReplies,
      rejectedOverCap: this.#rejectedOverCap,
      streams: st.streams,
      streamReplies: st.replies,
      partialStreams: st.partial,
      overflowReplies: st.overflow,
    };
  }

  /**
   * Whether a correlation id is being tracked.
   *
   * @param correlationId The id.
   * @returns `true` while it waits.
   */
  has(correlationId: string): boolean {
    return this.#pending.has(correlationId) || this.#streams.has(correlationId);
  }

  #checkCap(): void {
    if (this.size >= this.#maxInFlight) {
      this.#rejectedOverCap++;
      throw new TooManyRequestsError(this.#maxInFlight);
    }
  }

  #newEntry(topic: string, timeout: number, above: (...args: never[]) => unknown): Entry {
    return {
      topic,
      timeout,
      sentAt: this.#timers.now(),
      stage: "sending",
      stored: undefined,
      detail: undefined,
      // Created now so that a later rejection points at the caller.
      callSite: captureCallSite(above),
      stream: undefined,
    };
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
    this.#checkCap();
    const entry = this.#newEntry(options.topic, options.timeout, this.track);
    this.#entries.set(correlationId, entry);
    const reply = this.#pending.add(correlationId, {
      timeout: options.timeout,
      signal: options.signal,
      onTimeout: () => {
        this.#byStage[entry.stage]++;
        this.#giveUp(correlationId, entry, "timeout");
        return this.#timeoutError(correlationId, entry);
      },
      onAbort: (reason) => {
        this.#giveUp(correlationId, entry, "aborted");
        return new RequestAbortedError(correlationId, { cause: reason });
      },
    });
    const forget = (answered: boolean) => () => {
      if (this.#entries.get(correlationId) === entry) this.#entries.delete(correlationId);
      if (!this.#recent.has(correlationId)) this.#remember(correlationId, answered);
    };
    reply.then(forget(true), forget(false));
    return { reply };
  }

  /**
   * Start tracking a request that takes many replies (`requestMany()`).
   *
   * @param correlationId The request's `CORRELATION_ID`.
   * @param options Topic and the stream's strategies and bounds.
   * @returns The stream the replies go to.
   * @throws {TooManyRequestsError} When `maxInFlight` requests are already waiting.
   */
  trackMany(
    correlationId: string,
    options: Omit<ReplyStreamOptions, "correlationId" | "timers" | "timeoutError" | "onEnd"> & {
      topic: string;
      /** Told once when the stream ends, after the tracker's own bookkeeping. */
      onEnded?: ((reason: ReplyStreamEnd, stream: ReplyStreamImpl) => void) | undefined;
    },
  ): ReplyStreamImpl {
    const { onEnded, ...streamOptions } = options;
    this.#checkCap();
    const entry = this.#newEntry(options.topic, options.timeout, this.trackMany);
    this.#entries.set(correlationId, entry);
    this.#streamStats.streams++;
    const stream = new ReplyStreamImpl({
      ...streamOptions,
      correlationId,
      timers: this.#timers,
      timeoutError: () => {
        this.#byStage[entry.stage]++;
        return this.#timeoutError(correlationId, entry);
      },
      onEnd: (reason, ended) => {
        if (this.#streams.get(correlationId) === ended) this.#streams.delete(correlationId);
        if (this.#entries.get(correlationId) === entry) this.#entries.delete(correlationId);
        this.#remember(correlationId, ended);
        if (reason === "timeout") {
          if (ended.received > 0) this.#streamStats.partial++;
          else this.#streamStats.timedOut++;
        } else if (reason === "aborted") {
          this.#streamStats.aborted++;
        }
        // Every responder said it was done, or nothing reached one: no one to stop.
        if (reason !== "responders" && reason !== "failed" && reason !== "closed") {
          this.#giveUp(correlationId, entry, reason);
        }
        onEnded?.(reason, ended);
      },
    });
    entry.stream = stream;
    if (!stream.ended) this.#streams.set(correlationId, stream);
    return stream;
  }

  #giveUp(correlationId: string, entry: Entry, reason: GiveUp["reason"]): void {
    if (!this.#onGiveUp) return;
    if (entry.stage === "sending" && !entry.stored) {
      // Not stored yet, but it may be: tell once the send answers.
      this.#givenUpWhileSending.set(correlationId, { correlationId, topic: entry.topic, reason });
      return;
    }
    this.#tellGiveUp({ correlationId, topic: entry.topic, reason, stored: entry.stored });
  }

  #tellGiveUp(giveUp: GiveUp): void {
    try {
      this.#onGiveUp?.(giveUp);
    } catch {
      // The callback's failures are its own (the producer logs them).
    }
  }

  #remember(correlationId: string, answered: boolean | ReplyStreamImpl): void {
    const known = this.#recent.has(correlationId);
    this.#recent.set(correlationId, answered);
    if (known) return; // already in the ring
    if (this.#recentOrder.length < RECENT_ENDS) {
      this.#recentOrder.push(correlationId);
      return;
    }
    const oldest = this.#recentOrder[this.#recentNext];
    if (oldest !== undefined) this.#recent.delete(oldest);
    this.#recentOrder[this.#recentNext] = correlationId;
    this.#recentNext = (this.#recentNext + 1) % RECENT_ENDS;
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
    const givenUp = this.#givenUpWhileSending.get(correlationId);
    if (givenUp) {
      // Its requester gave up while the send was in flight, and the broker
      // stored it all the same: the responder can be told now.
      this.#givenUpWhileSending.delete(correlationId);
      this.#tellGiveUp({ ...givenUp, stored });
      return;
    }
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
   * Deliver a pushed reply: settle a single request (with the reply, or with
   * `error` when the reply says the responder failed), or offer it to a
   * reply stream.
   *
   * @param correlationId The id from the reply's properties.
   * @param reply The reply.
   * @param options `error`: the responder's failure; `more`: the responder
   * sends more replies; `endMarker`: the reply only ends its responder's stream.
   * @returns How it was taken; `"overflow"` when a full stream refused it.
   */
  deliver(
    correlationId: string,
    reply: ReplyMessage,
    options: { error?: unknown; more?: boolean; endMarker?: boolean } = {},
  ): Promise<DeliverOutcome> {
    const recent = this.#recent.get(correlationId);
    const stream = this.#streams.get(correlationId) ??
      (recent instanceof ReplyStreamImpl ? recent : undefined);
    if (stream) {
      return stream.offer(reply, options).then((outcome) => {
        if (outcome === "accepted" && !options.endMarker) this.#streamStats.replies++;
        else if (outcome === "overflow") this.#streamStats.overflow++;
        else if (outcome === "late") this.#late++;
        return outcome;
      });
    }
    if (options.endMarker) {
      // A stream-end marker for a single request (a streaming responder
      // answered request()): the first part settled it already.
      if (this.#pending.has(correlationId)) return Promise.resolve("accepted");
      return Promise.resolve(this.noteUntracked(correlationId, false));
    }
    if (options.error !== undefined) {
      if (this.#pending.reject(correlationId, options.error)) {
        this.#errorReplies++;
        this.#remember(correlationId, true);
        return Promise.resolve("accepted");
      }
    } else if (this.#pending.settle(correlationId, reply)) {
      this.#remember(correlationId, true);
      return Promise.resolve("accepted");
    }
    return Promise.resolve(this.noteUntracked(correlationId, false));
  }

  /**
   * Settle a request with its reply.
   *
   * @param correlationId The id from the reply's properties.
   * @param reply The reply.
   * @returns `false` when the id is not tracked (counted as late or duplicate).
   */
  settle(correlationId: string, reply: ReplyMessage): boolean {
    if (this.#pending.settle(correlationId, reply)) {
      this.#remember(correlationId, true);
      return true;
    }
    this.noteUntracked(correlationId, false);
    return false;
  }

  /**
   * Count a reply for a correlation id that is not tracked, as late or
   * duplicate.
   *
   * @param correlationId The id.
   * @param check Whether to check that the id is really not tracked.
   * @returns `"late"` or `"duplicate"`.
   */
  noteUntracked(correlationId: string, check = true): "late" | "duplicate" {
    if (check && this.has(correlationId)) return "late";
    const recent = this.#recent.get(correlationId);
    if (recent instanceof ReplyStreamImpl) recent.noteLate();
    if (recent === true) {
      this.#duplicate++;
      return "duplicate";
    }
    this.#late++;
    return "late";
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
    return this.has(correlationId) || this.#recent.has(correlationId);
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
    this.#givenUpWhileSending.delete(correlationId); // never stored: nobody to tell
    const stream = this.#streams.get(correlationId);
    if (stream) {
      stream.fail(error);
      return true;
    }
    return this.#pending.reject(correlationId, error);
  }

  /**
   * Fail a request because its reply says the responder failed. Counted as
   * late or duplicate when the request is no longer tracked.
   *
   * @param correlationId The id from the reply's properties.
   * @param error The rejection (a `RemoteError`).
   * @returns `false` when the id is not tracked.
   */
  settleWithError(correlationId: string, error: unknown): boolean {
    if (this.#pending.reject(correlationId, error)) {
      this.#errorReplies++;
      this.#remember(correlationId, true);
      return true;
    }
    this.noteUntracked(correlationId, false);
    return false;
  }

  /**
   * Fail every request and end every reply stream (on close).
   *
   * @param error The rejection.
   */
  rejectAll(error: unknown): void {
    this.#pending.rejectAll(error);
    for (const stream of [...this.#streams.values()]) stream.close(error);
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
