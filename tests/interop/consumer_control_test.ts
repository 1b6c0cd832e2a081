// Broadcasting consumers and the async iterator through real RocketMQ 5.5.0
// (one broker for the file): two broadcasting instances each handle every
// message and commit nothing to the broker; a request is answered by each
// (request() takes the first, requestMany() gets both); an iterator answers
// requests from its loop, and a break leaves what was not done for the next
// iterator. The same scenarios on our broker are
// tests/integration/broadcast_test.ts and message_iterator_test.ts; here our
// broker also serves the official Java client's broadcasting consumer.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { bodyText, Producer, PushConsumer } from "../../mod.ts";
import { type RocketMQCluster, startJavaConsumer, startRocketMQ, uniqueName } from "./harness.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { until } from "../_wait.ts";

describe("broadcast and the async iterator through RocketMQ 5.5.0", () => {
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

  it("broadcasting: each instance handles every message and replies; nothing committed", async () => {
    const topic = uniqueName("bcast");
    const group = uniqueName("g");
    await cluster.createTopic(topic, { queues: 4 });
    const n = 16;
    for (let i = 0; i < n; i++) await producer.send({ topic, body: `m-${i}` });
    const seen = [new Set<string>(), new Set<string>()];
    const instances = seen.map((bodies, i) => {
      const c = new PushConsumer({
        nameServer: cluster.nameServer,
        group,
        consumeFrom: "first",
        messageModel: "BROADCASTING",
      });
      c.subscribe(topic, "*", (m) => {
        bodies.add(bodyText(m));
        return `r${i}:${bodyText(m)}`;
      });
      return c;
    });
    for (const c of instances) await c.start();
    await until(() => seen.every((bodies) => bodies.size === n), "both instances to see all");
    for (const c of instances) {
      assert.equal(c.assignedQueues.filter((q) => q.topic === topic).length, 4);
    }

    const reply = await producer.request({ topic, body: "one" }, { timeout: 15_000 });
    assert.match(bodyText(reply), /^r[01]:one$/);
    const all: string[] = [];
    for await (
      const r of producer.requestMany({ topic, body: "all" }, { timeout: 15_000, maxReplies: 2 })
    ) {
      all.push(bodyText(r));
    }
    assert.deepEqual(all.sort(), ["r0:all", "r1:all"]);
    for (const c of instances) await c.close();

    // Nothing was committed to the broker: a clustering consumer of the
    // group, from the first offset, reads the n messages again.
    const again = new Set<string>();
    const clustering = new PushConsumer({
      nameServer: cluster.nameServer,
      group,
      consumeFrom: "first",
    });
    clustering.subscribe(topic, "*", (m) => void again.add(bodyText(m)));
    await clustering.start();
    await until(() => n <= [...again].filter((b) => b.startsWith("m-")).length, "a full re-read");
    await clustering.close();
  });

  it("our broker: a Java broadcasting consumer and ours, in one group, each get every message", async () => {
    await using broker = await startBroker({ port: 0 });
    const ours = new Producer({ nameServer: broker.address, group: uniqueName("requester") });
    await ours.start();
    const topic = uniqueName("bcast_java");
    const group = uniqueName("g");
    const sent = [(await ours.send({ topic, body: "m-0" })).msgId]; // creates the topic
    await using java = await startJavaConsumer({
      line: "5",
      nameServer: broker.address,
      topic,
      group,
      model: "broadcasting",
      from: "first",
    });
    const seen = new Set<string>();
    const c = new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
      messageModel: "BROADCASTING",
    });
    c.subscribe(topic, "*", (m) => void seen.add(m.msgId));
    await c.start();
    const n = 12;
    for (let i = 1; i < n; i++) sent.push((await ours.send({ topic, body: `m-${i}` })).msgId);
    const javaGot = await java.waitForMessages(n, 30_000);
    await until(() => seen.size === n, "our consumer to get every message");
    assert.deepEqual([...seen].sort(), [...sent].sort());
    assert.deepEqual([...new Set(javaGot.map((m) => m.msgId))].sort(), [...sent].sort());
    await c.close();
    await ours.close();
  });

  it("an iterator answers requests, and a break leaves what was not done", async () => {
    const topic = uniqueName("iter");
    const group = uniqueName("g");
    await cluster.createTopic(topic, { queues: 4 });
    const c = new PushConsumer({ nameServer: cluster.nameServer, group, consumeFrom: "first" });
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => stop = resolve);
    const loop = (async () => {
      for await (const msg of c.messages(topic, "*", { bufferSize: 8 })) {
        if (msg.isRequest) await msg.reply(`r:${bodyText(msg)}`);
        else if (bodyText(msg) === "stop") break;
      }
      stop();
    })();
    const replies = await Promise.all(
      [0, 1, 2, 3].map((i) => producer.request({ topic, body: `q-${i}` }, { timeout: 20_000 })),
    );
    assert.deepEqual(replies.map((r) => bodyText(r)).sort(), ["r:q-0", "r:q-1", "r:q-2", "r:q-3"]);
    await producer.send({ topic, body: "stop" });
    await stopped;
    await loop;

    // The "stop" message was held at the break and not done: the next iterator gets it.
    for (let i = 0; i < 6; i++) await producer.send({ topic, body: `m-${i}` });
    const rest = new Set<string>();
    for await (const msg of c.messages(topic)) {
      rest.add(bodyText(msg));
      if (rest.has("stop") && [0, 1, 2, 3, 4, 5].every((i) => rest.has(`m-${i}`))) {
        await msg.ack();
        break;
      }
    }
    assert.ok(!rest.has("q-0") && !rest.has("q-3"), "replied requests were done");
    await c.close();
  });
});
