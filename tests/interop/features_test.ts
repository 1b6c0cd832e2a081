// Issue 12's features against real RocketMQ (5.5.0 and 4.9.7) and the
// official Java client: the shared feature suite (requestMany scatter-gather
// across responder groups, cancellation, deadlines, trace context,
// discovery) through the real broker, a Java responder answering a
// requestMany, a Java requester taking the first part of a streamed reply,
// cancel latency, and `mqadmin consumerStatus` showing our consumers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { bodyText, Producer, PushConsumer } from "../../mod.ts";
import { cancelLatencies, featuresSuite } from "../integration/_features_suite.ts";
import { listener } from "../client/_cancel_listener.ts";
import { RequestTimeoutError } from "../../src/errors.ts";
import { startBroker } from "../../src/broker/mod.ts";
import {
  expectedReply,
  ROCKETMQ_LINES,
  ROCKETMQ_VERSIONS,
  type RocketMQCluster,
  type RocketMQLine,
  runJavaRequester,
  runMqAdmin,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";
import { until } from "../_wait.ts";

function lineSuite(line: RocketMQLine): void {
  describe(`features through RocketMQ ${ROCKETMQ_VERSIONS[line]}`, () => {
    let cluster: RocketMQCluster;
    let latenciesFrom = 0;

    before(async () => {
      latenciesFrom = cancelLatencies.length;
      cluster = await startRocketMQ({ line });
      process.stderr.write(
        `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
      );
    });

    after(async () => {
      const ms = cancelLatencies.slice(latenciesFrom).map((n) => n.toFixed(1));
      process.stderr.write(
        `[interop] cancel through RocketMQ ${ROCKETMQ_VERSIONS[line]}: abort → handler signal ${
          ms.join(", ")
        } ms\n`,
      );
      await cluster?.stop();
    });

    featuresSuite(
      `feature suite, ours ↔ ours through RocketMQ ${ROCKETMQ_VERSIONS[line]}`,
      () => Promise.resolve({ nameServer: cluster.nameServer, close: () => Promise.resolve() }),
    );

    it("a cancel goes like a reply to the one consumer of each group holding the request's queue", async () => {
      const topic = uniqueName("cancel_route");
      await cluster.createTopic(topic, { queues: 4 });
      // Two consumers in one group share the 4 queues (2 each); a third group has one.
      const a = await listener(cluster.nameServer, `${topic}_g`, topic);
      const b = await listener(cluster.nameServer, `${topic}_g`, topic);
      const c = await listener(cluster.nameServer, `${topic}_audit`, topic);
      await using requester = new Producer({ nameServer: cluster.nameServer });
      try {
        await requester.start();
        const err = await requester.request({ topic, body: "x" }, { timeout: 500 })
          .catch((e) => e);
        assert.ok(err instanceof RequestTimeoutError, String(err));
        await until(
          () => c.notices.length === 1 && a.notices.length + b.notices.length === 1,
          "the cancel at one consumer of each group",
        );
        const queueId = err.stored!.queueId;
        const ids = [a, b].map((x) => x.instance.clientId).sort();
        const holder = queueId < 2 ? ids[0] : ids[1]; // queues 0-1 to the first id, 2-3 to the second
        const told = a.notices.length === 1 ? a : b;
        assert.equal(told.instance.clientId, holder);
        assert.deepEqual(c.notices[0], {
          correlationId: err.correlationId,
          topic,
          group: undefined,
        });
        // Counted once every send was answered.
        await until(() => requester.stats.cancelsSent === 1, "the requester to count its cancel");
      } finally {
        await Promise.all([a, b, c].map((x) => x.instance.close()));
      }
    });

    it("an official Java requester takes the first part of our streamed reply", async () => {
      const topic = uniqueName("parts_java");
      await cluster.createTopic(topic, { queues: 4 });
      await using responder = new PushConsumer({
        nameServer: cluster.nameServer,
        group: `${topic}_ts`,
      });
      responder.subscribe(topic, "*", async (m, ctx) => {
        if (!ctx.isRequest) return undefined;
        await ctx.reply(m.body.slice().reverse(), { more: true }); // what the Java requester checks
        await ctx.reply("part 2", { more: true });
        return "last";
      });
      await responder.start();
      await until(
        () => responder.assignedQueues.filter((q) => q.topic === topic).length === 4,
        "the responder's 4 queues",
      );
      const run = await runJavaRequester({
        cluster,
        topic,
        forms: ["plain", "callback"],
        count: 4,
      });
      const s = run.summary;
      assert.equal(s.ok, s.sent, run.logTail);
      assert.equal(s.mismatches, 0, run.logTail);
      assert.equal(s.errors, 0, run.logTail);
      // Every part went out; the last ones may find the Java requester gone
      // (it exits once it has its replies): the broker then refuses them.
      await until(
        () => responder.stats.replied + responder.stats.replyFailures === 3 * s.sent,
        "every part of every reply to go out",
      );
      assert.ok(responder.stats.replied >= s.sent);
    });

    it("mqadmin consumerStatus and consumerProgress show our consumer, with its request-reply figures", async () => {
      const topic = uniqueName("mqadmin");
      const group = `${topic}_g`;
      await cluster.createTopic(topic, { queues: 4 });
      await using responder = new PushConsumer({ nameServer: cluster.nameServer, group });
      responder.subscribe(topic, "*", (m) => m.body.slice().reverse());
      await responder.start();
      await until(
        () => responder.assignedQueues.filter((q) => q.topic === topic).length === 4,
        "the responder's 4 queues",
      );
      await using requester = new Producer({ nameServer: cluster.nameServer });
      await requester.start();
      for (let i = 0; i < 3; i++) {
        await requester.request({ topic, body: `r${i}` }, { timeout: 10_000 });
      }
      const one = await runMqAdmin({
        cluster,
        args: ["consumerStatus", "-g", group, "-i", responder.clientId],
      });
      assert.equal(one.exitCode, 0, one.logTail);
      assert.match(one.output, /#Consumer Properties#/, one.logTail);
      assert.match(one.output, /PROP_CONSUME_TYPE\s+: CONSUME_PASSIVELY/);
      assert.match(one.output, /RPC_STAT_replied\s+: 3/);
      assert.match(one.output, new RegExp(`RPC_LATENCY_${topic}\\s+: count=3 `));
      assert.match(one.output, new RegExp(`${topic}\\s+${cluster.brokerName}\\s+0\\s+\\d+`));
      const all = await runMqAdmin({ cluster, args: ["consumerStatus", "-g", group] });
      assert.equal(all.exitCode, 0, all.logTail);
      assert.match(all.output, new RegExp(responder.clientId.replace(/[.#]/g, "\\$&")));
      assert.match(all.output, /Same subscription in the same group of consumer/);
      assert.match(all.output, /Rebalance OK/);
      // consumerProgress: the broker's offsets for each of the topic's queues.
      const progress = await runMqAdmin({ cluster, args: ["consumerProgress", "-g", group] });
      assert.equal(progress.exitCode, 0, progress.logTail);
      const rows = progress.output.split("\n").filter((l) => l.startsWith(topic.slice(0, 32)));
      assert.equal(rows.length, 4, progress.logTail);
    });

    it("requestMany: two Java responder groups answer, one reply each", async () => {
      const topic = uniqueName("many_java");
      await cluster.createTopic(topic, { queues: 4 });
      await using _a = await startJavaResponder({
        cluster,
        topic,
        group: `${topic}_a`,
        mode: "reverse",
      });
      await using _b = await startJavaResponder({
        cluster,
        topic,
        group: `${topic}_b`,
        mode: "echo",
      });
      await using requester = new Producer({ nameServer: cluster.nameServer });
      await requester.start();
      const body = new TextEncoder().encode("scatter");
      const stream = requester.requestMany({ topic, body }, { timeout: 10_000, responders: 2 });
      const replies: Uint8Array[] = [];
      for await (const reply of stream) replies.push(reply.body);
      assert.equal(stream.endReason, "responders");
      assert.deepEqual(
        replies.map((b) => bodyText({ body: b })).sort(),
        [expectedReply("reverse", body)!, expectedReply("echo", body)!]
          .map((b) => bodyText({ body: b })).sort(),
      );
    });
  });
}

for (const line of ROCKETMQ_LINES) lineSuite(line);

describe("mqadmin against the embedded broker", () => {
  it("consumerConnection, consumerStatus and consumerProgress list our consumer", async () => {
    const broker = await startBroker({ port: 0 });
    try {
      const topic = uniqueName("mqadmin_ours");
      const group = `${topic}_g`;
      await using requester = new Producer({ nameServer: broker.address });
      await requester.start();
      await requester.send({ topic, body: "create the topic" });
      await using responder = new PushConsumer({ nameServer: broker.address, group });
      responder.subscribe(topic, "*", (m, ctx) => ctx.isRequest ? m.body : undefined);
      await responder.start();
      await until(
        () => responder.assignedQueues.filter((q) => q.topic === topic).length === 4,
        "the responder's 4 queues",
      );
      await requester.request({ topic, body: "x" }, { timeout: 10_000 });
      const connections = await runMqAdmin({
        line: "5",
        nameServer: broker.address,
        args: ["consumerConnection", "-g", group],
      });
      assert.equal(connections.exitCode, 0, connections.logTail);
      assert.ok(connections.output.includes(responder.clientId), connections.logTail);
      const status = await runMqAdmin({
        line: "5",
        nameServer: broker.address,
        args: ["consumerStatus", "-g", group, "-i", responder.clientId],
      });
      assert.match(status.output, /RPC_STAT_replied\s+: 1/, status.logTail);
      assert.match(status.output, /#Consumer Offset#/);
      // consumerProgress: GET_CONSUME_STATS (208). First wait for the
      // consumer to commit what it handled (it commits every few seconds).
      await until(
        () =>
          [0, 1, 2, 3].every((q) =>
            (broker.broker.store.queryOffset(group, topic, q) ?? 0) ===
              broker.broker.store.maxOffset(topic, q)
          ),
        "the consumer to commit every queue's last offset",
      );
      const progress = await runMqAdmin({
        line: "5",
        nameServer: broker.address,
        args: ["consumerProgress", "-g", group],
      });
      assert.equal(progress.exitCode, 0, progress.logTail);
      assert.match(progress.output, /#Broker Offset/, progress.logTail);
      // mqadmin prints the topic cut to 32 characters.
      const rows = progress.output.split("\n").filter((l) => l.startsWith(topic.slice(0, 32)));
      assert.equal(rows.length, 4, progress.output);
      // What was stored (the topic's first message and the request) was
      // consumed and committed: a total lag of 0.
      assert.match(progress.output, /Diff Total: 0/, progress.output);
    } finally {
      await broker.close();
    }
  });
});
