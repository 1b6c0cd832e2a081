// Model-based property test of the file store: random sequences of puts, batches,
// concurrent puts, reads, offset commits and restarts, checked against a model.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { type FileStoreOptions, openFileStore } from "../../../src/broker/store/file_store.ts";
import type { GetResult, MessageStore } from "../../../src/broker/store/types.ts";
import { decodeStoredMessage } from "../../../src/codec/message_ext.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import { body, CaptureLogger, FaultyFs, message, tagsCode, tempDir } from "./_helpers.ts";

const TAGS = ["a", "b", "c"];
const QUEUES = 3;

type Op =
  | { kind: "put"; queue: number; size: number; tag: number }
  | { kind: "batch"; queue: number; sizes: number[]; tag: number }
  | { kind: "concurrent"; queues: number[]; size: number }
  | {
    kind: "get";
    queue: number;
    at: number;
    maxCount: number;
    maxBytes: number;
    tag: number | null;
  }
  | { kind: "commit"; group: number; queue: number; offset: number }
  | { kind: "tick"; ms: number }
  | { kind: "reopen" }
  | { kind: "flush" }
  | { kind: "crash"; cutIndex: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("put" as const),
      queue: fc.nat(QUEUES - 1),
      size: fc.nat(1500),
      tag: fc.nat(2),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      queue: fc.nat(QUEUES - 1),
      sizes: fc.array(fc.nat(600), { minLength: 1, maxLength: 5 }),
      tag: fc.nat(2),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("concurrent" as const),
      queues: fc.array(fc.nat(QUEUES - 1), { minLength: 2, maxLength: 12 }),
      size: fc.nat(800),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("get" as const),
      queue: fc.nat(QUEUES - 1),
      at: fc.double({ min: -0.2, max: 1.2, noNaN: true }),
      maxCount: fc.integer({ min: 1, max: 40 }),
      maxBytes: fc.integer({ min: 1, max: 30_000 }),
      tag: fc.option(fc.nat(2)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("commit" as const),
      group: fc.nat(1),
      queue: fc.nat(QUEUES - 1),
      offset: fc.nat(100),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "flush" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("crash" as const), cutIndex: fc.boolean() }),
  },
);

/**
 * Make the directory look as after a crash following the last flush: the
 * checkpoint and offsets of that flush (or the checkpoint on disk when
 * retention last deleted a segment, if later: a deletion is durable, and so
 * is what the store wrote before it), the log as written (a process crash
 * keeps it), and, with `cutIndex`, index files holding only what that
 * checkpoint covered.
 */
async function emulateCrash(
  dataDir: string,
  flushed: { checkpoint?: Uint8Array; offsets?: Uint8Array },
  cutIndex: boolean,
): Promise<void> {
  const restore = async (name: string, bytes: Uint8Array | undefined) => {
    if (bytes) await writeFile(`${dataDir}/${name}`, bytes);
    else await rm(`${dataDir}/${name}`, { force: true });
  };
  await restore("checkpoint.json", flushed.checkpoint);
  await restore("offsets.json", flushed.offsets);
  if (!cutIndex) return;
  const counts = new Map<string, number>();
  if (flushed.checkpoint) {
    const body = JSON.parse(new TextDecoder().decode(flushed.checkpoint).split("\n")[0]!);
    for (const [topic, queueId, count] of body.queues) counts.set(`${topic}/${queueId}`, count);
  }
  for (const name of await readdir(`${dataDir}/consumequeue`)) {
    const qdir = `${dataDir}/consumequeue/${name}`;
    const meta = JSON.parse((await readFile(`${qdir}/queue.json`, "utf8")).split("\n")[0]!);
    const count = counts.get(`${meta.topic}/${meta.queueId}`) ?? 0;
    for (const file of (await readdir(qdir)).filter((n) => /^\d{20}$/.test(n))) {
      const base = Number(file);
      if (base > count) await rm(`${qdir}/${file}`);
      else if (count < base + meta.entriesPerFile) {
        await truncate(`${qdir}/${file}`, (count - base) * 32);
      }
    }
  }
}

interface Stored {
  seed: number;
  size: number;
  tag: number;
  recordSize: number;
}

/** The expected answer of get() (DefaultMessageStore.getMessage) over the model. */
function expectedGet(
  list: Stored[],
  min: number,
  offset: number,
  maxCount: number,
  maxBytes: number,
  tag: number | null,
): Pick<GetResult, "status" | "nextBeginOffset" | "queueOffsets"> {
  const max = list.length;
  if (max === 0) return { status: "NO_MESSAGE_IN_QUEUE", nextBeginOffset: 0, queueOffsets: [] };
  if (offset < min) return { status: "OFFSET_TOO_SMALL", nextBeginOffset: min, queueOffsets: [] };
  if (offset === max) {
    return { status: "OFFSET_OVERFLOW_ONE", nextBeginOffset: offset, queueOffsets: [] };
  }
  if (offset > max) {
    return {
      status: "OFFSET_OVERFLOW_BADLY",
      nextBeginOffset: min === 0 ? 0 : max,
      queueOffsets: [],
    };
  }
  const offsets: number[] = [];
  let bytes = 0;
  let next = offset;
  for (let k = offset; k < max && k - offset < Math.max(800, maxCount); k++) {
    const m = list[k]!;
    if (offsets.length > 0 && (offsets.length + 1 > maxCount || bytes + m.recordSize > maxBytes)) {
      break;
    }
    next = k + 1;
    if (tag !== null && m.tag !== tag) continue;
    offsets.push(k);
    bytes += m.recordSize;
  }
  return {
    status: offsets.length > 0 ? "FOUND" : "NO_MATCHED_MESSAGE",
    nextBeginOffset: next,
    queueOffsets: offsets,
  };
}

async function checkAll(store: MessageStore, model: Stored[][], mins: number[]): Promise<void> {
  await store.flush(); // lets retention, which runs after puts resolve, finish
  for (let q = 0; q < QUEUES; q++) {
    const list = model[q]!;
    assert.equal(store.maxOffset("T", q), list.length);
    const min = store.minOffset("T", q);
    assert.ok(min >= mins[q]! && min <= list.length, `min ${min} of queue ${q}`);
    mins[q] = min;
    for (let offset = min; offset < list.length;) {
      const got = await store.get("T", q, offset, 64, 1 << 30);
      assert.equal(got.status, "FOUND");
      for (const [i, record] of got.records.entries()) {
        const d = decodeStoredMessage(record);
        const m = list[got.queueOffsets[i]!]!;
        assert.equal(d.queueOffset, got.queueOffsets[i]);
        assert.deepEqual(d.body, body(m.seed, m.size));
        assert.equal(record.length, m.recordSize);
      }
      offset = got.nextBeginOffset;
    }
  }
}

describe("file store: model-based property", () => {
  it("agrees with a model over random operations, restarts included", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          flush: fc.constantFrom("async" as const, "sync" as const),
          segmentSize: fc.integer({ min: 4096, max: 16384 }),
          retentionBytes: fc.option(fc.integer({ min: 8000, max: 40_000 }), { nil: undefined }),
          retentionMs: fc.option(fc.integer({ min: 200, max: 3000 }), { nil: undefined }),
          indexFileEntries: fc.integer({ min: 1, max: 40 }),
        }),
        fc.array(op, { minLength: 1, maxLength: 40 }),
        async (config, ops) => {
          const dir = await tempDir();
          const timers = new ManualTimers(1_800_000_000_000);
          let flushed: {
            checkpoint?: Uint8Array;
            offsets?: Uint8Array;
            model: Map<string, number>;
          } = {
            model: new Map(),
          };
          const fs = new (class extends FaultyFs {
            override async remove(path: string): Promise<void> {
              if (path.includes("/commitlog/")) {
                const checkpoint = await readFile(`${dir.path}/checkpoint.json`)
                  .catch(() => undefined);
                if (checkpoint) flushed = { ...flushed, checkpoint };
              }
              return super.remove(path);
            }
          })();
          const options: FileStoreOptions = {
            dataDir: dir.path,
            fs,
            timers,
            logger: new CaptureLogger(),
            flush: config.flush,
            segmentSize: config.segmentSize,
            indexFileEntries: config.indexFileEntries,
            ...(config.retentionBytes === undefined
              ? {}
              : { retentionBytes: config.retentionBytes }),
            ...(config.retentionMs === undefined ? {} : { retentionMs: config.retentionMs }),
          };
          let store = await openFileStore(options);
          const model: Stored[][] = Array.from({ length: QUEUES }, () => []);
          const mins = Array.from({ length: QUEUES }, () => 0);
          let offsets = new Map<string, number>();
          let seed = 0;
          try {
            for (const o of ops) {
              switch (o.kind) {
                case "put": {
                  const s = seed++;
                  const r = await store.put(
                    message({ seed: s, size: o.size, queueId: o.queue, tags: TAGS[o.tag]! }),
                  );
                  assert.equal(r.queueOffset, model[o.queue]!.length);
                  model[o.queue]!.push({ seed: s, size: o.size, tag: o.tag, recordSize: r.size });
                  break;
                }
                case "batch": {
                  const seeds = o.sizes.map(() => seed++);
                  const results = await store.putBatch(
                    o.sizes.map((size, i) =>
                      message({ seed: seeds[i]!, size, queueId: o.queue, tags: TAGS[o.tag]! })
                    ),
                  );
                  results.forEach((r, i) => {
                    assert.equal(r.queueOffset, model[o.queue]!.length);
                    if (i > 0) {
                      assert.equal(
                        r.commitLogOffset,
                        results[i - 1]!.commitLogOffset + results[i - 1]!.size,
                      );
                    }
                    model[o.queue]!.push({
                      seed: seeds[i]!,
                      size: o.sizes[i]!,
                      tag: o.tag,
                      recordSize: r.size,
                    });
                  });
                  break;
                }
                case "concurrent": {
                  const seeds = o.queues.map(() => seed++);
                  const results = await Promise.all(
                    o.queues.map((q, i) =>
                      store.put(message({ seed: seeds[i]!, size: o.size, queueId: q, tags: "a" }))
                    ),
                  );
                  results.forEach((r, i) => {
                    const q = o.queues[i]!;
                    assert.equal(r.queueOffset, model[q]!.length);
                    model[q]!.push({ seed: seeds[i]!, size: o.size, tag: 0, recordSize: r.size });
                  });
                  break;
                }
                case "get": {
                  const list = model[o.queue]!;
                  const offset = Math.floor(o.at * (list.length + 1));
                  // Retention runs after puts resolve (by size) or after a tick (by age); a read
                  // racing it may find records gone (OFFSET_TOO_SMALL), which the model does not
                  // predict.
                  if (config.retentionBytes !== undefined || config.retentionMs !== undefined) {
                    await store.flush();
                  }
                  const min = store.minOffset("T", o.queue);
                  const filter = o.tag === null
                    ? undefined
                    : (code: number) => code === tagsCode(TAGS[o.tag!]!);
                  const got = await store.get("T", o.queue, offset, o.maxCount, o.maxBytes, filter);
                  const want = expectedGet(list, min, offset, o.maxCount, o.maxBytes, o.tag);
                  assert.equal(got.status, want.status);
                  assert.equal(got.nextBeginOffset, want.nextBeginOffset);
                  assert.deepEqual(got.queueOffsets, want.queueOffsets);
                  assert.equal(got.maxOffset, list.length);
                  got.records.forEach((record, i) => {
                    const m = list[got.queueOffsets[i]!]!;
                    assert.deepEqual(decodeStoredMessage(record).body, body(m.seed, m.size));
                  });
                  break;
                }
                case "commit":
                  store.commitOffset(`G${o.group}`, "T", o.queue, o.offset);
                  offsets.set(`G${o.group}/${o.queue}`, o.offset);
                  break;
                case "tick":
                  timers.advance(o.ms);
                  break;
                case "flush": {
                  await store.flush();
                  const read = (name: string) =>
                    readFile(`${dir.path}/${name}`).catch(() => undefined);
                  const [checkpoint, offsetsFile] = await Promise.all([
                    read("checkpoint.json"),
                    read("offsets.json"),
                  ]);
                  flushed = {
                    ...(checkpoint ? { checkpoint } : {}),
                    ...(offsetsFile ? { offsets: offsetsFile } : {}),
                    model: new Map(offsets),
                  };
                  break;
                }
                case "crash":
                  await store.close();
                  await emulateCrash(dir.path, flushed, o.cutIndex);
                  offsets = new Map(flushed.model);
                  store = await openFileStore(options);
                  await checkAll(store, model, mins);
                  for (const [key, offset] of offsets) {
                    const [group, queue] = key.split("/");
                    assert.equal(store.queryOffset(group!, "T", Number(queue)), offset);
                  }
                  break;
                case "reopen":
                  await store.close();
                  store = await openFileStore(options);
                  await checkAll(store, model, mins);
                  for (const [key, offset] of offsets) {
                    const [group, queue] = key.split("/");
                    assert.equal(store.queryOffset(group!, "T", Number(queue)), offset);
                  }
                  break;
              }
            }
            await checkAll(store, model, mins);
          } finally {
            await store.close().catch(() => {});
            await dir.cleanup();
          }
        },
      ),
      { numRuns: 40, interruptAfterTimeLimit: 4_000 }, // bounded time, whatever the machine
    );
  });
});
