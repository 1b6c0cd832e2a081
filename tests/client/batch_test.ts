// The batch send request (src/client/batch.ts) read back by the broker's own
// decoders (decodeSendHeader, decodeBatch), and splitBatch() against the real
// encoded size. Pure, runtime-neutral.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  buildBatchCommand,
  prepareBatch,
  readBatchSendResponse,
  splitBatch,
} from "../../src/client/batch.ts";
import type { Message } from "../../src/client/message.ts";
import { decodeBatch, decodeSendHeader } from "../../src/codec/message.ts";
import { decodeProperties } from "../../src/codec/properties.ts";
import { BrokerError, InvalidArgumentError } from "../../src/errors.ts";
import { noSeparators } from "../codec/_fuzz.ts";

const text = (max: number) =>
  fc.string({ unit: "grapheme", minLength: 1, maxLength: max }).filter(noSeparators);
const messageArb = (topic: string): fc.Arbitrary<Message> =>
  fc.record({
    topic: fc.constant(topic),
    body: fc.oneof(text(50), fc.uint8Array({ minLength: 1, maxLength: 300 })),
    tags: fc.option(text(8), { nil: undefined }),
    keys: fc.option(fc.array(text(8).filter((k) => !k.includes(" ")), { maxLength: 3 }), {
      nil: undefined,
    }),
    flag: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: undefined }),
    properties: fc.option(
      fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), text(12), { maxKeys: 3 }),
      { nil: undefined },
    ),
  }).map((m) =>
    Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as unknown as Message
  );
const key = (i: number) => i.toString(16).toUpperCase().padStart(32, "0");

describe("buildBatchCommand()", () => {
  it("is read back by the broker's decoders: every message, its own UNIQ_KEY, m=true", () => {
    fc.assert(
      fc.property(fc.array(messageArb("orders"), { minLength: 1, maxLength: 8 }), (messages) => {
        const batch = prepareBatch(messages, 4 << 20);
        const keys = messages.map((_, i) => key(i + 1));
        const request = buildBatchCommand({
          producerGroup: "PG",
          queue: { topic: "orders", brokerName: "broker-a", queueId: 2 },
          batch,
          keys,
          batchKey: key(0),
          maxBatchSize: 4 << 20,
          defaultTopicQueueNums: 4,
          now: 1_700_000_000_000,
        });
        assert.equal(request.code, 320);
        const header = decodeSendHeader(request.extFields, { v2: true });
        assert.equal(header.batch, true);
        assert.equal(header.topic, "orders");
        assert.equal(header.queueId, 2);
        assert.equal(header.sysFlag, 0, "never compressed");
        assert.deepEqual(decodeProperties(header.properties ?? ""), {
          WAIT: "true",
          UNIQ_KEY: key(0),
        });
        const entries = decodeBatch(request.body);
        assert.equal(entries.length, messages.length);
        entries.forEach((entry, i) => {
          const out = batch.entries[i]!;
          assert.deepEqual(entry.body, out.body);
          assert.equal(entry.flag, out.flag);
          assert.deepEqual(entry.properties, { ...out.properties, UNIQ_KEY: keys[i] });
        });
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a body over the limit, naming both sizes", () => {
    const batch = prepareBatch([{ topic: "t", body: "x".repeat(100) }], 1024);
    assert.throws(
      () =>
        buildBatchCommand({
          producerGroup: "PG",
          queue: { topic: "t", brokerName: "b", queueId: 0 },
          batch,
          keys: [key(1)],
          batchKey: key(0),
          maxBatchSize: 150,
          defaultTopicQueueNums: 4,
          now: 1,
        }),
      (e) =>
        e instanceof InvalidArgumentError &&
        /1 messages encodes to 174 bytes, over the limit of 150/.test(e.message),
    );
  });
});

describe("readBatchSendResponse()", () => {
  it("splits the broker's ids and refuses a refusal with the batch request code", () => {
    const queue = { topic: "t", brokerName: "b", queueId: 1 };
    const ok = readBatchSendResponse(
      { code: 0, extFields: { msgId: "O1,O2,O3", queueId: "1", queueOffset: "40" } },
      queue,
      ["K1", "K2", "K3"],
      "b:1",
    );
    assert.deepEqual(ok.msgIds, ["K1", "K2", "K3"]);
    assert.deepEqual(ok.offsetMsgIds, ["O1", "O2", "O3"]);
    assert.equal(ok.queueOffset, 40);
    assert.throws(
      () =>
        readBatchSendResponse(
          { code: 13, remark: "too big", extFields: {} },
          queue,
          ["K1"],
          "b:1",
        ),
      (e) => e instanceof BrokerError && e.responseCode === 13 && e.requestCode === 320,
    );
  });
});

describe("splitBatch()", () => {
  it("keeps every message once, in order, each batch within the limit once encoded", () => {
    fc.assert(
      fc.property(
        fc.array(messageArb("t"), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 600, max: 3000 }),
        (messages, limit) => {
          const batches = splitBatch(messages, limit);
          assert.deepEqual(batches.flat(), messages);
          for (const batch of batches) {
            assert.ok(batch.length > 0);
            const request = buildBatchCommand({
              producerGroup: "PG",
              queue: { topic: "t", brokerName: "b", queueId: 0 },
              batch: prepareBatch(batch, 1 << 20),
              keys: batch.map((_, i) => key(i)),
              batchKey: key(99),
              maxBatchSize: limit,
              defaultTopicQueueNums: 4,
              now: 1,
            });
            assert.ok(request.body.length <= limit);
          }
          // Greedy: a batch is cut only where the next message would not fit.
          for (let i = 0; i + 1 < batches.length; i++) {
            const joined = [...batches[i]!, batches[i + 1]![0]!];
            assert.throws(() =>
              buildBatchCommand({
                producerGroup: "PG",
                queue: { topic: "t", brokerName: "b", queueId: 0 },
                batch: prepareBatch(joined, 1 << 20),
                keys: joined.map((_, j) => key(j)),
                batchKey: key(99),
                maxBatchSize: limit,
                defaultTopicQueueNums: 4,
                now: 1,
              }), InvalidArgumentError);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("refuses a single message over the limit and a broken batch rule", () => {
    assert.throws(
      () => splitBatch([{ topic: "t", body: "a" }, { topic: "t", body: "x".repeat(500) }], 200),
      (e) => e instanceof InvalidArgumentError && e.path === "messages[1]",
    );
    assert.throws(
      () => splitBatch([{ topic: "t", body: "a" }, { topic: "u", body: "b" }]),
      /same topic/,
    );
    assert.throws(() => splitBatch([{ topic: "t", body: "a" }], 0), /positive integer/);
  });
});
