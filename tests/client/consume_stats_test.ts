// TopicRates: the sliding windows behind a consumer's statusTable.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TopicRates } from "../../src/client/consume_stats.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";

describe("TopicRates", () => {
  it("counts the last minute for rates and the last hour for failed messages", () => {
    const timers = new ManualTimers(1_800_000_000_000);
    const rates = new TopicRates(timers);
    timers.advance(10_000);
    rates.pulled(10, 20);
    rates.pulled(30, 0);
    rates.consumed(4, true);
    rates.consumed(undefined, true); // an iterated message: counted, not timed
    rates.consumed(8, false);
    let s = rates.status();
    assert.equal(s.pullRT, 20);
    assert.equal(s.pullTPS, 20 / 10, "10 s since start: per second over those 10 s");
    assert.equal(s.consumeRT, 6);
    assert.equal(s.consumeOKTPS, 2 / 10);
    assert.equal(s.consumeFailedTPS, 1 / 10);
    assert.equal(s.consumeFailedMsgs, 1);

    timers.advance(61_000); // out of the minute, still in the hour
    s = rates.status();
    assert.deepEqual(
      [s.pullRT, s.pullTPS, s.consumeRT, s.consumeOKTPS, s.consumeFailedTPS],
      [0, 0, 0, 0, 0],
    );
    assert.equal(s.consumeFailedMsgs, 1);
    timers.advance(3_600_000);
    assert.equal(rates.status().consumeFailedMsgs, 0);
  });

  it("agrees with a plain list of timed events (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.nat(5_000), rt: fc.nat(100), ok: fc.boolean() }), {
          maxLength: 200,
        }),
        (events) => {
          const start = 1_800_000_000_000;
          const timers = new ManualTimers(start);
          const rates = new TopicRates(timers);
          const log: Array<{ at: number; rt: number; ok: boolean }> = [];
          for (const e of events) {
            timers.advance(e.gap);
            rates.consumed(e.rt, e.ok);
            log.push({ at: timers.now(), rt: e.rt, ok: e.ok });
          }
          const now = timers.now();
          // Whole seconds: an event counts while its second is one of the last 60.
          const inMinute = log.filter((e) => Math.floor(e.at / 1000) > Math.floor(now / 1000) - 60);
          const inHour = log.filter((e) =>
            !e.ok && Math.floor(e.at / 60_000) > Math.floor(now / 60_000) - 60
          );
          const seconds = Math.max(1, Math.min(60_000, now - start)) / 1000;
          const s = rates.status();
          const rt = inMinute.reduce((n, e) => n + e.rt, 0);
          assert.ok(Math.abs(s.consumeRT - (inMinute.length ? rt / inMinute.length : 0)) < 1e-9);
          assert.equal(s.consumeOKTPS, inMinute.filter((e) => e.ok).length / seconds);
          assert.equal(s.consumeFailedTPS, inMinute.filter((e) => !e.ok).length / seconds);
          assert.equal(s.consumeFailedMsgs, inHour.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
