import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestTracker } from "../../src/client/request_tracker.ts";
import type { ReplyMessage } from "../../src/client/message.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";
import {
  ClientClosedError,
  RemoteError,
  RequestAbortedError,
  RequestTimeoutError,
  TooManyRequestsError,
} from "../../src/errors.ts";

function reply(correlationId: string): ReplyMessage {
  return {
    topic: "C_REPLY_TOPIC",
    body: new Uint8Array([1]),
    properties: {},
    correlationId,
    bornHost: undefined,
    timing: {
      sent: 0,
      stored: undefined,
      consumed: undefined,
      replied: 0,
      pushed: undefined,
      arrived: 0,
    },
    value: new Uint8Array([1]),
  };
}

const STORED = { brokerName: "b", queueId: 1, queueOffset: 9, msgId: "M" };

test("RequestTracker times a request out exactly at its deadline, not before", async () => {
  const timers = new ManualTimers(10_000);
  const tracker = new RequestTracker({ timers });
  let settled = false;
  const { reply: p } = tracker.track("c1", { topic: "rpc", timeout: 250 });
  p.catch(() => {}).finally(() => settled = true);
  timers.advance(249);
  await Promise.resolve();
  assert.equal(settled, false);
  assert.equal(tracker.size, 1);
  timers.advance(1);
  const err = await p.catch((e) => e);
  assert.ok(err instanceof RequestTimeoutError);
  assert.equal(err.timeout, 250);
  assert.equal(tracker.size, 0);
  assert.equal(tracker.stats.timedOut, 1);
});

test("RequestTracker says how far a timed-out request got", async () => {
  const timers = new ManualTimers();
  const tracker = new RequestTracker({ timers });
  const a = tracker.track("a", { topic: "rpc", timeout: 10 }).reply.catch((e) => e);
  const b = tracker.track("b", { topic: "rpc", timeout: 10 }).reply.catch((e) => e);
  const c = tracker.track("c", { topic: "rpc", timeout: 10 }).reply.catch((e) => e);
  tracker.stored("b", STORED);
  tracker.stored("c", STORED);
  tracker.replyPathLost("connection to 127.0.0.1:10911 lost");
  timers.advance(10);
  const [ea, eb, ec] = await Promise.all([a, b, c]);
  assert.equal(ea.stage, "sending");
  assert.equal(ea.stored, undefined);
  assert.match(ea.message, /not stored by any broker/);
  assert.equal(eb.stage, "reply-undeliverable");
  assert.deepEqual(eb.stored, STORED);
  assert.match(eb.message, /127\.0\.0\.1:10911 lost/);
  assert.equal(ec.stage, "reply-undeliverable");
});

test("RequestTracker: a reply before the timeout wins; the timer is cleared", async () => {
  const timers = new ManualTimers();
  const tracker = new RequestTracker({ timers });
  const { reply: p } = tracker.track("c1", { topic: "rpc", timeout: 100 });
  assert.equal(tracker.settle("c1", reply("c1")), true);
  assert.equal((await p).correlationId, "c1");
  assert.equal(timers.pending, 0);
  timers.advance(1000);
  assert.equal(tracker.stats.timedOut, 0);
  assert.equal(tracker.stats.replied, 1);
});

test("RequestTracker drops and counts late and duplicate replies apart", async () => {
  const timers = new ManualTimers();
  const tracker = new RequestTracker({ timers });
  const { reply: p } = tracker.track("c1", { topic: "rpc", timeout: 100 });
  timers.advance(100);
  await assert.rejects(p, RequestTimeoutError);
  assert.equal(tracker.settle("c1", reply("c1")), false); // late: it timed out
  const { reply: q } = tracker.track("c2", { topic: "rpc", timeout: 100 });
  assert.equal(tracker.settle("c2", reply("c2")), true);
  assert.equal(tracker.settle("c2", reply("c2")), false); // duplicate: it had its reply
  assert.equal(tracker.noteUntracked("c2"), "duplicate");
  assert.equal(tracker.noteUntracked("never-sent"), "late");
  assert.equal(tracker.settleWithError("gone", new RemoteError("E", "m", "gone")), false);
  assert.equal(await tracker.deliver("c1", reply("c1")), "late");
  await q;
  assert.equal(tracker.stats.lateReplies, 4);
  assert.equal(tracker.stats.duplicateReplies, 2);
  assert.equal(tracker.size, 0);
});

test("RequestTracker counts timeouts by the stage the request reached", async () => {
  const timers = new ManualTimers();
  const tracker = new RequestTracker({ timers });
  const waits = ["a", "b", "c", "d"].map((id) =>
    tracker.track(id, { topic: "rpc", timeout: 10 }).reply.catch(() => {})
  );
  tracker.stored("b", STORED);
  tracker.stored("c", STORED);
  tracker.stored("d", STORED);
  tracker.replyPathLost("connection lost");
  tracker.trackMany("e", { topic: "rpc", timeout: 10 });
  timers.advance(10);
  await Promise.all(waits);
  assert.deepEqual(tracker.stats.timedOutByStage, {
    "sending": 2, // a, and the stream e with no reply
    "awaiting-reply": 0,
    "reply-undeliverable": 3,
  });
  assert.equal(tracker.stats.timedOut, 5);
});

test("RequestTracker tells who gave up on which stored request, and why", async () => {
  const timers = new ManualTimers();
  const giveUps: Array<{ id: string; reason: string; stored: boolean }> = [];
  const tracker = new RequestTracker({
    timers,
    onGiveUp: (g) => giveUps.push({ id: g.correlationId, reason: g.reason, stored: !!g.stored }),
  });
  const controller = new AbortController();
  const a = tracker.track("a", { topic: "rpc", timeout: 10 }).reply.catch(() => {});
  const b = tracker.track("b", { topic: "rpc", timeout: 50, signal: controller.signal }).reply
    .catch(() => {});
  const c = tracker.track("c", { topic: "rpc", timeout: 10 }).reply;
  const many = tracker.trackMany("m", { topic: "rpc", timeout: 100, maxReplies: 1 });
  const done = tracker.trackMany("n", { topic: "rpc", timeout: 100, responders: 1 });
  for (const id of ["a", "b", "m", "n"]) tracker.stored(id, STORED);
  tracker.settle("c", reply("c"));
  await c;
  controller.abort();
  await tracker.deliver("m", reply("m")); // max-replies ends it: others may still work
  await tracker.deliver("n", reply("n")); // its only responder finished: nobody to stop
  timers.advance(10);
  await Promise.all([a, b]);
  assert.deepEqual(giveUps, [
    { id: "b", reason: "aborted", stored: true },
    { id: "m", reason: "max-replies", stored: true },
    { id: "a", reason: "timeout", stored: true },
  ]);
  assert.equal(many.endReason, "max-replies");
  assert.equal(done.endReason, "responders");
});

test("RequestTracker: an abort rejects with RequestAbortedError carrying the reason", async () => {
  const tracker = new RequestTracker({ timers: new ManualTimers() });
  const controller = new AbortController();
  const { reply: p } = tracker.track("c1", {
    topic: "rpc",
    timeout: 100,
    signal: controller.signal,
  });
  controller.abort("user gave up");
  const err = await p.catch((e) => e);
  assert.ok(err instanceof RequestAbortedError);
  assert.equal(err.cause, "user gave up");
  assert.equal(tracker.size, 0);
  assert.equal(tracker.stats.aborted, 1);
});

test("RequestTracker: an already-aborted signal rejects at once", async () => {
  const tracker = new RequestTracker({ timers: new ManualTimers() });
  const { reply: p } = tracker.track("c1", {
    topic: "rpc",
    timeout: 100,
    signal: AbortSignal.abort("x"),
  });
  await assert.rejects(p, RequestAbortedError);
  assert.equal(tracker.size, 0);
});

test("RequestTracker.rejectAll fails every pending request with the close error", async () => {
  const timers = new ManualTimers();
  const tracker = new RequestTracker({ timers });
  const replies = ["a", "b", "c"].map((id) =>
    tracker.track(id, { topic: "rpc", timeout: 100 }).reply
  );
  tracker.rejectAll(new ClientClosedError());
  for (const p of replies) await assert.rejects(p, ClientClosedError);
  assert.equal(tracker.size, 0);
  assert.equal(timers.pending, 0);
});

test("RequestTracker enforces the cap on requests in flight", async () => {
  const timers = new ManualTimers();
  const tracker = new RequestTracker({ timers, maxInFlight: 2 });
  const a = tracker.track("a", { topic: "rpc", timeout: 100 }).reply;
  const b = tracker.track("b", { topic: "rpc", timeout: 100 }).reply;
  assert.throws(() => tracker.track("c", { topic: "rpc", timeout: 100 }), TooManyRequestsError);
  assert.equal(tracker.stats.rejectedOverCap, 1);
  tracker.settle("a", reply("a"));
  await a;
  tracker.track("c", { topic: "rpc", timeout: 100 }).reply.catch(() => {});
  tracker.rejectAll(new ClientClosedError());
  await assert.rejects(b, ClientClosedError);
});

test("RequestTracker: a send failure fails the request at once with that error", async () => {
  const tracker = new RequestTracker({ timers: new ManualTimers() });
  const { reply: p } = tracker.track("c1", { topic: "rpc", timeout: 100 });
  const cause = new Error("broker refused");
  assert.equal(tracker.fail("c1", cause), true);
  assert.equal(await p.catch((e) => e), cause);
  assert.equal(tracker.fail("c1", cause), false);
});

test("RequestTracker: a timeout error's stack points at the caller", async () => {
  const timers = new ManualTimers();
  const tracker = new RequestTracker({ timers });
  function callerFrameMarker() {
    return tracker.track("c1", { topic: "rpc", timeout: 1 }).reply;
  }
  const p = callerFrameMarker();
  timers.advance(1);
  const err = await p.catch((e) => e);
  assert.match(err.stack, /callerFrameMarker/);
});
