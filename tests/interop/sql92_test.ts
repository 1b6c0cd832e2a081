// SQL92 subscriptions against real RocketMQ 5.5.0 and the official Java
// client: the shared SQL92 suite (our responder subscribed with { sql },
// filtered by the real broker started with enablePropertyFilter=true), and
// the official Java client subscribed with MessageSelector.bySql(...)
// through our embedded broker.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { bodyText, Producer, RequestTimeoutError } from "../../mod.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { emptyTopic } from "../broker/_helpers.ts";
import { sql92Suite } from "../integration/_sql92_suite.ts";
import {
  ROCKETMQ_VERSIONS,
  type RocketMQCluster,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";

describe(`SQL92 through RocketMQ ${ROCKETMQ_VERSIONS["5"]} (enablePropertyFilter=true)`, () => {
  let cluster: RocketMQCluster;

  before(async () => {
    cluster = await startRocketMQ({ line: "5", brokerConfig: { enablePropertyFilter: "true" } });
    process.stderr.write(
      `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
    );
  });

  after(async () => {
    await cluster?.stop();
  });

  sql92Suite(
    `SQL92 suite, ours ↔ ours through RocketMQ ${ROCKETMQ_VERSIONS["5"]}`,
    () =>
      Promise.resolve({
        nameServer: cluster.nameServer,
        createTopic: async (topic: string) => {
          await cluster.createTopic(topic, { queues: 4 });
        },
        close: () => Promise.resolve(),
      }),
  );
});

describe("the official Java client's MessageSelector.bySql through our broker", () => {
  it("a Java responder subscribed by SQL92 gets only the matching requests", async () => {
    await using broker = await startBroker({ port: 0 });
    const topic = uniqueName("sql_java");
    emptyTopic(broker.broker, topic, 4);
    await using responder = await startJavaResponder({
      line: "5",
      nameServer: broker.address,
      topic,
      mode: "echo",
      sql: "n > 5 AND region IN ('eu','us')",
    });
    assert.equal(responder.ready.assigned.length, 4);
    await using requester = new Producer({ nameServer: broker.address });
    await requester.start();
    const ask = (n: string | undefined, region: string, timeout: number) =>
      requester.request({
        topic,
        body: `${n}-${region}`,
        properties: n === undefined ? { region } : { n, region },
      }, { timeout }).then(bodyText, (e) => {
        if (e instanceof RequestTimeoutError) return "timeout";
        throw e;
      });
    const unmatched = Promise.all([
      ask("6", "asia", 1_500),
      ask("5", "eu", 1_500),
      ask(undefined, "us", 1_500),
      ask("x", "eu", 1_500),
    ]);
    const matched = Promise.all([ask("6", "eu", 20_000), ask("70", "us", 20_000)]);
    assert.deepEqual(await matched, ["6-eu", "70-us"]);
    assert.deepEqual(await unmatched, ["timeout", "timeout", "timeout", "timeout"]);
    // Its request lines follow its replies on stdout: wait for both.
    const deadline = Date.now() + 20_000;
    while (responder.requests().length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(responder.requests().map((r) => r.n).sort(), ["6", "70"]);
  });
});
