// The request-reply behaviour suite: our requester ↔ our responder through a
// broker given by `setup`, over real TCP. Runtime-neutral (Deno, Bun, Node).
// Used with the embedded broker (request_reply_test.ts) and with real
// RocketMQ brokers (tests/interop/client_test.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  BrokerError,
  ClientClosedError,
  type ConsumeContext,
  type MessageExt,
  type MessageHandler,
  type MessageQueue,
  NoResponderError,
  Producer,
  PushConsumer,
  RemoteError,
  RequestAbortedError,
  RequestTimeoutError,
  systemTimers,
  type Timers,
} from "../../mod.ts";
import { sleep, until } from "../_wait.ts";

/** Where the suite's broker is, and how to release it. */
export interface SuiteTarget {
  nameServer: string;
  close(): Promise<void>;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;
const text = (s: string) => new TextEncoder().encode(s);

/**
 * Define the suite.
 *
 * @param name Suite name.
 * @param setup Starts (or points at) the broker.
 */
export function requestReplySuite(name: string, setup: () => Promise<SuiteTarget>): void {
  describe(name, () => {
    let target: SuiteTarget;
    let requester: Producer;
    const broker = {
      get address() {
        return target.nameServer;
      },
    };

    before(async () => {
      target = await setup();
      requester = new Producer({ nameServer: target.nameServer, group: unique("requesters") });
      await requester.start();
    });

    after(async () => {
      await requester?.close();
      await target?.close();
    });

    /**
     * A responder on `topic`, ready to answer: the topic exists and the
     * consumer owns its queues before this resolves (so a short-lived request
     * is not left in a queue nobody reads yet).
     */
    async function responder(
      topic: string,
      handler: MessageHandler,
      options: { start?: boolean } = {},
    ): Promise<PushConsumer> {
      const start = options.start !== false;
      const consumer = new PushConsumer({
        nameServer: broker.address,
        group: unique(`${topic}_g`),
        // A started responder may still see the message that created the topic
        // (like Java brokers, ours starts a new group at offset 0 of a young
        // queue); one started later reads from the start of the queues.
        consumeFrom: start ? "last" : "first",
      });
      consumer.subscribe(topic, "*", handler);
      if (start) {
        await requester.send({ topic, body: "create the topic" });
        await consumer.start();
        await until(
          () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
          `the responder's 4 queues of ${topic}`,
        );
      }
      return consumer;
    }

    test("all four forms get their own reply (promise, callback, selector, explicit queue)", async () => {
      const topic = unique("forms");
      const consumer = await responder(topic, (m) => `re:${bodyText(m)}`);
      try {
        const viaPromise = await requester.request({ topic, body: "p" }, { timeout: 5000 });
        assert.equal(bodyText(viaPromise), "re:p");

        let calls = 0;
        const viaCallback = await new Promise<string>((resolve, reject) => {
          requester.request({ topic, body: "c" }, { timeout: 5000 }, {
            onSuccess: (reply) => {
              calls++;
              resolve(bodyText(reply));
            },
            onException: (err) => {
              calls++;
              reject(err);
            },
          }).catch(reject);
        });
        assert.equal(viaCallback, "re:c");

        const chosen: MessageQueue[] = [];
        const viaSelector = await requester.request({ topic, body: "s" }, {
          timeout: 5000,
          arg: 3,
          selector: (queues, message, arg) => {
            assert.equal(message.body, "s");
            const queue = queues[(arg as number) % queues.length]!;
            chosen.push(queue);
            return queue;
          },
        });
        assert.equal(bodyText(viaSelector), "re:s");
        assert.equal(chosen.length, 1);

        const queue = { ...chosen[0]!, queueId: 1 };
        let seenQueue = -1;
        consumer.subscribe(topic, "*", (m, ctx) => {
          seenQueue = ctx.queue.queueId;
          return `re:${bodyText(m)}`;
        });
        const viaQueue = await requester.request({ topic, body: "q" }, { timeout: 5000, queue });
        assert.equal(bodyText(viaQueue), "re:q");
        assert.equal(seenQueue, 1);

        await sleep(50);
        assert.equal(calls, 1, "callback fired exactly once");
      } finally {
        await consumer.close();
      }
    });

    test("replies carry the correlation id and where the time went", async () => {
      const topic = unique("timing");
      const consumer = await responder(
        topic,
        (m) => ({ body: m.body, properties: { served: "yes" } }),
      );
      try {
        const reply = await requester.request({ topic, body: text("x") }, { timeout: 5000 });
        assert.equal(reply.properties.served, "yes");
        assert.match(reply.correlationId, /^[0-9a-f-]{36}$/);
        const t = reply.timing;
        for (const stamp of [t.stored, t.consumed, t.replied, t.pushed, t.arrived]) {
          assert.equal(typeof stamp, "number");
        }
        assert.ok(t.sent <= t.stored! && t.stored! <= t.consumed! && t.consumed! <= t.replied!);
        assert.ok(t.replied <= t.pushed! && t.pushed! <= t.arrived);
      } finally {
        await consumer.close();
      }
    });

    test("a timeout fires at its deadline and says the request was stored but not answered", async () => {
      const topic = unique("silent");
      const consumer = await responder(topic, () => undefined); // never replies
      try {
        const started = Date.now();
        const err = await requester.request({ topic, body: "x" }, { timeout: 300 }).catch((e) => e);
        const elapsed = Date.now() - started;
        assert.ok(err instanceof RequestTimeoutError, String(err));
        assert.equal(err.stage, "awaiting-reply");
        assert.equal(err.stored?.brokerName !== undefined, true);
        assert.ok(elapsed >= 295, `fired early: ${elapsed} ms`);
        assert.ok(elapsed < 300 + 250, `fired late: ${elapsed} ms`);
      } finally {
        await consumer.close();
      }
    });

    test("an AbortSignal abandons the request", async () => {
      const topic = unique("abort");
      const consumer = await responder(topic, () => undefined);
      try {
        const controller = new AbortController();
        const pending = requester.request({ topic, body: "x" }, {
          timeout: 10_000,
          signal: controller.signal,
        });
        setTimeout(() => controller.abort(new Error("enough")), 50);
        const err = await pending.catch((e) => e);
        assert.ok(err instanceof RequestAbortedError);
        assert.equal((err.cause as Error).message, "enough");
        assert.equal(requester.stats.inFlight, 0);
      } finally {
        await consumer.close();
      }
    });

    test("a handler that throws makes the request reject with RemoteError", async () => {
      const topic = unique("throws");
      const consumer = await responder(topic, () => {
        throw new RangeError("amount out of range");
      });
      try {
        const err = await requester.request({ topic, body: "x" }, { timeout: 5000 }).catch((e) =>
          e
        );
        assert.ok(err instanceof RemoteError, String(err));
        assert.equal(err.remoteName, "RangeError");
        assert.equal(err.remoteMessage, "amount out of range");
      } finally {
        await consumer.close();
      }
    });

    test("manual replies: context.reply() inside, consumer.reply() later; a second reply is refused", async () => {
      const topic = unique("manual");
      const held: MessageExt[] = [];
      let secondReplyError: unknown;
      const consumer = await responder(topic, async (m, ctx) => {
        if (bodyText(m) === "inside") {
          await ctx.reply("from inside");
          secondReplyError = await ctx.reply("again").catch((e) => e);
          return "ignored return value";
        }
        if (ctx.isRequest) held.push(m);
        return undefined;
      });
      try {
        assert.equal(
          bodyText(await requester.request({ topic, body: "inside" }, { timeout: 5000 })),
          "from inside",
        );
        await until(() => secondReplyError !== undefined, "the second reply to fail");
        assert.ok(
          secondReplyError instanceof Error && /already replied/.test(secondReplyError.message),
        );
        const pending = requester.request({ topic, body: "later" }, { timeout: 5000 });
        await until(() => held.length === 1, "the held request");
        await sleep(20);
        await consumer.reply(held[0]!, "from later");
        assert.equal(bodyText(await pending), "from later");
      } finally {
        await consumer.close();
      }
    });

    test("a late reply is dropped and counted, and the callback fires once", async () => {
      const topic = unique("late");
      const held: MessageExt[] = [];
      const consumer = await responder(topic, (m, ctx) => {
        if (ctx.isRequest) held.push(m);
      });
      try {
        const before = requester.stats.lateReplies;
        const outcomes: string[] = [];
        await requester.request({ topic, body: "x" }, { timeout: 200 }, {
          onSuccess: () => outcomes.push("success"),
          onException: (e) =>
            outcomes.push(e instanceof RequestTimeoutError ? "timeout" : String(e)),
        });
        await until(() => outcomes.length === 1, "the request's callback");
        await until(() => held.length === 1, "the held request");
        // RocketMQ pushes it and the requester drops it; the embedded broker
        // refuses it once the request's TTL passed since it was stored
        // (which is later than the requester's deadline, so either can happen).
        const refused = await consumer.reply(held[0]!, "too late").then(() => undefined, (e) => e);
        if (refused === undefined) {
          await until(
            () => requester.stats.lateReplies === before + 1,
            "the late reply to be counted",
          );
        } else {
          assert.ok(refused instanceof BrokerError, String(refused));
          assert.match(refused.remark ?? "", /^no request waits for a reply/);
          assert.equal(requester.stats.lateReplies, before);
        }
        await sleep(50);
        assert.deepEqual(outcomes, ["timeout"]);
      } finally {
        await consumer.close();
      }
    });

    test("requests whose TTL passed before consumption are skipped and counted", async () => {
      const topic = unique("stale");
      let handled = 0;
      const consumer = await responder(topic, (m, ctx) => {
        if (!ctx.isRequest) return undefined;
        handled++;
        return `re:${bodyText(m)}`;
      }, { start: false });
      try {
        // The topic exists first, so the short request below is surely
        // stored (a send that creates a topic can take longer than 150 ms).
        await requester.send({ topic, body: "create the topic" });
        // Nobody consumes yet: this request expires in the queue.
        const err = await requester.request({ topic, body: "stale" }, { timeout: 150 }).catch((e) =>
          e
        );
        assert.ok(err instanceof RequestTimeoutError);
        assert.equal(err.stage, "awaiting-reply", "the stale request was stored");
        await consumer.start(); // consumeFrom: first → it will read the stale request
        const fresh = await requester.request({ topic, body: "fresh" }, { timeout: 5000 });
        assert.equal(bodyText(fresh), "re:fresh");
        await until(() => consumer.stats.expiredRequests === 1, "the stale request to be skipped");
        assert.equal(handled, 1);
      } finally {
        await consumer.close();
      }
    });

    test("failFast rejects at once when no consumer group is online", async () => {
      const topic = unique("nobody");
      await requester.send({ topic, body: "create the topic" });
      const started = Date.now();
      const err = await requester.request({ topic, body: "x" }, { timeout: 5000, failFast: true })
        .catch((e) => e);
      assert.ok(err instanceof NoResponderError, String(err));
      assert.ok(Date.now() - started < 2000);
      const consumer = await responder(topic, () => "here");
      try {
        // Asked each time: a group that comes online is seen at once.
        const reply = await requester.request({ topic, body: "x" }, {
          timeout: 5000,
          failFast: true,
        });
        assert.equal(bodyText(reply), "here");
      } finally {
        await consumer.close();
      }
    });

    test("close() fails every pending request with ClientClosedError", async () => {
      const topic = unique("closing");
      const consumer = await responder(topic, () => undefined);
      const producer = new Producer({ nameServer: broker.address, group: unique("closing_req") });
      await producer.start();
      try {
        const pending = [1, 2, 3].map((i) =>
          producer.request({ topic, body: `r${i}` }, { timeout: 10_000 })
        );
        await until(() => producer.stats.inFlight === 3, "3 requests in flight");
        await sleep(50);
        await producer.close();
        for (const p of pending) await assert.rejects(p, ClientClosedError);
        await assert.rejects(producer.request({ topic, body: "after" }), ClientClosedError);
      } finally {
        await producer.close();
        await consumer.close();
      }
    });

    test("many concurrent requests each get their own reply", async () => {
      const topic = unique("many");
      const consumer = await responder(topic, (m) => `re:${bodyText(m)}`);
      try {
        const replies = await Promise.all(
          Array.from(
            { length: 200 },
            (_, i) => requester.request({ topic, body: `m${i}` }, { timeout: 10_000 }),
          ),
        );
        replies.forEach((reply, i) => assert.equal(bodyText(reply), `re:m${i}`));
      } finally {
        await consumer.close();
      }
    });

    test("large bodies are compressed on the wire and arrive intact both ways", async () => {
      const topic = unique("large");
      const consumer = await responder(topic, (m) => m.body.slice().reverse());
      try {
        const body = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);
        const reply = await requester.request({ topic, body }, { timeout: 10_000 });
        assert.deepEqual(reply.body, body.slice().reverse());
      } finally {
        await consumer.close();
      }
    });

    test("a responder subscribed before its topic existed answers the first request", async () => {
      const topic = unique("fresh");
      const consumer = new PushConsumer({
        nameServer: broker.address,
        group: unique("fresh_g"),
      });
      consumer.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
      try {
        await consumer.start(); // the topic does not exist yet
        // Our broker tells the responder when the topic appears (a few ms);
        // RocketMQ brokers do not, and the responder finds the topic on its
        // next rebalance retry, at most a second later.
        const reply = await requester.request({ topic, body: "first" }, { timeout: 5000 });
        assert.equal(bodyText(reply), "re:first");
      } finally {
        await consumer.close();
      }
    });

    test("replies of any JSON value arrive as reply.value; an unserializable one is a RemoteError at once", async () => {
      const topic = unique("json");
      const values: Record<string, unknown> = {
        number: 42,
        object: { a: 1, nested: [true, null, "x"] },
        null: null,
        array: [1, "two"],
        text: "plain",
      };
      const consumer = await responder(topic, (m) => {
        const key = bodyText(m);
        return key === "bigint" ? 10n : values[key];
      });
      try {
        for (const [key, value] of Object.entries(values)) {
          const reply = await requester.request({ topic, body: key }, { timeout: 5000 });
          assert.deepEqual(reply.value, value, key);
        }
        const number = await requester.request({ topic, body: "number" }, { timeout: 5000 });
        assert.equal(bodyText(number), "42"); // what a Java requester gets
        assert.equal(number.properties.RPC_CONTENT_TYPE, "application/json");
        const started = Date.now();
        const err = await requester.request({ topic, body: "bigint" }, { timeout: 10_000 })
          .catch((e) => e);
        assert.ok(err instanceof RemoteError, String(err));
        assert.equal(err.remoteName, "ReplySerializationError");
        assert.ok(Date.now() - started < 5000, "at once, not at the timeout");
      } finally {
        await consumer.close();
      }
    });

    test("a redelivered request does not run the handler again: it gets the first run's reply", async () => {
      const topic = unique("dup");
      let runs = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      const seen: MessageExt[] = [];
      const consumer = await responder(topic, async (m, ctx: ConsumeContext) => {
        if (!ctx.isRequest) return undefined;
        seen.push(m);
        runs++;
        await gate;
        return `run${runs}`;
      });
      try {
        const pending = requester.request({ topic, body: "once" }, { timeout: 10_000 });
        await until(() => seen.length === 1, "the first run of the request");
        // The same request stored again (as a send retried after a lost
        // answer stores it twice): same correlation id, same requester.
        const original = seen[0]!;
        const copy: Record<string, string> = {};
        for (const key of ["CORRELATION_ID", "REPLY_TO_CLIENT", "TTL", "MSG_TYPE"]) {
          const value = original.properties[key];
          if (value !== undefined) copy[key] = value;
        }
        await requester.send({ topic, body: "once", properties: copy });
        await until(
          () => consumer.stats.duplicateRequests === 1,
          "the copy to be seen as a duplicate",
        );
        release();
        assert.equal(bodyText(await pending), "run1");
        // The copy waited for the first run and sent the same reply (a
        // duplicate for the requester, which had its reply).
        await until(() => consumer.stats.replied === 2, "the reply to the original and the copy");
        assert.equal(runs, 1);
        await until(
          () => requester.stats.duplicateReplies >= 1,
          "the requester to count a duplicate reply",
        );
      } finally {
        release();
        await consumer.close();
      }
    });

    test("close() drains: a manual reply during close arrives; requests pulled but not started go to the group's other consumer", async () => {
      const topic = unique("handoff");
      const group = unique("handoff_g");
      const runs = new Map<string, string[]>();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      const make = (name: string) => {
        const c = new PushConsumer({ nameServer: broker.address, group, concurrency: 1 });
        c.subscribe(topic, "*", async (m, ctx) => {
          if (!ctx.isRequest) return;
          const body = bodyText(m);
          runs.set(body, [...(runs.get(body) ?? []), name]);
          if (name === "A" && body === "r0") {
            await gate;
            await ctx.reply(`${name}:${body}`); // manual, while close() drains
            return;
          }
          return `${name}:${body}`;
        });
        return c;
      };
      const a = make("A");
      const b = make("B");
      const owned = (c: PushConsumer) => c.assignedQueues.filter((q) => q.topic === topic);
      try {
        await requester.send({ topic, body: "create the topic" });
        await a.start();
        await b.start();
        await until(
          () => owned(a).length === 2 && owned(b).length === 2,
          "2 queues each for A and B",
        );
        const queue = owned(a)[0]!;
        const send = (body: string) =>
          requester.request({ topic, body }, { timeout: 15_000, queue });
        const pending = [send("r0")];
        // A runs r0 (and waits at the gate)...
        await until(() => runs.has("r0"), "A to run r0");
        const received = a.stats.received;
        pending.push(send("r1"), send("r2"));
        // ...and holds r1 and r2, not started
        await until(() => a.stats.received === received + 2, "A to hold r1 and r2");
        const closing = a.close({ drainTimeout: 10_000 });
        await sleep(20);
        release();
        await closing;
        const replies = (await Promise.all(pending)).map(bodyText);
        assert.deepEqual(replies, ["A:r0", "B:r1", "B:r2"]);
        assert.deepEqual(Object.fromEntries(runs), { r0: ["A"], r1: ["B"], r2: ["B"] });
      } finally {
        release();
        await a.close();
        await b.close();
      }
    });

    test("a responder whose clock runs 2 s ahead still answers requests with short timeouts", async () => {
      const topic = unique("skew");
      const ahead: Timers = { ...systemTimers, now: () => Date.now() + 2000 };
      const consumer = new PushConsumer({
        nameServer: broker.address,
        group: unique("skew_g"),
        timers: ahead,
      });
      consumer.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
      try {
        await requester.send({ topic, body: "create the topic" });
        await consumer.start();
        await until(
          () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
          `the responder's 4 queues of ${topic}`,
        );
        for (let i = 0; i < 5; i++) {
          const reply = await requester.request({ topic, body: `s${i}` }, { timeout: 1000 });
          assert.equal(bodyText(reply), `re:s${i}`);
        }
        assert.equal(consumer.stats.expiredRequests, 0);
      } finally {
        await consumer.close();
      }
    });
  });
}
