// The responder's edges on our broker, over loopback TCP: a topic that
// appears after its responder (the broker says so), fail-fast from the facts,
// replies that cannot be sent, hung handlers, close() within its drain
// timeout, and a memory-store broker that restarts. (JSON replies,
// redeliveries, the close() handover and clock skew are in the shared suite,
// _request_reply_suite.ts, which also runs against real RocketMQ.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  ClientClosedError,
  HandlerTimeoutError,
  ManualTimers,
  type MessageExt,
  NoResponderError,
  Producer,
  PushConsumer,
  RemoteError,
} from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

const owned = (c: PushConsumer, topic: string) => c.assignedQueues.filter((q) => q.topic === topic);

describe("the responder's edges on the embedded broker", () => {
  let broker: BrokerHandle;
  let requester: Producer;

  before(async () => {
    // Short delay levels, so a message sent back comes again in milliseconds.
    broker = await startBroker({
      port: 0,
      delayLevels: Array.from({ length: 18 }, (_, i) => 50 * (i + 1)),
    });
    requester = new Producer({ nameServer: broker.address, group: unique("requesters") });
    await requester.start();
  });

  after(async () => {
    await requester?.close();
    await broker?.close();
  });

  test("a responder subscribed before its topic existed learns of it from the broker, not from a timer", async () => {
    const topic = unique("fresh");
    // A clock that never moves: the consumer's rebalance retry never fires,
    // so only the broker's notice that the topic appeared can wake it.
    const frozen = new ManualTimers(Date.now());
    const consumer = new PushConsumer({
      nameServer: broker.address,
      group: unique("fresh_g"),
      timers: frozen,
    });
    consumer.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
    try {
      await consumer.start(); // the topic does not exist yet
      // The broker knows the subscription (the consumer registered although
      // no route named a broker), and tells the consumer when the first
      // request creates the topic.
      const reply = await requester.request({ topic, body: "first" }, { timeout: 10_000 });
      assert.equal(bodyText(reply), "re:first");
    } finally {
      await consumer.close({ drainTimeout: 0 });
    }
  });

  test("failFast answers from the facts: a responder of a new topic is online, a closed one is gone at once", async () => {
    const topic = unique("ff");
    const consumer = new PushConsumer({ nameServer: broker.address, group: unique("ff_g") });
    consumer.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
    await consumer.start(); // the topic does not exist: no request has created it
    try {
      const reply = await requester.request({ topic, body: "x" }, {
        timeout: 3000,
        failFast: true,
      });
      assert.equal(bodyText(reply), "re:x");
      // Concurrent probes share one question and all pass.
      const replies = await Promise.all(
        [0, 1, 2].map((i) =>
          requester.request({ topic, body: `c${i}` }, { timeout: 3000, failFast: true })
        ),
      );
      assert.deepEqual(replies.map(bodyText), ["re:c0", "re:c1", "re:c2"]);
    } finally {
      await consumer.close();
    }
    // Closed just now: no cached "online" answer lets a request through.
    const err = await requester.request({ topic, body: "y" }, { timeout: 3000, failFast: true })
      .catch((e) => e);
    assert.ok(err instanceof NoResponderError, String(err));
  });

  test("a reply over maxReplySize becomes a RemoteError naming both sizes, not a timeout", async () => {
    const topic = unique("big");
    const consumer = new PushConsumer({ nameServer: broker.address, group: unique("big_g") });
    consumer.subscribe(topic, "*", () => new Uint8Array(5 * 1024 * 1024)); // default limit: 4 MiB
    try {
      await requester.send({ topic, body: "create" });
      await consumer.start();
      await until(() => owned(consumer, topic).length === 4, "queues");
      const started = Date.now();
      const err = await requester.request({ topic, body: "x" }, { timeout: 20_000 }).catch((e) =>
        e
      );
      assert.ok(err instanceof RemoteError, String(err));
      assert.equal(err.remoteName, "ReplyTooLargeError");
      assert.match(err.remoteMessage, /5242880 bytes exceeds .* 4194304 bytes/);
      assert.ok(Date.now() - started < 10_000, "answered, not timed out");
    } finally {
      await consumer.close();
    }
  });

  test("a reply the broker refuses (frame too large) becomes a RemoteError naming the cause", async () => {
    const topic = unique("frame");
    const consumer = new PushConsumer({
      nameServer: broker.address,
      group: unique("frame_g"),
      maxReplySize: 64 * 1024 * 1024, // past the 16 MiB frame: the send itself fails
    });
    const noise = new Uint8Array(17 * 1024 * 1024);
    for (let i = 0; i < noise.length; i += 65536) {
      crypto.getRandomValues(noise.subarray(i, i + 65536));
    }
    consumer.subscribe(topic, "*", () => noise);
    try {
      await requester.send({ topic, body: "create" });
      await consumer.start();
      await until(() => owned(consumer, topic).length === 4, "queues");
      const err = await requester.request({ topic, body: "x" }, { timeout: 20_000 }).catch((e) =>
        e
      );
      assert.ok(err instanceof RemoteError, String(err));
      assert.equal(err.remoteName, "ReplyTooLargeError");
      assert.match(err.remoteMessage, /17825792 bytes could not be sent: FrameTooLargeError/);
    } finally {
      await consumer.close();
    }
  });

  test("hung handlers: the signal aborts at the deadline, the slot is freed, later requests are answered, close() returns", async () => {
    const topic = unique("hung");
    const reasons: unknown[] = [];
    const consumer = new PushConsumer({
      nameServer: broker.address,
      group: unique("hung_g"),
      concurrency: 2,
    });
    consumer.subscribe(topic, "*", (m, ctx) => {
      if (!ctx.isRequest) return; // the message that created the topic
      if (bodyText(m) === "ok") return "fine";
      ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
      return new Promise(() => {}); // never settles
    });
    try {
      await requester.send({ topic, body: "create" });
      await consumer.start();
      await until(() => owned(consumer, topic).length === 4, "queues");
      // Without propagateCancel: the requester's own cancel, sent when it
      // times out, would race the responder's deadline, which this tests.
      await using quiet = new Producer({
        nameServer: broker.address,
        group: unique("quiet"),
        propagateCancel: false,
      });
      await quiet.start();
      const hung = [1, 2].map(() =>
        quiet.request({ topic, body: "hang" }, { timeout: 300 }).catch((e) => e)
      );
      await until(() => consumer.stats.received >= 3, "both hung requests pulled");
      const reply = await requester.request({ topic, body: "ok" }, { timeout: 5000 });
      assert.equal(bodyText(reply), "fine");
      await Promise.all(hung);
      await until(() => reasons.length === 2, "both signals aborted");
      assert.ok(reasons.every((r) => r instanceof HandlerTimeoutError), String(reasons));
      assert.equal(consumer.stats.timedOut, 2);
    } finally {
      const started = Date.now();
      await consumer.close({ drainTimeout: 1000 });
      assert.ok(Date.now() - started < 5000, "close() returned");
    }
  });

  test("consumeTimeout: an ordinary message whose handler hangs is sent back and handled again", async () => {
    const topic = unique("slow");
    const deliveries: number[] = [];
    const consumer = new PushConsumer({
      nameServer: broker.address,
      group: unique("slow_g"),
      consumeFrom: "first",
      consumeTimeout: 200,
    });
    consumer.subscribe(topic, "*", (m: MessageExt) => {
      deliveries.push(m.reconsumeTimes);
      // Hangs the first time.
      return m.reconsumeTimes === 0 ? new Promise(() => {}) : undefined;
    });
    try {
      await requester.send({ topic, body: "job" });
      await consumer.start();
      await until(() => deliveries.length === 2, "second delivery");
      assert.deepEqual(deliveries, [0, 1]);
      assert.equal(consumer.stats.timedOut, 1);
      assert.equal(consumer.stats.sentBack, 1);
    } finally {
      await consumer.close({ drainTimeout: 500 });
    }
  });

  test("close() returns within its drain timeout while a handler hangs, and aborts its signal", async () => {
    const topic = unique("drain");
    let reason: unknown;
    let started = false;
    const consumer = new PushConsumer({ nameServer: broker.address, group: unique("drain_g") });
    consumer.subscribe(topic, "*", (_m, ctx) => {
      if (!ctx.isRequest) return;
      started = true;
      ctx.signal.addEventListener("abort", () => reason = ctx.signal.reason);
      return new Promise(() => {});
    });
    await requester.send({ topic, body: "create" });
    await consumer.start();
    await until(() => owned(consumer, topic).length === 4, "queues");
    const pending = requester.request({ topic, body: "x" }, { timeout: 2000 }).catch((e) => e);
    await until(() => started, "handler running");
    const closing = Date.now();
    await consumer.close({ drainTimeout: 300 });
    const took = Date.now() - closing;
    assert.ok(took < 300 + 200, `close() took ${took} ms`);
    assert.ok(reason instanceof ClientClosedError, String(reason));
    await assert.rejects(consumer.reply({} as MessageExt, "late"), ClientClosedError);
    assert.ok((await pending) instanceof Error); // stays unanswered: it ran, and nobody replied
  });
});

test("a memory-store broker restarts: requests stored right after are read from the queue's new start", async () => {
  let broker = await startBroker({ port: 0 });
  const port = broker.port;
  const nameServer = broker.address;
  const topic = unique("amnesia");
  const responder = new PushConsumer({ nameServer, group: `${topic}_g` });
  responder.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
  const requester = new Producer({ nameServer, group: `${topic}_p` });
  try {
    await requester.start();
    await requester.send({ topic, body: "create" });
    await responder.start();
    await until(() => owned(responder, topic).length === 4, "queues");
    // Move every queue's offset well past where a new store starts.
    for (let i = 0; i < 40; i++) {
      await requester.request({ topic, body: `warm${i}` }, { timeout: 5000 });
    }
    await broker.close();
    broker = await startBroker({ port }); // a new, empty memory store
    // The requester's first write may still go to the old connection, and a
    // request that may have been stored there is not sent twice (it fails
    // with ConnectionClosedError): an ordinary send, which is retried, gets
    // the requester onto a new connection first.
    await requester.send({ topic, body: "reconnect" });
    // Requests sent at once, before the consumer noticed anything.
    const replies = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => requester.request({ topic, body: `after${i}` }, { timeout: 10_000 }),
      ),
    );
    assert.deepEqual(replies.map(bodyText), Array.from({ length: 8 }, (_, i) => `re:after${i}`));
  } finally {
    await responder.close();
    await requester.close();
    await broker.close();
  }
});
