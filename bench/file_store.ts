// Throughput, read-back cost and recovery time of the file message store (not
// a test; numbers depend on the machine and its disk). Runs under Deno, Node
// (tsx) and Bun:
//
//   deno run -A bench/file_store.ts [messages=50000] [recoveryMessages=100000]
//   node --import tsx bench/file_store.ts
//   bun bench/file_store.ts

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import process from "node:process";
import { openFileStore } from "../src/broker/store/file_store.ts";
import { crc32 } from "../src/codec/crc32.ts";
import { decodeStoredMessage } from "../src/codec/message_ext.ts";
import type { MessageStore, PutMessageInput } from "../src/broker/store/types.ts";
import { silentLogger } from "../src/logger.ts";

const count = Number(process.argv[2] ?? 50_000);
const recoveryCount = Number(process.argv[3] ?? 100_000);
const host = { address: "127.0.0.1", port: 10911 };
const body = new Uint8Array(1024).map((_, i) => i & 0xff);

function message(i: number): PutMessageInput {
  return {
    topic: "BenchTopic",
    queueId: i % 4,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: host,
    storeHost: host,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body,
    properties: {
      UNIQ_KEY: `7F000001000000000000000000${i.toString(16).padStart(6, "0")}`,
      TAGS: "TagA",
    },
    tagsCode: 2598919,
  };
}

async function put(store: MessageStore, n: number, inFlight: number): Promise<number> {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < n) {
      const result = await store.put(message(next++));
      bytes += result.size;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return bytes;
}

function row(cells: Array<string | number>): void {
  process.stdout.write(`| ${cells.join(" | ")} |\n`);
}

async function throughput(flush: "async" | "sync", inFlight: number, n: number): Promise<void> {
  const dataDir = await mkdtemp(`${tmpdir()}/store-bench-`);
  try {
    const store = await openFileStore({ dataDir, flush, logger: silentLogger });
    await put(store, Math.min(n, 2000), inFlight); // warm up
    const start = performance.now();
    const bytes = await put(store, n, inFlight);
    const seconds = (performance.now() - start) / 1000;
    await store.close();
    row([flush, inFlight, n, Math.round(n / seconds), (bytes / seconds / 1e6).toFixed(1)]);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Reads every message back from the files (a reopened store: nothing in its
 * write cache), as pulls do, and times the body CRC check within it: the
 * same CRCs computed again over the bodies read.
 */
async function readBack(n: number): Promise<void> {
  const dataDir = await mkdtemp(`${tmpdir()}/store-bench-`);
  try {
    let store = await openFileStore({ dataDir, logger: silentLogger });
    await put(store, n, 64);
    await store.close();
    store = await openFileStore({ dataDir, logger: silentLogger });
    const bodies: Uint8Array[] = [];
    let bytes = 0;
    const start = performance.now();
    for (let q = 0; q < 4; q++) {
      for (let offset = 0; offset < store.maxOffset("BenchTopic", q);) {
        const got = await store.get("BenchTopic", q, offset, 32, 1 << 20);
        for (const record of got.records) {
          bytes += record.length;
          bodies.push(record);
        }
        offset = got.nextBeginOffset;
      }
    }
    const ms = performance.now() - start;
    await store.close();
    const decoded = bodies.map((record) => decodeStoredMessage(record).body);
    const crcStart = performance.now();
    let sink = 0;
    for (const body of decoded) sink ^= crc32(body);
    const crcMs = performance.now() - crcStart;
    if (sink === 0.5) throw new Error("unreachable");
    row([
      decoded.length,
      Math.round(decoded.length / ms * 1000),
      (bytes / ms / 1e3).toFixed(1),
      (crcMs * 1000 / decoded.length).toFixed(2),
      `${(crcMs / ms * 100).toFixed(0)} %`,
    ]);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function recovery(n: number): Promise<void> {
  const dataDir = await mkdtemp(`${tmpdir()}/store-bench-`);
  try {
    let store = await openFileStore({ dataDir, logger: silentLogger });
    await put(store, n - 10_000, 64);
    await store.flush();
    const checkpoint = await readFile(`${dataDir}/checkpoint.json`);
    await put(store, 10_000, 64);
    await store.close();
    const reopen = async (label: string, prepare: () => Promise<void>) => {
      await prepare();
      const start = performance.now();
      store = await openFileStore({ dataDir, logger: silentLogger });
      const ms = performance.now() - start;
      const max = [0, 1, 2, 3].reduce((sum, q) => sum + store.maxOffset("BenchTopic", q), 0);
      await store.close();
      row([label, max, ms.toFixed(0)]);
    };
    await reopen("clean restart (checkpoint at the end)", async () => {});
    await reopen(
      "crash 10k messages after the last checkpoint (scan of the tail)",
      () => writeFile(`${dataDir}/checkpoint.json`, checkpoint),
    );
    await reopen(
      "crash: no checkpoint, scan + CRC of the whole log, index rewritten",
      () => rm(`${dataDir}/checkpoint.json`),
    );
    await reopen("index deleted and no checkpoint: full rebuild", async () => {
      await rm(`${dataDir}/checkpoint.json`);
      await rm(`${dataDir}/consumequeue`, { recursive: true });
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const runtime = "Deno" in globalThis
  ? "Deno"
  : "Bun" in globalThis
  ? "Bun"
  : `Node ${process.version}`;
process.stdout.write(`\nfile store, ${runtime}, 1 KiB bodies (records ~1.1 KiB), 4 queues\n\n`);
row(["flush", "puts in flight", "puts", "puts/s", "MB/s (records)"]);
row(["---", "---", "---", "---", "---"]);
for (
  const [flush, inFlight, n] of [
    ["async", 1, count],
    ["async", 64, count],
    ["sync", 1, Math.min(count, 3000)],
    ["sync", 64, count],
    ["sync", 512, count],
  ] as const
) {
  await throughput(flush, inFlight, n);
}
process.stdout.write("\n");
row(["read back from files (32 a pull)", "reads/s", "MB/s", "body CRC µs/record", "CRC share"]);
row(["---", "---", "---", "---", "---"]);
await readBack(count);
process.stdout.write("\n");
row(["recovery", "messages", "open (ms)"]);
row(["---", "---", "---"]);
await recovery(recoveryCount);
