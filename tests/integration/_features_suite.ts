// The suite of issue 12's features: many replies (scatter-gather and
// streamed parts), cancellation that reaches the responder, deadlines that
// carry over, trace context round trips, service stats and discovery. Our
// requester ↔ our responders through a broker given by `setup`, over real
// TCP. Runtime-neutral. Used with the embedded broker (features_test.ts) and
// with real RocketMQ (tests/interop/features_test.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  type MessageHandler,
  Producer,
  PushConsumer,
  RequestAbortedError,
  RequestCancelledError,
  RequestTimeoutError,
} from "../../mod.ts";
import { sleep, until } from "../_wait.ts";

/** What a cancellation test measured, for the report: abort → handler signal (ms). */
export const cancelLatencies: number[] = [];

/** Where the suite's broker is, and how to release it. */
export interface SuiteTarget {
  nameServer: string;
  close(): Promise<void>;
}

let counter = 0;
export const unique = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${counter++}`;

/** Test kit shared by the feature tests: a requester and responders on demand. */
export interface FeatureKit {
  readonly nameServer: string;
  readonly requester: Producer;
  /**
   * Start responders, one per group, on `topic`, and wait until each owns
   * every queue of the topic (so no request is left in a queue nobody reads).
   */
  responders(
    topic: string,
    handlers: Record<string, MessageHandler>,
  ): Promise<PushConsumer[]>;
}

/**
 * Define the suite.
 *
 * @param name Suite name.
 * @param setup Starts (or points at) the broker.
 */
export function featuresSuite(name: string, setup: () => Promise<SuiteTarget>): void {
  describe(name, () => {
    let target: SuiteTarget;
    let requester: Producer;
    const started: PushConsumer[] = [];
    const kit: FeatureKit = {
      get nameServer() {
        return target.nameServer;
      },
      get requester() {
        return requester;
      },
      async responders(topic, handlers) {
        await requester.send({ topic, body: "create the topic" });
        const consumers = Object.entries(handlers).map(([group, handler]) => {
          const c = new PushConsumer({ nameServer: target.nameServer, group });
          c.subscribe(topic, "*", handler);
          started.push(c);
          return c;
        });
        await Promise.all(consumers.map((c) => c.start()));
        const queues = (c: PushConsumer) => c.assignedQueues.filter((q) => q.topic === topic);
        await until(
          () => consumers.every((c) => queues(c).length === 4),
          `4 queues for each responder of ${topic}`,
        );
        return consumers;
      },
    };

    before(async () => {
      target = await setup();
      requester = new Producer({ nameServer: target.nameServer, group: unique("requesters") });
      await requester.start();
    });

    after(async () => {
      await Promise.all(started.map((c) => c.close()));
      await requester?.close();
      await target?.close();
    });

    test("requestMany gathers one reply from each of three responder groups", async () => {
      const topic = unique("gather");
      const groups = ["a", "b", "c"].map((g) => unique(`${topic}_${g}`));
      await kit.responders(
        topic,
        Object.fromEntries(groups.map((g) => [g, (m) => `${g}:${bodyText(m)}`])),
      );
      const stream = requester.requestMany({ topic, body: "q" }, {
        timeout: 10_000,
        responders: 3,
      });
      const bodies: string[] = [];
      for await (const reply of stream) bodies.push(bodyText(reply));
      assert.deepEqual(bodies.sort(), groups.map((g) => `${g}:q`).sort());
      assert.equal(stream.endReason, "responders");
      assert.equal(stream.partial, false);
    });

    test("requestMany: the timeout with some replies ends normally, flagged partial", async () => {
      const topic = unique("partial");
      const [fast, silent] = [unique(`${topic}_fast`), unique(`${topic}_silent`)];
      await kit.responders(topic, { [fast]: () => "fast", [silent]: () => undefined });
      const stream = requester.requestMany({ topic, body: "q" }, { timeout: 1500, responders: 2 });
      const bodies: string[] = [];
      for await (const reply of stream) bodies.push(bodyText(reply));
      assert.deepEqual(bodies, ["fast"]);
      assert.equal(stream.endReason, "timeout");
      assert.equal(stream.partial, true);
      assert.ok(requester.stats.partialStreams >= 1);
    });

    test("requestMany with no reply at all throws RequestTimeoutError", async () => {
      const topic = unique("none");
      await kit.responders(topic, { [unique(`${topic}_g`)]: () => undefined });
      const stream = requester.requestMany({ topic, body: "q" }, { timeout: 500 });
      const err = await (async () => {
        for await (const _ of stream) assert.fail("no reply expected");
      })().catch((e) => e);
      assert.ok(err instanceof RequestTimeoutError, String(err));
      assert.equal(err.stage, "awaiting-reply");
    });

    test("requestMany: maxReplies cuts it; a reply after the end is dropped and counted", async () => {
      const topic = unique("cut");
      const [quick, slow] = [unique(`${topic}_quick`), unique(`${topic}_slow`)];
      let open!: () => void;
      const gate = new Promise<void>((resolve) => open = resolve);
      let slowStarted = false;
      const [, slowConsumer] = await kit.responders(topic, {
        [quick]: () => "quick",
        [slow]: async () => {
          slowStarted = true;
          await gate; // replies only after the stream has ended
          return "slow";
        },
      });
      const before = requester.stats.lateReplies;
      const stream = requester.requestMany({ topic, body: "q" }, {
        timeout: 10_000,
        maxReplies: 1,
      });
      const bodies: string[] = [];
      for await (const reply of stream) bodies.push(bodyText(reply));
      assert.deepEqual(bodies, ["quick"]);
      assert.equal(stream.endReason, "max-replies");
      await until(() => slowStarted, "the slow responder to start");
      open();
      // Dropped either by the requester (RocketMQ brokers push it: a late
      // reply) or by this library's broker, which forgot the request when
      // the requester cancelled it (the responder's reply() fails).
      await until(
        () => stream.lateReplies === 1 || slowConsumer!.stats.replyFailures === 1,
        "the slow reply to be dropped",
      );
      if (stream.lateReplies === 1) assert.equal(requester.stats.lateReplies, before + 1);
      assert.equal(stream.received, 1);
    });

    test("responders() lists the online groups of a topic and their clients", async () => {
      const topic = unique("disco");
      const [a, b] = [unique(`${topic}_a`), unique(`${topic}_b`)];
      const consumers = await kit.responders(topic, { [a]: () => "a", [b]: () => "b" });
      const groups = await requester.responders(topic, { stats: false });
      assert.deepEqual(groups.map((g) => g.group), [a, b].sort());
      for (const g of groups) {
        assert.equal(g.expression, "*");
        assert.equal(g.messageModel, "CLUSTERING");
        assert.equal(g.clients.length, 1);
      }
      const byGroup = new Map(groups.map((g) => [g.group, g.clients[0]!.clientId]));
      assert.equal(byGroup.get(a), consumers[0]!.clientId);
      assert.equal(byGroup.get(b), consumers[1]!.clientId);
      // A group that went offline is no longer listed.
      await consumers[1]!.close();
      const after = await requester.responders(topic, { stats: false });
      assert.deepEqual(after.map((g) => g.group), [a]);
    });

    test("a responder streams parts with more: true; requestMany gets them all, request() the first", async () => {
      const topic = unique("parts");
      await kit.responders(topic, {
        [unique(`${topic}_g`)]: async (m, ctx) => {
          if (!ctx.isRequest) return undefined;
          const n = Number(bodyText(m));
          for (let i = 1; i < n; i++) await ctx.reply(`part ${i}`, { more: true });
          return bodyText(m) === "3" ? "last" : undefined; // "2": the stream just ends
        },
      });
      const bodies = async (body: string) => {
        const stream = requester.requestMany({ topic, body }, { timeout: 10_000, responders: 1 });
        const out: Array<[string, boolean]> = [];
        for await (const reply of stream) out.push([bodyText(reply), reply.more === true]);
        assert.equal(stream.endReason, "responders");
        return out;
      };
      assert.deepEqual(await bodies("3"), [["part 1", true], ["part 2", true], ["last", false]]);
      assert.deepEqual(await bodies("2"), [["part 1", true]]); // ended by the RPC_END marker
      const first = await requester.request({ topic, body: "3" }, { timeout: 10_000 });
      assert.equal(bodyText(first), "part 1");
    });

    test("an aborted request reaches the responder: its handler's signal aborts with RequestCancelledError", async () => {
      const topic = unique("cancel");
      const reasons: unknown[] = [];
      let started!: () => void;
      const running = new Promise<void>((resolve) => started = resolve);
      let aborted = 0;
      const [consumer] = await kit.responders(topic, {
        [unique(`${topic}_g`)]: (_m, ctx) => {
          if (!ctx.isRequest) return undefined;
          started();
          return new Promise((resolve) => {
            ctx.signal.addEventListener("abort", () => {
              aborted = performance.now();
              reasons.push(ctx.signal.reason);
              resolve(undefined);
            }, { once: true });
          });
        },
      });
      const controller = new AbortController();
      const sent = requester.stats.sent;
      const pending = requester.request({ topic, body: "long job" }, {
        timeout: 30_000,
        signal: controller.signal,
      });
      await running;
      // Stored: the cancel knows where it is.
      await until(() => requester.stats.sent > sent, "the request to be stored");
      const abortedAt = performance.now();
      controller.abort("changed my mind");
      await assert.rejects(pending, RequestAbortedError);
      await until(() => reasons.length === 1, "the handler's abort signal");
      assert.ok(reasons[0] instanceof RequestCancelledError, String(reasons[0]));
      cancelLatencies.push(aborted - abortedAt);
      await until(() => consumer!.stats.cancelled === 1, "the consumer to count the cancel");
      assert.equal(consumer!.stats.replied, 0);
    });

    test("a request cancelled before its handler started is skipped", async () => {
      const topic = unique("skip");
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      const handled: string[] = [];
      const group = unique(`${topic}_g`);
      const consumer = new PushConsumer({ nameServer: kit.nameServer, group, concurrency: 1 });
      consumer.subscribe(topic, "*", async (m, ctx) => {
        if (!ctx.isRequest) return undefined;
        handled.push(bodyText(m));
        if (bodyText(m) === "first") await gate;
        return "done";
      });
      try {
        await requester.send({ topic, body: "create the topic" });
        await consumer.start();
        await until(
          () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
          "the consumer's 4 queues",
        );
        const queue = consumer.assignedQueues.find((q) => q.topic === topic)!;
        const first = requester.request({ topic, body: "first" }, { timeout: 30_000, queue });
        await until(() => handled.length === 1, "the first request's handler");
        const controller = new AbortController();
        const sent = requester.stats.sent;
        const second = requester.request({ topic, body: "second" }, {
          timeout: 30_000,
          queue,
          signal: controller.signal,
        });
        await until(() => requester.stats.sent > sent, "the second request to be stored");
        controller.abort();
        await assert.rejects(second, RequestAbortedError);
        await until(
          () => consumer.stats.cancelsReceived >= 1,
          "the consumer to receive the cancel",
        );
        release();
        assert.equal(bodyText(await first), "done");
        await until(
          () => consumer.stats.cancelledBeforeStart === 1,
          "the second request to be skipped",
        );
        assert.deepEqual(handled, ["first"]);
      } finally {
        release();
        await consumer.close();
      }
    });

    test("context.requesterAlive() is true while the requester's client is registered, false once it left", async () => {
      const topic = unique("alive");
      const answers: boolean[] = [];
      const held: Array<() => Promise<boolean>> = [];
      await kit.responders(topic, {
        [unique(`${topic}_g`)]: async (_m, ctx) => {
          if (!ctx.isRequest) return undefined;
          answers.push(await ctx.requesterAlive());
          held.push(() => ctx.requesterAlive());
          return undefined;
        },
      });
      const gone = new Producer({ nameServer: kit.nameServer, group: unique("gone") });
      await gone.start();
      await gone.request({ topic, body: "x" }, { timeout: 300 }).catch(() => {});
      await until(() => answers.length === 1, "the handler's requesterAlive() answer");
      assert.deepEqual(answers, [true]);
      await gone.close();
      // Once the shared cache (a second) expired, the broker no longer lists it.
      let alive = true;
      const deadline = Date.now() + 10_000;
      while (alive && Date.now() < deadline) {
        alive = await held[0]!();
        if (alive) await sleep(200);
      }
      assert.equal(alive, false);
    });

    test("a nested request with { parent: context } inherits the caller's deadline", async () => {
      const topic = unique("outer");
      const silent = unique("silent");
      await kit.responders(silent, { [unique(`${silent}_g`)]: () => undefined });
      const nested: unknown[] = [];
      await kit.responders(topic, {
        [unique(`${topic}_g`)]: async (_m, ctx) => {
          if (!ctx.isRequest) return undefined;
          const started = Date.now();
          const err = await requester.request({ topic: silent, body: "inner" }, {
            timeout: 60_000,
            parent: ctx,
          }).catch((e) => e);
          nested.push({ err, ms: Date.now() - started, left: ctx.deadline - started });
          return "outer done";
        },
      });
      await requester.request({ topic, body: "x" }, { timeout: 1500 }).catch(() => {});
      await until(() => nested.length === 1, "the nested request to end");
      const { err, ms, left } = nested[0] as { err: unknown; ms: number; left: number };
      // It ends with its caller: its inherited timeout, or the caller's signal
      // (aborted at the same deadline), whichever fires first.
      if (err instanceof RequestTimeoutError) {
        assert.ok(err.timeout <= 1500, `inherited ${err.timeout} ms, not the 60 s asked`);
      } else {
        assert.ok(err instanceof RequestAbortedError, String(err));
      }
      assert.ok(ms < left + 1000, `the nested request outlived its caller: ${ms} ms of ${left}`);
    });

    test("a parent's deadline bounds a request's timeout; one already passed sends nothing", async () => {
      const topic = unique("bounded");
      await kit.responders(topic, { [unique(`${topic}_g`)]: () => undefined });
      const started = Date.now();
      const err = await requester.request({ topic, body: "x" }, {
        timeout: 60_000,
        parent: { deadline: Date.now() + 300 },
      }).catch((e) => e);
      assert.ok(err instanceof RequestTimeoutError, String(err));
      assert.ok(err.timeout <= 300, `timeout ${err.timeout}`);
      assert.ok(Date.now() - started < 5000);
      const sent = requester.stats.sent;
      const late = await requester.request({ topic, body: "x" }, {
        parent: { deadline: Date.now() - 1 },
      }).catch((e) => e);
      assert.ok(late instanceof RequestTimeoutError);
      assert.equal(late.stage, "sending");
      assert.equal(requester.stats.sent, sent, "nothing was sent");
    });

    test("the trace context travels on the request, the responder sees it, the reply brings it back", async () => {
      const topic = unique("trace");
      const seen: Array<string | undefined> = [];
      await kit.responders(topic, {
        [unique(`${topic}_g`)]: (_m, ctx) => {
          if (!ctx.isRequest) return undefined;
          seen.push(ctx.trace?.traceparent);
          return "traced";
        },
      });
      const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      const reply = await requester.request({ topic, body: "x" }, {
        timeout: 10_000,
        trace: { traceparent, tracestate: "rojo=00f067aa0ba902b7" },
      });
      assert.deepEqual(seen, [traceparent]);
      assert.deepEqual(reply.trace, { traceparent, tracestate: "rojo=00f067aa0ba902b7" });
    });

    test("responders() reads each responder's counters and handler latency from its running info", async () => {
      const topic = unique("stats");
      const group = unique(`${topic}_g`);
      const [consumer] = await kit.responders(topic, { [group]: (m) => `re:${bodyText(m)}` });
      for (let i = 0; i < 5; i++) {
        await requester.request({ topic, body: `${i}` }, { timeout: 10_000 });
      }
      await until(() => consumer!.stats.replied === 5, "5 replies");
      const [g] = await requester.responders(topic);
      const client = g!.clients[0]!;
      assert.equal(client.error, undefined);
      assert.equal(client.counters.replied, 5);
      assert.ok((client.counters.requests ?? 0) >= 5);
      assert.ok((client.latency[topic]?.count ?? 0) >= 5);
      assert.equal(client.properties.PROP_CONSUME_TYPE, "CONSUME_PASSIVELY");
      assert.ok((consumer!.handlerLatency[topic]?.count ?? 0) >= 5);
    });
  });
}
