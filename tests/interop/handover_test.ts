// Queue handover with broker queue locks through real RocketMQ 5.5.0: our
// consumer A runs 8 requests (held by a gate) on the topic's 4 queues when
// consumer B of the same group joins; the rebalance gives 2 queues to B,
// which must not run A's requests again (issue 10 item 5, cross-consumer).
// RocketMQ's own LOCK_BATCH_MQ / UNLOCK_BATCH_MQ make B wait until A has
// replied, committed and unlocked. The same scenario on our broker is
// tests/integration/handover_test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { bodyText, type MessageExt, Producer, PushConsumer } from "../../mod.ts";
import { type RocketMQCluster, startRocketMQ, uniqueName } from "./harness.ts";
import { until } from "../_wait.ts";

describe("queue handover through RocketMQ 5.5.0", () => {
  let cluster: RocketMQCluster;
  let producer: Producer;

  before(async () => {
    cluster = await startRocketMQ({ line: "5" });
    process.stderr.write(
      `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
    );
    producer = new Producer({ nameServer: cluster.nameServer, group: uniqueName("requester") });
    await producer.start();
  });

  after(async () => {
    await producer?.close();
    await cluster?.stop();
  });

  it("a rebalance runs no request twice: B waits for A's lock", async () => {
    const topic = uniqueName("handover");
    const group = uniqueName("g");
    await cluster.createTopic(topic, { queues: 4 });
    const runs: Array<[string, string]> = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const consumer = (who: string, held: boolean) => {
      const c = new PushConsumer({ nameServer: cluster.nameServer, group, consumeFrom: "first" });
      c.subscribe(topic, "*", async (m: MessageExt) => {
        runs.push([bodyText(m), who]);
        if (held) await gate;
        return `${bodyText(m)} by ${who}`;
      });
      return c;
    };
    const owned = (c: PushConsumer) => c.assignedQueues.filter((q) => q.topic === topic).length;
    const request = (id: string, queueId: number) =>
      producer.request({ topic, body: id }, {
        timeout: 30_000,
        queue: { topic, brokerName: cluster.brokerName, queueId },
      }).then(bodyText);
    const a = consumer("A", true);
    const b = consumer("B", false);
    try {
      await a.start();
      await until(() => owned(a) === 4, "A owns 4");
      const first = Array.from({ length: 8 }, (_, i) => request(`r${i}`, i % 4));
      await until(() => runs.length === 8, "A runs the 8 requests");
      await b.start(); // the broker tells A the group changed
      await until(() => owned(a) === 2, "A gave up 2 queues");
      await until(() => b.stats.lockRefused > 0, "B refused a queue A drains");
      assert.deepEqual(runs.filter(([, who]) => who === "B"), [], "B waits");
      open();
      const opened = Date.now();
      assert.deepEqual(await Promise.all(first), Array.from({ length: 8 }, (_, i) => `r${i} by A`));
      await until(() => owned(b) === 2, "B owns 2");
      const moved = Date.now() - opened;
      const second = await Promise.all(
        Array.from({ length: 8 }, (_, i) => request(`s${i}`, i % 4)),
      );
      assert.equal(second.filter((r) => r.endsWith("by B")).length, 4);
      const ids = runs.map(([id]) => id);
      assert.equal(
        new Set(ids).size,
        ids.length,
        `every request ran once: ${JSON.stringify(runs)}`,
      );
      assert.equal(ids.length, 16);
      process.stderr.write(`[interop] queues moved ${moved} ms after A's requests were released\n`);
    } finally {
      open();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
