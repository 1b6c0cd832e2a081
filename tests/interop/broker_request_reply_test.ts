// The official Java client against OUR broker: a Java requester
// (DefaultMQProducer.request in every form) and a Java responder
// (DefaultMQPushConsumer + MessageUtil.createReplyMessage) talking through
// the embedded broker, for both client lines (5.x and 4.9.x).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startBroker } from "../../src/broker/mod.ts";
import type { LogFields, Logger } from "../../src/logger.ts";
import {
  createTopic,
  REQUEST_FORMS,
  ROCKETMQ_LINES,
  runJavaRequester,
  startJavaResponder,
  uniqueName,
} from "./harness.ts";

/** Keeps, per connection, the request codes in arrival order. */
class CodeLog implements Logger {
  readonly byChannel = new Map<string, number[]>();
  readonly problems: string[] = [];
  debug(message: string, fields?: LogFields): void {
    if (message !== "request" || !fields) return;
    const channel = String(fields.channel);
    const codes = this.byChannel.get(channel) ?? [];
    codes.push(Number(fields.code));
    this.byChannel.set(channel, codes);
  }
  info(): void {}
  warn(message: string, fields?: LogFields): void {
    this.problems.push(`${message} ${JSON.stringify(fields ?? {})}`);
  }
  error(message: string, fields?: LogFields): void {
    this.problems.push(`ERROR ${message} ${JSON.stringify(fields ?? {})}`);
  }
  /** Codes of every connection, deduplicated in order of first appearance. */
  firstSeen(): number[][] {
    return [...this.byChannel.values()].map((codes) => [...new Set(codes)]);
  }
}

for (const line of ROCKETMQ_LINES) {
  describe(`Java ${line}.x requester ↔ Java responder through the embedded broker`, () => {
    it("answers every request in all six request forms", async () => {
      const log = new CodeLog();
      await using broker = await startBroker({ port: 0, logger: log });
      const topic = uniqueName("rr");
      const nameServer = broker.address;
      const queues = await createTopic({ line, nameServer, topic, queues: 4 });
      assert.equal(queues.length, 4);
      await using responder = await startJavaResponder({
        line,
        nameServer,
        topic,
        mode: "reverse",
      });
      assert.ok(responder.ready.assigned.length > 0, "the responder owns queues");

      const run = await runJavaRequester({
        line,
        nameServer,
        topic,
        count: 10,
        forms: REQUEST_FORMS,
      });
      assert.equal(run.summary.sent, 10 * REQUEST_FORMS.length, run.logTail);
      assert.equal(run.summary.ok, run.summary.sent, run.logTail);
      assert.equal(run.summary.mismatches, 0);
      assert.equal(run.summary.lost, 0);
      for (const form of REQUEST_FORMS) assert.equal(run.summary.forms[form]?.ok, 10, form);

      const requests = responder.requests();
      assert.ok(requests.length >= run.summary.sent);
      for (const r of requests) {
        assert.equal(r.cluster, "DefaultCluster", "the broker stamps CLUSTER on every stored send");
        assert.equal(r.replyToClient, run.started.clientId);
        assert.equal(r.replied, true, r.error);
      }
      assert.ok(broker.stats.repliesPushed >= run.summary.sent);
      assert.equal(broker.stats.repliesFailed, 0);

      // What the Java clients asked, in order of first appearance per connection.
      const seen = log.firstSeen();
      const requester = seen.find((codes) => codes.includes(310) && !codes.includes(11));
      assert.ok(requester, JSON.stringify(seen));
      assert.equal(requester[0], 105, `the requester starts with a route query: ${requester}`);
      assert.ok(
        requester.indexOf(34) < requester.indexOf(310),
        `requester heartbeats before sending: ${requester}`,
      );
      const consumer = seen.find((codes) => codes.includes(11));
      assert.ok(consumer, JSON.stringify(seen));
      for (const code of [105, 34, 38, 11]) {
        assert.ok(consumer.includes(code), `consumer sent ${code}: ${consumer}`);
      }
      assert.ok(seen.some((codes) => codes.includes(325)), "replies use SEND_REPLY_MESSAGE_V2");
      assert.deepEqual(log.problems.filter((p) => p.startsWith("ERROR")), []);
    });

    it("times a request out on the requester when the responder never replies", async () => {
      await using broker = await startBroker({
        port: 0,
        logger: new CodeLog(),
        replyWaitMillis: 200,
      });
      const topic = uniqueName("rr-none");
      const nameServer = broker.address;
      await createTopic({ line, nameServer, topic, queues: 2 });
      await using responder = await startJavaResponder({ line, nameServer, topic, mode: "none" });
      assert.ok(responder.ready.assigned.length > 0);
      const run = await runJavaRequester({
        line,
        nameServer,
        topic,
        count: 2,
        forms: ["plain"],
        timeoutMs: 3000,
        expect: "none",
      });
      assert.equal(run.exitCode, 0, run.logTail);
      assert.equal(run.summary.ok, 2, run.logTail);
      assert.equal(broker.stats.repliesPushed, 0);
    });
  });
}
