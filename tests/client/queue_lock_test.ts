// The lock bookkeeping of queue handover (QueueLocks) on a manual clock with
// a fake broker: backoff while refused, pulling without the lock after
// handoverTimeout (never, in strict orderly mode), renewals, lost and expired
// locks, and release after a lock call in flight.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  LOCK_MAX_LIVE_TIME,
  LOCK_RENEW_INTERVAL,
  QueueLocks,
} from "../../src/client/queue_lock.ts";
import { ProcessQueue } from "../../src/client/process_queue.ts";
import type { MessageQueue } from "../../src/client/message.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";
import { silentLogger } from "../../src/logger.ts";
import { BrokerError } from "../../src/errors.ts";

/** Let pending promise continuations run. */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A broker's lock table for one group, with the calls made to it. */
class FakeBroker {
  readonly holders = new Map<number, string>();
  readonly calls: Array<{ op: "lock" | "unlock"; queueIds: number[] }> = [];
  /** When set, lock calls wait for it. */
  hold: Promise<void> | undefined;

  transport(clientId: string) {
    return {
      lock: async (_address: string, queues: MessageQueue[]) => {
        this.calls.push({ op: "lock" as const, queueIds: queues.map((q) => q.queueId) });
        await this.hold;
        return queues.filter((q) => {
          const holder = this.holders.get(q.queueId);
          if (holder !== undefined && holder !== clientId) return false;
          this.holders.set(q.queueId, clientId);
          return true;
        });
      },
      unlock: (_address: string, queues: MessageQueue[]) => {
        this.calls.push({ op: "unlock" as const, queueIds: queues.map((q) => q.queueId) });
        for (const q of queues) {
          if (this.holders.get(q.queueId) === clientId) this.holders.delete(q.queueId);
        }
        return Promise.resolve();
      },
    };
  }

  locks(): number {
    return this.calls.filter((c) => c.op === "lock").length;
  }
}

function setup(mode: "lock" | "none" = "lock", handoverTimeout = 5000, strict = false) {
  const timers = new ManualTimers(1_000_000);
  const broker = new FakeBroker();
  const locks = new QueueLocks({
    mode,
    strict,
    handoverTimeout,
    timers,
    logger: silentLogger,
    address: () => "broker:10911",
    transport: broker.transport("me"),
  });
  const pq = (queueId: number) => new ProcessQueue({ topic: "t", brokerName: "b", queueId });
  return { timers, broker, locks, pq };
}

/** Advance the clock in steps, letting the lock loop react between them. */
async function advance(timers: ManualTimers, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    timers.advance(Math.min(step, ms - t));
    await flush();
  }
}

describe("QueueLocks", () => {
  it("locks a free queue at once and counts nothing refused", async () => {
    const { locks, broker, pq } = setup();
    const q = pq(0);
    assert.equal(locks.mayPull(q), false);
    await locks.acquire(q);
    assert.ok(q.locked && locks.mayPull(q));
    assert.equal(q.lastLockTimestamp, 1_000_000);
    assert.equal(broker.locks(), 1);
    assert.equal(locks.refused, 0);
  });

  it("asks again 20 ms later, doubling to 250 ms, until the holder hands the queue over", async () => {
    const { locks, broker, pq, timers } = setup("lock", 60_000);
    broker.holders.set(0, "other");
    const q = pq(0);
    const acquired = locks.acquire(q);
    await flush();
    const attemptsAt: number[] = [];
    let seen = broker.locks();
    attemptsAt.push(timers.now());
    while (timers.now() < 1_000_000 + 4100) {
      await advance(timers, 10);
      if (broker.locks() > seen) {
        seen = broker.locks();
        attemptsAt.push(timers.now());
      }
    }
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
    assert.deepEqual(gaps.slice(0, 5), [20, 40, 80, 160, 250]);
    assert.ok(gaps.length > 10 && gaps.slice(4).every((g) => g === 250), String(gaps));
    assert.equal(q.locked, false);
    assert.equal(locks.refused, attemptsAt.length);
    broker.holders.delete(0); // the previous owner committed and unlocked
    await advance(timers, 250);
    await acquired;
    assert.ok(q.locked && !q.lockForced);
    assert.equal(broker.holders.get(0), "me");
  });

  it("pulls without the lock once refused for handoverTimeout; renewals take it when freed", async () => {
    const { locks, broker, pq, timers } = setup("lock", 5000);
    broker.holders.set(0, "crashed");
    const q = pq(0);
    let done = false;
    const acquired = locks.acquire(q).then(() => done = true);
    await advance(timers, 4990);
    assert.equal(done, false, "still waiting before handoverTimeout");
    await advance(timers, 20);
    await acquired;
    assert.ok(q.lockForced && !q.locked && locks.mayPull(q));
    broker.holders.delete(0); // the crashed holder's lock expired on the broker
    await locks.renew();
    assert.ok(q.locked && !q.lockForced);
  });

  it("renews held locks every 20 s in one call per broker; a refused renewal stops pulling", async () => {
    const { locks, broker, pq, timers } = setup();
    const q0 = pq(0), q1 = pq(1);
    await locks.acquire(q0);
    await locks.acquire(q1);
    locks.start();
    broker.calls.length = 0;
    timers.advance(LOCK_RENEW_INTERVAL - 1);
    await flush();
    assert.equal(broker.locks(), 0);
    timers.advance(1);
    await flush();
    assert.deepEqual(broker.calls, [{ op: "lock", queueIds: [0, 1] }]);
    assert.equal(q0.lastLockTimestamp, timers.now());
    // The broker gave queue 1 away (this client was cut off meanwhile).
    broker.holders.set(1, "other");
    timers.advance(LOCK_RENEW_INTERVAL);
    await flush();
    assert.ok(q0.locked);
    assert.ok(!q1.locked && !locks.mayPull(q1), "queue 1 waits for its lock again");
    timers.advance(LOCK_RENEW_INTERVAL);
    await flush();
    assert.deepEqual(broker.calls.at(-1), { op: "lock", queueIds: [0] }, "only held ones");
    locks.stop();
    assert.equal(timers.pending, 0);
  });

  it("release waits for a lock call under way, then unlocks what it got", async () => {
    const { locks, broker, pq } = setup();
    let open!: () => void;
    broker.hold = new Promise((resolve) => open = resolve);
    const q = pq(0);
    const attempt = locks.tryLock(q);
    await flush();
    q.drop(); // the queue went to another consumer meanwhile
    const released = locks.release(q);
    await flush();
    assert.equal(broker.calls.length, 1, "no unlock before the lock's answer");
    open();
    assert.equal(await attempt, true);
    await released;
    assert.deepEqual(broker.calls.at(-1), { op: "unlock", queueIds: [0] });
    assert.equal(broker.holders.size, 0);
    assert.equal(q.locked, false);
  });

  it("releaseAll unlocks every held queue and no other", async () => {
    const { locks, broker, pq } = setup();
    broker.holders.set(2, "other");
    const qs = [pq(0), pq(1), pq(2)];
    for (const q of qs) await locks.tryLock(q);
    await locks.releaseAll();
    assert.deepEqual(broker.calls.at(-1), { op: "unlock", queueIds: [0, 1] });
    assert.deepEqual([...broker.holders], [[2, "other"]]);
  });

  it("pulls at once, without the lock, from a broker that answers a lock with an error", async () => {
    const timers = new ManualTimers(0);
    const locks = new QueueLocks({
      mode: "lock",
      handoverTimeout: 5000,
      timers,
      logger: silentLogger,
      address: () => "broker:10911",
      transport: {
        lock: () => Promise.reject(new BrokerError(16, "no permission")),
        unlock: () => Promise.resolve(),
      },
    });
    const q = new ProcessQueue({ topic: "t", brokerName: "b", queueId: 0 });
    await locks.acquire(q);
    assert.ok(q.lockForced && !q.locked && locks.mayPull(q));
    assert.equal(timers.now(), 0, "no wait");
  });

  it("close's releaseAll also unlocks a queue whose lock call was under way", async () => {
    const { locks, broker, pq } = setup();
    let open!: () => void;
    broker.hold = new Promise((resolve) => open = resolve);
    const q = pq(0);
    const attempt = locks.tryLock(q);
    await flush();
    locks.stop();
    const released = locks.releaseAll();
    open();
    await attempt;
    await released;
    assert.deepEqual(broker.calls.at(-1), { op: "unlock", queueIds: [0] });
    assert.equal(broker.holders.size, 0);
  });

  it("strict (orderly): never pulls without the lock, asks once a second past handoverTimeout", async () => {
    const { locks, broker, pq, timers } = setup("lock", 5000, true);
    broker.holders.set(0, "crashed");
    const q = pq(0);
    let done = false;
    const acquired = locks.acquire(q).then(() => done = true);
    await advance(timers, 5010);
    const atTimeout = broker.locks();
    await advance(timers, 10_000, 50);
    assert.equal(done, false, "still waiting past handoverTimeout");
    assert.ok(!q.lockForced && !locks.mayPull(q) && !locks.holds(q));
    assert.ok(broker.locks() - atTimeout >= 9 && broker.locks() - atTimeout <= 11, "1 s apart");
    broker.holders.delete(0); // the crashed holder's lock expired on the broker
    await advance(timers, 1000, 50);
    await acquired;
    assert.ok(q.locked && locks.mayPull(q) && locks.holds(q));
  });

  it("strict (orderly): a broker refusing locks keeps the queue waiting", async () => {
    const timers = new ManualTimers(0);
    const locks = new QueueLocks({
      mode: "lock",
      strict: true,
      handoverTimeout: 5000,
      timers,
      logger: silentLogger,
      address: () => "broker:10911",
      transport: {
        lock: () => Promise.reject(new BrokerError(16, "no permission")),
        unlock: () => Promise.resolve(),
      },
    });
    const q = new ProcessQueue({ topic: "t", brokerName: "b", queueId: 0 });
    assert.equal(await locks.tryLock(q), false);
    assert.ok(!q.lockForced && !locks.mayPull(q) && !locks.holds(q));
  });

  it("a lock not renewed for 30 s is no longer held (orderly stops consuming)", async () => {
    const { locks, pq, timers } = setup("lock", 5000, true);
    const q = pq(0);
    await locks.acquire(q);
    assert.ok(locks.holds(q));
    timers.advance(LOCK_MAX_LIVE_TIME);
    assert.ok(locks.holds(q));
    timers.advance(1); // renewals failed (broker unreachable)
    assert.ok(q.locked && !locks.holds(q));
    await locks.renew();
    assert.ok(locks.holds(q));
  });

  it("with queueHandover none, never calls the broker", async () => {
    const { locks, broker, pq } = setup("none");
    const q = pq(0);
    assert.ok(locks.mayPull(q));
    assert.equal(await locks.tryLock(q), true);
    await locks.acquire(q);
    locks.start();
    await locks.renew();
    await locks.releaseAll();
    assert.equal(broker.calls.length, 0);
  });
});
