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
  RequestTimeoutError,
} from "../../mod.ts";

/** Where the suite's broker is, and how to release it. */
export interface SuiteTarget {
  nameServer: string;
  close(): Promise<void>;
}

let counter = 0;
export const unique = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${counter++}`;
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Wait for a condition (events, never a fixed time). */
export async function until(condition: () => boolean, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(5);
  }
}

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
        await until(() => consumers.every((c) => queues(c).length === 4));
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
      await until(() => slowStarted);
      open();
      // Dropped either by the requester (RocketMQ brokers push it: a late
      // reply) or by this library's broker, which forgot the request when
      // the requester cancelled it (the responder's reply() fails).
      await until(() => stream.lateReplies === 1 || slowConsumer!.stats.replyFailures === 1);
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
  });
}
