// Orderly consumption (issue 15), through the embedded broker over loopback
// TCP: requests keyed by account id (a selector puts an account's requests on
// one queue), many in flight at once. With `orderly: true` each queue's
// messages are handled one at a time in queue order and answered in that
// order; without it the same scenario runs a queue's requests side by side
// and finishes them out of order (shown too, so the test is known to fail
// without the feature). Failures are retried in place; a rebalance between
// two consumers keeps every queue's order.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  type ConsumeContext,
  InvalidArgumentError,
  type MessageExt,
  type MessageQueue,
  Producer,
  PushConsumer,
  RemoteError,
} from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { sleep, until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

/** How many of a topic's queues a consumer owns (its group's retry queue aside). */
const owned = (c: PushConsumer, topic: string) =>
  c.assignedQueues.filter((q) => q.topic === topic).length;

/** Account `n` goes to queue `n % queues` (the `arg` of the request). */
const byAccount = (queues: readonly MessageQueue[], _message: unknown, arg: unknown) =>
  [...queues].sort((a, b) => a.queueId - b.queueId)[Number(arg) % queues.length]!;

interface Handled {
  account: number;
  seq: number;
  queueId: number;
  offset: number;
  who: string;
}

/** What the handlers of a scenario saw. */
class Journal {
  /** Completions in the order they happened, over all consumers. */
  readonly handled: Handled[] = [];
  /** Handlers of each queue running at once, at most. */
  readonly overlap = new Map<number, number>();
  readonly #running = new Map<number, number>();

  /** A handler that records, works a little (uneven), and replies. */
  handler(
    who: string,
    delay: () => number = () => Math.random() * 6,
    hold?: (seq: number) => Promise<void> | undefined,
  ) {
    return async (msg: MessageExt) => {
      const body = bodyText(msg);
      if (body === "create") return undefined;
      const { account, seq } = JSON.parse(body) as { account: number; seq: number };
      await hold?.(seq);
      const now = (this.#running.get(msg.queueId) ?? 0) + 1;
      this.#running.set(msg.queueId, now);
      this.overlap.set(msg.queueId, Math.max(now, this.overlap.get(msg.queueId) ?? 0));
      try {
        await sleep(delay());
        this.handled.push({ account, seq, queueId: msg.queueId, offset: msg.queueOffset, who });
        return `${account}/${seq} by ${who}`;
      } finally {
        this.#running.set(msg.queueId, this.#running.get(msg.queueId)! - 1);
      }
    };
  }

  /** Queues whose messages did not complete in strictly increasing offset order. */
  outOfOrder(): number[] {
    const last = new Map<number, number>();
    const bad = new Set<number>();
    for (const h of this.handled) {
      if ((last.get(h.queueId) ?? -1) >= h.offset) bad.add(h.queueId);
      last.set(h.queueId, h.offset);
    }
    return [...bad];
  }

  /** An account's sequence numbers in the order they completed. */
  order(account: number): number[] {
    return this.handled.filter((h) => h.account === account).map((h) => h.seq);
  }

  /** An account's sequence numbers in queue order: the order they were sent in. */
  sent(account: number): number[] {
    return this.handled.filter((h) => h.account === account)
      .sort((a, b) => a.offset - b.offset).map((h) => h.seq);
  }
}

describe("orderly consumption", () => {
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

  /** A topic with its 4 queues, before any consumer starts. */
  async function topicWithQueues(prefix: string): Promise<string> {
    const topic = unique(prefix);
    await producer.send({ topic, body: "create" });
    return topic;
  }

  function consumer(
    group: string,
    topic: string,
    handler: (msg: MessageExt, context: ConsumeContext) => unknown,
    options: Partial<ConstructorParameters<typeof PushConsumer>[0]> = {},
  ): PushConsumer {
    const c = new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
      ...options,
    });
    c.subscribe(topic, "*", handler);
    return c;
  }

  /**
   * Send `perAccount` requests for each of `accounts` accounts, all at once
   * (interleaved), keyed by account. Resolves with each account's replies
   * in the order they arrived.
   */
  async function burst(
    topic: string,
    accounts: number,
    perAccount: number,
    first = 0,
  ): Promise<Map<number, string[]>> {
    const arrived = new Map<number, string[]>();
    const pending: Promise<void>[] = [];
    for (let seq = first; seq < first + perAccount; seq++) {
      for (let account = 0; account < accounts; account++) {
        pending.push(
          producer.request(
            { topic, body: JSON.stringify({ account, seq }) },
            { timeout: 30_000, selector: byAccount, arg: account },
          ).then((reply) => {
            const list = arrived.get(account) ?? [];
            list.push(bodyText(reply));
            arrived.set(account, list);
          }),
        );
      }
    }
    await Promise.all(pending);
    return arrived;
  }

  async function keyedScenario(orderly: boolean) {
    const topic = await topicWithQueues("keyed");
    const journal = new Journal();
    const c = consumer(unique("g"), topic, journal.handler("A"), { orderly, concurrency: 20 });
    try {
      await c.start();
      await until(() => owned(c, topic) === 4, "4 queues");
      // 8 accounts on 4 queues: 2 accounts and 30 requests a queue at once.
      const arrived = await burst(topic, 8, 15);
      return { journal, arrived, stats: c.stats };
    } finally {
      await c.close();
    }
  }

  test("requests keyed by account are handled one at a time per queue, in order, and answered in order", async () => {
    const { journal, arrived, stats } = await keyedScenario(true);
    assert.equal(journal.handled.length, 8 * 15);
    assert.deepEqual([...journal.overlap.values()], [1, 1, 1, 1], "one handler per queue");
    assert.deepEqual(journal.outOfOrder(), [], "each queue in offset order");
    for (let account = 0; account < 8; account++) {
      const order = journal.order(account);
      assert.deepEqual(order, journal.sent(account), `account ${account} handled as sent`);
      // The replies reached the requester in the order the requests were handled.
      assert.deepEqual(arrived.get(account), order.map((seq) => `${account}/${seq} by A`));
    }
    assert.equal(stats.failed, 0);
  });

  test("without orderly the same requests run side by side and finish out of order", async () => {
    const { journal } = await keyedScenario(false);
    assert.equal(journal.handled.length, 8 * 15);
    assert.ok(
      Math.max(...journal.overlap.values()) > 1,
      "a queue's handlers ran at once: the defect orderly removes",
    );
    assert.ok(journal.outOfOrder().length > 0, "a queue finished out of offset order");
  });

  test("manual replies (context.reply) go out in order too", async () => {
    const topic = await topicWithQueues("manual");
    const handled: number[] = [];
    const c = consumer(unique("g"), topic, async (msg, context) => {
      const body = bodyText(msg);
      if (body === "create") return;
      const { seq } = JSON.parse(body) as { seq: number };
      await sleep(Math.random() * 4);
      handled.push(seq);
      await context.reply(`manual ${seq}`);
      await sleep(Math.random() * 4); // the next one waits for this handler, not only its reply
    }, { orderly: true });
    try {
      await c.start();
      await until(() => owned(c, topic) === 4, "4 queues");
      const arrived = await burst(topic, 1, 20);
      assert.equal(handled.length, 20);
      assert.deepEqual(arrived.get(0), handled.map((seq) => `manual ${seq}`));
    } finally {
      await c.close();
    }
  });

  test("a throwing handler suspends its queue and runs the same request again, in order", async () => {
    const topic = await topicWithQueues("retry");
    const attempts: string[] = [];
    let throws = 2;
    const c = consumer(unique("g"), topic, (msg) => {
      const body = bodyText(msg);
      if (body === "create") return undefined;
      const { seq } = JSON.parse(body) as { seq: number };
      attempts.push(`${seq}#${msg.reconsumeTimes}`);
      if (seq === 2 && throws-- > 0) throw new Error("not yet");
      return `ok ${seq}`;
    }, { orderly: true, orderlyRetryDelay: 50 });
    try {
      await c.start();
      await until(() => owned(c, topic) === 4, "4 queues");
      const arrived = await burst(topic, 1, 6);
      // Sent at once: their order is the queue's; seq 2 ran 3 times before 3 started.
      const runs = attempts.map((a) => a.split("#")[0]);
      const sent = [...new Set(runs)];
      const i = sent.indexOf("2");
      assert.deepEqual(runs, [...sent.slice(0, i + 1), "2", "2", ...sent.slice(i + 1)]);
      assert.deepEqual(attempts.filter((a) => a.startsWith("2#")), ["2#0", "2#1", "2#2"]);
      assert.deepEqual(arrived.get(0), sent.map((seq) => `ok ${seq}`));
      assert.equal(c.stats.failed, 2);
    } finally {
      await c.close();
    }
  });

  test("a copy of a request retried in place is not run again (idempotency)", async () => {
    const topic = await topicWithQueues("dup");
    const seen: MessageExt[] = [];
    const c = consumer(unique("g"), topic, (msg) => {
      if (bodyText(msg) === "create") return undefined;
      seen.push(msg);
      if (seen.length === 1) throw new Error("first try fails");
      return `run ${seen.length}`;
    }, { orderly: true, orderlyRetryDelay: 20 });
    try {
      await c.start();
      await until(() => owned(c, topic) === 4, "4 queues");
      const onQueue0 = { selector: byAccount, arg: 0 };
      assert.equal(
        bodyText(await producer.request({ topic, body: "once" }, { timeout: 30_000, ...onQueue0 })),
        "run 2",
      );
      // The same request stored again (a send retried after a lost answer).
      const copy: Record<string, string> = {};
      for (const key of ["CORRELATION_ID", "REPLY_TO_CLIENT", "TTL", "MSG_TYPE"]) {
        const value = seen[0]!.properties[key];
        if (value !== undefined) copy[key] = value;
      }
      await producer.send({ topic, body: "once", properties: copy }, onQueue0);
      // The next request of the queue runs once the copy is done with.
      assert.equal(
        bodyText(await producer.request({ topic, body: "next" }, { timeout: 30_000, ...onQueue0 })),
        "run 3",
      );
      assert.equal(c.stats.duplicateRequests, 1, "the copy was answered from the first run");
      assert.deepEqual(seen.map(bodyText), ["once", "once", "next"], "no run of the copy");
    } finally {
      await c.close();
    }
  });

  test("a handler past consumeTimeout is waited for before its retry or the next message starts", async () => {
    const topic = await topicWithQueues("timeout");
    const events: string[] = [];
    let running = 0;
    let overlap = 0;
    const c = consumer(unique("g"), topic, async (msg, context) => {
      const body = bodyText(msg);
      if (body === "create") return undefined;
      running++;
      overlap = Math.max(overlap, running);
      events.push(`start ${body}#${msg.reconsumeTimes}`);
      if (body === "slow" && msg.reconsumeTimes === 0) {
        // Runs past consumeTimeout, then takes a while to stop once told.
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
        await sleep(200);
      }
      events.push(`end ${body}#${msg.reconsumeTimes}`);
      running--;
      return undefined;
    }, { orderly: true, orderlyRetryDelay: 10, consumeTimeout: 100 });
    try {
      await c.start();
      await until(() => owned(c, topic) === 4, "4 queues");
      const onQueue0 = { selector: byAccount, arg: 0 };
      await producer.send({ topic, body: "slow" }, onQueue0);
      await producer.send({ topic, body: "next" }, onQueue0);
      await until(() => events.includes("end next#0"), "the next message handled");
      assert.equal(overlap, 1, `one handler at a time on the queue: ${events.join(", ")}`);
      assert.deepEqual(events, [
        "start slow#0",
        "end slow#0",
        "start slow#1",
        "end slow#1",
        "start next#0",
        "end next#0",
      ]);
    } finally {
      await c.close();
    }
  });

  test("retries used up: a request gets the error reply, a message goes to the DLQ, the queue goes on", async () => {
    const topic = await topicWithQueues("exhaust");
    const group = unique("g");
    const attempts: string[] = [];
    const c = consumer(group, topic, (msg) => {
      const body = bodyText(msg);
      if (body === "create") return undefined;
      attempts.push(`${body}#${msg.reconsumeTimes}`);
      if (body.startsWith("bad")) throw new Error(`cannot ${body}`);
      return `ok ${body}`;
    }, { orderly: true, orderlyRetryDelay: 20, maxReconsumeTimes: 2 });
    try {
      await c.start();
      await until(() => owned(c, topic) === 4, "4 queues");
      const onQueue0 = { selector: byAccount, arg: 0 };
      await producer.send({ topic, body: "bad-message" }, onQueue0);
      const bad = producer.request({ topic, body: "bad-request" }, {
        timeout: 30_000,
        ...onQueue0,
      });
      const good = producer.request({ topic, body: "good" }, { timeout: 30_000, ...onQueue0 });
      await assert.rejects(
        bad,
        (e) => e instanceof RemoteError && /cannot bad-request/.test(e.message),
      );
      assert.equal(bodyText(await good), "ok good");
      assert.deepEqual(attempts, [
        "bad-message#0",
        "bad-message#1",
        "bad-message#2",
        "bad-request#0",
        "bad-request#1",
        "bad-request#2",
        "good#0",
      ]);
      assert.equal(c.stats.sentBack, 1, "the message went to the dead-letter queue");
    } finally {
      await c.close();
    }
    const dlq: string[] = [];
    const reader = consumer(group, `%DLQ%${group}`, (m) => void dlq.push(bodyText(m)));
    try {
      await reader.start();
      await until(() => dlq.length === 1, "the message in the DLQ");
      assert.deepEqual(dlq, ["bad-message"]);
    } finally {
      await reader.close();
    }
  });

  test("two consumers: every queue stays in order across a rebalance and a close", async () => {
    const topic = await topicWithQueues("rebalance");
    const group = unique("g");
    const journal = new Journal();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const slow = () => 1 + Math.random() * 4;
    // A's handlers stop at seq 3 until B joined: A hands queues over mid-stream.
    const a = consumer(
      group,
      topic,
      journal.handler("A", slow, (seq) => seq === 3 ? gate : undefined),
      { orderly: true },
    );
    const b = consumer(group, topic, journal.handler("B", slow), { orderly: true });
    try {
      await a.start();
      await until(() => owned(a, topic) === 4, "A owns 4");
      const first = burst(topic, 4, 10, 0);
      await until(() => journal.handled.length === 12, "A handles seq 0-2 of each account");
      await b.start(); // A gives 2 queues to B, whose lock waits for A's running handler
      await until(() => b.stats.lockRefused > 0, "B waits for a queue A still runs");
      assert.equal(journal.handled.filter((h) => h.who === "B").length, 0);
      open();
      const replies = [await first];
      await until(() => owned(b, topic) === 2, "B owns 2");
      assert.ok(
        journal.handled.some((h) => h.who === "B" && h.seq < 10),
        "B went on with requests A had pulled",
      );
      replies.push(await burst(topic, 4, 10, 10));
      const third = burst(topic, 4, 10, 20);
      await until(() => journal.handled.length >= 4 * 25, "part of the third burst handled");
      await a.close({ drainTimeout: 20_000 }); // B takes A's queues mid-stream
      replies.push(await third);
      await until(() => owned(b, topic) === 4, "B owns 4");
      replies.push(await burst(topic, 4, 5, 30));
      assert.equal(journal.handled.length, 4 * 35, "every request ran once");
      assert.deepEqual(journal.outOfOrder(), [], "each queue in offset order, across owners");
      for (let account = 0; account < 4; account++) {
        const order = journal.order(account);
        assert.deepEqual(order, journal.sent(account));
        const arrived = replies.flatMap((m) => m.get(account)!);
        assert.deepEqual(arrived.map((r) => Number(r.split(" ")[0]!.split("/")[1])), order);
      }
    } finally {
      open();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("orderly needs queue locks", () => {
    assert.throws(
      () =>
        new PushConsumer({
          nameServer: broker.address,
          group: "g",
          orderly: true,
          queueHandover: "none",
        }),
      (e) => e instanceof InvalidArgumentError && e.path === "queueHandover",
    );
    assert.throws(
      () => new PushConsumer({ nameServer: broker.address, group: "g", orderlyRetryDelay: 5 }),
      (e) => e instanceof InvalidArgumentError && e.path === "orderlyRetryDelay",
    );
  });
});
