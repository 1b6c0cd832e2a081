// Orderly consumption through real RocketMQ 5.5.0 (issue 15): our orderly
// consumer holds RocketMQ's queue locks (LOCK_BATCH_MQ) and handles each
// queue's requests one at a time in queue order, answering in that order.
// Requests keyed by account id come from our producer (a selector and arg),
// then from the official Java client (`request(msg, MessageQueueSelector,
// arg, callback, timeout)`, 20 in flight). The same scenarios on our broker:
// tests/integration/orderly_test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { bodyText, type MessageExt, Producer, PushConsumer } from "../../mod.ts";
import { type RocketMQCluster, runJavaRequester, startRocketMQ, uniqueName } from "./harness.ts";
import { until } from "../_wait.ts";
import { byAccount, Journal } from "./_orderly.ts";

describe("orderly consumption through RocketMQ 5.5.0", () => {
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

  async function orderlyConsumer(
    topic: string,
    journal: Journal,
    reply: (m: MessageExt) => unknown,
  ) {
    const c = new PushConsumer({
      nameServer: cluster.nameServer,
      group: uniqueName("g"),
      consumeFrom: "first",
      orderly: true,
    });
    c.subscribe(topic, "*", async (m) => {
      await journal.run(m);
      return reply(m);
    });
    await c.start();
    await until(() => c.assignedQueues.filter((q) => q.topic === topic).length === 4, "4 queues");
    return c;
  }

  it("requests keyed by account: one at a time per queue, in order, answered in order", async () => {
    const topic = uniqueName("orderly");
    await cluster.createTopic(topic, { queues: 4 });
    const journal = new Journal();
    const c = await orderlyConsumer(topic, journal, (m) => `${bodyText(m)} done`);
    try {
      const arrived = new Map<number, string[]>();
      const pending: Promise<void>[] = [];
      for (let seq = 0; seq < 10; seq++) {
        for (let account = 0; account < 8; account++) {
          pending.push(
            producer.request({ topic, body: `${account}/${seq}` }, {
              timeout: 30_000,
              selector: byAccount,
              arg: account,
            }).then((reply) => {
              const list = arrived.get(account) ?? [];
              list.push(bodyText(reply));
              arrived.set(account, list);
            }),
          );
        }
      }
      await Promise.all(pending);
      assert.equal(journal.handled.length, 80);
      assert.deepEqual([...journal.overlap.values()], [1, 1, 1, 1], "one handler per queue");
      assert.deepEqual(journal.outOfOrder(), [], "each queue in offset order");
      for (let account = 0; account < 8; account++) {
        const handled = journal.handled.filter((h) => h.body.startsWith(`${account}/`));
        const sent = [...handled].sort((a, b) => a.offset - b.offset).map((h) => h.body);
        assert.deepEqual(handled.map((h) => h.body), sent, `account ${account} handled as sent`);
        assert.deepEqual(arrived.get(account), sent.map((b) => `${b} done`), "answered in order");
      }
      // RocketMQ holds this client's lock on each of its queues.
      assert.equal(c.stats.lockRefused, 0);
    } finally {
      await c.close();
    }
  });

  it("retries in place, then RocketMQ takes the message into the DLQ (send-back, delay level -1)", async () => {
    const topic = uniqueName("orderly_dlq");
    await cluster.createTopic(topic, { queues: 4 });
    const attempts: string[] = [];
    const c = new PushConsumer({
      nameServer: cluster.nameServer,
      group: uniqueName("g"),
      consumeFrom: "first",
      orderly: true,
      orderlyRetryDelay: 50,
      maxReconsumeTimes: 1,
    });
    c.subscribe(topic, "*", (m) => {
      attempts.push(`${bodyText(m)}#${m.reconsumeTimes}`);
      if (bodyText(m) === "poison") throw new Error("cannot");
      return "ok";
    });
    try {
      await c.start();
      await until(() => c.assignedQueues.filter((q) => q.topic === topic).length === 4, "4 queues");
      const onQueue0 = { selector: byAccount, arg: 0 };
      await producer.send({ topic, body: "poison" }, onQueue0);
      const reply = await producer.request({ topic, body: "next" }, {
        timeout: 30_000,
        ...onQueue0,
      });
      assert.equal(bodyText(reply), "ok");
      assert.deepEqual(attempts, ["poison#0", "poison#1", "next#0"]);
      assert.equal(c.stats.sentBack, 1, "RocketMQ accepted it for the dead-letter queue");
    } finally {
      await c.close();
    }
  });

  it("the official Java client's keyed requests (MessageQueueSelector) are handled in queue order", async () => {
    const topic = uniqueName("orderly_java");
    await cluster.createTopic(topic, { queues: 4 });
    const journal = new Journal();
    const c = await orderlyConsumer(topic, journal, (m) => m.body); // echo
    try {
      const run = await runJavaRequester({
        cluster,
        topic,
        forms: ["selector-callback"],
        count: 40,
        concurrency: 20,
        expect: "echo",
        timeoutMs: 15_000,
      });
      assert.equal(
        run.exitCode,
        0,
        `every Java request got its reply: ${JSON.stringify(run.summary)}`,
      );
      assert.equal(journal.handled.length, 40);
      assert.deepEqual([...journal.overlap.values()].sort(), [1, 1, 1, 1], "one handler per queue");
      assert.deepEqual(journal.outOfOrder(), [], "each queue in offset order");
    } finally {
      await c.close();
    }
  });
});
