import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { allocateAveragely, compareQueues, queueKey } from "../../src/client/rebalance.ts";

const queues = (n: number, broker = "b") =>
  Array.from({ length: n }, (_, queueId) => ({ topic: "t", brokerName: broker, queueId }));

test("allocateAveragely matches the Java algorithm on known cases", () => {
  // 8 queues, 3 clients: 3, 3, 2
  const q = queues(8);
  const ids = ["c3", "c1", "c2"];
  assert.deepEqual(allocateAveragely(q, ids, "c1").map((m) => m.queueId), [0, 1, 2]);
  assert.deepEqual(allocateAveragely(q, ids, "c2").map((m) => m.queueId), [3, 4, 5]);
  assert.deepEqual(allocateAveragely(q, ids, "c3").map((m) => m.queueId), [6, 7]);
  // more clients than queues: the first n get one each
  assert.deepEqual(allocateAveragely(queues(2), ["a", "b", "c"], "b").map((m) => m.queueId), [1]);
  assert.deepEqual(allocateAveragely(queues(2), ["a", "b", "c"], "c"), []);
  // unknown client gets nothing
  assert.deepEqual(allocateAveragely(queues(4), ["a"], "z"), []);
});

test("allocateAveragely sorts queues across brokers like MessageQueue.compareTo", () => {
  const q = [...queues(2, "broker-b"), ...queues(2, "broker-a")];
  const mine = allocateAveragely(q, ["x", "y"], "x");
  assert.deepEqual(mine.map(queueKey), ["t@broker-a@0", "t@broker-a@1"]);
  assert.ok(compareQueues(q[2]!, q[0]!) < 0);
});

test("allocateAveragely partitions the queues: disjoint, complete, balanced", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 64 }),
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 20 }),
      (n, ids) => {
        const q = queues(n);
        const shares = ids.map((id) => allocateAveragely(q, ids, id));
        const all = shares.flat().map(queueKey);
        assert.equal(new Set(all).size, all.length, "disjoint");
        assert.equal(all.length, n, "complete");
        const sizes = shares.map((s) => s.length);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, "balanced");
      },
    ),
    { numRuns: 300 },
  );
});
