import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Deadline,
  DeadlineQueue,
  ManualTimers,
  systemTimers,
} from "../../src/remoting/timers.ts";

type Op =
  | { kind: "add"; ms: number }
  | { kind: "cancel"; index: number }
  | { kind: "advance"; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("add" as const), ms: fc.integer({ min: -5, max: 200 }) }),
  fc.record({ kind: fc.constant("cancel" as const), index: fc.nat(60) }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 120 }) }),
);

describe("DeadlineQueue", () => {
  it("fires every deadline not cancelled exactly once, on time, in order of due time then of adding", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const timers = new ManualTimers(1_000);
        const queue = new DeadlineQueue(timers);
        const added: { deadline: Deadline; at: number; seq: number; cancelled: boolean }[] = [];
        const fired: { seq: number; now: number }[] = [];
        for (const op of ops) {
          if (op.kind === "add") {
            const seq = added.length;
            const at = timers.now() + Math.max(0, op.ms);
            const deadline = queue.add(op.ms, () => fired.push({ seq, now: timers.now() }));
            assert.equal(deadline.at, at);
            added.push({ deadline, at, seq, cancelled: false });
          } else if (op.kind === "cancel") {
            const target = added[op.index];
            if (!target) continue;
            const due = fired.some((f) => f.seq === target.seq);
            queue.cancel(target.deadline);
            if (!due) target.cancelled = true;
          } else {
            timers.advance(op.ms);
          }
        }
        timers.advance(1_000);
        const expected = added.filter((a) => !a.cancelled)
          .sort((x, y) => x.at - y.at || x.seq - y.seq);
        assert.deepEqual(fired.map((f) => f.seq), expected.map((e) => e.seq));
        for (const f of fired) assert.equal(f.now, added[f.seq]!.at, "fired exactly when due");
        assert.equal(queue.size, 0);
        assert.equal(timers.pending, 0, "no timer left once nothing is due");
      }),
      { numRuns: 500 },
    );
  });

  it("uses one runtime timer however many deadlines are pending", () => {
    const timers = new ManualTimers(0);
    const queue = new DeadlineQueue(timers);
    const deadlines = Array.from({ length: 1000 }, (_, i) => queue.add(10_000 + i, () => {}));
    assert.equal(timers.pending, 1);
    for (const d of deadlines.slice(0, 999)) queue.cancel(d);
    assert.equal(queue.size, 1);
    assert.equal(timers.pending, 1);
    queue.cancel(deadlines[999]!);
    assert.equal(timers.pending, 0);
  });

  it("arms for a deadline added by a firing callback, and for earlier ones still waiting", () => {
    const timers = new ManualTimers(0);
    const queue = new DeadlineQueue(timers);
    const log: string[] = [];
    queue.add(10, () => {
      log.push(`a@${timers.now()}`);
      queue.add(50, () => log.push(`c@${timers.now()}`));
    });
    queue.add(20, () => log.push(`b@${timers.now()}`));
    timers.advance(100);
    assert.deepEqual(log, ["a@10", "b@20", "c@60"]);
  });

  it("keeps firing the others when a callback throws, then reports the error", () => {
    const timers = new ManualTimers(0);
    const queue = new DeadlineQueue(timers);
    const fired: number[] = [];
    queue.add(5, () => {
      fired.push(1);
      throw new Error("boom");
    });
    queue.add(5, () => fired.push(2));
    queue.add(8, () => fired.push(3));
    assert.throws(() => timers.advance(5), /boom/);
    assert.deepEqual(fired, [1, 2]);
    timers.advance(3);
    assert.deepEqual(fired, [1, 2, 3]);
  });

  it("still fires what is left, on time, after many cancelled deadlines were dropped", () => {
    const timers = new ManualTimers(0);
    const queue = new DeadlineQueue(timers);
    const fired: number[] = [];
    queue.add(60_000, () => fired.push(timers.now()));
    for (let i = 0; i < 100_000; i++) queue.cancel(queue.add(30_000 + (i % 7), () => {}));
    queue.add(45_000, () => fired.push(timers.now()));
    assert.equal(queue.size, 2);
    timers.advance(60_000);
    assert.deepEqual(fired, [45_000, 60_000]);
    assert.equal(timers.pending, 0);
  });

  it("on the runtime's timers: fires when due, and leaves no timer behind once all are cancelled", async () => {
    const queue = new DeadlineQueue(systemTimers);
    const fired = new Promise<number>((resolve) => {
      const start = Date.now();
      queue.add(20, () => resolve(Date.now() - start));
    });
    const others = Array.from({ length: 500 }, () => queue.add(60_000, () => {}));
    assert.ok((await fired) >= 19);
    for (const d of others) queue.cancel(d);
    assert.equal(queue.size, 0);
    // The test runner's leak check (deno test --trace-leaks) fails on a timer left running.
  });
});
