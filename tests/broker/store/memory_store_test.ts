import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeStoredMessage } from "../../../src/codec/message_ext.ts";
import { parseOffsetMessageId } from "../../../src/codec/message_id.ts";
import { IllegalStateError, InvalidArgumentError } from "../../../src/errors.ts";
import { MemoryStore } from "../../../src/broker/store/memory_store.ts";
import type { PutMessageInput } from "../../../src/broker/store/types.ts";

const host = { address: "10.0.0.1", port: 9876 };

function msg(topic: string, queueId: number, over: Partial<PutMessageInput> = {}): PutMessageInput {
  return {
    topic,
    queueId,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: { address: "10.0.0.5", port: 50000 },
    storeHost: host,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: new Uint8Array([1, 2, 3]),
    properties: {},
    tagsCode: 0,
    ...over,
  };
}

describe("MemoryStore", () => {
  it("assigns queue offsets per queue and physical offsets across queues", async () => {
    const store = new MemoryStore();
    const a0 = await store.put(msg("A", 0));
    const a1 = await store.put(msg("A", 0));
    const b0 = await store.put(msg("B", 3));
    assert.deepEqual([a0.queueOffset, a1.queueOffset, b0.queueOffset], [0, 1, 0]);
    assert.equal(a1.commitLogOffset, a0.size);
    assert.equal(b0.commitLogOffset, a0.size + a1.size);
    assert.equal(parseOffsetMessageId(b0.msgId).commitLogOffset, b0.commitLogOffset);
    assert.equal(store.maxOffset("A", 0), 2);
    assert.equal(store.maxOffset("B", 3), 1);
    assert.equal(store.maxOffset("B", 0), 0);
    assert.deepEqual(store.queues().sort((x, y) => x.topic.localeCompare(y.topic)), [
      { topic: "A", queueId: 0, maxOffset: 2 },
      { topic: "B", queueId: 3, maxOffset: 1 },
    ]);
  });

  it("stores records in commit-log format with offsets, store time and IPv6 host flags", async () => {
    const store = new MemoryStore({ now: () => 42 });
    const put = await store.put(msg("T", 1, {
      bornHost: { address: "::1", port: 1 },
      properties: { TAGS: "A" },
    }));
    const got = await store.get("T", 1, 0, 32, 1 << 20);
    const m = decodeStoredMessage(got.records[0]!);
    assert.equal(m.commitLogOffset, put.commitLogOffset);
    assert.equal(m.queueOffset, 0);
    assert.equal(m.storeTimestamp, 42);
    assert.equal(m.sysFlag & 0x10, 0x10);
    assert.equal(m.bornHost.address, "0:0:0:0:0:0:0:1");
    assert.deepEqual(m.properties, { TAGS: "A" });
    assert.deepEqual(await store.lookup(put.commitLogOffset), got.records[0]);
    assert.equal(await store.lookup(put.commitLogOffset + 1), undefined);
  });

  it("maps read positions to Java's GetMessageStatus", async () => {
    const store = new MemoryStore();
    let r = await store.get("T", 0, 0, 32, 1 << 20);
    assert.equal(r.status, "NO_MATCHED_LOGIC_QUEUE");
    for (let i = 0; i < 3; i++) await store.put(msg("T", 0));
    r = await store.get("T", 0, 3, 32, 1 << 20);
    assert.deepEqual([r.status, r.nextBeginOffset, r.minOffset, r.maxOffset], [
      "OFFSET_OVERFLOW_ONE",
      3,
      0,
      3,
    ]);
    r = await store.get("T", 0, 9, 32, 1 << 20);
    // Past the end of a queue that starts at 0: read it from the start (Java).
    assert.deepEqual([r.status, r.nextBeginOffset], ["OFFSET_OVERFLOW_BADLY", 0]);
    r = await store.get("T", 0, 1, 32, 1 << 20);
    assert.deepEqual([r.status, r.nextBeginOffset, r.queueOffsets], ["FOUND", 3, [1, 2]]);
  });

  it("honours maxCount and maxBytes, always returning the first message", async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 10; i++) await store.put(msg("T", 0, { body: new Uint8Array(100) }));
    let r = await store.get("T", 0, 0, 4, 1 << 20);
    assert.deepEqual([r.records.length, r.nextBeginOffset], [4, 4]);
    r = await store.get("T", 0, 0, 32, 1);
    assert.deepEqual([r.records.length, r.nextBeginOffset], [1, 1]);
  });

  it("filters by tags code and reports NO_MATCHED_MESSAGE past filtered messages", async () => {
    const store = new MemoryStore();
    await store.put(msg("T", 0, { tagsCode: 1 }));
    await store.put(msg("T", 0, { tagsCode: 2 }));
    await store.put(msg("T", 0, { tagsCode: 1 }));
    let r = await store.get("T", 0, 0, 32, 1 << 20, (code) => code === 1);
    assert.deepEqual([r.status, r.queueOffsets, r.nextBeginOffset], ["FOUND", [0, 2], 3]);
    r = await store.get("T", 0, 0, 32, 1 << 20, (code) => code === 9);
    assert.deepEqual([r.status, r.records.length, r.nextBeginOffset], ["NO_MATCHED_MESSAGE", 0, 3]);
  });

  it("drops the oldest records beyond the memory limit and advances min offsets", async () => {
    const store = new MemoryStore({ memoryLimitBytes: 2000 });
    const sizes: number[] = [];
    for (let i = 0; i < 30; i++) {
      sizes.push((await store.put(msg(i % 2 ? "A" : "B", 0, { body: new Uint8Array(100) }))).size);
    }
    assert.ok(store.bytes <= 2000);
    assert.ok(store.minOffset("A", 0) > 0 && store.minOffset("B", 0) > 0);
    assert.equal(store.maxOffset("A", 0), 15);
    const r = await store.get("A", 0, 0, 32, 1 << 20);
    assert.deepEqual([r.status, r.nextBeginOffset], ["OFFSET_TOO_SMALL", store.minOffset("A", 0)]);
    const first = await store.get("A", 0, store.minOffset("A", 0), 1, 1 << 20);
    assert.equal(first.status, "FOUND");
    assert.equal(await store.lookup(0), undefined);
  });

  it("refuses a record larger than the whole limit, keeping what it has", async () => {
    const store = new MemoryStore({ memoryLimitBytes: 500 });
    await store.put(msg("T", 0));
    await assert.rejects(
      store.put(msg("T", 0, { body: new Uint8Array(1000) })),
      InvalidArgumentError,
    );
    assert.equal(store.maxOffset("T", 0), 1);
  });

  it("stores a batch contiguously and tells listeners of every message", async () => {
    const store = new MemoryStore();
    const seen: number[] = [];
    const off = store.onArrival((_t, _q, offset) => seen.push(offset));
    const results = await store.putBatch([msg("T", 0), msg("T", 0), msg("T", 0)]);
    assert.deepEqual(results.map((r) => r.queueOffset), [0, 1, 2]);
    assert.deepEqual(seen, [0, 1, 2]);
    off();
    await store.put(msg("T", 0));
    assert.deepEqual(seen, [0, 1, 2]);
  });

  it("searches offsets by store time (LOWER and UPPER boundaries)", async () => {
    let now = 100;
    const store = new MemoryStore({ now: () => now });
    for (const t of [100, 100, 200, 300]) {
      now = t;
      await store.put(msg("T", 0));
    }
    assert.equal(await store.searchOffset("T", 0, 100), 0);
    assert.equal(await store.searchOffset("T", 0, 150), 2);
    assert.equal(await store.searchOffset("T", 0, 150, "UPPER"), 1);
    assert.equal(await store.searchOffset("T", 0, 100, "UPPER"), 1);
    assert.equal(await store.searchOffset("T", 0, 999), 4);
    assert.equal(await store.searchOffset("T", 0, 1), 0);
    assert.equal(await store.earliestStoreTime("T", 0), 100);
    assert.equal(await store.earliestStoreTime("X", 0), 0);
  });

  it("keeps consumer offsets per group and lists groups by topic", () => {
    const store = new MemoryStore();
    store.commitOffset("G1", "T", 0, 5);
    store.commitOffset("G2", "T", 1, 6);
    store.commitOffset("G2", "U", 0, 7);
    assert.equal(store.queryOffset("G1", "T", 0), 5);
    assert.equal(store.queryOffset("G1", "T", 1), undefined);
    assert.deepEqual(store.groupsWithOffsets("T").sort(), ["G1", "G2"]);
    assert.deepEqual(store.groupsWithOffsets("U"), ["G2"]);
  });

  it("refuses appends after close", async () => {
    const store = new MemoryStore();
    await store.close();
    await assert.rejects(store.put(msg("T", 0)), IllegalStateError);
  });

  it("holds records in shared segments, and counts the segments and the index it holds", async () => {
    // One allocation per record (an ArrayBuffer, its backing store, an index
    // object: several hundred bytes more than the record) made a store that
    // counted 256 MiB hold 0.8-1.8 GB. Records now share 1 MiB segments.
    const store = new MemoryStore({ memoryLimitBytes: 64 * 1024 * 1024 });
    let recordBytes = 0;
    for (let i = 0; i < 5000; i++) {
      recordBytes += (await store.put(msg("T", i % 2, { body: new Uint8Array(150) }))).size;
    }
    const buffers = new Set<ArrayBufferLike>();
    for (const q of [0, 1]) {
      for (let offset = 0; offset < store.maxOffset("T", q);) {
        const r = await store.get("T", q, offset, 1000, 1 << 30);
        for (const record of r.records) buffers.add(record.buffer);
        offset = r.nextBeginOffset;
      }
    }
    assert.equal(buffers.size, 2, "5000 records of 242 bytes in two 1 MiB segments");
    const segmentBytes = [...buffers].reduce((n, b) => n + b.byteLength, 0);
    assert.ok(store.bytes >= segmentBytes + 32 * 5000, "the index is counted");
    assert.ok(store.bytes <= segmentBytes + 64 * 5000 + 2 * 16 * 32, `${store.bytes} held`);
    assert.ok(recordBytes < segmentBytes);
  });

  it("drops whole segments, oldest first: reads and lookups see exactly what is held (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ q: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: 0, max: 3000 }) }),
          { minLength: 1, maxLength: 150 },
        ),
        fc.integer({ min: 16 * 1024, max: 64 * 1024 }),
        async (puts, limit) => {
          const store = new MemoryStore({ memoryLimitBytes: limit });
          const placed: { q: number; queueOffset: number; phys: number; size: number }[] = [];
          const next = [0, 0, 0];
          for (const [i, p] of puts.entries()) {
            const body = new Uint8Array(p.size).fill(i & 0xff);
            const r = await store.put(msg("T", p.q, { body, properties: { SEQ: String(i) } }));
            assert.equal(r.queueOffset, next[p.q]!++);
            placed.push({
              q: p.q,
              queueOffset: r.queueOffset,
              phys: r.commitLogOffset,
              size: r.size,
            });
            // Records of at most limit/4: the live segments and index never exceed the limit.
            assert.ok(store.bytes <= limit, `${store.bytes} > ${limit}`);
          }
          let held = 0;
          for (const [i, p] of placed.entries()) {
            const min = store.minOffset("T", p.q);
            const record = await store.lookup(p.phys);
            if (p.queueOffset < min) {
              assert.equal(record, undefined);
              continue;
            }
            held++;
            const m = decodeStoredMessage(record!);
            assert.deepEqual([m.storeSize, m.queueOffset, m.properties.SEQ], [
              p.size,
              p.queueOffset,
              String(i),
            ]);
            const got = await store.get("T", p.q, p.queueOffset, 1, 1 << 30);
            assert.deepEqual(got.records[0], record);
          }
          assert.equal(store.messages, held);
          // Dropping is oldest first, across queues: what is held is a suffix of the log.
          const firstHeld = placed.findIndex((p) => p.queueOffset >= store.minOffset("T", p.q));
          assert.equal(held, placed.length - firstHeld);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("never loses the newest records and keeps offsets dense (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ q: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: 0, max: 300 }) }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        fc.integer({ min: 400, max: 4000 }),
        async (puts, limit) => {
          const store = new MemoryStore({ memoryLimitBytes: limit });
          const expected = [0, 0, 0];
          for (const p of puts) {
            const r = await store.put(msg("T", p.q, { body: new Uint8Array(p.size) }));
            assert.equal(r.queueOffset, expected[p.q]);
            expected[p.q]!++;
          }
          assert.ok(store.bytes <= limit || store.messages === 1);
          for (let q = 0; q < 3; q++) {
            const min = store.minOffset("T", q), max = store.maxOffset("T", q);
            assert.equal(max, expected[q]);
            const r = await store.get("T", q, min, 1000, 1 << 30);
            if (max > min) {
              assert.deepEqual(
                r.queueOffsets,
                Array.from({ length: Math.min(max - min, 1000) }, (_, i) => min + i),
              );
            }
          }
          const last = puts.at(-1)!;
          assert.equal(store.minOffset("T", last.q) < store.maxOffset("T", last.q), true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
