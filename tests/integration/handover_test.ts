// Queue handover between the consumers of a group (issue 10 item 5, the
// cross-consumer case), through the embedded broker over loopback TCP:
// a request running on consumer A when a rebalance gives its queue to B
// must not run again on B. With queueHandover "lock" (the default) B waits
// for A's queue lock, which A gives back only after its handlers finished
// and its offset was committed; with "none" B reads the queue at once from
// the last commit and runs A's requests again (shown here too, so the
// scenario is known to reproduce the defect).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bodyText, ConnectionError, type MessageExt, Producer, PushConsumer } from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { defaultConnect } from "../../src/transport/default.ts";
import type { Connect, Transport } from "../../src/transport/types.ts";
import type { MessageQueue } from "../../src/client/message.ts";
import { ClientInstance } from "../../src/client/client_instance.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { decodeConsumerRunningInfo } from "../../src/codec/admin_bodies.ts";
import { until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

/** A gate the test opens: handlers wait on it. */
function latch(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => open = resolve);
  return { wait, open };
}

/** Who ran which request, in order. */
class Runs {
  readonly list: Array<[id: string, who: string]> = [];
  record(id: string, who: string): void {
    this.list.push([id, who]);
  }
  count(id: string): number {
    return this.list.filter(([i]) => i === id).length;
  }
  by(who: string): string[] {
    return this.list.filter(([, w]) => w === who).map(([id]) => id);
  }
  duplicates(): string[] {
    const seen = new Map<string, string[]>();
    for (const [id, who] of this.list) seen.set(id, [...(seen.get(id) ?? []), who]);
    return [...seen].filter(([, whos]) => whos.length > 1).map(([id, whos]) =>
      `${id}:${whos.join(",")}`
    );
  }
}

/** A connect whose sockets can all be cut at once, refusing new ones after. */
function crashableConnect(): { connect: Connect; crash: () => Promise<void> } {
  const transports = new Set<Transport>();
  let dead = false;
  return {
    connect: async (options) => {
      if (dead) throw new ConnectionError(`${options.hostname}:${options.port}`, "crashed");
      const transport = await defaultConnect(options);
      transports.add(transport);
      return transport;
    },
    crash: async () => {
      dead = true;
      await Promise.all([...transports].map((t) => t.close()));
    },
  };
}

describe("queue handover between consumers of a group", () => {
  let broker: BrokerHandle;
  let producer: Producer;

  before(async () => {
    broker = await startBroker({ port: 0 });
    producer = new Producer({ nameServer: broker.address, group: unique("requester") });
    await producer.start();
  });

  after(async () => {
    await producer.close();
    await broker.close();
  });

  function consumer(
    group: string,
    topic: string,
    who: string,
    runs: Runs,
    gate: Promise<void> | undefined,
    options: Partial<ConstructorParameters<typeof PushConsumer>[0]> = {},
  ): PushConsumer {
    const c = new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
      ...options,
    });
    c.subscribe(topic, "*", async (m: MessageExt) => {
      const id = bodyText(m);
      runs.record(id, who);
      if (gate && id !== "create") await gate; // the message that created the topic is not held
      return `${id} by ${who}`;
    });
    return c;
  }

  const owned = (c: PushConsumer, topic: string) =>
    c.assignedQueues.filter((q) => q.topic === topic).sort((a, b) => a.queueId - b.queueId);
  const queue = (topic: string, queueId: number): MessageQueue => ({
    topic,
    brokerName: "broker-a",
    queueId,
  });
  const request = (topic: string, id: string, queueId: number) =>
    producer.request({ topic, body: id }, { timeout: 30_000, queue: queue(topic, queueId) })
      .then(bodyText);

  /**
   * A owns the topic's 4 queues and runs 8 requests, held by `gate`; B
   * joins. Returns the requests' replies (pending) and the consumers.
   */
  async function joinWhileRunning(
    queueHandover: "lock" | "none",
    runs: Runs,
    gate: Promise<void>,
  ) {
    const topic = unique("handover");
    const group = unique("g");
    await producer.send({ topic, body: "create" }); // the topic exists before the consumers start
    const a = consumer(group, topic, "A", runs, gate, { queueHandover });
    const b = consumer(group, topic, "B", runs, undefined, { queueHandover });
    await a.start();
    await until(() => owned(a, topic).length === 4 && runs.count("create") === 1, "A owns 4");
    const first = Array.from({ length: 8 }, (_, i) => request(topic, `r${i}`, i % 4));
    await until(() => runs.by("A").length === 9, "A runs the 8 requests");
    await b.start(); // the broker tells A the group changed; A gives 2 queues to B
    await until(() => owned(a, topic).length === 2, "A gave up 2 queues");
    return { topic, a, b, first };
  }

  test("a rebalance runs no request twice: B waits for A's running requests (lock)", async () => {
    const runs = new Runs();
    const gate = latch();
    const { topic, a, b, first } = await joinWhileRunning("lock", runs, gate.wait);
    try {
      // B was given A's queues and asked for their locks: refused while A
      // still runs their requests. (Without locks it would pull them now.)
      await until(() => b.stats.lockRefused > 0, "B refused a queue A drains");
      assert.deepEqual(runs.by("B"), [], "B waits");
      gate.open();
      const replies = await Promise.all(first);
      assert.deepEqual(replies, Array.from({ length: 8 }, (_, i) => `r${i} by A`));
      await until(() => owned(b, topic).length === 2, "B owns 2");
      // B reads its queues from after A's requests: new ones only.
      const second = await Promise.all(
        Array.from({ length: 8 }, (_, i) => request(topic, `s${i}`, i % 4)),
      );
      const bQueues = owned(b, topic).map((q) => q.queueId);
      for (let i = 0; i < 8; i++) {
        assert.equal(second[i], `s${i} by ${bQueues.includes(i % 4) ? "B" : "A"}`);
      }
      assert.deepEqual(runs.duplicates(), [], "every request ran once");
      assert.equal(runs.list.length, 1 + 8 + 8);
      // mqadmin consumerStatus shows each queue's lock.
      const admin = new ClientInstance({
        nameServer: broker.address,
        instanceName: unique("admin"),
      });
      try {
        const info = decodeConsumerRunningInfo(
          (await admin.call(
            broker.address,
            createRequest(307, {
              consumerGroup: b.group,
              clientId: b.clientId,
              jstackEnable: false,
            }),
          )).body,
        );
        const rows = info.mqTable.filter((row) => row.queue.topic === topic);
        assert.equal(rows.length, 2);
        assert.ok(rows.every((row) => row.info.locked && row.info.lastLockTimestamp > 0));
      } finally {
        await admin.close();
      }
      assert.equal(a.stats.duplicateRequests + b.stats.duplicateRequests, 0);
    } finally {
      gate.open();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("without locks (queueHandover none) the same rebalance runs requests twice", async () => {
    const runs = new Runs();
    const gate = latch();
    const { a, b, first } = await joinWhileRunning("none", runs, gate.wait);
    try {
      // B pulls its new queues from the last commit, before A's requests.
      await until(() => runs.by("B").length > 0, "B runs one of A's requests");
      gate.open();
      await Promise.all(first);
      assert.ok(runs.duplicates().length > 0, "the defect this feature removes");
      assert.equal(b.stats.lockRefused, 0);
    } finally {
      gate.open();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("close() while B runs: A's requests finish on A, B takes its queues, nothing twice", async () => {
    const runs = new Runs();
    const gate = latch();
    const topic = unique("close");
    const group = unique("g");
    await producer.send({ topic, body: "create" });
    const a = consumer(group, topic, "A", runs, gate.wait);
    const b = consumer(group, topic, "B", runs, undefined);
    try {
      await a.start();
      await b.start();
      await until(
        () => owned(a, topic).length === 2 && owned(b, topic).length === 2,
        "a 2/2 split",
      );
      const aQueues = owned(a, topic).map((q) => q.queueId);
      const first = aQueues.flatMap((
        q,
      ) => [request(topic, `a${q}-0`, q), request(topic, `a${q}-1`, q)]);
      await until(() => runs.list.filter(([id]) => id.startsWith("a")).length === 4, "A runs 4");
      const closing = a.close({ drainTimeout: 20_000 });
      gate.open();
      await closing;
      assert.equal((await Promise.all(first)).every((r) => r.endsWith("by A")), true);
      await until(() => owned(b, topic).length === 4, "B owns 4");
      const second = await Promise.all([0, 1, 2, 3].map((q) => request(topic, `b${q}`, q)));
      assert.deepEqual(second, [0, 1, 2, 3].map((q) => `b${q} by B`));
      assert.deepEqual(runs.duplicates(), []);
    } finally {
      gate.open();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a crashed consumer's queues move at once: the broker frees its locks", async () => {
    const runs = new Runs();
    const gate = latch();
    const topic = unique("crash");
    const group = unique("g");
    await producer.send({ topic, body: "create" });
    const cut = crashableConnect();
    const a = consumer(group, topic, "A", runs, gate.wait, { connect: cut.connect });
    // Far past this test's bound: B takes over because the broker freed
    // A's locks, not because it gave up waiting for them.
    const b = consumer(group, topic, "B", runs, undefined, { handoverTimeout: 120_000 });
    try {
      await a.start();
      await b.start();
      await until(
        () => owned(a, topic).length === 2 && owned(b, topic).length === 2,
        "a 2/2 split",
      );
      const aQueues = owned(a, topic).map((q) => q.queueId);
      const inFlight = aQueues.map((q) => request(topic, `a${q}`, q));
      await until(() => runs.by("A").filter((id) => id !== "create").length === 2, "A runs 2");
      const crashedAt = Date.now();
      await cut.crash(); // no unlock, no unregister: the sockets just close
      await until(() => owned(b, topic).length === 4, "B owns 4", 15_000);
      const reply = await request(topic, "after", aQueues[0]!);
      const failover = Date.now() - crashedAt;
      assert.equal(reply, "after by B");
      // A's unfinished requests run again on B (at-least-once after a crash).
      assert.deepEqual(
        (await Promise.all(inFlight)).sort(),
        aQueues.map((q) => `a${q} by B`).sort(),
      );
      assert.ok(failover < 10_000, `failover took ${failover} ms`);
    } finally {
      gate.open();
      await Promise.all([a.close({ drainTimeout: 500 }), b.close()]);
    }
  });
});
