// suspend()/resume() and unsubscribe() of a push consumer through the
// embedded broker over loopback TCP, on Deno, Bun and Node: nothing handled
// while suspended and nothing lost after; an unsubscribed topic stops (its
// running handler drained and committed first) while another keeps flowing,
// and subscribing again resumes where it stopped.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bodyText, type MessageExt, Producer, PushConsumer } from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { sleep, until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

describe("consumer suspend, resume and unsubscribe through the embedded broker", () => {
  let broker: BrokerHandle;
  let producer: Producer;

  before(async () => {
    broker = await startBroker({ port: 0 });
    producer = new Producer({ nameServer: broker.address, group: unique("producer") });
    await producer.start();
  });

  after(async () => {
    await producer.close();
    await broker.close();
  });

  const consumer = (group: string) =>
    new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
      offsetPersistInterval: 200,
    });

  test("suspended: nothing handled, queues kept; resumed: everything handled once", async () => {
    const topic = unique("suspend");
    const c = consumer(unique("g"));
    const counts = new Map<string, number>();
    let handledWhileSuspended = 0;
    c.subscribe(topic, "*", (m) => {
      if (c.suspended) handledWhileSuspended++;
      counts.set(bodyText(m), (counts.get(bodyText(m)) ?? 0) + 1);
    });
    await producer.send({ topic, body: "m-0" });
    await c.start();
    await until(() => counts.size === 1, "the first message");
    const queues = c.assignedQueues.length;
    c.suspend();
    assert.equal(c.suspended, true);
    const n = 30;
    for (let i = 1; i <= n; i++) await producer.send({ topic, body: `m-${i}` });
    // The long polls under way when it was suspended bring messages in; they wait.
    await until(() => c.stats.received > 1, "a pull under way to bring messages");
    await sleep(500); // nothing may happen now: give it the chance to
    assert.equal(c.stats.handled, 1, "no handler ran while suspended");
    assert.equal(handledWhileSuspended, 0);
    assert.equal(c.assignedQueues.length, queues, "its queues kept");
    c.resume();
    await until(() => counts.size === n + 1, "every message after resume()");
    assert.ok([...counts.values()].every((count) => count === 1), "each handled once");
    assert.equal(handledWhileSuspended, 0);
    await c.close();
  });

  test("suspend() survives a close: what waited is not committed, a new consumer gets it", async () => {
    const topic = unique("suspend_close");
    const group = unique("g");
    const c1 = consumer(group);
    const first = new Set<string>();
    c1.subscribe(topic, "*", (m) => void first.add(bodyText(m)));
    await producer.send({ topic, body: "m-0" });
    await c1.start();
    await until(() => first.size === 1, "the first message");
    c1.suspend();
    for (let i = 1; i <= 5; i++) await producer.send({ topic, body: `m-${i}` });
    await until(() => c1.stats.received > 1, "a pull under way to bring messages");
    await c1.close();
    const second = new Set<string>();
    const c2 = consumer(group);
    c2.subscribe(topic, "*", (m) => void second.add(bodyText(m)));
    await c2.start();
    await until(() => second.size === 5, "the next consumer to get the 5 left");
    assert.ok(!second.has("m-0"), "the handled one was committed");
    await c2.close();
  });

  test("unsubscribe(): its topic stops after draining, the other flows, subscribing again resumes", async () => {
    const topicA = unique("unsub_a");
    const topicB = unique("unsub_b");
    const group = unique("g");
    const c = consumer(group);
    const seenA: string[] = [];
    const seenB: string[] = [];
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((resolve) => releaseSlow = resolve);
    let slowStarted = false;
    const handlerA = async (m: MessageExt) => {
      if (bodyText(m) === "a-slow") {
        slowStarted = true;
        await slowGate;
      }
      seenA.push(bodyText(m));
    };
    c.subscribe(topicA, "*", handlerA);
    c.subscribe(topicB, "*", (m) => void seenB.push(bodyText(m)));
    await producer.send({ topic: topicA, body: "a-0" });
    await producer.send({ topic: topicB, body: "b-0" });
    await c.start();
    await until(() => seenA.length === 1 && seenB.length === 1, "both topics to flow");
    await producer.send({ topic: topicA, body: "a-slow" });
    await until(() => slowStarted, "the slow handler to start");

    let unsubscribed = false;
    const leaving = c.unsubscribe(topicA).then(() => unsubscribed = true);
    await sleep(200);
    assert.equal(unsubscribed, false, "unsubscribe() waits for the running handler");
    releaseSlow();
    await leaving;
    assert.deepEqual(seenA, ["a-0", "a-slow"]);
    assert.equal(c.assignedQueues.filter((q) => q.topic === topicA).length, 0);
    await c.unsubscribe(topicA); // again: nothing to do

    for (let i = 1; i <= 5; i++) {
      await producer.send({ topic: topicA, body: `a-${i}` });
      await producer.send({ topic: topicB, body: `b-${i}` });
    }
    await until(() => seenB.length === 6, "the other topic to keep flowing");
    await sleep(300); // topic A must stay silent
    assert.deepEqual(seenA, ["a-0", "a-slow"], "nothing of the unsubscribed topic");

    c.subscribe(topicA, "*", handlerA);
    await until(() => seenA.length === 7, "the resubscribed topic to resume");
    assert.deepEqual(
      seenA.slice(2).sort(),
      ["a-1", "a-2", "a-3", "a-4", "a-5"],
      "resumed after the committed offset: nothing lost, nothing twice",
    );
    await c.close();
  });

  test("one member's unsubscribe(): the others keep answering their queues of that topic", async () => {
    // As in RocketMQ, a clustering group's members should subscribe the same
    // topics: the queues of a topic are still shared among all members, so
    // the share of the one that unsubscribed goes unread. The others' share
    // keeps working: the broker keeps the topic among the group's
    // subscriptions while a member still subscribes it, so their replies are
    // accepted.
    const topicA = unique("unsub_grp_a");
    const topicB = unique("unsub_grp_b");
    const group = unique("g");
    const members = ["m1", "m2"].map((name) => {
      const c = consumer(group);
      c.subscribe(topicA, "*", (m) => `${name}:${bodyText(m)}`);
      c.subscribe(topicB, "*", () => undefined);
      return c;
    });
    await producer.send({ topic: topicA, body: "warm-up" });
    await producer.send({ topic: topicB, body: "warm-up" });
    for (const c of members) await c.start();
    const owned = (c: PushConsumer) => c.assignedQueues.filter((q) => q.topic === topicA);
    await until(
      () => owned(members[0]!).length + owned(members[1]!).length === 4,
      "the members to share the topic",
    );
    await members[0]!.unsubscribe(topicA);
    const queues = owned(members[1]!);
    assert.ok(queues.length > 0);
    const replies = await Promise.all(
      queues.map((queue, i) =>
        producer.request({ topic: topicA, body: `q-${i}` }, { timeout: 10_000, queue })
      ),
    );
    assert.deepEqual(replies.map((r) => bodyText(r)), queues.map((_, i) => `m2:q-${i}`));
    for (const c of members) await c.close();
  });

  test("unsubscribe() refuses the retry topic", async () => {
    const c = consumer(unique("g"));
    await assert.rejects(c.unsubscribe(`%RETRY%${c.group}`), /retry topic/);
  });
});
