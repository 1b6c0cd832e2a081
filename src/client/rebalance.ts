/**
 * Queue allocation among the consumers of a group, identical to the Java
 * client's `AllocateMessageQueueAveragely`, so TypeScript and Java consumers
 * of one group agree on who reads which queue.
 *
 * @example
 * ```ts
 * import { allocateAveragely } from "./rebalance.ts";
 * import assert from "node:assert/strict";
 *
 * const queues = [0, 1, 2, 3, 4].map((queueId) => ({ topic: "t", brokerName: "b", queueId }));
 * assert.deepEqual(allocateAveragely(queues, ["c1", "c2"], "c1").map((q) => q.queueId), [0, 1, 2]);
 * assert.deepEqual(allocateAveragely(queues, ["c1", "c2"], "c2").map((q) => q.queueId), [3, 4]);
 * ```
 *
 * @module
 */

import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { decodeConsumerListBody } from "../codec/bodies.ts";
import type { TimerHandle } from "../remoting/timers.ts";
import type { MessageQueue } from "./message.ts";
import { ProcessQueue } from "./process_queue.ts";
import { type ConsumerCore, type Subscription, within } from "./consumer_core.ts";

/**
 * Compare queues by topic, broker name, then queue id (Java's
 * `MessageQueue.compareTo`).
 *
 * @param a A queue.
 * @param b Another queue.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareQueues } from "./rebalance.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(compareQueues({ topic: "t", brokerName: "a", queueId: 9 }, { topic: "t", brokerName: "b", queueId: 0 }) < 0);
 * ```
 */
export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/**
 * The queues `me` should read: queues and client ids are sorted, then split
 * into contiguous ranges, the first `n % k` clients taking one more.
 *
 * @param queues All readable queues of the topic.
 * @param clientIds All client ids of the group.
 * @param me This client's id.
 * @returns This client's queues (empty when `me` is not in the list).
 */
export function allocateAveragely(
  queues: readonly MessageQueue[],
  clientIds: readonly string[],
  me: string,
): MessageQueue[] {
  const sortedQueues = [...queues].sort(compareQueues);
  const sortedIds = [...clientIds].sort();
  const index = sortedIds.indexOf(me);
  if (index < 0 || sortedQueues.length === 0) return [];
  const n = sortedQueues.length;
  const k = sortedIds.length;
  const mod = n % k;
  const size = n <= k ? 1 : (mod > 0 && index < mod ? Math.floor(n / k) + 1 : Math.floor(n / k));
  const start = mod > 0 && index < mod ? index * size : index * size + mod;
  const count = Math.min(size, n - start);
  return count > 0 ? sortedQueues.slice(start, start + count) : [];
}

/**
 * A stable key for a queue, for maps.
 *
 * @param queue The queue.
 * @returns `topic@brokerName@queueId`.
 *
 * @example
 * ```ts
 * import { queueKey } from "./rebalance.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(queueKey({ topic: "t", brokerName: "b", queueId: 3 }), "t@b@3");
 * ```
 */
export function queueKey(queue: MessageQueue): string {
  return `${queue.topic}@${queue.brokerName}@${queue.queueId}`;
}

// ---- the rebalance service -----------------------------------------------------------------------

const REBALANCE_RETRY_MIN_MS = 20;
const REBALANCE_RETRY_MAX_MS = 1000;

/**
 * Keeps a push consumer's share of its topics' queues: on start, every
 * `rebalanceInterval`, when a broker says the group changed or a subscribed
 * topic appeared, and soon again (20 ms, doubling to 1 s) while a topic
 * has no route or a broker does not list this consumer yet. Takes queues
 * (the queue's lock with `queueHandover: "lock"`, then its start offset,
 * then a pull loop) and hands queues over (commit what was handled, let
 * running messages complete, commit again, then unlock).
 *
 * @example
 * ```ts
 * import { RebalanceService } from "./rebalance.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof RebalanceService.prototype.trigger, "function");
 * ```
 */
export class RebalanceService {
  readonly #core: ConsumerCore;
  readonly #pull: { run(pq: ProcessQueue): Promise<void> };
  /** Queues taken away whose last commit is under way. */
  readonly #releasing = new Map<string, Promise<void>>();
  /** Queues being taken: lock or start offset under way, not pulled yet. */
  readonly #taking = new Map<string, ProcessQueue>();
  #rebalanceTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #retryDelay = 0;
  #rebalancing: Promise<void> | undefined;
  #rebalanceAgain = false;

  /**
   * @param core The consumer's shared state.
   * @param pull Starts the pull loop of a queue taken.
   */
  constructor(core: ConsumerCore, pull: { run(pq: ProcessQueue): Promise<void> }) {
    this.#core = core;
    this.#pull = pull;
  }

  /** Stop the timers and the queues still being taken (at close). */
  stop(): void {
    this.#core.instance.timers.clearTimeout(this.#rebalanceTimer);
    this.#core.instance.timers.clearTimeout(this.#retryTimer);
    for (const pq of this.#taking.values()) pq.drop();
    this.#taking.clear();
  }

  /** Resolves when no rebalance and no queue handover is under way. */
  async settled(): Promise<void> {
    await this.#rebalancing?.catch(() => undefined);
    await Promise.all(this.#releasing.values());
  }

  /**
   * Give up every queue of a topic no longer subscribed: stop pulling them,
   * let their running messages complete (within `drainTimeout`), commit,
   * unlock.
   *
   * @param topic The topic, already removed from the subscriptions.
   * @returns Resolves when its queues were handed over.
   */
  async dropTopic(topic: string): Promise<void> {
    await this.#assign(topic, []);
    const prefix = `${topic}@`;
    await Promise.all(
      [...this.#releasing].filter(([key]) => key.startsWith(prefix)).map(([, done]) => done),
    );
  }

  /** Rebalance now (a consumer joined or left, a topic appeared, subscriptions changed). */
  trigger(): void {
    if (!this.#core.running()) return;
    void this.run();
  }

  /** Rebalance every `rebalanceInterval` until the consumer stops. */
  schedule(): void {
    this.#rebalanceTimer = this.#core.instance.timers.setTimeout(async () => {
      if (!this.#core.running()) return;
      await this.run();
      if (this.#core.running()) this.schedule();
    }, this.#core.options.rebalanceInterval);
  }

  /** Run a rebalance; a request during one runs another right after. */
  async run(): Promise<void> {
    if (this.#rebalancing) {
      this.#rebalanceAgain = true;
      return await this.#rebalancing;
    }
    this.#rebalancing = (async () => {
      let incomplete = false;
      do {
        this.#rebalanceAgain = false;
        incomplete = false;
        for (const subscription of this.#core.subscriptions.values()) {
          if (!this.#core.running()) return;
          try {
            if (!(await this.#rebalanceTopic(subscription))) incomplete = true;
          } catch (err) {
            incomplete = true;
            this.#core.instance.logger.warn("rebalance failed", {
              topic: subscription.topic,
              error: err,
            });
          }
        }
      } while (this.#rebalanceAgain && this.#core.running());
      // A subscribed topic that does not exist yet (the first send creates it)
      // or a broker that does not list us yet: look again soon, not at the next
      // periodic rebalance, so early requests are not left unanswered.
      // Short first (a topic the first request creates is there within
      // milliseconds), doubling to once a second.
      if (!incomplete) this.#retryDelay = 0;
      else this.#retrySoon();
    })();
    try {
      await this.#rebalancing;
    } finally {
      this.#rebalancing = undefined;
    }
  }

  /** Rebalance one topic; `false` when it could not be completed (try again soon). */
  async #rebalanceTopic(subscription: Subscription): Promise<boolean> {
    let route;
    try {
      route = await this.#core.instance.refreshRoute(subscription.topic);
    } catch (err) {
      this.#core.instance.logger.debug("no route for subscribed topic", {
        topic: subscription.topic,
        error: err,
      });
      await this.#assign(subscription.topic, []);
      return false;
    }
    const queues = route.subscribeQueues;
    const brokers = route.masterAddresses;
    if (brokers.length === 0) return false;
    // A broker learnt from this route (or reconnected since) must know our
    // subscriptions before it can list us among the group's consumers.
    await this.#core.instance.ensureRegistered(route.addresses);
    // Broadcasting (Java's RebalanceImpl too): every consumer reads every queue.
    if (this.#core.options.messageModel === "BROADCASTING") {
      return await this.#assign(subscription.topic, queues);
    }
    const address = brokers[Math.floor(Math.random() * brokers.length)]!;
    const response = await this.#core.instance.remoting.invoke(
      address,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: this.#core.group }),
      { timeout: this.#core.instance.rpcTimeout },
    );
    if (response.code !== ResponseCode.SUCCESS || response.body.length === 0) {
      this.#core.instance.logger.debug("no consumer list yet", {
        group: this.#core.group,
        code: response.code,
      });
      return false;
    }
    const ids = decodeConsumerListBody(response.body).consumerIdList;
    if (!ids.includes(this.#core.instance.clientId)) {
      // The broker does not list us yet (heartbeat in flight): register and retry.
      await this.#core.instance.ensureRegistered([address]);
      return false;
    }
    const mine = allocateAveragely(queues, ids, this.#core.instance.clientId);
    return await this.#assign(subscription.topic, mine);
  }

  /** Take and release queues; `false` when a start offset could not be computed. */
  async #assign(topic: string, mine: readonly MessageQueue[]): Promise<boolean> {
    // Unsubscribed meanwhile (a rebalance that started before): take nothing.
    if (!this.#core.subscriptions.has(topic)) mine = [];
    const wanted = new Map(mine.map((q) => [queueKey(q), q]));
    for (const [key, pq] of this.#core.queues) {
      if (pq.queue.topic !== topic || wanted.has(key)) continue;
      pq.drop();
      this.#core.queues.delete(key);
      this.#release(key, pq);
    }
    for (const [key, pq] of this.#taking) {
      if (pq.queue.topic !== topic || wanted.has(key)) continue;
      // Not pulled yet: nothing to commit, only a lock to give back.
      pq.drop();
      this.#taking.delete(key);
      this.#handingOver(key, this.#core.locks.release(pq));
    }
    const takes: Promise<boolean>[] = [];
    for (const [key, queue] of wanted) {
      if (this.#core.queues.has(key) || this.#taking.has(key)) continue;
      const pq = new ProcessQueue(queue);
      this.#taking.set(key, pq);
      takes.push(this.#take(key, pq));
    }
    return (await Promise.all(takes)).every(Boolean);
  }

  /**
   * Take a queue: its lock (with `queueHandover: "lock"`), then its start
   * offset, then pull. A lock refused (the previous owner still drains the
   * queue) is asked for again in the background, so other queues and
   * rebalances do not wait for it. `false` when the start offset could not
   * be computed (the rebalance tries again soon).
   */
  async #take(key: string, pq: ProcessQueue): Promise<boolean> {
    // Taken back before its release finished: start after that commit.
    await this.#releasing.get(key);
    if (pq.dropped) return true;
    if (!(await this.#core.locks.tryLock(pq))) {
      void this.#core.locks.acquire(pq).then(async () => {
        if (!(await this.#begin(key, pq))) this.#retrySoon();
      }).catch((err) =>
        this.#core.instance.logger.error("taking a queue failed", { queue: key, error: err })
      );
      return true;
    }
    return await this.#begin(key, pq);
  }

  /** Read the start offset of a queue taken and start pulling it. */
  async #begin(key: string, pq: ProcessQueue): Promise<boolean> {
    if (pq.dropped || this.#taking.get(key) !== pq) return true;
    let offset: number;
    try {
      offset = await this.#core.offsets.startOffset(pq.queue);
    } catch (err) {
      if (this.#taking.get(key) === pq) {
        pq.drop();
        this.#taking.delete(key);
        this.#handingOver(key, this.#core.locks.release(pq));
      }
      if (!this.#core.running()) return false;
      this.#core.instance.logger.warn("cannot compute start offset; will retry", {
        queue: key,
        error: err,
      });
      return false;
    }
    if (!this.#core.running() || pq.dropped || this.#taking.get(key) !== pq) return true;
    this.#taking.delete(key);
    pq.nextOffset = offset;
    this.#core.queues.set(key, pq);
    this.#core.offsets.track(pq.queue, offset);
    void this.#pull.run(pq);
    return true;
  }

  /** A queue's handover is under way until `done`: taking it back waits for it. */
  #handingOver(key: string, done: Promise<void>): void {
    const previous = this.#releasing.get(key);
    const all: Promise<void> = Promise.all([previous, done.catch(() => undefined)]).then(() => {
      if (this.#releasing.get(key) === all) this.#releasing.delete(key);
    });
    this.#releasing.set(key, all);
  }

  /** Rebalance again soon (20 ms, doubling to 1 s) unless a retry is due already. */
  #retrySoon(): void {
    if (!this.#core.running() || this.#retryTimer !== undefined) return;
    this.#retryDelay = this.#retryDelay === 0
      ? REBALANCE_RETRY_MIN_MS
      : Math.min(REBALANCE_RETRY_MAX_MS, this.#retryDelay * 2);
    this.#retryTimer = this.#core.instance.timers.setTimeout(() => {
      this.#retryTimer = undefined;
      this.trigger();
    }, this.#retryDelay);
  }

  /**
   * Hand a queue over: commit its offset up to what was handled now; let its
   * running handlers finish (bounded by the drain timeout); commit again and
   * wait for the broker's answer; then give its lock back. With
   * `queueHandover: "lock"` the next owner cannot pull before that, and
   * starts after every message handled here. Without locks RocketMQ's
   * rebalance gives no handover point: the next owner may read the queue
   * before the second commit, so a message still running here can run there
   * too (at-least-once).
   */
  #release(key: string, pq: ProcessQueue): void {
    this.#handingOver(
      key,
      (async () => {
        // Commit what was handled at once: the next owner asks for the offset
        // as soon as it learns the queue is its own.
        const first = this.#core.offsets.persist(key, true).catch(() => undefined);
        if (pq.running > 0 && this.#core.options.orderly) {
          // Orderly: the next owner must not start while a handler runs here
          // (Java keeps such a queue until its consume lock is free); the
          // handler's own deadline bounds the wait.
          await pq.idle();
        } else if (pq.running > 0) {
          await within(
            this.#core.instance.timers,
            pq.idle(),
            this.#core.instance.timers.now() + this.#core.options.drainTimeout,
          );
        }
        await first;
        pq.retired = true;
        await this.#core.offsets.release(key);
        await this.#core.locks.release(pq);
      })(),
    );
  }
}
