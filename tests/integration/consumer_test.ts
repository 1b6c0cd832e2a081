// Our push consumer through the embedded broker over loopback TCP, on Deno,
// Bun and Node: queue sharing and rebalance on join/leave, offsets that
// resume after a restart, retries through the broker and the dead-letter
// queue, tag filtering.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bodyText, type MessageExt, Producer, PushConsumer } from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { sleep, until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

describe("push consumer through the embedded broker", () => {
  let broker: BrokerHandle;
  let producer: Producer;

  before(async () => {
    // Short delay levels so retries come back in milliseconds, not 10 s.
    broker = await startBroker({
      port: 0,
      delayLevels: Array.from({ length: 18 }, (_, i) => 50 * (i + 1)),
    });
    producer = new Producer({ nameServer: broker.address, group: unique("producer") });
    await producer.start();
  });

  after(async () => {
    await producer.close();
    await broker.close();
  });

  function consumer(
    group: string,
    topic: string,
    handler: (m: MessageExt) => unknown,
    expression = "*",
  ) {
    const c = new PushConsumer({ nameServer: broker.address, group, consumeFrom: "first" });
    c.subscribe(topic, expression, handler);
    return c;
  }

  const owned = (c: PushConsumer, topic: string) =>
    c.assignedQueues.filter((q) => q.topic === topic);

  test("two consumers share the queues; every message is handled exactly once across a join and a leave", async () => {
    const topic = unique("shared");
    const group = unique("g");
    await producer.send({ topic, body: "m-first" });
    const seen = new Map<string, number>();
    const record = (m: MessageExt) => void seen.set(bodyText(m), (seen.get(bodyText(m)) ?? 0) + 1);
    const a = consumer(group, topic, record);
    const b = consumer(group, topic, record);
    try {
      await a.start();
      await until(() => owned(a, topic).length === 4, "a owns all queues");
      for (let i = 0; i < 100; i++) await producer.send({ topic, body: `m${i}` });
      await b.start(); // join: the broker notifies the group, both rebalance
      await until(
        () => owned(a, topic).length === 2 && owned(b, topic).length === 2,
        "a 2/2 split",
      );
      for (let i = 100; i < 200; i++) await producer.send({ topic, body: `m${i}` });
      await until(() => seen.size === 201, "all 201 messages");
      await b.close(); // leave: a takes everything back
      await until(() => owned(a, topic).length === 4, "a owns all queues again");
      for (let i = 200; i < 250; i++) await producer.send({ topic, body: `m${i}` });
      await until(() => seen.size === 251, "all 251 messages");
      await sleep(200);
      const duplicates = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
      assert.deepEqual(duplicates, [], "each message handled once");
      assert.ok(a.stats.handled > 0 && b.stats.handled > 0, "both consumers worked");
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("committed offsets survive a consumer restart: the next one resumes, nothing is handled twice", async () => {
    const topic = unique("resume");
    const group = unique("g");
    const first: string[] = [];
    const a = consumer(group, topic, (m) => void first.push(bodyText(m)));
    for (let i = 0; i < 20; i++) await producer.send({ topic, body: `old${i}` });
    await a.start();
    await until(() => first.length === 20, "the first 20");
    await a.close(); // commits its offsets on close
    for (let i = 0; i < 10; i++) await producer.send({ topic, body: `new${i}` });
    const second: string[] = [];
    const b = consumer(group, topic, (m) => void second.push(bodyText(m)));
    try {
      await b.start();
      await until(() => second.length === 10, "the 10 new ones");
      await sleep(300);
      assert.deepEqual(second.sort(), Array.from({ length: 10 }, (_, i) => `new${i}`).sort());
    } finally {
      await b.close();
    }
  });

  test("a failed ordinary message is retried through the broker, then dead-lettered", async () => {
    const topic = unique("retry");
    const group = unique("g");
    const attempts: number[] = [];
    const c = new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
      maxReconsumeTimes: 2,
    });
    c.subscribe(topic, "*", (m) => {
      attempts.push(m.reconsumeTimes);
      assert.equal(m.topic, topic, "a retried message keeps its original topic");
      throw new Error("not now");
    });
    try {
      await producer.send({ topic, body: "fragile" });
      await c.start();
      await until(() => attempts.length === 3, "three attempts");
      assert.deepEqual(attempts, [0, 1, 2]);
      await until(() => c.stats.sentBack === 3, "third send-back goes to the DLQ");
      // The dead-letter queue holds it now; no fourth attempt comes.
      await sleep(500);
      assert.equal(attempts.length, 3);
    } finally {
      await c.close();
    }
    const dlq: string[] = [];
    // The group's own dead letters: another group may not read them.
    const reader = consumer(
      group,
      `%DLQ%${group}`,
      (m) => void dlq.push(bodyText(m)),
    );
    try {
      await reader.start();
      await until(() => dlq.length === 1, "the message in the DLQ");
      assert.deepEqual(dlq, ["fragile"]);
    } finally {
      await reader.close();
    }
  });

  test("tag expressions filter what a consumer receives", async () => {
    const topic = unique("tags");
    const got: string[] = [];
    const c = consumer(
      unique("g"),
      topic,
      (m) => void got.push(`${m.tags}:${bodyText(m)}`),
      "a || c",
    );
    try {
      for (const tag of ["a", "b", "c", "b", "a"]) {
        await producer.send({ topic, body: "x", tags: tag });
      }
      await c.start();
      await until(() => got.length === 3, "three matching messages");
      await sleep(300);
      assert.deepEqual(got.sort(), ["a:x", "a:x", "c:x"]);
    } finally {
      await c.close();
    }
  });
});
