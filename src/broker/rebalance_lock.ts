/**
 * Queue locks of orderly consumers (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ), after
 * RocketMQ's `RebalanceLockManager`: a queue of a group is locked by one
 * client id at a time; a lock lives 60 s unless renewed (orderly consumers
 * renew every 20 s).
 *
 * @example
 * ```ts
 * import { RebalanceLockManager } from "./rebalance_lock.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers();
 * const locks = new RebalanceLockManager({ timers });
 * const mq = { topic: "T", brokerName: "broker-a", queueId: 0 };
 * assert.equal(locks.tryLockBatch("CG", [mq], "c1").length, 1);
 * assert.equal(locks.tryLockBatch("CG", [mq], "c2").length, 0);
 * timers.advance(60_001);
 * assert.equal(locks.tryLockBatch("CG", [mq], "c2").length, 1);
 * ```
 *
 * @module
 */

import type { MessageQueue } from "../codec/bodies.ts";
import { systemTimers, type Timers } from "../remoting/timers.ts";

interface LockEntry {
  clientId: string;
  lastUpdate: number;
  expiresAt: number;
  mq: MessageQueue;
}

/** Options of {@linkcode RebalanceLockManager}. */
export interface RebalanceLockManagerOptions {
  /** Clock. @default {systemTimers} */
  timers?: Timers;
  /**
   * Lifetime of a lock that is not renewed, in ms
   * (`rocketmq.broker.rebalance.lockMaxLiveTime`).
   * @default {60000}
   */
  maxLiveTime?: number;
}

/**
 * How long after its last renewal the Java client itself stops trusting a
 * queue lock (`ProcessQueue.REBALANCE_LOCK_MAX_LIVE_TIME`, 30 s): after a
 * client vanished, its locks can be given away once that has passed.
 */
export const CLIENT_LOCK_LIFETIME = 30_000;

function mqKey(mq: MessageQueue): string {
  return `${mq.topic}\u0000${mq.brokerName}\u0000${mq.queueId}`;
}

/**
 * The lock table of one broker.
 *
 * @example Locks of a vanished client end 30 s after its last renewal
 * ```ts
 * import { RebalanceLockManager } from "./rebalance_lock.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers();
 * const locks = new RebalanceLockManager({ timers });
 * const mq = { topic: "T", brokerName: "b", queueId: 0 };
 * locks.tryLockBatch("CG", [mq], "c1");
 * locks.clientGone("c1");
 * timers.advance(30_001);
 * assert.equal(locks.tryLockBatch("CG", [mq], "c2").length, 1);
 * ```
 */
export class RebalanceLockManager {
  readonly #timers: Timers;
  readonly #maxLiveTime: number;
  readonly #groups = new Map<string, Map<string, LockEntry>>();

  /** @param options Clock and lock lifetime. */
  constructor(options: RebalanceLockManagerOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#maxLiveTime = options.maxLiveTime ?? 60_000;
  }

  /** Number of live locks. */
  get size(): number {
    const now = this.#timers.now();
    let n = 0;
    for (const entries of this.#groups.values()) {
      for (const entry of entries.values()) if (entry.expiresAt > now) n++;
    }
    return n;
  }

  /**
   * Lock (or renew) queues for a client.
   *
   * @param group Consumer group.
   * @param mqs Queues to lock.
   * @param clientId The client.
   * @returns The queues now locked by this client.
   */
  tryLockBatch(group: string, mqs: readonly MessageQueue[], clientId: string): MessageQueue[] {
    const now = this.#timers.now();
    let entries = this.#groups.get(group);
    if (!entries) {
      entries = new Map();
      this.#groups.set(group, entries);
    }
    const locked: MessageQueue[] = [];
    for (const mq of mqs) {
      const key = mqKey(mq);
      const entry = entries.get(key);
      if (!entry || entry.clientId === clientId || entry.expiresAt <= now) {
        entries.set(key, {
          clientId,
          lastUpdate: now,
          expiresAt: now + this.#maxLiveTime,
          mq: { topic: mq.topic, brokerName: mq.brokerName, queueId: mq.queueId },
        });
        locked.push(mq);
      }
    }
    return locked;
  }

  /**
   * Unlock queues held by a client; queues locked by others stay locked.
   *
   * @param group Consumer group.
   * @param mqs Queues to unlock.
   * @param clientId The client.
   */
  unlockBatch(group: string, mqs: readonly MessageQueue[], clientId: string): void {
    const entries = this.#groups.get(group);
    if (!entries) return;
    for (const mq of mqs) {
      const key = mqKey(mq);
      if (entries.get(key)?.clientId === clientId) entries.delete(key);
    }
    if (entries.size === 0) this.#groups.delete(group);
  }

  /**
   * Whether no lock of a group is alive (`isLockAllExpired`); a send to the
   * group's retry topic goes straight to the DLQ otherwise (orderly groups).
   *
   * @param group Consumer group.
   * @returns `true` when the group holds no live lock.
   */
  isLockAllExpired(group: string): boolean {
    const entries = this.#groups.get(group);
    if (!entries) return true;
    const now = this.#timers.now();
    for (const entry of entries.values()) if (entry.expiresAt > now) return false;
    return true;
  }

  /**
   * A client has no connection left: its locks end once the client itself
   * can no longer trust them ({@linkcode CLIENT_LOCK_LIFETIME} after their
   * last renewal) instead of after the full 60 s. Ending them at once would
   * let another consumer take a queue while the vanished one may still be
   * consuming it.
   *
   * @param clientId The client.
   */
  clientGone(clientId: string): void {
    for (const entries of this.#groups.values()) {
      for (const entry of entries.values()) {
        if (entry.clientId !== clientId) continue;
        entry.expiresAt = Math.min(entry.expiresAt, entry.lastUpdate + CLIENT_LOCK_LIFETIME);
      }
    }
  }

  /** Forget expired locks (housekeeping). */
  purge(): void {
    const now = this.#timers.now();
    for (const [group, entries] of this.#groups) {
      for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
      if (entries.size === 0) this.#groups.delete(group);
    }
  }
}
