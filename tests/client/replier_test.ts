// The responder's idempotency memory (Replier.claim): copies of a request
// do not run twice, entries last until the request's deadline, and memory
// stays bounded. No broker: sends fail at once (the reply is remembered
// before it is sent).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Replier } from "../../src/client/replier.ts";
import { ClientInstance } from "../../src/client/client_instance.ts";
import type { MessageExt } from "../../src/client/message.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";
import { ConnectionError } from "../../src/errors.ts";

function setup(idempotency?: { maxEntries?: number; maxBytes?: number } | false) {
  const timers = new ManualTimers(1_000_000);
  const instance = new ClientInstance({
    nameServer: "127.0.0.1:1",
    timers,
    connect: () => Promise.reject(new ConnectionError("127.0.0.1:1", "offline")),
  });
  const replier = new Replier(instance, {
    replyTimeout: 1000,
    ...(idempotency !== undefined ? { idempotency } : {}),
  });
  return { timers, replier };
}

function request(correlationId: string, replyTo = "10.0.0.1@requester"): MessageExt {
  return {
    properties: {
      CORRELATION_ID: correlationId,
      REPLY_TO_CLIENT: replyTo,
      CLUSTER: "C",
      TTL: "3000",
    },
    storeTimestamp: 1_000_000,
    brokerName: "b",
    msgId: correlationId,
  } as unknown as MessageExt;
}

test("Replier.claim: the first copy runs, a later one (same requester and id) does not, until the deadline", () => {
  const { timers, replier } = setup();
  const deadline = timers.now() + 3000;
  assert.equal(replier.claim(request("c1"), deadline).first, true);
  assert.equal(replier.claim(request("c1"), deadline).first, false);
  assert.equal(replier.claim(request("c1", "10.0.0.2@other"), deadline).first, true);
  assert.equal(replier.stats.duplicateRequests, 1);
  timers.advance(3000);
  assert.equal(replier.claim(request("c1"), timers.now() + 3000).first, true, "deadline passed");
});

test("Replier.claim: a copy waits for the first run, and is not run when the first one replies", async () => {
  const { timers, replier } = setup();
  const first = request("c2");
  assert.equal(replier.claim(first, timers.now() + 3000).first, true);
  const copy = replier.claim(request("c2"), timers.now() + 3000);
  assert.equal(copy.first, false);
  let replayed = false;
  const replay = copy.first ? Promise.resolve() : copy.replay().then(() => replayed = true);
  await Promise.resolve();
  assert.equal(replayed, false, "still waiting for the first run");
  await assert.rejects(replier.reply(first, "answer"), ConnectionError); // remembered, then sent
  await replay; // the copy re-sends the same reply (which fails the same way, and is logged)
  assert.equal(replayed, true);
  assert.equal(replier.stats.replyFailures, 2);
});

test("Replier.claim: a copy of a request whose run gave up (release) runs again", () => {
  const { timers, replier } = setup();
  const first = request("c3");
  replier.claim(first, timers.now() + 3000);
  replier.release(first);
  assert.equal(replier.claim(request("c3"), timers.now() + 3000).first, true);
});

test("Replier: memory is bounded by maxEntries and maxBytes, oldest first", async () => {
  const { timers, replier } = setup({ maxEntries: 3, maxBytes: 100 });
  for (let i = 0; i < 5; i++) replier.claim(request(`e${i}`), timers.now() + 3000);
  assert.equal(replier.remembered, 3);
  assert.equal(replier.claim(request("e0"), timers.now() + 3000).first, true, "e0 was evicted");
  // Replies of 20 bytes each: 100 bytes keep the newest 5.
  const { replier: small } = setup({ maxEntries: 100, maxBytes: 100 });
  for (let i = 0; i < 8; i++) {
    const r = request(`b${i}`);
    small.claim(r, timers.now() + 3000);
    await small.reply(r, new Uint8Array(20)).catch(() => undefined);
  }
  assert.ok(small.remembered <= 5, `remembered ${small.remembered}`);
  assert.equal(small.claim(request("b7"), timers.now() + 3000).first, false, "newest kept");
  assert.equal(small.claim(request("b0"), timers.now() + 3000).first, true, "oldest evicted");
});

test("Replier: idempotency: false runs every copy", () => {
  const { timers, replier } = setup(false);
  assert.equal(replier.claim(request("d"), timers.now() + 3000).first, true);
  assert.equal(replier.claim(request("d"), timers.now() + 3000).first, true);
  assert.equal(replier.remembered, 0);
});
