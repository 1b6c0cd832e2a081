// Proves the interop harness: for each RocketMQ line, the official Java client's request-reply works in
// every DefaultMQProducer.request form against the official broker, the checks catch wrong replies and
// timeouts, a broker restart keeps port and store, and the Producer/Consumer peers deliver exactly what
// was sent (concurrently and orderly).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  type ConsumerMessageEvent,
  remotingCall,
  REQUEST_FORMS,
  ROCKETMQ_LINES,
  ROCKETMQ_VERSIONS,
  type RocketMQCluster,
  runJavaProducer,
  runJavaRequester,
  startJavaConsumer,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";

for (const line of ROCKETMQ_LINES) {
  describe(`real RocketMQ ${ROCKETMQ_VERSIONS[line]}`, () => {
    let cluster: RocketMQCluster;

    before(async () => {
      cluster = await startRocketMQ({ line });
      process.stderr.write(
        `[interop] RocketMQ ${cluster.version} ready: ${JSON.stringify(cluster.timings)}\n`,
      );
    });

    after(async () => {
      await cluster?.stop();
    });

    it("broker is routable through the name server", async () => {
      const route = await cluster.route(cluster.replyTopic);
      assert.ok(route, "reply topic has a route");
      assert.equal(route.brokerDatas[0]?.brokerAddrs["0"], cluster.brokerAddress);
      assert.equal(await cluster.route(uniqueName("absent")), null);
    });

    it("official client request-reply works in every request form", async () => {
      const topic = uniqueName("rr");
      assert.deepEqual(
        await cluster.createTopic(topic, { queues: 4 }),
        [0, 1, 2, 3].map((q) => `broker-a:${q}`),
      );
      await using responder = await startJavaResponder({ cluster, topic, mode: "reverse" });
      assert.equal(responder.ready.assigned.length, 4, "a single responder owns all queues");

      const replyOffset = () =>
        remotingCall(cluster.brokerAddress, 30, { topic: cluster.replyTopic, queueId: "0" })
          .then((r) => Number(r.extFields.offset));
      const storedBefore = await replyOffset();
      const run = await runJavaRequester({
        cluster,
        topic,
        count: 6,
        concurrency: 2,
        bodySize: 300,
      });
      assert.equal(run.exitCode, 0, run.logTail);
      assert.equal(run.summary.allOk, true, run.logTail);
      assert.equal(run.summary.sent, 6 * REQUEST_FORMS.length);
      assert.equal(run.replies.length, run.summary.sent);
      for (const form of REQUEST_FORMS) {
        const s = run.summary.forms[form];
        assert.ok(s, `summary has form ${form}`);
        assert.equal(s.ok, 6, `${form}: ${JSON.stringify(s)}`);
      }
      for (const r of run.replies) {
        assert.ok(r.bodyMatches && r.correlationMatches, JSON.stringify(r));
        assert.equal(r.replyTopic, cluster.replyTopic);
        // Delivered by the broker's PUSH_REPLY_MESSAGE_TO_CLIENT (326), which stamps PUSH_REPLY_TIME.
        assert.match(r.replyProperties.PUSH_REPLY_TIME ?? "", /^\d+$/, JSON.stringify(r));
        assert.equal(r.replyProperties.MSG_TYPE, "reply");
      }
      // storeReplyMessageEnable defaults to true on both lines: every reply is also stored.
      assert.equal(await replyOffset() - storedBefore, run.summary.sent);
      // Quirk of the official client (4.9.4+): request(msg, callback, timeout) first reports the send
      // as onSuccess(null); the other callback forms do not.
      assert.equal(run.summary.nullCallbacks, 6);
      // The responder saw each request once, stamped by the broker with CLUSTER and by the client
      // with REPLY_TO_CLIENT = the requester's client id.
      await responder.waitForCount((e) => e.event === "request", run.summary.sent);
      const handled = responder.requests();
      assert.equal(new Set(handled.map((h) => h.correlationId)).size, run.summary.sent);
      for (const h of handled) {
        assert.equal(h.cluster, cluster.clusterName);
        assert.equal(h.replyToClient, run.started.clientId);
        assert.equal(h.replied, true, JSON.stringify(h));
        assert.equal(h.ttl, "3000");
      }
    });

    it("detects wrong reply bodies and missing replies", async () => {
      const topic = uniqueName("rrbad");
      await cluster.createTopic(topic, { queues: 2 });
      {
        await using _echo = await startJavaResponder({ cluster, topic, mode: "echo" });
        const run = await runJavaRequester({
          cluster,
          topic,
          forms: ["plain", "mq-callback"],
          count: 2,
        });
        assert.equal(run.exitCode, 1);
        assert.equal(run.summary.mismatches, 4, run.logTail);
        assert.ok(run.replies.every((r) => !r.bodyMatches && r.correlationMatches));
      }
      const silent = uniqueName("rrnone");
      await cluster.createTopic(silent, { queues: 1 });
      await using _none = await startJavaResponder({ cluster, topic: silent, mode: "none" });
      const run = await runJavaRequester({
        cluster,
        topic: silent,
        forms: ["plain", "callback"],
        count: 1,
        timeoutMs: 1000,
      });
      assert.equal(run.errors.length, 2, run.logTail);
      for (const e of run.errors) assert.match(e.error, /^RequestTimeoutException: /);
      // The same run, judged against expect "none", is a success.
      const expected = await runJavaRequester({
        cluster,
        topic: silent,
        forms: ["selector"],
        count: 1,
        timeoutMs: 1000,
        expect: "none",
      });
      assert.equal(expected.exitCode, 0, expected.logTail);
    });

    it("Producer and Consumer peers deliver every message, orderly per queue", async () => {
      const topic = uniqueName("pc");
      await cluster.createTopic(topic, { queues: 4 });
      const sent = await runJavaProducer({
        cluster,
        topic,
        count: 40,
        keys: "k-{i}",
        tags: "T",
        orderKeys: 4,
      });
      assert.equal(sent.exitCode, 0, sent.logTail);
      assert.equal(sent.sent.length, 40);

      for (const mode of ["concurrently", "orderly"] as const) {
        await using consumer = await startJavaConsumer({
          cluster,
          topic,
          group: uniqueName(mode),
          mode,
        });
        const got = await consumer.waitForMessages(40);
        assert.equal(got.length, 40, `${mode}: no duplicates on a quiet broker`);
        const byId = new Map(got.map((m) => [m.msgId, m]));
        for (const s of sent.sent) {
          const m = byId.get(s.msgId);
          assert.ok(m, `${mode}: ${s.msgId} delivered`);
          assert.equal(m.bodySha256, s.bodySha256);
          assert.equal(m.keys, s.keys);
          assert.equal(m.queueId, s.queueId);
          assert.equal(m.queueOffset, s.queueOffset);
          assert.equal(m.properties.CLUSTER, cluster.clusterName);
        }
        if (mode === "orderly") {
          const perKey = new Map<string, ConsumerMessageEvent[]>();
          for (const m of got) {
            const k = m.properties.orderKey!;
            perKey.set(k, [...perKey.get(k) ?? [], m]);
          }
          for (const [k, list] of perKey) {
            assert.deepEqual(
              list.map((m) => Number(m.properties.orderSeq)),
              list.map((_, i) => i),
              `order key ${k} delivered in order`,
            );
          }
        }
      }
    });

    it("broker restart keeps port and store; request-reply works again", async () => {
      const topic = uniqueName("rrrestart");
      await cluster.createTopic(topic, { queues: 2 });
      const before = await runJavaProducer({ cluster, topic, count: 3 });
      assert.equal(before.exitCode, 0, before.logTail);

      const stopped = await cluster.stopBroker();
      assert.equal(stopped.cleanShutdown, true, `clean shutdown (store not left aborted)`);
      const t0 = performance.now();
      await cluster.startBroker();
      process.stderr.write(
        `[interop] ${cluster.version} broker stop ${stopped.ms} ms, start ${
          Math.round(performance.now() - t0)
        } ms\n`,
      );
      const route = await cluster.route(topic);
      assert.ok(route, "topic config survived the restart (same store)");
      assert.equal(route.brokerDatas[0]?.brokerAddrs["0"], cluster.brokerAddress);

      await using consumer = await startJavaConsumer({ cluster, topic, group: uniqueName("g") });
      const got = await consumer.waitForMessages(3);
      assert.deepEqual(
        got.map((m) => m.msgId).sort(),
        before.sent.map((s) => s.msgId).sort(),
        "messages stored before the restart are still there",
      );
      await using _responder = await startJavaResponder({ cluster, topic });
      const run = await runJavaRequester({
        cluster,
        topic,
        forms: ["plain", "callback"],
        count: 2,
      });
      assert.equal(run.exitCode, 0, run.logTail);
    });
  });
}
