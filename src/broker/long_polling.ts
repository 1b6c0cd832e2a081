/**
 * Long polling of PULL_MESSAGE, after RocketMQ's `PullRequestHoldService`: a
 * pull that finds nothing new is held instead of answered, and woken the
 * moment a matching message arrives in its queue, or when its suspend time
 * is up. Unlike Java (which also rescans every 5 s), each held pull has its
 * own deadline, so it expires exactly at `suspendTimeoutMillis`.
 *
 * @example
 * ```ts
 * import { PullHoldService } from "./long_polling.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers();
 * const holds = new PullHoldService<string>({ timers });
 * const woken: string[] = [];
 * holds.hold({ channel: "c", topic: "T", queueId: 0, offset: 3, timeout: 15_000, filter: () => true,
 *   wake: (why) => woken.push(why) });
 * holds.notifyArrival("T", 0, 3, 0);
 * assert.deepEqual(woken, ["arrival"]);
 * assert.equal(holds.size, 0);
 * ```
 *
 * @module
 */

import { type Deadline, DeadlineQueue, systemTimers, type Timers } from "../remoting/timers.ts";

/** Why a held pull is run again. */
export type WakeReason = "arrival" | "timeout";

/** A pull to hold. */
export interface HeldPullRequest<C> {
  /** Channel the pull came on; dropped with it. */
  channel: C;
  /** Topic. */
  topic: string;
  /** Queue id. */
  queueId: number;
  /** The offset the pull asked for (the queue's max offset when held). */
  offset: number;
  /** Milliseconds to hold at most. */
  timeout: number;
  /**
   * Whether a message with this tags code (and these properties, read on
   * demand; absent when the store cannot give them) would match the pull's
   * subscription.
   */
  filter: (tagsCode: number, properties?: () => Readonly<Record<string, string>>) => boolean;
  /** Runs the pull again; called at most once. */
  wake: (reason: WakeReason) => void;
  /** Called instead of `wake` when the pull is dropped (its channel closed, or shutdown). */
  drop?: () => void;
}

interface Held<C> extends HeldPullRequest<C> {
  key: string;
  deadline: Deadline | undefined;
}

/** Options of {@linkcode PullHoldService}. */
export interface PullHoldServiceOptions {
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /**
   * Most pulls held at once; beyond it a pull is answered at once.
   * @default {100000}
   */
  maxHeld?: number;
}

/**
 * Held pulls by `topic@queueId`.
 *
 * @typeParam C The channel type.
 *
 * @example A held pull expires
 * ```ts
 * import { PullHoldService } from "./long_polling.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers();
 * const holds = new PullHoldService<string>({ timers });
 * let reason = "";
 * holds.hold({ channel: "c", topic: "T", queueId: 1, offset: 0, timeout: 100, filter: () => true,
 *   wake: (why) => reason = why });
 * timers.advance(100);
 * assert.equal(reason, "timeout");
 * ```
 */
export class PullHoldService<C> {
  /** One runtime timer for every held pull's expiry. */
  readonly #deadlines: DeadlineQueue;
  readonly #maxHeld: number;
  readonly #byKey = new Map<string, Set<Held<C>>>();
  readonly #byChannel = new Map<C, Set<Held<C>>>();
  #size = 0;

  /** @param options Clock, timers and the cap. */
  constructor(options: PullHoldServiceOptions = {}) {
    this.#deadlines = new DeadlineQueue(options.timers ?? systemTimers);
    this.#maxHeld = options.maxHeld ?? 100_000;
  }

  /** Pulls held now. */
  get size(): number {
    return this.#size;
  }

  /**
   * Hold a pull.
   *
   * @param request The pull and how to run it again.
   * @returns `false` when the cap is reached (answer the pull now).
   */
  hold(request: HeldPullRequest<C>): boolean {
    if (this.#size >= this.#maxHeld) return false;
    const key = `${request.topic}@${request.queueId}`;
    const held: Held<C> = { ...request, key, deadline: undefined };
    held.deadline = this.#deadlines.add(request.timeout, () => this.#fire(held, "timeout"));
    let set = this.#byKey.get(key);
    if (!set) {
      set = new Set();
      this.#byKey.set(key, set);
    }
    set.add(held);
    let mine = this.#byChannel.get(request.channel);
    if (!mine) {
      mine = new Set();
      this.#byChannel.set(request.channel, mine);
    }
    mine.add(held);
    this.#size++;
    return true;
  }

  /**
   * A message was appended (`notifyMessageArriving`): wake every pull of that
   * queue that asked for this offset or an earlier one and whose filter
   * matches the message.
   *
   * @param topic Topic of the message.
   * @param queueId Queue of the message.
   * @param queueOffset Queue offset the message got.
   * @param tagsCode The message's tags code.
   * @param properties Reads the message's properties (SQL92 filters).
   */
  notifyArrival(
    topic: string,
    queueId: number,
    queueOffset: number,
    tagsCode: number,
    properties?: () => Readonly<Record<string, string>>,
  ): void {
    const set = this.#byKey.get(`${topic}@${queueId}`);
    if (!set) return;
    for (const held of [...set]) {
      if (queueOffset < held.offset) continue;
      let match: boolean;
      try {
        match = held.filter(tagsCode, properties);
      } catch {
        match = true;
      }
      if (match) this.#fire(held, "arrival");
    }
  }

  /**
   * Drop every pull held for a channel without running it (the channel
   * closed; there is nobody to answer).
   *
   * @param channel The channel.
   * @returns How many were dropped.
   */
  dropChannel(channel: C): number {
    const mine = this.#byChannel.get(channel);
    if (!mine) return 0;
    let dropped = 0;
    for (const held of [...mine]) {
      if (!this.#remove(held)) continue;
      dropped++;
      held.drop?.();
    }
    return dropped;
  }

  /** Drop everything without running it (broker shutdown). */
  close(): void {
    for (const set of [...this.#byKey.values()]) {
      for (const held of [...set]) if (this.#remove(held)) held.drop?.();
    }
  }

  #fire(held: Held<C>, reason: WakeReason): void {
    if (!this.#remove(held)) return;
    held.wake(reason);
  }

  #remove(held: Held<C>): boolean {
    const set = this.#byKey.get(held.key);
    if (!set?.delete(held)) return false;
    if (set.size === 0) this.#byKey.delete(held.key);
    const mine = this.#byChannel.get(held.channel);
    mine?.delete(held);
    if (mine?.size === 0) this.#byChannel.delete(held.channel);
    this.#deadlines.cancel(held.deadline!);
    this.#size--;
    return true;
  }
}
