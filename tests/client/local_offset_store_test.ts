// The broadcasting consumer's offsets (LocalOffsetStore): what one store
// kept in its file, a new store reads back (any queues, any offsets); a
// store without a file keeps offsets in memory only; an unreadable file
// means consumeFrom, and the next save replaces it. No broker involved.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { LocalOffsetStore } from "../../src/client/local_offset_store.ts";
import { ClientInstance } from "../../src/client/client_instance.ts";
import type { MessageQueue } from "../../src/client/message.ts";

const directory = await mkdtemp(join(tmpdir(), "rocketmq-rpc-offsets-"));
let files = 0;

function store(file: string | undefined): LocalOffsetStore {
  return new LocalOffsetStore({
    instance: new ClientInstance({ nameServer: "127.0.0.1:9876" }),
    group: "g",
    consumeFrom: "first", // a queue without an offset starts at 0, no broker asked
    consumeTimestamp: undefined,
    brokerAddress: () => "127.0.0.1:10911",
    file,
  });
}

const queueArb = fc.record({
  topic: fc.stringMatching(/^[A-Za-z0-9_%-]{1,20}$/),
  brokerName: fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
  queueId: fc.integer({ min: 0, max: 63 }),
});
const key = (q: MessageQueue) => `${q.topic}@${q.brokerName}@${q.queueId}`;

describe("LocalOffsetStore", () => {
  after(() => rm(directory, { recursive: true, force: true }));

  test("offsets saved to a file are read back by a new store", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(queueArb, fc.nat(), fc.oneof(fc.constant(0), fc.nat())), {
          selector: ([q]) => key(q),
          minLength: 1,
          maxLength: 12,
        }),
        async (entries) => {
          const file = join(directory, `p${files++}`, "offsets.json");
          const first = store(file);
          for (const [queue, start, moved] of entries) {
            assert.equal(await first.startOffset(queue), 0);
            first.track(queue, start);
            first.update(queue, start + moved);
          }
          await first.persistAll(true);
          const second = store(file);
          for (const [queue, start, moved] of entries) {
            assert.equal(await second.startOffset(queue), start + moved);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test("without a file, offsets live in memory only", async () => {
    const queue = { topic: "t", brokerName: "b", queueId: 1 };
    const memory = store(undefined);
    memory.track(queue, 3);
    memory.update(queue, 9);
    await memory.release(key(queue)); // given up (unsubscribe): the offset stays here
    assert.equal(await memory.startOffset(queue), 9);
    assert.equal(await store(undefined).startOffset(queue), 0);
  });

  test("an unreadable file means consumeFrom; the next save replaces it", async () => {
    const file = join(directory, "broken.json");
    await writeFile(file, "{ not json");
    const queue = { topic: "t", brokerName: "b", queueId: 0 };
    const s = store(file);
    assert.equal(await s.startOffset(queue), 0);
    s.track(queue, 0);
    s.update(queue, 5);
    await s.persistAll(true);
    const saved = JSON.parse(await readFile(file, "utf8"));
    assert.deepEqual(saved.offsets, [{ topic: "t", brokerName: "b", queueId: 0, offset: 5 }]);
    await writeFile(file, JSON.stringify({ version: 1, group: "g", offsets: [{ topic: 1 }] }));
    assert.equal(await store(file).startOffset(queue), 0, "an invalid entry: consumeFrom");
  });
});
