// Batch send and LZ4/zstd bodies against real RocketMQ 5.5.0 and the official
// Java 5.x client, one broker for the file: the Java producer with
// setCompressType(LZ4 / ZSTD) sends bodies above its threshold and our
// consumer decodes them; we send a batch and the Java consumer consumes every
// message with its own id; we send LZ4 and zstd and the Java consumer decodes
// them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type MessageExt, Producer, PushConsumer } from "../../mod.ts";
import {
  type JavaConsumer,
  type RocketMQCluster,
  runJavaProducer,
  runJavaRequester,
  startJavaConsumer,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";
import { until } from "../_wait.ts";

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compression type bits (sysFlag bits 8-10) Java sets for each type. */
const TYPE_BITS = { ZLIB: 0x300, LZ4: 0x100, ZSTD: 0x200 } as const;

describe("batch send and LZ4/zstd through RocketMQ 5.5.0 with the Java 5.x client", () => {
  let cluster: RocketMQCluster;
  let producer: Producer;
  const closers: (() => Promise<unknown>)[] = [];
  const t0 = Date.now();

  before(async () => {
    cluster = await startRocketMQ({ line: "5" });
    process.stderr.write(
      `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
    );
    producer = new Producer({ nameServer: cluster.nameServer, group: uniqueName("ts_batch") });
    await producer.start();
  });

  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await producer?.close();
    await cluster?.stop();
    process.stderr.write(`[interop] batch_compression_test: ${Date.now() - t0} ms in all\n`);
  });

  for (const type of ["LZ4", "ZSTD"] as const) {
    it(`Java producer with setCompressType(${type}): our consumer decodes the bodies`, async () => {
      const topic = uniqueName(`java_${type.toLowerCase()}`);
      await cluster.createTopic(topic, { queues: 4 });
      const received: { body: string; sysFlag: number; size: number }[] = [];
      const consumer = new PushConsumer({
        nameServer: cluster.nameServer,
        group: uniqueName("ts_decoder"),
      });
      closers.push(() => consumer.close());
      consumer.subscribe(topic, "*", async (m: MessageExt) => {
        received.push({ body: await sha256(m.body), sysFlag: m.sysFlag, size: m.body.length });
      });
      await consumer.start();
      await until(
        () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
        "the consumer's 4 queues",
        60_000,
      );
      // 3 bodies of 8000 bytes (over Java's 4096 threshold: compressed).
      const big = await runJavaProducer({
        cluster,
        topic,
        count: 3,
        bodySize: 8000,
        body: "text",
        compressType: type,
      });
      assert.equal(big.summary.ok, 3, big.logTail);
      await until(() => received.length >= 3, "the 3 compressed messages", 60_000);
      const sent = big.sent.map((s) => s.bodySha256).sort();
      assert.deepEqual(received.map((r) => r.body).sort(), sent);
      const compressed = received.filter((r) => r.size === 8000);
      assert.equal(compressed.length, 3);
      for (const r of compressed) assert.equal(r.sysFlag & 0x701, 0x1 | TYPE_BITS[type]);
    });
  }

  // One type per direction keeps the JVM starts down (both types go through
  // the same decoder, tested per type above and in tests/codec).
  it("a Java requester with setCompressType(LZ4): our responder decodes and replies", async () => {
    const topic = uniqueName("rr_lz4");
    await cluster.createTopic(topic, { queues: 4 });
    const responder = new PushConsumer({
      nameServer: cluster.nameServer,
      group: uniqueName("ts_responder"),
    });
    closers.push(() => responder.close());
    const seen: number[] = [];
    responder.subscribe(topic, "*", (m) => {
      seen.push(m.sysFlag);
      return m.body.slice().reverse(); // the requester's default check: reverse mode
    });
    await responder.start();
    await until(
      () => responder.assignedQueues.filter((q) => q.topic === topic).length === 4,
      "the responder's 4 queues",
      60_000,
    );
    const run = await runJavaRequester({
      cluster,
      topic,
      forms: ["plain"],
      count: 3,
      bodySize: 8000,
      body: "text",
      timeoutMs: 10_000,
      extraArgs: ["--compress-type", "LZ4"],
    });
    assert.equal(run.summary.ok, 3, run.logTail);
    assert.equal(seen.length, 3);
    for (const flag of seen) assert.equal(flag & 0x701, 0x1 | TYPE_BITS.LZ4);
  });

  it("a Java responder replying with setCompressType(ZSTD): our requester decodes the reply", async () => {
    const topic = uniqueName("rr_zstd");
    await cluster.createTopic(topic, { queues: 4 });
    const java = await startJavaResponder({
      cluster,
      topic,
      mode: "echo",
      extraArgs: ["--compress-type", "ZSTD"],
    });
    closers.push(() => java.stop());
    const body = "reply me ".repeat(1000); // 9000 bytes: over Java's threshold
    const reply = await producer.request({ topic, body }, { timeout: 15_000 });
    assert.equal(new TextDecoder().decode(reply.body), body);
  });

  describe("the Java consumer reads what we send", () => {
    let topic: string;
    let java: JavaConsumer;

    before(async () => {
      topic = uniqueName("ts_to_java");
      await cluster.createTopic(topic, { queues: 4 });
      java = await startJavaConsumer({
        cluster,
        topic,
        group: uniqueName("java_g"),
        from: "first",
      });
      closers.push(() => java.stop());
    });

    it("a batch: every message consumed, with its own id, keys and tags", async () => {
      const messages = Array.from({ length: 20 }, (_, i) => ({
        topic,
        body: `batch ${i} ${"é".repeat(i)}`,
        keys: [`batch-${i}`],
        tags: "batch",
        properties: { index: String(i) },
      }));
      const result = await producer.send(messages);
      assert.equal(result.status, "SEND_OK");
      assert.equal(result.msgIds.length, 20);
      assert.equal(result.offsetMsgIds.length, 20);
      await java.waitForMessages(20);
      const got = java.messages().filter((m) => m.tags === "batch");
      assert.equal(got.length, 20);
      const byKey = new Map(got.map((m) => [m.keys, m]));
      for (const [i, message] of messages.entries()) {
        const m = byKey.get(`batch-${i}`);
        assert.ok(m, `batch-${i} consumed`);
        assert.equal(m.msgId, result.msgIds[i], "the message's own UNIQ_KEY");
        assert.equal(m.bodySha256, await sha256(new TextEncoder().encode(message.body)));
        assert.equal(m.properties.index, String(i));
        assert.equal(m.queueId, result.queue.queueId);
        assert.equal(m.queueOffset, result.queueOffset + i);
      }
    });

    it("LZ4 and zstd bodies: decoded by the Java consumer", async () => {
      const expected: string[] = [];
      for (const compressType of ["lz4", "zstd"] as const) {
        const compressing = new Producer({
          nameServer: cluster.nameServer,
          group: uniqueName(`ts_${compressType}`),
          compressType,
        });
        await compressing.start();
        try {
          for (const size of [5000, 300_000]) {
            const body = new TextEncoder().encode(
              `${compressType} ${size} `.padEnd(size, `${compressType} body `),
            );
            expected.push(await sha256(body));
            await compressing.send({ topic, body, tags: compressType });
          }
        } finally {
          await compressing.close();
        }
      }
      const before = java.messages().filter((m) => m.tags === "batch").length;
      await java.waitForMessages(before + 4);
      const got = java.messages().filter((m) => m.tags === "lz4" || m.tags === "zstd");
      assert.deepEqual(got.map((m) => m.bodySha256).sort(), expected.sort());
      for (const m of got) {
        const bits = m.tags === "lz4" ? TYPE_BITS.LZ4 : TYPE_BITS.ZSTD;
        assert.equal(m.sysFlag & 0x700, bits, `${m.tags}: sysFlag ${m.sysFlag}`);
      }
    });
  });
});
