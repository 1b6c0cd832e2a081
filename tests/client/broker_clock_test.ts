// BrokerClock on skewed manual clocks: the responder's view of the broker's
// time, from the store times of messages pulled while caught up.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BrokerClock } from "../../src/client/broker_clock.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";

test("BrokerClock: before any sample, the local clock stands in", () => {
  const timers = new ManualTimers(50_000);
  const clock = new BrokerClock(timers);
  assert.equal(clock.offset, 0);
  assert.equal(clock.now(), 50_000);
  assert.equal(clock.toLocal(51_000), 51_000);
});

test("BrokerClock: a responder 2 s ahead sees a request's deadline where the broker does", () => {
  const broker = 1_000_000; // the broker's time when the request is stored
  const timers = new ManualTimers(broker + 2_000 + 3); // our clock: 2 s ahead, 3 ms later
  const clock = new BrokerClock(timers);
  clock.observe(broker); // the request itself, just pulled
  // A 1000 ms TTL counted from the store time ends 1000 ms from now (the
  // 3 ms delivery is the error, on the safe side), not 1003 ms ago.
  assert.equal(clock.toLocal(broker + 1_000) - timers.now(), 1_000);
  timers.advance(990);
  assert.ok(clock.now() < broker + 1_000, "not expired yet");
  timers.advance(20);
  assert.ok(clock.now() > broker + 1_000, "expired after the deadline");
});

test("BrokerClock: the freshest sample wins; older ones age out after two windows", () => {
  const timers = new ManualTimers(10_000);
  const clock = new BrokerClock(timers, 1_000);
  clock.observe(9_500); // delivered late: says at most 500 ms behind
  clock.observe(9_990); // delivered at once: 10 ms
  assert.equal(clock.offset, -10);
  timers.advance(1_000); // next window: the sample still counts
  assert.equal(clock.offset, -10);
  clock.observe(timers.now() - 40);
  timers.advance(1_000); // the first window is gone, the second's sample remains
  assert.equal(clock.offset, -40);
  timers.advance(2_000);
  assert.equal(clock.offset, 0, "no sample left: local clock");
});

test("BrokerClock: the estimate never runs ahead of the broker's clock (lower bounds only)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -60_000, max: 60_000 }), // broker minus local
      fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 20 }), // delivery delays
      (skew, delays) => {
        const timers = new ManualTimers(1_000_000);
        const clock = new BrokerClock(timers);
        for (const delay of delays) {
          timers.advance(7);
          clock.observe(timers.now() + skew - delay);
        }
        const estimate = clock.now();
        const truth = timers.now() + skew;
        assert.ok(estimate <= truth);
        assert.equal(truth - estimate, Math.min(...delays)); // error: the best delivery delay
      },
    ),
  );
});
