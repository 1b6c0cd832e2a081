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

function mqKey(mq: MessageQueue): string {
  return `${mq.topic}\u0000${mq.brokerName}\u0000${mq.queueId}`;
}

/**
 * The lock table of one broker.
 *
 * @example The locks of a client that is gone end at once
 * ```ts
 * import { RebalanceLockManager } from "./rebalance_lock.ts";
 * import assert from "node:assert/strict";
 *
 * const locks = new RebalanceLockManager();
 * const mq = { topic: "T", brokerName: "b", queueId: 0 };
 * locks.tryLockBatch("CG", [mq], "c1");
 * locks.clientGone("c1");
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
   * A client is gone (its last connection closed or expired), or left a
   * group (`group` given): its locks end at once instead of after 60 s.
   * RocketMQ keeps them until they expire, so a consumer that took over a
   * crashed one's queue waits up to a minute; here the next owner starts at
   * once. The price: a Java orderly consumer that lost its connection and
   * comes back may still be consuming a queue another consumer now holds
   * (it trusts its lock 30 s after the last renewal).
   *
   * @param clientId The client.
   * @param group Only this group's locks (an unregistration).
   */
  clientGone(clientId: string, group?: string): void {
    for (const [name, entries] of this.#groups) {
      if (group !== undefined && name !== group) continue;
      for (const [key, entry] of entries) if (entry.clientId === clientId) entries.delete(key);
      if (entries.size === 0) this.#groups.delete(name);
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
