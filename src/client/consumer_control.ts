/**
 * `PushConsumer.unsubscribe()` and the checks shared by `subscribe()` and
 * `messages()`: a topic leaves the subscriptions at once (pulls of its
 * queues stop, a rebalance under way takes none of them), its queues are
 * handed over as at a rebalance (running messages complete within
 * `drainTimeout`, offsets committed), and only then do the brokers learn of
 * it (a heartbeat without the topic): replies of the handlers still
 * draining are accepted until then.
 *
 * @example
 * ```ts
 * import { unsubscribeTopic } from "./consumer_control.ts";
 * import assert from "node:assert/strict";
 *
 * const subscriptions = new Map([["t", { topic: "t" }]]);
 * await unsubscribeTopic({
 *   topic: "t", subscriptions: subscriptions as never, iterators: new Set(),
 *   running: () => false, dropTopic: () => Promise.resolve(), heartbeat: () => Promise.resolve([]),
 * });
 * assert.equal(subscriptions.size, 0);
 * ```
 *
 * @module
 */

import { IllegalStateError, InvalidArgumentError } from "../errors.ts";
import type { Subscription } from "./consumer_core.ts";
import type { TopicIterator } from "./message_iterator.ts";
import { RETRY_PREFIX } from "./offset_store.ts";

/** What {@linkcode unsubscribeTopic} works on. */
export interface UnsubscribeContext {
  /** The topic to leave. */
  topic: string;
  /** The consumer's subscriptions. */
  subscriptions: Map<string, Subscription>;
  /** The consumer's iterators: the topic's one ends. */
  iterators: Set<TopicIterator>;
  /** Whether the consumer runs (queues to hand over, brokers to tell). */
  running(): boolean;
  /** Hand the topic's queues over (drain, commit, unlock). */
  dropTopic(topic: string): Promise<void>;
  /** Tell the brokers the subscriptions now. */
  heartbeat(): Promise<unknown>;
}

/**
 * Leave a topic; see the module documentation.
 *
 * @param ctx The consumer's side.
 * @returns Resolves when its queues were handed over and the brokers told.
 * @throws {InvalidArgumentError} On a topic that is not a string, or the retry topic.
 */
export async function unsubscribeTopic(ctx: UnsubscribeContext): Promise<void> {
  const { topic } = ctx;
  if (typeof topic !== "string" || topic.length === 0) {
    throw new InvalidArgumentError("topic", "must be a non-empty string");
  }
  if (topic.startsWith(RETRY_PREFIX)) {
    throw new InvalidArgumentError(
      "topic",
      "the retry topic follows the group, not a subscription",
    );
  }
  if (!ctx.subscriptions.delete(topic)) return;
  for (const iterator of ctx.iterators) {
    if (iterator.topic !== topic) continue;
    ctx.iterators.delete(iterator);
    iterator.end();
  }
  if (!ctx.running()) return;
  await ctx.dropTopic(topic);
  if (ctx.running()) await ctx.heartbeat();
}

/**
 * Refuse to replace a topic an iterator reads (`subscribe()` replaces a
 * handler, not an iterator: end the iteration or `unsubscribe()` first).
 *
 * @param existing The topic's subscription now, if any.
 * @throws {IllegalStateError} When an iterator reads the topic.
 *
 * @example
 * ```ts
 * import { throwIfIterated } from "./consumer_control.ts";
 * import assert from "node:assert/strict";
 *
 * throwIfIterated(undefined); // not subscribed: fine
 * assert.throws(() => throwIfIterated({ topic: "t", sink: () => {} } as never), /iterator/);
 * ```
 */
export function throwIfIterated(existing: Subscription | undefined): void {
  if (existing?.sink !== undefined) {
    throw new IllegalStateError(
      `an iterator reads topic ${existing.topic}: end it (break) or unsubscribe() first`,
    );
  }
}
