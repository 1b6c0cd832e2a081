/**
 * Exclusive queue handover for push consumers (`queueHandover: "lock"`): a
 * consumer pulls a queue only while it holds the queue's broker lock
 * (LOCK_BATCH_MQ, as RocketMQ's orderly consumers do), and gives the lock
 * back (UNLOCK_BATCH_MQ) only after the queue's running handlers finished
 * and its offset was committed. The next owner, refused until then, starts
 * at that offset: a graceful rebalance or close runs no message twice.
 *
 * A refused lock is asked for again 20 ms later, doubling to 250 ms. When it
 * stays refused for `handoverTimeout` (a crashed holder's lock outlives it
 * on RocketMQ for up to 60 s), the queue is pulled without it
 * (at-least-once) and renewals keep asking. Held locks are renewed every
 * 20 s (a broker keeps one 60 s).
 *
 * @example
 * ```ts
 * import { QueueLocks } from "./queue_lock.ts";
 * import { ProcessQueue } from "./process_queue.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import { silentLogger } from "../logger.ts";
 * import assert from "node:assert/strict";
 *
 * let holder: string | undefined = "other";
 * const locks = new QueueLocks({
 *   mode: "lock", handoverTimeout: 5000, timers: new ManualTimers(0), logger: silentLogger,
 *   address: () => "broker:10911",
 *   transport: {
 *     lock: (_address, queues) => Promise.resolve(holder === undefined || holder === "me" ? (holder = "me", queues) : []),
 *     unlock: () => Promise.resolve(void (holder = undefined)),
 *   },
 * });
 * const pq = new ProcessQueue({ topic: "t", brokerName: "b", queueId: 0 });
 * assert.equal(await locks.tryLock(pq), false); // another consumer holds it
 * holder = undefined; // it handed the queue over
 * assert.equal(await locks.tryLock(pq), true);
 * assert.ok(locks.mayPull(pq));
 * await locks.release(pq);
 * assert.equal(holder, undefined);
 * ```
 *
 * @module
 */

import { BrokerError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { TimerHandle, Timers } from "../remoting/timers.ts";
import type { MessageQueue } from "./message.ts";
import type { ProcessQueue } from "./process_queue.ts";
import { sleep } from "./consumer_core.ts";
import { queueKey } from "./rebalance.ts";

/** Interval of lock renewals (ms), as the Java client's orderly consumers. */
export const LOCK_RENEW_INTERVAL = 20_000;
/**
 * How long a lock counts as held after its last grant or renewal (ms), as
 * the Java client's `REBALANCE_LOCK_MAX_LIVE_TIME`: half the broker's 60 s,
 * so a client whose renewals fail stops consuming before the broker gives
 * the queue to another.
 */
export const LOCK_MAX_LIVE_TIME = 30_000;
const LOCK_RETRY_MIN_MS = 20;
// At most 250 ms between asks: once the old owner unlocks, the queue moves
// within 250 ms (it was 1 s: a handover measured 275 ms p50 after a 3 s
// wait). The cost is a lock call per refused queue every 250 ms, only while
// a handover lasts (at most handoverTimeout).
const LOCK_RETRY_MAX_MS = 250;
// Strict locks (orderly) past handoverTimeout: a crashed holder's lock may
// outlive it for 60 s on RocketMQ; ask once a second until then.
const LOCK_RETRY_SLOW_MS = 1000;

/** The broker calls a {@linkcode QueueLocks} makes. */
export interface QueueLockTransport {
  /** LOCK_BATCH_MQ: returns the queues now locked by this client. */
  lock(address: string, queues: MessageQueue[]): Promise<MessageQueue[]>;
  /** UNLOCK_BATCH_MQ, waiting for the answer (within `timeout` ms when given). */
  unlock(address: string, queues: MessageQueue[], timeout?: number): Promise<void>;
}

/** Options of {@linkcode QueueLocks}. */
export interface QueueLocksOptions {
  /** `"none"`: no locks, every assigned queue is pulled at once. */
  mode: "lock" | "none";
  /** How long a refused lock may delay pulling (ms). */
  handoverTimeout: number;
  /**
   * Never pull without the lock (orderly consumption): a lock refused past
   * `handoverTimeout`, or a broker refusing locks, keeps the queue waiting
   * (asked again once a second) instead of pulling it anyway.
   */
  strict?: boolean;
  /** Clock. */
  timers: Timers;
  /** Logger. */
  logger: Logger;
  /** The broker calls. */
  transport: QueueLockTransport;
  /** Master address of a queue's broker (throws when unknown). */
  address(queue: MessageQueue): string;
}

function sameQueue(a: MessageQueue, b: MessageQueue): boolean {
  return a.queueId === b.queueId && a.topic === b.topic && a.brokerName === b.brokerName;
}

/** The queue locks of one push consumer. */
export class QueueLocks {
  readonly #options: QueueLocksOptions;
  /** Queues locked or pulled without their lock, until released. */
  readonly #tracked = new Map<string, ProcessQueue>();
  /** Queues with a lock call under way (close() waits for their answers). */
  readonly #asking = new Set<ProcessQueue>();
  #renewTimer: TimerHandle | undefined;
  #stopped = false;
  #refused = 0;

  /** @param options Mode, timeout, clock and broker calls. */
  constructor(options: QueueLocksOptions) {
    this.#options = options;
  }

  /** Lock requests refused (another client held the queue). */
  get refused(): number {
    return this.#refused;
  }

  /** Whether queues are locked at all (`queueHandover: "lock"`). */
  get enabled(): boolean {
    return this.#options.mode === "lock";
  }

  /**
   * Whether a queue may be pulled: its lock is held, or it stayed refused
   * for `handoverTimeout`, or locks are off.
   *
   * @param pq The queue.
   * @returns `true` when pulling may go on.
   */
  mayPull(pq: ProcessQueue): boolean {
    return !this.enabled || pq.locked || pq.lockForced;
  }

  /**
   * Whether this client holds a queue's lock now: granted, not lost, and
   * granted or renewed within {@linkcode LOCK_MAX_LIVE_TIME}. Orderly
   * consumption starts a handler only then.
   *
   * @param pq The queue.
   * @returns `true` when held (always with locks off).
   */
  holds(pq: ProcessQueue): boolean {
    if (!this.enabled) return true;
    return pq.locked && this.#options.timers.now() - pq.lastLockTimestamp <= LOCK_MAX_LIVE_TIME;
  }

  /**
   * Ask for a queue's lock once.
   *
   * @param pq The queue.
   * @returns `true` when this client holds it now (always with locks off).
   */
  async tryLock(pq: ProcessQueue): Promise<boolean> {
    if (!this.enabled) return true;
    if (pq.dropped || this.#stopped) return false;
    await pq.lockAttempt;
    const attempt = this.#lockOnce(pq);
    pq.lockAttempt = attempt;
    this.#asking.add(pq);
    try {
      return await attempt;
    } finally {
      if (pq.lockAttempt === attempt) {
        pq.lockAttempt = undefined;
        this.#asking.delete(pq);
      }
    }
  }

  async #lockOnce(pq: ProcessQueue): Promise<boolean> {
    const { transport, timers, logger } = this.#options;
    let granted: MessageQueue[];
    try {
      // No abort signal: a lock granted while we stopped waiting would be
      // held without our knowing; release() waits for this call instead.
      granted = await transport.lock(this.#options.address(pq.queue), [pq.queue]);
    } catch (err) {
      if (err instanceof BrokerError && !this.#options.strict) {
        // The broker answered but does not lock (no permission, or no such
        // request): waiting would only delay the queue; renewals ask again.
        logger.warn("broker refuses queue locks; pulling without", {
          queue: queueKey(pq.queue),
          error: err,
        });
        pq.lockForced = true;
        this.#tracked.set(queueKey(pq.queue), pq);
      } else if (err instanceof BrokerError) {
        logger.warn("broker refuses queue locks; orderly consumption of the queue waits", {
          queue: queueKey(pq.queue),
          error: err,
        });
      } else {
        logger.debug("queue lock failed", { queue: queueKey(pq.queue), error: err });
      }
      return false;
    }
    if (!granted.some((q) => sameQueue(q, pq.queue))) {
      this.#refused++;
      return false;
    }
    pq.locked = true;
    pq.lockForced = false;
    pq.lastLockTimestamp = timers.now();
    this.#tracked.set(queueKey(pq.queue), pq);
    return true;
  }

  /**
   * Lock a queue before pulling it: ask again 20 ms later, doubling to 250 ms,
   * while it is refused; once refused for `handoverTimeout`, pull without it
   * (renewals keep asking).
   *
   * @param pq The queue.
   * @returns Resolves when the queue may be pulled, or is dropped.
   */
  async acquire(pq: ProcessQueue): Promise<void> {
    if (this.mayPull(pq)) return;
    const { timers, handoverTimeout, logger } = this.#options;
    const since = timers.now();
    let delay = LOCK_RETRY_MIN_MS;
    while (!pq.dropped && !this.#stopped) {
      if (await this.tryLock(pq) || this.mayPull(pq)) return;
      if (pq.dropped || this.#stopped) return;
      const left = since + handoverTimeout - timers.now();
      if (left <= 0 && this.#options.strict) {
        // Orderly: never without the lock; the holder's lock ends in time.
        await sleep(timers, LOCK_RETRY_SLOW_MS, pq.abort.signal);
        continue;
      }
      if (left <= 0) {
        logger.warn("queue lock refused for handoverTimeout; pulling without it", {
          queue: queueKey(pq.queue),
          handoverTimeout,
        });
        pq.lockForced = true;
        this.#tracked.set(queueKey(pq.queue), pq);
        return;
      }
      await sleep(timers, Math.min(delay, left), pq.abort.signal);
      delay = Math.min(LOCK_RETRY_MAX_MS, delay * 2);
    }
  }

  /**
   * Renew the locks held (draining queues included) and ask again for those
   * pulled without theirs. A held lock refused was lost (the client was cut
   * off and another consumer took the queue): pulling it waits for the lock
   * again.
   *
   * @returns Resolves when every broker answered or failed.
   */
  async renew(): Promise<void> {
    const byAddress = new Map<string, ProcessQueue[]>();
    for (const pq of this.#tracked.values()) {
      let address: string;
      try {
        address = this.#options.address(pq.queue);
      } catch {
        continue;
      }
      let list = byAddress.get(address);
      if (!list) byAddress.set(address, list = []);
      list.push(pq);
    }
    const { transport, timers, logger } = this.#options;
    await Promise.all([...byAddress].map(async ([address, pqs]) => {
      let granted: MessageQueue[];
      try {
        granted = await transport.lock(address, pqs.map((pq) => pq.queue));
      } catch (err) {
        logger.warn("queue lock renewal failed", { address, error: err });
        return;
      }
      const now = timers.now();
      for (const pq of pqs) {
        const key = queueKey(pq.queue);
        if (this.#tracked.get(key) !== pq) continue; // released meanwhile
        if (granted.some((q) => sameQueue(q, pq.queue))) {
          pq.locked = true;
          pq.lockForced = false;
          pq.lastLockTimestamp = now;
        } else if (pq.locked) {
          logger.warn("queue lock lost; pulling waits for it", { queue: key });
          pq.locked = false;
          this.#tracked.delete(key);
        }
      }
    }));
  }

  /** Renew every {@linkcode LOCK_RENEW_INTERVAL} until {@linkcode QueueLocks.stop}. */
  start(): void {
    if (!this.enabled || this.#stopped) return;
    this.#renewTimer = this.#options.timers.setTimeout(async () => {
      this.#renewTimer = undefined;
      await this.renew();
      this.start();
    }, LOCK_RENEW_INTERVAL);
  }

  /** Stop renewing and waiting for locks (at close). */
  stop(): void {
    this.#stopped = true;
    this.#options.timers.clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
  }

  /**
   * Give a queue's lock back (after its offset was committed).
   *
   * @param pq The queue.
   * @param timeout Time allowed for the broker's answer (ms).
   * @returns Resolves when the broker answered (failures are logged).
   */
  async release(pq: ProcessQueue, timeout?: number): Promise<void> {
    await this.releaseAll([pq], timeout);
  }

  /**
   * Give back the locks of some queues, or of all held (at close).
   *
   * @param pqs The queues; when omitted, all held, pulled without their lock, or being asked for.
   * @param timeout Time allowed for the brokers' answers (ms).
   * @returns Resolves when every broker answered (failures are logged).
   */
  async releaseAll(pqs?: Iterable<ProcessQueue>, timeout?: number): Promise<void> {
    const list = [...(pqs ?? new Set([...this.#tracked.values(), ...this.#asking]))];
    await Promise.all(list.map((pq) => pq.lockAttempt?.catch(() => undefined)));
    const byAddress = new Map<string, MessageQueue[]>();
    for (const pq of list) {
      const key = queueKey(pq.queue);
      if (this.#tracked.get(key) === pq) this.#tracked.delete(key);
      pq.lockForced = false;
      if (!pq.locked) continue;
      pq.locked = false;
      let address: string;
      try {
        address = this.#options.address(pq.queue);
      } catch {
        continue;
      }
      let queues = byAddress.get(address);
      if (!queues) byAddress.set(address, queues = []);
      queues.push(pq.queue);
    }
    await Promise.all([...byAddress].map(async ([address, queues]) => {
      try {
        await this.#options.transport.unlock(address, queues, timeout);
      } catch (err) {
        this.#options.logger.warn("queue unlock failed", { address, error: err });
      }
    }));
  }
}
