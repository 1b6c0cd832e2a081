// Broadcasting consumers through the embedded broker over loopback TCP, on
// Deno, Bun and Node: every instance of the group handles every message,
// offsets stay with the client (in memory, or in a file across a restart),
// nothing is committed to the broker, and requests get a reply from each
// instance (request() takes the first, requestMany() gets all).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bodyText,
  InvalidArgumentError,
  type MessageQueue,
  Producer,
  PushConsumer,
} from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { sleep, until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

describe("broadcasting consumers through the embedded broker", () => {
  let broker: BrokerHandle;
  let producer: Producer;
  let directory: string;

  before(async () => {
    broker = await startBroker({ port: 0 });
    producer = new Producer({ nameServer: broker.address, group: unique("producer") });
    await producer.start();
    directory = await mkdtemp(join(tmpdir(), "rocketmq-rpc-broadcast-"));
  });

  after(async () => {
    await producer.close();
    await broker.close();
    await rm(directory, { recursive: true, force: true });
  });

  function broadcaster(group: string, options: { offsetFile?: string } = {}) {
    return new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
      messageModel: "BROADCASTING",
      offsetPersistInterval: 200,
      ...options,
    });
  }

  test("two instances of a group each handle every message; nothing is committed to the broker", async () => {
    const topic = unique("bcast");
    const group = unique("g");
    const n = 24;
    const seen = [new Map<string, number>(), new Map<string, number>()];
    const consumers = seen.map((counts) => {
      const c = broadcaster(group);
      c.subscribe(
        topic,
        "*",
        (m) => void counts.set(bodyText(m), (counts.get(bodyText(m)) ?? 0) + 1),
      );
      return c;
    });
    await producer.send({ topic, body: "m-0" }); // creates the topic
    for (const c of consumers) await c.start();
    for (let i = 1; i < n; i++) await producer.send({ topic, body: `m-${i}` });
    await until(
      () => seen.every((counts) => counts.size === n),
      "both instances to see every message",
    );
    const expected = Array.from({ length: n }, (_, i) => `m-${i}`).sort();
    for (const counts of seen) {
      assert.deepEqual([...counts.keys()].sort(), expected);
      assert.ok(
        [...counts.values()].every((count) => count === 1),
        "each message once per instance",
      );
    }
    // Each instance holds every queue of the topic (no rebalance between them).
    const queuesOf = (c: PushConsumer) =>
      c.assignedQueues.filter((q) => q.topic === topic).map((q) => q.queueId).sort();
    assert.ok(queuesOf(consumers[0]!).length > 1);
    assert.deepEqual(queuesOf(consumers[0]!), queuesOf(consumers[1]!));
    // No retry topic in broadcasting.
    assert.ok(consumers[0]!.assignedQueues.every((q) => !q.topic.startsWith("%RETRY%")));
    // The heartbeats told the broker: a broadcasting group of two.
    const [online] = (await producer.responders(topic, { stats: false }))
      .filter((g) => g.group === group);
    assert.equal(online?.messageModel, "BROADCASTING");
    assert.equal(online?.clients.length, 2);
    for (const c of consumers) await c.close();

    // Nothing was committed to the broker: a clustering consumer of the same
    // group, starting from the first offset, reads everything again.
    const again = new Set<string>();
    const clustering = new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
    });
    clustering.subscribe(topic, "*", (m) => void again.add(bodyText(m)));
    await clustering.start();
    await until(() => again.size === n, "the clustering consumer to read everything");
    await clustering.close();
  });

  test("offsets persisted to a file survive a restart; in memory they do not", async () => {
    const topic = unique("bcast_file");
    const group = unique("g");
    const offsetFile = join(directory, unique("offsets"), "offsets.json");
    const first = new Set<string>();
    const c1 = broadcaster(group, { offsetFile });
    c1.subscribe(topic, "*", (m) => void first.add(bodyText(m)));
    for (let i = 0; i < 10; i++) await producer.send({ topic, body: `a-${i}` });
    await c1.start();
    await until(() => first.size === 10, "the first run to handle 10");
    await c1.close();
    const saved = JSON.parse(await readFile(offsetFile, "utf8"));
    assert.equal(saved.group, group);
    const total = saved.offsets
      .filter((o: { topic: string }) => o.topic === topic)
      .reduce((sum: number, o: { offset: number }) => sum + o.offset, 0);
    assert.equal(total, 10, "the file keeps the offset past every handled message");

    for (let i = 0; i < 10; i++) await producer.send({ topic, body: `b-${i}` });
    const second: string[] = [];
    const c2 = broadcaster(group, { offsetFile });
    c2.subscribe(topic, "*", (m) => void second.push(bodyText(m)));
    await c2.start();
    await until(() => second.length >= 10, "the restarted consumer to handle the new 10");
    assert.deepEqual(
      [...second].sort(),
      Array.from({ length: 10 }, (_, i) => `b-${i}`).sort(),
      "resumed after what the first run handled, nothing again",
    );
    await c2.close();

    // Without a file, a new instance starts at consumeFrom ("first"): all 20.
    const fresh = new Set<string>();
    const c3 = broadcaster(group);
    c3.subscribe(topic, "*", (m) => void fresh.add(bodyText(m)));
    await c3.start();
    await until(() => fresh.size === 20, "an in-memory consumer to read from the first offset");
    await c3.close();
  });

  test("a request goes to every instance: request() takes the first reply, requestMany() gets all", async () => {
    const topic = unique("bcast_rpc");
    const group = unique("g");
    const responders = ["r1", "r2"].map((name) => {
      const c = broadcaster(group);
      c.subscribe(topic, "*", (m) => `${name}:${bodyText(m)}`);
      return c;
    });
    await producer.send({ topic, body: "warm-up" });
    for (const c of responders) await c.start();
    await until(
      () => responders.every((c) => c.stats.handled === 1),
      "both responders to take their queues",
    );
    const reply = await producer.request({ topic, body: "one" }, { timeout: 10_000 });
    assert.match(bodyText(reply), /^r[12]:one$/);
    const all: string[] = [];
    for await (
      const r of producer.requestMany({ topic, body: "all" }, { timeout: 10_000, maxReplies: 2 })
    ) {
      all.push(bodyText(r));
    }
    assert.deepEqual(all.sort(), ["r1:all", "r2:all"]);
    for (const c of responders) await c.close();
  });

  test("orderly broadcasting: every instance handles each queue one at a time, in order, without locks", async () => {
    const topic = unique("bcast_orderly");
    const group = unique("g");
    const n = 40;
    const onQueue0 = { selector: (queues: readonly MessageQueue[]) => queues[0]!, arg: 0 };
    await producer.send({ topic, body: "-1" }, onQueue0); // creates the topic
    const runs = [0, 1].map(() => ({
      order: [] as number[],
      offsets: [] as number[],
      running: 0,
      overlap: 0,
    }));
    const consumers = runs.map((run) => {
      const c = new PushConsumer({
        nameServer: broker.address,
        group,
        consumeFrom: "first",
        messageModel: "BROADCASTING",
        orderly: true,
      });
      c.subscribe(topic, "*", async (m) => {
        run.running++;
        run.overlap = Math.max(run.overlap, run.running);
        // Yield a few turns: with concurrent handlers, later ones would start.
        for (let i = 0; i < 3; i++) await sleep(0);
        run.order.push(Number(bodyText(m)));
        run.offsets.push(Number(m.queueOffset));
        run.running--;
      });
      return c;
    });
    try {
      for (const c of consumers) await c.start();
      await Promise.all(
        Array.from({ length: n }, (_, i) => producer.send({ topic, body: String(i) }, onQueue0)),
      );
      await until(() => runs.every((run) => run.order.length === n + 1), "every message, twice");
      const inQueueOrder = Array.from({ length: n + 1 }, (_, i) => i);
      for (const run of runs) {
        assert.equal(run.overlap, 1, "one handler at a time on the queue");
        assert.deepEqual(run.offsets, inQueueOrder, "each instance in the queue's order");
        assert.deepEqual(run.order, runs[0]!.order);
        assert.deepEqual(
          [...run.order].sort((a, b) => a - b),
          Array.from({ length: n + 1 }, (_, i) => i - 1),
        );
      }
    } finally {
      for (const c of consumers) await c.close();
    }
  });

  test("offsetFile is refused for a clustering consumer", () => {
    assert.throws(
      () =>
        new PushConsumer({
          nameServer: broker.address,
          group: unique("g"),
          offsetFile: join(directory, "x.json"),
        }),
      (e) => e instanceof InvalidArgumentError && e.path === "offsetFile",
    );
  });
});
