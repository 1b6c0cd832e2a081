/**
 * The consuming side of a push consumer: runs handlers, at most
 * `concurrency` at once, over the messages the pull service hands in; turns
 * a request handler's outcome into its reply (automatic, manual, error);
 * gives every handler a deadline (`context.signal`, `context.deadline`) and
 * frees its slot when it passes; sends failed ordinary messages back for a
 * retry; and marks messages handled so their offsets can be committed.
 *
 * @example A handler sees its deadline and signal
 * ```ts
 * import type { MessageHandler } from "./consume_service.ts";
 * import assert from "node:assert/strict";
 *
 * const handler: MessageHandler = (_msg, ctx) => {
 *   assert.ok(ctx.deadline > Date.now() && !ctx.signal.aborted);
 *   return "ok";
 * };
 * const ctx = { isRequest: true, signal: new AbortController().signal, deadline: Date.now() + 1000 };
 * assert.equal(handler({} as never, ctx as never), "ok");
 * ```
 *
 * @module
 */

import { HandlerTimeoutError, RequestCancelledError } from "../errors.ts";
import { MessageProperty } from "../codec/properties.ts";
import type { TimerHandle } from "../remoting/timers.ts";
import type { MessageExt, MessageQueue, ReplyValue } from "./message.ts";
import type { ProcessQueue } from "./process_queue.ts";
import type { SendResult } from "./send_request.ts";
import { type ConsumerCore, sendMessageBack, sleep, type Subscription } from "./consumer_core.ts";
import type { ReplyOptions } from "./replier.ts";
import { readTraceContext, startSpanSafely, type TraceContext } from "./trace.ts";

/**
 * What a handler gets besides the message.
 *
 * @example Unit-test a handler that replies manually
 * ```ts
 * import type { ConsumeContext, MessageHandler } from "./consume_service.ts";
 * import { bodyText, type MessageExt, type ReplyValue } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const handler: MessageHandler = async (msg, ctx) => {
 *   await ctx.reply(`pong: ${bodyText(msg)}`);
 * };
 * const replies: ReplyValue[] = [];
 * const queue = { topic: "rpc", brokerName: "broker-a", queueId: 0 };
 * const ctx: ConsumeContext = {
 *   isRequest: true,
 *   queue,
 *   signal: new AbortController().signal,
 *   deadline: Date.now() + 3000,
 *   trace: undefined,
 *   requesterAlive: () => Promise.resolve(true),
 *   reply: (value) => {
 *     replies.push(value);
 *     return Promise.resolve({
 *       status: "SEND_OK", msgId: "R", offsetMsgId: "O", queue, queueOffset: 0, transactionId: undefined,
 *     });
 *   },
 * };
 * const msg = { body: new TextEncoder().encode("ping") } as MessageExt;
 * await handler(msg, ctx);
 * assert.deepEqual(replies, ["pong: ping"]);
 * ```
 */
export interface ConsumeContext {
  /** Whether the message is a request (it carries a correlation id and a reply-to client). */
  readonly isRequest: boolean;
  /** The queue the message came from. */
  readonly queue: MessageQueue;
  /**
   * Aborted when the handler's time is up: a request's deadline (its
   * requester gives up; the reason is a `HandlerTimeoutError`), an ordinary
   * message's `consumeTimeout`, or the consumer's drain timeout at
   * `close()` (a `ClientClosedError`). Pass it on to what the handler waits
   * for.
   */
  readonly signal: AbortSignal;
  /**
   * When the handler's time is up (ms since the epoch, local clock): for a
   * request, when its requester gives up (its TTL counted from the broker's
   * store time); for an ordinary message, the end of `consumeTimeout`.
   */
  readonly deadline: number;
  /**
   * The W3C trace context of the request (`traceparent`, `tracestate`), or,
   * with span hooks, the handle span's: pass `{ parent: context }` to a
   * nested `request()` and it joins the trace. Replies carry it back.
   */
  readonly trace: TraceContext | undefined;
  /**
   * Whether the requester's client is still registered with the broker
   * that stored the request (always `false` for an ordinary message). Ask
   * before expensive work; one broker query per second serves every
   * handler.
   *
   * @throws {BrokerError} When the broker refuses the query.
   */
  requesterAlive(): Promise<boolean>;
  /**
   * Send a reply now (manual reply). The handler's return value is then
   * not sent. A second reply to the same request throws `IllegalStateError`.
   * With `{ more: true }` the reply is one streamed part: more may follow,
   * and the last reply (or the handler's return value; returning nothing
   * just ends the stream) finishes it; `requestMany()` gets every part, a
   * `request()` (or a Java requester) the first. Works while the consumer
   * drains at `close()`.
   */
  reply(value: ReplyValue, options?: ReplyOptions): Promise<SendResult>;
}

/**
 * Handles one message. For a request, a returned value other than
 * `undefined` is sent as the reply. For an ordinary message, a throw (or a
 * rejected promise) means "retry later" through the broker.
 *
 * @example Automatic reply
 * ```ts
 * import type { ConsumeContext, MessageHandler } from "./consume_service.ts";
 * import { bodyText, type MessageExt } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * // For a request, what the handler returns is the reply; for other messages it is ignored.
 * const echo: MessageHandler = (msg) => `echo: ${bodyText(msg)}`;
 * const msg = { body: new TextEncoder().encode("hi") } as MessageExt;
 * assert.equal(echo(msg, {} as ConsumeContext), "echo: hi");
 * ```
 */
export type MessageHandler = (message: MessageExt, context: ConsumeContext) => unknown;

interface Work {
  pq: ProcessQueue;
  message: MessageExt;
  subscription: Subscription;
  /** Orderly consumption: a failure is handed back for a local retry (see runOrderly). */
  orderly?: boolean;
}

/**
 * A message whose handler failed in orderly consumption: to be retried in
 * place (its queue waits), not sent back or answered with an error.
 *
 * @example
 * ```ts
 * import type { OrderlyRetry } from "./consume_service.ts";
 * import assert from "node:assert/strict";
 *
 * const retry: OrderlyRetry = { error: new Error("busy"), request: true, deadline: Date.now() + 3000 };
 * assert.equal(retry.request, true);
 * ```
 */
export interface OrderlyRetry {
  /** What the handler threw (or the timeout that gave it up). */
  readonly error: unknown;
  /** Whether the message is a request (it then has no reply yet). */
  readonly request: boolean;
  /** When the handler's time is up (a request's: when its requester gives up). */
  readonly deadline: number;
}

/** Runs handlers for one push consumer. */
export class ConsumeService {
  readonly #core: ConsumerCore;
  readonly #reply: (
    request: MessageExt,
    value: ReplyValue,
    options?: ReplyOptions,
  ) => Promise<SendResult>;
  readonly #work: Work[] = [];
  /** Abort controllers of the handlers running now. */
  readonly #running = new Set<AbortController>();
  #active = 0;
  #idle: Array<() => void> = [];

  /**
   * @param core The consumer's shared state.
   * @param reply How a handler's `context.reply()` replies (the consumer's `reply()`).
   */
  constructor(
    core: ConsumerCore,
    reply: (request: MessageExt, value: ReplyValue, options?: ReplyOptions) => Promise<SendResult>,
  ) {
    this.#core = core;
    this.#reply = reply;
  }

  /** Handlers running now. */
  get active(): number {
    return this.#active;
  }

  /** Queue a pulled message for its handler (call `pump()` after a batch). */
  submit(pq: ProcessQueue, message: MessageExt, subscription: Subscription): void {
    this.#work.push({ pq, message, subscription });
  }

  /** Drop the work not started: its offsets stay uncommitted for the queues' next owners. */
  discardPending(): void {
    this.#work.length = 0;
  }

  /** Resolves when no handler runs. */
  whenIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** Abort the signal of every running handler (close() past its drain timeout). */
  abortRunning(reason: unknown): void {
    for (const controller of this.#running) controller.abort(reason);
  }

  /** Start handlers for waiting work, up to `concurrency`. */
  pump(): void {
    if (!this.#core.running()) {
      this.#work.length = 0; // left for the queues' next owners (offsets not committed)
      return;
    }
    if (this.#core.gate.suspended) return; // suspend(): the work waits for resume()
    while (this.#active < this.#core.options.concurrency && this.#work.length > 0) {
      const work = this.#work.shift()!;
      if (work.pq.dropped) continue;
      this.#active++;
      // The queue counts the message until it completed (replied, committed
      // or sent back), not only while its handler runs: a queue handed over
      // waits for that before its last commit.
      work.pq.begin();
      void this.#consume(work).finally(() => {
        work.pq.end();
        this.#active--;
        if (this.#active === 0 && this.#idle.length > 0) {
          for (const wake of this.#idle.splice(0)) wake();
        }
        this.pump();
      });
    }
  }

  /**
   * Orderly consumption (orderly_consume.ts): handle one message now,
   * outside the concurrency limit, as usual (skips, idempotency, replies,
   * deadline, cancels), except that a failure is handed back for a retry in
   * place instead of an error reply or a send-back. A request that already
   * replied (or streamed a part) before failing is not retried.
   *
   * @param pq The message's queue.
   * @param message The message.
   * @param subscription Its subscription.
   * @returns The retry to make, or `undefined` when the message is done
   *   with (handled, skipped, replied, or given up at close).
   */
  runOrderly(
    pq: ProcessQueue,
    message: MessageExt,
    subscription: Subscription,
  ): Promise<OrderlyRetry | undefined> {
    return this.#consume({ pq, message, subscription, orderly: true });
  }

  async #consume(work: Work): Promise<OrderlyRetry | undefined> {
    const { pq, message, subscription } = work;
    const props = message.properties;
    const isRequest = props[MessageProperty.CORRELATION_ID] !== undefined &&
      props[MessageProperty.REPLY_TO_CLIENT] !== undefined &&
      props[MessageProperty.MSG_TYPE] !== "reply";
    // The handler in force now (subscribe() may have replaced it since the pull).
    const handler = this.#core.subscriptions.get(message.topic)?.handler ?? subscription.handler;
    if (!handler) {
      // A retried message whose topic we no longer subscribe to.
      this.complete(pq, message.queueOffset);
      return;
    }
    const timers = this.#core.instance.timers;
    const now = timers.now();
    const requestDeadline = isRequest ? this.#requestDeadline(message) : undefined;
    if (
      requestDeadline !== undefined && requestDeadline <= now &&
      this.#core.options.skipExpiredRequests
    ) {
      this.#core.stats.expiredRequests++;
      this.complete(pq, message.queueOffset);
      return;
    }
    const correlationId = isRequest ? props[MessageProperty.CORRELATION_ID]! : undefined;
    if (correlationId !== undefined) {
      this.#core.stats.requests++;
      if (this.#core.cancels.isCancelled(correlationId)) {
        // Its requester gave up before the handler started: nothing to do.
        this.#core.stats.cancelledBeforeStart++;
        this.complete(pq, message.queueOffset);
        return;
      }
    }
    // A request has until its requester gives up (an expired one handled
    // anyway, with skipExpiredRequests off, gets consumeTimeout).
    const deadline = requestDeadline !== undefined && requestDeadline > now
      ? requestDeadline
      : now + this.#core.options.consumeTimeout;
    if (isRequest) {
      const claim = this.#core.replier.claim(message, deadline);
      if (!claim.first) {
        // A copy of a request handled (or being handled) here: no second run.
        await claim.replay();
        this.complete(pq, message.queueOffset);
        return;
      }
    }

    const controller = new AbortController();
    const requestTrace = readTraceContext(props);
    const span = startSpanSafely(this.#core.instance.spanHooks, {
      kind: "handle",
      topic: message.topic,
      correlationId: correlationId ?? message.msgId,
      group: this.#core.group,
      parent: requestTrace,
    }, (error) => this.#core.instance.logger.warn("span hook failed", { error }));
    const trace = span?.context ?? requestTrace;
    if (isRequest) this.#core.replier.setTrace(message, trace);
    const context: ConsumeContext = {
      isRequest,
      queue: pq.queue,
      signal: controller.signal,
      deadline,
      trace,
      requesterAlive: () => isRequest ? this.#core.requesterAlive(message) : Promise.resolve(false),
      reply: (value, options) => this.#reply(message, value, options),
    };
    this.#core.replier.started(message);
    this.#running.add(controller);
    const untrack = correlationId !== undefined
      ? this.#core.cancels.track(correlationId, controller, message.topic)
      : undefined;
    // Latency with sub-millisecond resolution (not the injectable clock: a measure, not a timer).
    const handlerStart = performance.now();
    pq.lastConsumeTimestamp = timers.now();
    let timer: TimerHandle | undefined;
    let onAbort: (() => void) | undefined;
    const handling = (async () => await handler(message, context))().then(
      (value) => ({ kind: "done" as const, value }),
      (error: unknown) => ({ kind: "failed" as const, error }),
    );
    const outcome = await Promise.race([
      handling,
      new Promise<{ kind: "timeout" }>((resolve) => {
        timer = timers.setTimeout(() => resolve({ kind: "timeout" }), deadline - now);
      }),
      new Promise<{ kind: "aborted" }>((resolve) => {
        onAbort = () => resolve({ kind: "aborted" });
        controller.signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    timers.clearTimeout(timer);
    if (onAbort) controller.signal.removeEventListener("abort", onAbort);
    this.#running.delete(controller);
    untrack?.();
    const handlerMs = performance.now() - handlerStart;
    this.#core.latency(message.topic).record(handlerMs);
    this.#core.rates(message.topic).consumed(handlerMs, outcome.kind === "done");
    span?.end(
      outcome.kind === "failed"
        ? outcome.error
        : outcome.kind === "done"
        ? undefined
        : controller.signal.reason ?? new Error(`handler ${outcome.kind}`),
    );

    switch (outcome.kind) {
      case "done": {
        this.#core.stats.handled++;
        if (isRequest && outcome.value === undefined) {
          // Parts went out (`more`) and no last one: end this responder's stream.
          await this.#core.replier.endStream(message);
        }
        if (isRequest && outcome.value !== undefined) {
          if (this.#core.replier.replied(message)) {
            this.#core.instance.logger.warn(
              "handler returned a value after replying; value not sent",
              {
                msgId: message.msgId,
              },
            );
          } else {
            try {
              await this.#core.replier.reply(message, outcome.value as ReplyValue);
            } catch (err) {
              this.#core.instance.logger.warn("automatic reply failed", {
                msgId: message.msgId,
                error: err,
              });
            }
          }
        }
        this.complete(pq, message.queueOffset);
        return;
      }
      case "failed": {
        this.#core.stats.failed++;
        const answered = isRequest &&
          (this.#core.replier.replied(message) || this.#core.replier.streaming(message));
        if (work.orderly && !answered) {
          if (isRequest) this.#core.replier.release(message); // its retry claims it again
          return { error: outcome.error, request: isRequest, deadline };
        }
        if (isRequest) {
          await this.#core.replier.sendError(message, outcome.error);
          this.complete(pq, message.queueOffset);
        } else {
          await this.#retryLater(pq, message, outcome.error);
        }
        return;
      }
      case "timeout": {
        // The slot is freed now; whatever the handler does later is ignored.
        this.#core.stats.timedOut++;
        const allowed = deadline - now;
        controller.abort(
          new HandlerTimeoutError(
            deadline === requestDeadline ? "request deadline" : "consumeTimeout",
            allowed,
          ),
        );
        this.#core.instance.logger.warn("handler ran past its time; given up", {
          msgId: message.msgId,
          request: isRequest,
          timeoutMs: allowed,
        });
        // Orderly: the queue's next message (or this one's retry) starts only
        // once the given-up handler has returned (its signal is aborted), so
        // no two handlers of a queue ever overlap. Java's orderly consumer
        // has no timeout at all; a handler that ignores its signal holds its
        // queue, as there.
        if (work.orderly) await handling;
        if (isRequest) {
          // Its requester has given up: nothing to reply to, nothing to retry.
          this.complete(pq, message.queueOffset);
        } else if (work.orderly) {
          return { error: controller.signal.reason, request: false, deadline };
        } else {
          await this.#retryLater(pq, message, controller.signal.reason);
        }
        return;
      }
      case "aborted": {
        if (controller.signal.reason instanceof RequestCancelledError) {
          // Its requester gave up: nothing to reply to, nothing to retry.
          this.#core.stats.cancelled++;
          this.complete(pq, message.queueOffset);
          return;
        }
        // close() gave up on the handler: unless it replied, leave the
        // message uncommitted for the queue's next owner.
        if (isRequest && this.#core.replier.replied(message)) {
          this.complete(pq, message.queueOffset);
        } else if (isRequest) {
          this.#core.replier.release(message);
        }
        return;
      }
    }
  }

  /**
   * CONSUME_MESSAGE_DIRECTLY (an admin's "resend to this consumer"): run the
   * handler on `message` now, outside the queues (no offset, no retry); a
   * request's return value is sent as its reply, as usual.
   *
   * @param message The message.
   * @returns How it went: `handled` false when no handler takes its topic.
   */
  async runDirectly(
    message: MessageExt,
  ): Promise<{ handled: boolean; error: unknown; ms: number }> {
    const timers = this.#core.instance.timers;
    const started = timers.now();
    const handler = this.#core.subscriptions.get(message.topic)?.handler;
    if (!handler) return { handled: false, error: undefined, ms: 0 };
    const props = message.properties;
    const isRequest = props[MessageProperty.CORRELATION_ID] !== undefined &&
      props[MessageProperty.REPLY_TO_CLIENT] !== undefined &&
      props[MessageProperty.MSG_TYPE] !== "reply";
    const controller = new AbortController();
    const queue = {
      topic: message.topic,
      brokerName: message.brokerName,
      queueId: message.queueId,
    };
    const context: ConsumeContext = {
      isRequest,
      queue,
      signal: controller.signal,
      deadline: started + this.#core.options.consumeTimeout,
      trace: readTraceContext(props),
      requesterAlive: () => isRequest ? this.#core.requesterAlive(message) : Promise.resolve(false),
      reply: (value, options) => this.#reply(message, value, options),
    };
    try {
      const value = await handler(message, context);
      if (isRequest && value !== undefined && !this.#core.replier.replied(message)) {
        await this.#core.replier.reply(message, value as ReplyValue);
      }
      return { handled: true, error: undefined, ms: timers.now() - started };
    } catch (error) {
      return {
        handled: true,
        error: error ?? new Error("handler failed"),
        ms: timers.now() - started,
      };
    } finally {
      controller.abort(new Error("handler done"));
    }
  }

  /**
   * When a request's requester gives up, on the local clock: its TTL counted
   * from the broker's store time, on the broker's clock as estimated here
   * (so a skewed clock on either side does not drop valid requests).
   */
  #requestDeadline(message: MessageExt): number | undefined {
    const ttl = Number(message.properties[MessageProperty.TTL]);
    if (!Number.isFinite(ttl) || ttl <= 0) return undefined;
    const start = message.storeTimestamp > 0 ? message.storeTimestamp : message.bornTimestamp;
    return this.#core.clock(message.brokerName).toLocal(start + ttl);
  }

  /** Send a failed ordinary message back to the broker for a later retry. */
  async #retryLater(pq: ProcessQueue, message: MessageExt, cause: unknown): Promise<void> {
    if (this.#core.options.messageModel === "BROADCASTING") {
      // As the Java client: a broadcast message has no group-wide retry; it is dropped.
      this.#core.instance.logger.warn("handler failed on a broadcast message; dropped", {
        msgId: message.msgId,
        error: cause,
      });
      this.complete(pq, message.queueOffset);
      return;
    }
    this.#core.instance.logger.debug("handler failed; sending back", {
      msgId: message.msgId,
      error: cause,
    });
    try {
      await sendMessageBack(this.#core, pq.queue, message, 0);
      this.complete(pq, message.queueOffset);
    } catch (err) {
      // Keep the message: consume it again here after a pause (its offset stays uncommitted).
      this.#core.instance.logger.warn("send-back failed; retrying locally in 5 s", {
        msgId: message.msgId,
        error: err,
      });
      await sleep(this.#core.instance.timers, 5000, pq.abort.signal);
      if (!pq.dropped) {
        message.reconsumeTimes++;
        this.#work.push({
          pq,
          message,
          subscription: this.#core.subscriptions.get(pq.queue.topic)!,
        });
      }
    }
  }

  /** Mark a message handled: its offset may be committed. */
  complete(pq: ProcessQueue, offset: number): void {
    const next = pq.complete(offset);
    // Also while the queue drains (dropped, not yet retired): what completes
    // then is committed with it.
    if (!pq.retired) this.#core.offsets.update(pq.queue, next);
  }
}
