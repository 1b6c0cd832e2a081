/**
 * The replies of one `requestMany()`: an async iterable fed by pushed
 * replies, ended by the first of its strategies (overall timeout, a count of
 * replies, a stall, a sentinel reply, a count of finished responders), by
 * the caller (`break`, its signal) or by the producer (close, send failure).
 *
 * Memory is bounded. At most `maxBuffered` replies wait to be read; a reply
 * pushed while the buffer is full is held unacknowledged (the broker, and a
 * responder awaiting `reply()`, wait: backpressure) until the reader takes
 * one, for at most {@linkcode REPLY_HOLD_MS}; at most `maxBuffered` replies
 * are held. A reply beyond both, or held too long, is refused: the push is
 * answered with an error, so the responder's `reply()` fails rather than the
 * reply vanishing, and `overflow` counts it.
 *
 * @example Two replies, then a sentinel
 * ```ts
 * import { ReplyStreamImpl } from "./reply_stream.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import type { ReplyMessage } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const reply = (body: string): ReplyMessage => ({
 *   topic: "DefaultCluster_REPLY_TOPIC", body: new TextEncoder().encode(body), properties: {},
 *   correlationId: "c1", bornHost: undefined, value: undefined,
 *   timing: { sent: 0, stored: undefined, consumed: undefined, replied: 0, pushed: undefined, arrived: 0 },
 * });
 * const stream = new ReplyStreamImpl({ correlationId: "c1", timeout: 1000, timers: new ManualTimers() });
 * await stream.offer(reply("a"));
 * await stream.offer(reply("b"));
 * await stream.offer(reply("")); // the default sentinel: an empty body
 * const bodies: string[] = [];
 * for await (const r of stream) bodies.push(new TextDecoder().decode(r.body));
 * assert.deepEqual(bodies, ["a", "b"]);
 * assert.equal(stream.endReason, "sentinel");
 * assert.equal(stream.partial, false);
 * ```
 *
 * @module
 */

import { ClientClosedError, IllegalStateError, RequestAbortedError } from "../errors.ts";
import { systemTimers, type TimerHandle, type Timers } from "../remoting/timers.ts";
import type { ReplyMessage } from "./message.ts";

/**
 * Why a reply stream ended:
 *
 * - `"timeout"`: the overall timeout (with replies: `partial` is set; with
 *   none the iteration throws `RequestTimeoutError`);
 * - `"max-replies"`: `maxReplies` replies arrived;
 * - `"stall"`: no new reply for `stall` ms after the last one;
 * - `"sentinel"`: a reply matched the sentinel (not yielded);
 * - `"responders"`: `responders` responders sent their last reply;
 * - `"break"`: the caller stopped iterating;
 * - `"aborted"`: the caller's signal (the iteration throws `RequestAbortedError`);
 * - `"closed"`: the producer closed (the iteration throws `ClientClosedError`);
 * - `"failed"`: the request could not be sent (the iteration throws the send error).
 *
 * @example
 * ```ts
 * import type { ReplyStreamEnd } from "./reply_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const normal: ReplyStreamEnd[] = ["max-replies", "stall", "sentinel", "responders", "break"];
 * assert.ok(!normal.includes("timeout")); // a timeout with replies is a partial result
 * ```
 */
export type ReplyStreamEnd =
  | "timeout"
  | "max-replies"
  | "stall"
  | "sentinel"
  | "responders"
  | "break"
  | "aborted"
  | "closed"
  | "failed";

/**
 * The replies of a `requestMany()` call. Iterate it once with `for await`;
 * `break` ends the request (and tells the responders to stop). The
 * properties say how it ended once the iteration is over.
 *
 * @example
 * ```ts
 * import type { ReplyStream } from "./reply_stream.ts";
 * import { bodyText } from "./message.ts";
 *
 * async function collect(stream: ReplyStream): Promise<string[]> {
 *   const out: string[] = [];
 *   for await (const reply of stream) out.push(bodyText(reply));
 *   if (stream.partial) out.push(`(cut short after ${stream.received})`);
 *   return out;
 * }
 * void collect;
 * ```
 */
export interface ReplyStream extends AsyncIterable<ReplyMessage> {
  /** The request's correlation id. */
  readonly correlationId: string;
  /** Why the stream ended; `undefined` while it runs. */
  readonly endReason: ReplyStreamEnd | undefined;
  /** `true` when the overall timeout cut the stream short after some replies. */
  readonly partial: boolean;
  /** Replies accepted so far (sentinels and stream-end markers not counted). */
  readonly received: number;
  /** Responders that sent their last reply. */
  readonly respondersDone: number;
  /** Replies refused because the buffer stayed full (their push was answered with an error). */
  readonly overflow: number;
  /** Replies that arrived after the stream ended, dropped (still acknowledged). */
  readonly lateReplies: number;
  /** End the stream now, as `break` does; idempotent. */
  cancel(): void;
}

/**
 * Longest time a pushed reply is held unacknowledged while the buffer is
 * full. Brokers wait 3 s (this library's) to 10 s (Java's) for the answer to
 * a reply push, so the hold ends before they give up.
 *
 * @example
 * ```ts
 * import { REPLY_HOLD_MS } from "./reply_stream.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(REPLY_HOLD_MS < 3000);
 * ```
 */
export const REPLY_HOLD_MS = 2000;

/** What became of an offered reply. */
export type OfferOutcome = "accepted" | "late" | "overflow";

/** Options of {@linkcode ReplyStreamImpl}. */
export interface ReplyStreamOptions {
  /** The request's correlation id. */
  correlationId: string;
  /** Overall time allowed (ms). */
  timeout: number;
  /** End after this many replies. @default {Infinity} */
  maxReplies?: number | undefined;
  /** End when no reply came for this long after the last one (ms). */
  stall?: number | undefined;
  /** Replies matching it end the stream and are not yielded; `false` disables. @default {an empty body} */
  sentinel?: ((reply: ReplyMessage) => boolean) | false | undefined;
  /** End once this many responders sent their last reply. */
  responders?: number | undefined;
  /** Replies waiting to be read, at most. @default {256} */
  maxBuffered?: number | undefined;
  /** The caller's signal. */
  signal?: AbortSignal | undefined;
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /** Builds the error thrown when the timeout comes with no reply. */
  timeoutError?: () => unknown;
  /** Told once, when the stream ends. */
  onEnd?: (reason: ReplyStreamEnd, stream: ReplyStreamImpl) => void;
}

interface Held {
  reply: ReplyMessage;
  last: boolean;
  resolve(outcome: OfferOutcome): void;
  timer: TimerHandle;
}

const emptyBody = (reply: ReplyMessage) => reply.body.length === 0;

/** The implementation behind {@linkcode ReplyStream}; the producer feeds it. */
export class ReplyStreamImpl implements ReplyStream {
  readonly correlationId: string;
  readonly #timers: Timers;
  readonly #maxReplies: number;
  readonly #stall: number | undefined;
  readonly #sentinel: ((reply: ReplyMessage) => boolean) | undefined;
  readonly #responders: number | undefined;
  readonly #maxBuffered: number;
  readonly #signal: AbortSignal | undefined;
  readonly #timeoutError: () => unknown;
  readonly #onEnd: ReplyStreamOptions["onEnd"];
  readonly #buffer: ReplyMessage[] = [];
  #head = 0;
  readonly #held: Held[] = [];
  #timer: TimerHandle;
  #stallTimer: TimerHandle | undefined;
  #onAbort: (() => void) | undefined;
  #end: ReplyStreamEnd | undefined;
  #error: unknown;
  #hasError = false;
  #received = 0;
  #respondersDone = 0;
  #overflow = 0;
  #late = 0;
  #iterating = false;
  #wake: (() => void) | undefined;

  /**
   * Create a stream; its timeout runs from now.
   *
   * @param options Strategies, bounds and callbacks.
   */
  constructor(options: ReplyStreamOptions) {
    this.correlationId = options.correlationId;
    this.#timers = options.timers ?? systemTimers;
    this.#maxReplies = options.maxReplies ?? Infinity;
    this.#stall = options.stall;
    this.#sentinel = options.sentinel === false ? undefined : options.sentinel ?? emptyBody;
    this.#responders = options.responders;
    this.#maxBuffered = options.maxBuffered ?? 256;
    this.#signal = options.signal;
    this.#timeoutError = options.timeoutError ??
      (() => new Error(`request ${options.correlationId} timed out`));
    this.#onEnd = options.onEnd;
    this.#timer = this.#timers.setTimeout(() => this.#finish("timeout"), options.timeout);
    const signal = options.signal;
    if (signal?.aborted) {
      this.#finish("aborted");
    } else if (signal) {
      this.#onAbort = () => this.#finish("aborted");
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  get endReason(): ReplyStreamEnd | undefined {
    return this.#end;
  }

  get partial(): boolean {
    return this.#end === "timeout" && this.#received > 0;
  }

  get received(): number {
    return this.#received;
  }

  get respondersDone(): number {
    return this.#respondersDone;
  }

  get overflow(): number {
    return this.#overflow;
  }

  get lateReplies(): number {
    return this.#late;
  }

  /** Replies accepted and not read yet. */
  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /** Whether the stream has ended (replies may still wait to be read). */
  get ended(): boolean {
    return this.#end !== undefined;
  }

  /**
   * Offer a pushed reply. Resolves once the reply is accepted (at once while
   * the buffer has room), refused, or found late.
   *
   * @param reply The reply.
   * @param options `more`: the responder will send more; `endMarker`: the
   * reply only says the responder is done (never yielded).
   * @returns What became of it.
   */
  offer(
    reply: ReplyMessage,
    options: { more?: boolean; endMarker?: boolean } = {},
  ): Promise<OfferOutcome> {
    if (this.#end !== undefined) {
      this.#late++;
      return Promise.resolve("late");
    }
    const last = options.more !== true;
    if (options.endMarker) {
      if (last) this.#responderDone();
      return Promise.resolve("accepted");
    }
    if (this.#sentinel && this.#isSentinel(reply)) {
      this.#finish("sentinel");
      return Promise.resolve("accepted");
    }
    if (this.buffered < this.#maxBuffered) {
      this.#accept(reply, last);
      return Promise.resolve("accepted");
    }
    if (this.#held.length >= this.#maxBuffered) {
      this.#overflow++;
      return Promise.resolve("overflow");
    }
    return new Promise<OfferOutcome>((resolve) => {
      const held: Held = {
        reply,
        last,
        resolve,
        timer: this.#timers.setTimeout(() => {
          const i = this.#held.indexOf(held);
          if (i < 0) return;
          this.#held.splice(i, 1);
          this.#overflow++;
          resolve("overflow");
        }, REPLY_HOLD_MS),
      };
      this.#held.push(held);
    });
  }

  #isSentinel(reply: ReplyMessage): boolean {
    try {
      return this.#sentinel!(reply) === true;
    } catch {
      return false;
    }
  }

  #accept(reply: ReplyMessage, last: boolean): void {
    this.#buffer.push(reply);
    this.#received++;
    this.#notify();
    if (this.#stall !== undefined) {
      this.#timers.clearTimeout(this.#stallTimer);
      this.#stallTimer = this.#timers.setTimeout(() => this.#finish("stall"), this.#stall);
    }
    if (this.#received >= this.#maxReplies) {
      this.#finish("max-replies");
      return;
    }
    if (last) this.#responderDone();
  }

  #responderDone(): void {
    this.#respondersDone++;
    if (this.#responders !== undefined && this.#respondersDone >= this.#responders) {
      this.#finish("responders");
    }
  }

  /**
   * End the stream with an error the iteration throws (the send failed).
   *
   * @param error The error.
   */
  fail(error: unknown): void {
    if (this.#end !== undefined) return;
    this.#error = error;
    this.#hasError = true;
    this.#finish("failed");
  }

  /**
   * End the stream because the producer closed.
   *
   * @param error The error the iteration throws.
   */
  close(error: unknown = new ClientClosedError("producer closed")): void {
    if (this.#end !== undefined) return;
    this.#error = error;
    this.#hasError = true;
    this.#finish("closed");
  }

  cancel(): void {
    this.#finish("break");
  }

  /** Count a reply that came after the end without being offered (the producer dropped it early). */
  noteLate(): void {
    this.#late++;
  }

  #finish(reason: ReplyStreamEnd): void {
    if (this.#end !== undefined) return;
    this.#end = reason;
    this.#timers.clearTimeout(this.#timer);
    this.#timers.clearTimeout(this.#stallTimer);
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener("abort", this.#onAbort);
    if (reason === "aborted") {
      this.#error = new RequestAbortedError(this.correlationId, { cause: this.#signal?.reason });
      this.#hasError = true;
    } else if (reason === "timeout" && this.#received === 0) {
      this.#error = this.#timeoutError();
      this.#hasError = true;
    }
    // Replies held for room will not be read: they are late now.
    for (const held of this.#held.splice(0)) {
      this.#timers.clearTimeout(held.timer);
      this.#late++;
      held.resolve("late");
    }
    if (this.#hasError || reason === "break") {
      this.#buffer.length = 0;
      this.#head = 0;
    }
    this.#notify();
    try {
      this.#onEnd?.(reason, this);
    } catch {
      // The producer's bookkeeping never throws; nothing to do if it did.
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #take(): ReplyMessage | undefined {
    if (this.#head >= this.#buffer.length) return undefined;
    const reply = this.#buffer[this.#head]!;
    this.#buffer[this.#head] = undefined as unknown as ReplyMessage;
    this.#head++;
    if (this.#head > 64 && this.#head * 2 > this.#buffer.length) {
      this.#buffer.splice(0, this.#head);
      this.#head = 0;
    }
    // Room now: the oldest held reply moves into the buffer.
    const held = this.#held.shift();
    if (held) {
      this.#timers.clearTimeout(held.timer);
      this.#accept(held.reply, held.last);
      held.resolve("accepted");
    }
    return reply;
  }

  [Symbol.asyncIterator](): AsyncIterator<ReplyMessage> {
    if (this.#iterating) {
      throw new IllegalStateError("a reply stream can be iterated only once");
    }
    this.#iterating = true;
    return {
      next: async (): Promise<IteratorResult<ReplyMessage>> => {
        for (;;) {
          if (this.#hasError) {
            const error = this.#error;
            throw error;
          }
          const reply = this.#take();
          if (reply) return { value: reply, done: false };
          if (this.#end !== undefined) return { value: undefined, done: true };
          await new Promise<void>((resolve) => this.#wake = resolve);
        }
      },
      return: (): Promise<IteratorResult<ReplyMessage>> => {
        this.#finish("break");
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
