/**
 * `consumer.messages(topic)`: a topic's messages as an async iterator, an
 * alternative to a handler.
 *
 * - **Backpressure.** The iterator holds at most `bufferSize` messages
 *   pulled and not yet done (the one the loop holds included): pulls ask
 *   for no more than the room left, and a loop that stalls stops the
 *   pulling of the topic's queues. The topic's other consumers of the group
 *   are not slowed.
 * - **When a message is done.** A message is done, and its offset may be
 *   committed, when the loop asks for the next one (the `for await` loop's
 *   body ended normally and the loop continued), or when `msg.ack()` was
 *   called. Order per queue is kept: the loop gets each queue's messages in
 *   offset order.
 * - **Replies.** A request is answered with `msg.reply(value)` (or
 *   `consumer.reply(msg, value)`), any time before its requester gives up;
 *   a request the loop moves past without a reply gets none (like a handler
 *   returning `undefined`). Expired requests, requests their requester
 *   cancelled and copies of requests already handled here never reach the
 *   loop (a copy gets the first reply again).
 * - **Leaving the loop.** `break`, `return` or a `throw` in the loop body
 *   ends the iteration: the topic is unsubscribed (its queues drained and
 *   their offsets committed: `break` waits for that). The message the loop
 *   held is not done unless it was acked or replied to; neither are the
 *   messages still buffered: they are not committed, and the next consumer
 *   of the topic (a new iterator, another consumer of the group) gets them.
 * - **Suspend and close.** While the consumer is suspended the iterator
 *   hands out nothing. `close()` ends the iteration: a pending `next()`
 *   resolves `done`; close waits (within its drain timeout) for the message
 *   the loop holds to be done (the loop asks for the next one, which then
 *   ends); buffered messages stay uncommitted.
 * - **Abort.** When the `signal` option aborts, the topic is unsubscribed as
 *   by `break` (buffered messages stay uncommitted), and the `next()` waiting
 *   (or the next one called) rejects with the signal's reason, once the
 *   topic's queues were drained and committed: the loop throws it. A message
 *   the loop held when the signal aborted is done when the loop asks for the
 *   next one, as usual (that `next()` then rejects); a loop that leaves
 *   instead (`break`, a `throw`) leaves it not done.
 *
 * @example
 * ```ts
 * import { PushConsumer } from "./push_consumer.ts";
 * import { Producer } from "./producer.ts";
 * import { bodyText } from "./message.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using producer = new Producer({ nameServer: broker.address });
 * await producer.start();
 * await using consumer = new PushConsumer({ nameServer: broker.address, group: "it-doc", consumeFrom: "first" });
 * const pending = (async () => {
 *   for await (const msg of consumer.messages("it-doc")) {
 *     if (msg.isRequest) await msg.reply(`hello ${bodyText(msg)}`);
 *     else break;
 *   }
 * })();
 * const reply = await producer.request({ topic: "it-doc", body: "world" }, { timeout: 10_000 });
 * assert.equal(bodyText(reply), "hello world");
 * await producer.send({ topic: "it-doc", body: "stop" });
 * await pending;
 * ```
 *
 * @module
 */

import { MessageProperty } from "../codec/properties.ts";
import type { MessageExt, MessageQueue, ReplyValue } from "./message.ts";
import type { ProcessQueue } from "./process_queue.ts";
import type { ReplyOptions } from "./replier.ts";
import type { SendResult } from "./send_request.ts";
import type { ConsumerCore } from "./consumer_core.ts";
import { FlowLimit } from "./flow_limit.ts";

/**
 * A message as an iterator hands it out: the message, and how to answer
 * and finish it.
 *
 * @example
 * ```ts
 * import type { IteratedMessage } from "./message_iterator.ts";
 *
 * async function handle(msg: IteratedMessage): Promise<void> {
 *   if (msg.isRequest) await msg.reply({ ok: true });
 *   await msg.ack(); // done now, not only when the loop asks for the next one
 * }
 * void handle;
 * ```
 */
export interface IteratedMessage extends MessageExt {
  /** Whether the message is a request (it carries a correlation id and a reply-to client). */
  readonly isRequest: boolean;
  /** The queue it came from. */
  readonly queue: MessageQueue;
  /**
   * When its time is up (ms since the epoch, local clock): for a request,
   * when its requester gives up; otherwise the end of `consumeTimeout`.
   */
  readonly deadline: number;
  /**
   * Reply to the request (as `consumer.reply(msg, value, options)`).
   *
   * @throws {InvalidArgumentError} When the message is not a request.
   * @throws {IllegalStateError} When it was replied to already.
   */
  reply(value: ReplyValue, options?: ReplyOptions): Promise<SendResult>;
  /**
   * The message is done now (its offset may be committed), before the loop
   * asks for the next one; it stays done if the loop then ends. Idempotent.
   */
  ack(): Promise<void>;
}

/**
 * Options of `consumer.messages()`.
 *
 * @example
 * ```ts
 * import type { MessagesOptions } from "./message_iterator.ts";
 *
 * const options: MessagesOptions = { bufferSize: 8, signal: new AbortController().signal };
 * void options;
 * ```
 */
export interface MessagesOptions {
  /**
   * Most messages pulled and not yet done (the one the loop holds
   * included). Each of the topic's queues gets an equal share of it (at
   * least one message), so give at least as many as the topic has queues
   * assigned, or some queues wait for room while others long-poll.
   * @default {32}
   */
  bufferSize?: number;
  /**
   * Ends the iteration when it aborts, as `break` does: the topic is
   * unsubscribed (its queues drained, what was done committed) and the
   * messages not done stay uncommitted for the topic's next consumer. The
   * `next()` waiting, or the next one called, then rejects with the
   * signal's reason (as `fetch()` and `producer.send()` do), so the
   * `for await` loop throws it; later calls resolve `done`. A signal
   * aborted already gives the same rejection on the first `next()`, and
   * subscribes nothing. A message the loop holds when the signal aborts is
   * done when the loop asks for the next one, as usual.
   *
   * @example Stop a loop from elsewhere
   * ```ts
   * import { PushConsumer } from "./push_consumer.ts";
   * import assert from "node:assert/strict";
   *
   * const consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "jobs" });
   * const controller = new AbortController(); // abort() it from anywhere to stop the loop
   * controller.abort(new Error("shutting down")); // (at once here, for the example)
   * try {
   *   for await (const msg of consumer.messages("jobs", "*", { signal: controller.signal })) {
   *     void msg; // handle it
   *   }
   * } catch (err) {
   *   if (err !== controller.signal.reason) throw err; // anything but the abort
   * }
   * await consumer.messages("jobs").return(); // the topic was left: it may be iterated again
   * assert.equal(controller.signal.aborted, true);
   * ```
   */
  signal?: AbortSignal;
}

/** What an iterator needs from its consumer. */
export interface IteratorHost {
  /** The consumer's shared state. */
  readonly core: ConsumerCore;
  /** Mark a message handled (its offset may be committed). */
  complete(pq: ProcessQueue, offset: number): void;
  /** `consumer.reply()`. */
  reply(request: MessageExt, value: ReplyValue, options?: ReplyOptions): Promise<SendResult>;
  /** The consumer's state. */
  state(): "new" | "running" | "closing" | "closed";
  /** `consumer.start()`, for a loop started before it. */
  start(): Promise<void>;
  /** Unsubscribe the iterator's topic, if the subscription is still the iterator's. */
  release(iterator: TopicIterator): Promise<void>;
}

interface Entry {
  pq: ProcessQueue;
  message: MessageExt;
}

interface Held extends Entry {
  isRequest: boolean;
  done: boolean;
  finishing: Promise<void> | undefined;
}

const DONE: IteratorResult<IteratedMessage, undefined> = { done: true, value: undefined };

/**
 * An async iterator over a topic's messages; see the module documentation.
 * Get one from `consumer.messages(topic, expression)`.
 *
 * @example Buffered messages, bounded
 * ```ts
 * import { PushConsumer } from "./push_consumer.ts";
 * import assert from "node:assert/strict";
 *
 * const consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "g" });
 * const messages = consumer.messages("orders", "*", { bufferSize: 8 });
 * assert.equal(messages.bufferSize, 8);
 * assert.equal(messages.buffered, 0);
 * await messages.return(); // never started: nothing to drain
 * assert.equal(messages.ended, true);
 * ```
 */
export interface MessageIterator extends AsyncIterableIterator<IteratedMessage, undefined> {
  /** The topic. */
  readonly topic: string;
  /** Most messages pulled and not yet done. */
  readonly bufferSize: number;
  /** Messages pulled and not yet done now (the one the loop holds included). */
  readonly buffered: number;
  /** Whether the iteration ended (`break`, `return()`, `close()`, its signal, a failed start). */
  readonly ended: boolean;
  /**
   * The next message; the one handed out before is done now.
   *
   * @returns The next message, or `done` once the iteration ended.
   * @throws {ConnectionError} When the consumer had not started and no name server answered.
   * @throws The `signal` option's reason, once, when it aborted.
   */
  next(): Promise<IteratorResult<IteratedMessage, undefined>>;
  /**
   * End the iteration (`break` calls it): unsubscribe the topic, draining
   * its queues and committing what was done. The message held is done only
   * if it was acked or replied to.
   *
   * @returns `done`.
   */
  return(): Promise<IteratorResult<IteratedMessage, undefined>>;
}

/** The implementation of {@linkcode MessageIterator} (internal to the consumer). */
export class TopicIterator implements MessageIterator {
  /** The topic. */
  readonly topic: string;
  readonly #host: IteratorHost;
  readonly #flow: FlowLimit;
  #buffer: Entry[] = [];
  #head = 0;
  #current: Held | undefined;
  #ended = false;
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  #idleWaiters: Array<() => void> = [];
  #chain: Promise<unknown> = Promise.resolve();
  readonly #signal: AbortSignal | undefined;
  /** Set when the signal ended the iteration, until a `next()` rejected with its reason. */
  #abortPending: { reason: unknown } | undefined;
  /** The topic's release (`host.release()`), once started. */
  #releasing: Promise<void> | undefined;

  /**
   * @param host The consumer's side.
   * @param topic The topic.
   * @param bufferSize Most messages held.
   * @param signal Ends the iteration when it aborts; aborted already, the
   *   iterator starts ended (its consumer then subscribes nothing).
   */
  constructor(host: IteratorHost, topic: string, bufferSize: number, signal?: AbortSignal) {
    this.#host = host;
    this.topic = topic;
    this.#flow = new FlowLimit(bufferSize);
    this.#signal = signal;
    if (signal?.aborted) {
      this.#abortPending = { reason: signal.reason };
      this.#releasing = Promise.resolve(); // nothing subscribed, nothing to release
      this.end();
    } else {
      signal?.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** The signal aborted: leave the topic as `break` does; the next `next()` rejects. */
  readonly #onAbort = (): void => {
    if (this.#ended) return;
    this.#abortPending = { reason: this.#signal!.reason };
    void this.#release(); // unsubscribes: the topic's queues drain, what was done is committed
    this.end();
  };

  /** Release the topic once (`break`, the signal). */
  #release(): Promise<void> {
    if (!this.#releasing) {
      this.#releasing = this.#host.release(this);
      this.#releasing.catch(() => undefined); // awaited by return() and next(): never unhandled
    }
    return this.#releasing;
  }

  /** Most messages pulled and not yet done. */
  get bufferSize(): number {
    return this.#flow.capacity;
  }

  /** Messages pulled and not yet done now (the one the loop holds included). */
  get buffered(): number {
    return this.#flow.used;
  }

  /** Whether the iteration ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The bound the topic's pull loops keep (internal). */
  get flow(): FlowLimit {
    return this.#flow;
  }

  /** Where the topic's pulled messages go (internal). */
  readonly sink = (pq: ProcessQueue, message: MessageExt): void => {
    this.#flow.arrived();
    if (this.#ended) {
      this.#flow.handled(); // not done: left uncommitted
      return;
    }
    this.#buffer.push({ pq, message });
    this.#notify();
  };

  /** `for await` support. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next message; the one handed out before is done now.
   *
   * @returns The next message, or `done` once the iteration ended.
   * @throws {ConnectionError} When the consumer had not started and no name server answered.
   * @throws The `signal` option's reason, once, when it aborted.
   */
  next(): Promise<IteratorResult<IteratedMessage, undefined>> {
    const result = this.#chain.catch(() => undefined).then(() => this.#next());
    this.#chain = result;
    return result;
  }

  /**
   * End the iteration (`break` calls it): unsubscribe the topic, draining
   * its queues and committing what was done. The message held is done only
   * if it was acked or replied to.
   *
   * @returns `done`.
   */
  async return(): Promise<IteratorResult<IteratedMessage, undefined>> {
    const held = this.#current;
    if (held && !held.done) {
      const replied = held.isRequest && this.#host.core.replier.replied(held.message);
      if (replied) await this.#finish(held);
      else this.#abandon(held);
    }
    this.end();
    await this.#release();
    return DONE;
  }

  /**
   * End without unsubscribing (the consumer closes): a pending `next()`
   * resolves `done`; buffered messages are left uncommitted.
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#stop.abort();
    for (let i = this.#head; i < this.#buffer.length; i++) this.#flow.handled();
    this.#buffer = [];
    this.#head = 0;
    this.#notify();
  }

  /** Resolves when the loop holds no message that is not done. */
  idle(): Promise<void> {
    if (!this.#current || this.#current.done) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #next(): Promise<IteratorResult<IteratedMessage, undefined>> {
    const held = this.#current;
    if (held) await this.#finish(held);
    if (this.#ended) return await this.#ending();
    if (this.#host.state() === "new") {
      try {
        await this.#host.start();
      } catch (err) {
        this.end();
        this.#abortPending = undefined; // the start's error is the one to report
        throw err;
      }
    }
    const core = this.#host.core;
    for (;;) {
      if (this.#ended || this.#host.state() === "closed") {
        this.end();
        return await this.#ending();
      }
      if (core.gate.suspended || this.#head >= this.#buffer.length) {
        await this.#waitForMore();
        continue;
      }
      const entry = this.#buffer[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      if (entry.pq.dropped) {
        // Its queue went to another consumer (or was unsubscribed): not ours to finish.
        this.#flow.handled();
        continue;
      }
      const message = await this.#admit(entry);
      if (message) return { done: false, value: message };
    }
  }

  /**
   * The iteration ended: `done`, or, the first time after the signal ended
   * it, its reason once the topic was released.
   */
  async #ending(): Promise<IteratorResult<IteratedMessage, undefined>> {
    const aborted = this.#abortPending;
    if (!aborted) return DONE;
    this.#abortPending = undefined;
    await this.#releasing?.catch(() => undefined);
    throw aborted.reason;
  }

  /** Wait for a message, `resume()`, or the end. */
  #waitForMore(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      const gate = this.#host.core.gate;
      if (gate.suspended) void gate.wait(this.#stop.signal).then(() => this.#notify());
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Skip what the loop must not see (as the handler path does); else hand the message out. */
  async #admit(entry: Entry): Promise<IteratedMessage | undefined> {
    const { pq, message } = entry;
    const core = this.#host.core;
    const props = message.properties;
    const isRequest = props[MessageProperty.CORRELATION_ID] !== undefined &&
      props[MessageProperty.REPLY_TO_CLIENT] !== undefined &&
      props[MessageProperty.MSG_TYPE] !== "reply";
    const now = core.instance.timers.now();
    const requestDeadline = isRequest ? this.#requestDeadline(message) : undefined;
    if (
      requestDeadline !== undefined && requestDeadline <= now && core.options.skipExpiredRequests
    ) {
      core.stats.expiredRequests++;
      this.#completeSkipped(entry);
      return undefined;
    }
    if (isRequest) {
      core.stats.requests++;
      if (core.cancels.isCancelled(props[MessageProperty.CORRELATION_ID]!)) {
        core.stats.cancelledBeforeStart++;
        this.#completeSkipped(entry);
        return undefined;
      }
    }
    const deadline = requestDeadline !== undefined && requestDeadline > now
      ? requestDeadline
      : now + core.options.consumeTimeout;
    if (isRequest) {
      const claim = core.replier.claim(message, deadline);
      if (!claim.first) {
        // A copy of a request handled (or being handled) here: it gets the same reply.
        await claim.replay();
        this.#completeSkipped(entry);
        return undefined;
      }
      core.replier.started(message);
    }
    pq.begin();
    pq.lastConsumeTimestamp = core.instance.timers.now();
    const held: Held = { pq, message, isRequest, done: false, finishing: undefined };
    this.#current = held;
    return Object.assign(message, {
      isRequest,
      queue: pq.queue,
      deadline,
      reply: (value: ReplyValue, options?: ReplyOptions) =>
        this.#host.reply(message, value, options),
      ack: () => this.#finish(held),
    });
  }

  /** Done: commit may pass it. */
  #finish(held: Held): Promise<void> {
    return held.finishing ??= (async () => {
      if (held.isRequest) await this.#host.core.replier.endStream(held.message);
      held.done = true;
      this.#host.core.stats.handled++;
      this.#host.core.rates(held.message.topic).consumed(undefined, true);
      this.#host.complete(held.pq, held.message.queueOffset);
      this.#released(held);
    })();
  }

  /** Not done: left uncommitted for the topic's next consumer. */
  #abandon(held: Held): void {
    if (held.finishing) return;
    held.finishing = Promise.resolve();
    held.done = true;
    if (held.isRequest) this.#host.core.replier.release(held.message);
    this.#released(held);
  }

  #released(held: Held): void {
    held.pq.end();
    this.#flow.handled();
    if (this.#current === held) {
      this.#current = undefined;
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  #completeSkipped(entry: Entry): void {
    this.#host.complete(entry.pq, entry.message.queueOffset);
    this.#flow.handled();
  }

  /** When a request's requester gives up, on the local clock (as the handler path computes it). */
  #requestDeadline(message: MessageExt): number | undefined {
    const ttl = Number(message.properties[MessageProperty.TTL]);
    if (!Number.isFinite(ttl) || ttl <= 0) return undefined;
    const start = message.storeTimestamp > 0 ? message.storeTimestamp : message.bornTimestamp;
    return this.#host.core.clock(message.brokerName).toLocal(start + ttl);
  }
}
