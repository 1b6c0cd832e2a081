import { test } from "node:test";
import assert from "node:assert/strict";
import { REPLY_HOLD_MS, ReplyStreamImpl } from "../../src/client/reply_stream.ts";
import type { ReplyMessage } from "../../src/client/message.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";
import {
  ClientClosedError,
  IllegalStateError,
  RequestAbortedError,
  RequestTimeoutError,
} from "../../src/errors.ts";

function reply(body: string): ReplyMessage {
  return {
    topic: "C_REPLY_TOPIC",
    body: new TextEncoder().encode(body),
    properties: {},
    correlationId: "c1",
    bornHost: undefined,
    value: undefined,
    timing: {
      sent: 0,
      stored: undefined,
      consumed: undefined,
      replied: 0,
      pushed: undefined,
      arrived: 0,
    },
  };
}

const text = (r: ReplyMessage) => new TextDecoder().decode(r.body);

async function drain(stream: ReplyStreamImpl): Promise<string[]> {
  const out: string[] = [];
  for await (const r of stream) out.push(text(r));
  return out;
}

function make(timers: ManualTimers, options: Record<string, unknown> = {}): ReplyStreamImpl {
  return new ReplyStreamImpl({
    correlationId: "c1",
    timeout: 1000,
    timers,
    timeoutError: () =>
      new RequestTimeoutError({
        topic: "rpc",
        correlationId: "c1",
        timeout: 1000,
        stage: "awaiting-reply",
      }),
    ...options,
  });
}

test("ReplyStream ends after maxReplies and counts what comes later as late", async () => {
  const timers = new ManualTimers();
  const stream = make(timers, { maxReplies: 2 });
  assert.equal(await stream.offer(reply("a")), "accepted");
  assert.equal(await stream.offer(reply("b")), "accepted");
  assert.equal(await stream.offer(reply("c")), "late");
  assert.deepEqual(await drain(stream), ["a", "b"]);
  assert.equal(stream.endReason, "max-replies");
  assert.equal(stream.lateReplies, 1);
  assert.equal(timers.pending, 0, "no timer left behind");
});

test("ReplyStream: an empty body is the default sentinel, not yielded; false turns it off", async () => {
  const timers = new ManualTimers();
  const stream = make(timers);
  await stream.offer(reply("a"));
  await stream.offer(reply(""));
  assert.deepEqual(await drain(stream), ["a"]);
  assert.equal(stream.endReason, "sentinel");

  const off = make(timers, { sentinel: false, maxReplies: 2 });
  await off.offer(reply(""));
  await off.offer(reply("b"));
  assert.deepEqual(await drain(off), ["", "b"]);

  const custom = make(timers, { sentinel: (r: ReplyMessage) => text(r) === "EOF" });
  await custom.offer(reply(""));
  await custom.offer(reply("EOF"));
  assert.deepEqual(await drain(custom), [""]);
  assert.equal(custom.endReason, "sentinel");
});

test("ReplyStream: a stall after the last reply ends it; the overall timeout still rules before the first", async () => {
  const timers = new ManualTimers();
  const stream = make(timers, { stall: 50 });
  timers.advance(500); // no reply yet: the stall timer has not started
  assert.equal(stream.ended, false);
  await stream.offer(reply("a"));
  timers.advance(49);
  await stream.offer(reply("b")); // resets the stall timer
  timers.advance(49);
  assert.equal(stream.ended, false);
  timers.advance(1);
  assert.equal(stream.endReason, "stall");
  assert.equal(stream.partial, false);
  assert.deepEqual(await drain(stream), ["a", "b"]);
});

test("ReplyStream: the timeout after some replies is a partial result, with none a RequestTimeoutError", async () => {
  const timers = new ManualTimers();
  const some = make(timers);
  await some.offer(reply("a"));
  timers.advance(1000);
  assert.deepEqual(await drain(some), ["a"]);
  assert.equal(some.endReason, "timeout");
  assert.equal(some.partial, true);

  const none = make(timers);
  timers.advance(1000);
  await assert.rejects(drain(none), RequestTimeoutError);
  assert.equal(none.partial, false);
});

test("ReplyStream ends once the expected responders sent their last reply", async () => {
  const timers = new ManualTimers();
  const stream = make(timers, { responders: 2 });
  await stream.offer(reply("a1"), { more: true });
  await stream.offer(reply("b1")); // b's last
  await stream.offer(reply("a2"), { more: true });
  assert.equal(stream.ended, false);
  await stream.offer(reply(""), { endMarker: true }); // a's stream ends without a value
  assert.equal(stream.endReason, "responders");
  assert.equal(stream.respondersDone, 2);
  assert.deepEqual(await drain(stream), ["a1", "b1", "a2"]);
});

test("ReplyStream: the signal aborts with RequestAbortedError and drops what was buffered", async () => {
  const timers = new ManualTimers();
  const controller = new AbortController();
  const stream = make(timers, { signal: controller.signal });
  await stream.offer(reply("a"));
  controller.abort("enough");
  const err = await drain(stream).catch((e) => e);
  assert.ok(err instanceof RequestAbortedError);
  assert.equal(err.cause, "enough");
  assert.equal(stream.endReason, "aborted");
  assert.equal(timers.pending, 0);
});

test("ReplyStream: break ends it (endReason 'break') and it iterates only once", async () => {
  const timers = new ManualTimers();
  const stream = make(timers);
  await stream.offer(reply("a"));
  await stream.offer(reply("b"));
  for await (const r of stream) {
    assert.equal(text(r), "a");
    break;
  }
  assert.equal(stream.endReason, "break");
  assert.equal(await stream.offer(reply("c")), "late");
  assert.throws(() => stream[Symbol.asyncIterator](), IllegalStateError);
});

test("ReplyStream: a reader waiting for replies gets them as they come", async () => {
  const timers = new ManualTimers();
  const stream = make(timers, { maxReplies: 3 });
  const read = drain(stream);
  for (const body of ["a", "b", "c"]) {
    await new Promise((r) => setTimeout(r, 1));
    await stream.offer(reply(body));
  }
  assert.deepEqual(await read, ["a", "b", "c"]);
});

test("ReplyStream holds pushes while its buffer is full, and releases one per reply read", async () => {
  const timers = new ManualTimers();
  const stream = make(timers, { maxBuffered: 2, sentinel: false });
  assert.equal(await stream.offer(reply("1")), "accepted");
  assert.equal(await stream.offer(reply("2")), "accepted");
  let third: string | undefined;
  const held = stream.offer(reply("3")).then((o) => third = o);
  await Promise.resolve();
  assert.equal(third, undefined, "held while the buffer is full");
  assert.equal(stream.buffered, 2);
  const it = stream[Symbol.asyncIterator]();
  assert.equal(text((await it.next()).value), "1");
  await held;
  assert.equal(third, "accepted");
  assert.equal(stream.buffered, 2);
  assert.equal(text((await it.next()).value), "2");
  assert.equal(text((await it.next()).value), "3");
  assert.equal(stream.received, 3);
  await it.return!();
});

test("ReplyStream refuses a push held too long, and any push beyond its bounds (overflow)", async () => {
  const timers = new ManualTimers();
  const stream = make(timers, { maxBuffered: 1, timeout: 60_000 });
  await stream.offer(reply("1"));
  const held = stream.offer(reply("2")); // held: 1 may be held
  assert.equal(await stream.offer(reply("3")), "overflow"); // buffer and hold both full
  timers.advance(REPLY_HOLD_MS);
  assert.equal(await held, "overflow");
  assert.equal(stream.overflow, 2);
  assert.equal(stream.received, 1);
  stream.cancel();
  assert.deepEqual(await drain(stream), []); // break drops the buffer
});

test("ReplyStream: replies held when it ends are answered late; close and fail throw their error", async () => {
  const timers = new ManualTimers();
  const stream = make(timers, { maxBuffered: 1 });
  await stream.offer(reply("1"));
  const held = stream.offer(reply("2"));
  stream.close(new ClientClosedError("producer closed"));
  assert.equal(await held, "late");
  await assert.rejects(drain(stream), ClientClosedError);

  const failed = make(timers);
  const cause = new Error("no route");
  failed.fail(cause);
  assert.equal(await drain(failed).catch((e) => e), cause);
  assert.equal(failed.endReason, "failed");
});
