// Batch send and LZ4/zstd compression through the embedded broker, over real
// loopback TCP: a batch is stored in one queue in order and every message is
// consumed with its own id; requests compressed with each type are decoded by
// the responder and replied to. Runtime-neutral.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  InvalidArgumentError,
  type MessageExt,
  Producer,
  PushConsumer,
  type PushConsumerOptions,
  RpcProperty,
  splitBatch,
} from "../../mod.ts";
import { decodeStoredMessage } from "../../src/codec/message_ext.ts";
import { startBroker } from "../../src/broker/mod.ts";
import type { BrokerHandle } from "../../src/broker/mod.ts";
import { MessageSysFlag } from "../../src/codec/message.ts";
import { sleep, until } from "../_wait.ts";
import { unique } from "./_features_suite.ts";

describe("batch send and compression through the embedded broker", () => {
  let broker: BrokerHandle;
  let producer: Producer;
  const consumers: PushConsumer[] = [];

  before(async () => {
    broker = await startBroker({ port: 0 });
    producer = new Producer({ nameServer: broker.address, group: unique("batch_producer") });
    await producer.start();
  });

  after(async () => {
    await Promise.all(consumers.map((c) => c.close()));
    await producer?.close();
    await broker?.close();
  });

  async function consume(
    topic: string,
    handler: (m: MessageExt) => unknown,
    options: { producer?: Producer; consumer?: Partial<PushConsumerOptions> } = {},
  ): Promise<PushConsumer> {
    await (options.producer ?? producer).send({ topic, body: "create the topic" });
    const c = new PushConsumer({
      nameServer: broker.address,
      group: unique(`${topic}_g`),
      ...options.consumer,
    });
    c.subscribe(topic, "*", (m) => bodyText(m) === "create the topic" ? undefined : handler(m));
    consumers.push(c);
    await c.start();
    await until(
      () => c.assignedQueues.filter((q) => q.topic === topic).length === 4,
      `the consumer's 4 queues of ${topic}`,
    );
    return c;
  }

  test("a batch is stored in one queue in order, each message consumed with its own id", async () => {
    const topic = unique("batch");
    const received: MessageExt[] = [];
    await consume(topic, (m) => {
      received.push(m);
    });
    const messages = Array.from({ length: 50 }, (_, i) => ({
      topic,
      body: `message ${i} ${"é".repeat(i)}`,
      tags: i % 2 === 0 ? "even" : "odd",
      keys: [`k${i}`],
      properties: { index: String(i) },
      flag: i,
    }));
    const result = await producer.send(messages);
    assert.equal(result.status, "SEND_OK");
    assert.equal(result.msgIds.length, 50);
    assert.equal(new Set(result.msgIds).size, 50);
    assert.equal(result.msgId, result.msgIds.join(","));
    assert.equal(result.offsetMsgIds.length, 50);

    await until(() => received.length === 50, "the 50 messages of the batch");
    const sorted = [...received].sort((a, b) => a.queueOffset - b.queueOffset);
    assert.ok(sorted.every((m) => m.queueId === result.queue.queueId), "one queue");
    assert.equal(sorted[0]!.queueOffset, result.queueOffset);
    sorted.forEach((m, i) => {
      assert.equal(m.queueOffset, result.queueOffset + i, "consecutive offsets");
      assert.equal(bodyText(m), `message ${i} ${"é".repeat(i)}`);
      assert.equal(m.msgId, result.msgIds[i]);
      assert.equal(m.offsetMsgId, result.offsetMsgIds[i]);
      assert.equal(m.tags, i % 2 === 0 ? "even" : "odd");
      assert.deepEqual(m.keys, [`k${i}`]);
      assert.equal(m.properties.index, String(i));
      assert.equal(m.flag, i);
      assert.equal(m.sysFlag & MessageSysFlag.COMPRESSED, 0, "a batch is never compressed");
    });
  });

  test("batch rules and size are checked before anything is sent", async () => {
    const topic = unique("rules");
    const stored = broker.stats.messagesStored;
    const big = { topic, body: new Uint8Array(1024 * 1024).fill(1) };
    await assert.rejects(
      producer.send([big, big, big, big]),
      (e) =>
        e instanceof InvalidArgumentError &&
        /4 messages encodes to 4194600 bytes, over the limit of 4194304/.test(e.message),
    );
    await assert.rejects(producer.send([]), /at least one message/);
    await assert.rejects(
      producer.send([{ topic, body: "a" }, { topic: `${topic}x`, body: "b" }]),
      (e) => e instanceof InvalidArgumentError && e.path === "messages[1].topic",
    );
    await assert.rejects(
      producer.send([{ topic, body: "a" }, { topic, body: "b", delayLevel: 2 }]),
      /delayed messages are not supported/,
    );
    await assert.rejects(
      producer.send([{ topic: "%RETRY%g", body: "a" }]),
      /retry group topics/,
    );
    await assert.rejects(
      producer.send([{ topic, body: "a" }, { topic, body: "b", properties: { WAIT: "false" } }]),
      /same WAIT/,
    );
    await assert.rejects(
      producer.send([{ topic, body: "" }]),
      (e) => e instanceof InvalidArgumentError && e.path === "messages[0].body",
    );
    assert.equal(broker.stats.messagesStored, stored, "nothing was stored");
  });

  test("splitBatch() cuts a list over the limit into batches that are all stored", async () => {
    const topic = unique("split");
    const received = new Set<string>();
    await consume(topic, (m) => {
      received.add(bodyText(m).slice(0, 8));
    });
    const messages = Array.from({ length: 10 }, (_, i) => ({
      topic,
      body: `${String(i).padStart(8, "0")}${"x".repeat(900 * 1024)}`,
    }));
    const batches = splitBatch(messages);
    assert.deepEqual(batches.map((b) => b.length), [4, 4, 2]);
    const ids: string[] = [];
    for (const batch of batches) ids.push(...(await producer.send(batch)).msgIds);
    assert.equal(ids.length, 10);
    await until(() => received.size === 10, "the 10 messages of the 3 batches");
  });

  for (const compressType of ["zlib", "lz4", "zstd"] as const) {
    test(`a ${compressType}-compressed request is decoded by the responder and replied to`, async () => {
      const topic = unique(`compressed_${compressType}`);
      const requester = new Producer({
        nameServer: broker.address,
        group: unique("compressing"),
        compressType,
        compressThreshold: 1024,
      });
      await requester.start();
      try {
        const seen: number[] = [];
        await consume(topic, (m) => {
          seen.push(m.sysFlag);
          // A large reply: compressed (zlib) on its way back.
          return bodyText(m).toUpperCase();
        }, { producer: requester });
        const body = "request body ".repeat(1000);
        const reply = await requester.request({ topic, body }, { timeout: 15_000 });
        assert.equal(bodyText(reply), body.toUpperCase());
        const expected = { zlib: 0x301, lz4: 0x101, zstd: 0x201 }[compressType];
        assert.equal(seen.at(-1)! & 0x701, expected, "stored with the chosen type");
        // Below the threshold: not compressed.
        await requester.request({ topic, body: "small" }, { timeout: 15_000 });
        assert.equal(seen.at(-1)! & MessageSysFlag.COMPRESSED, 0);
      } finally {
        await requester.close();
      }
    });
  }

  for (const type of ["lz4", "zstd"] as const) {
    test(`replyCompression ${type}: the responder's large replies are stored ${type}-compressed`, async () => {
      const topic = unique(`reply_${type}`);
      await consume(topic, (m) => bodyText(m) === "small" ? "small" : bodyText(m).repeat(400), {
        consumer: { replyCompression: { type, threshold: 2048 } },
      });
      const replyFlags = async () => {
        const flags: number[] = [];
        const store = broker.broker.store;
        for (const q of store.queues().filter((q) => q.topic.endsWith("_REPLY_TOPIC"))) {
          const got = await store.get(q.topic, q.queueId, 0, 1000, 1 << 30);
          for (const r of got.records.map((record) => decodeStoredMessage(record))) {
            if (r.properties[RpcProperty.GROUP]?.startsWith(topic)) flags.push(r.sysFlag);
          }
        }
        return flags;
      };
      // The broker pushes a reply before it stores it: wait for the n-th stored.
      const storedReplies = async (n: number) => {
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(5)) {
          const flags = await replyFlags();
          if (flags.length >= n) return flags;
        }
        throw new Error(`timed out waiting for ${n} stored replies`);
      };
      const reply = await producer.request({ topic, body: `${topic} ` }, { timeout: 15_000 });
      assert.equal(bodyText(reply), `${topic} `.repeat(400));
      const expected = { lz4: 0x101, zstd: 0x201 }[type];
      assert.deepEqual((await storedReplies(1)).map((f) => f & 0x701), [expected]);
      // Below the threshold: not compressed.
      await producer.request({ topic, body: "small" }, { timeout: 15_000 });
      assert.deepEqual((await storedReplies(2)).map((f) => f & 0x701).sort(), [0, expected]);
    });
  }

  test("replyCompression is validated", () => {
    assert.throws(
      () =>
        new PushConsumer({
          nameServer: broker.address,
          group: "g",
          replyCompression: { type: "gzip" as "zlib" },
        }),
      (e) => e instanceof InvalidArgumentError && e.path === "replyCompression.type",
    );
  });

  test("compressType is validated", () => {
    assert.throws(
      () => new Producer({ nameServer: broker.address, compressType: "gzip" as "zlib" }),
      (e) => e instanceof InvalidArgumentError && e.path === "compressType",
    );
    assert.throws(
      () => new Producer({ nameServer: broker.address, compressLevel: 30 }),
      (e) => e instanceof InvalidArgumentError && e.path === "compressLevel",
    );
  });
});
