// The MessageStore contract, written once and run against every store
// (conformance_test.ts). Semantics follow RocketMQ's DefaultMessageStore.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { MessageStore, PutResult } from "../../../src/broker/store/types.ts";
import {
  decodeStoredMessage,
  encodeStoredMessage,
  MessageMagic,
} from "../../../src/codec/message_ext.ts";
import { MessageSysFlag } from "../../../src/codec/message.ts";
import { offsetMessageId } from "../../../src/codec/message_id.ts";
import { IllegalStateError, RocketMQError } from "../../../src/errors.ts";
import { HOST, message, tagsCode } from "./_helpers.ts";

/** A store under test, with its clock. */
export interface StoreHarness {
  store: MessageStore;
  /** Set the store's clock to `ms` (never backwards). */
  setTime(ms: number): void;
  /** Close the store and remove what it left behind. */
  dispose(): Promise<void>;
}

/** Opens fresh stores of one kind. */
export interface StoreFactory {
  name: string;
  /** A fresh, empty store whose clock starts at `now`; bounded to about `limitBytes` if given. */
  open(options: { now: number; limitBytes?: number }): Promise<StoreHarness>;
}

async function withStore(
  factory: StoreFactory,
  run: (h: StoreHarness) => Promise<void>,
  options: { now?: number; limitBytes?: number } = {},
): Promise<void> {
  const h = await factory.open({ now: options.now ?? 1_800_000_000_000, ...options });
  try {
    await run(h);
  } finally {
    await h.dispose();
  }
}

export function conformance(factory: StoreFactory): void {
  describe(`MessageStore conformance: ${factory.name}`, () => {
    it("put assigns queue offsets per queue and contiguous physical offsets", () =>
      withStore(factory, async ({ store }) => {
        const results: PutResult[] = [];
        for (let i = 0; i < 8; i++) {
          results.push(await store.put(message({ seed: i, queueId: i % 2 })));
        }
        assert.deepEqual(results.map((r) => r.queueOffset), [0, 0, 1, 1, 2, 2, 3, 3]);
        for (let i = 1; i < results.length; i++) {
          assert.equal(
            results[i]!.commitLogOffset,
            results[i - 1]!.commitLogOffset + results[i - 1]!.size,
          );
        }
        for (const r of results) assert.equal(r.msgId, offsetMessageId(HOST, r.commitLogOffset));
        assert.equal(store.maxOffset("T", 0), 4);
        assert.equal(store.maxOffset("T", 1), 4);
        assert.equal(store.minOffset("T", 0), 0);
        assert.equal(store.maxOffset("T", 7), 0);
        assert.equal(store.minOffset("T", 7), 0);
      }));

    it("stores exactly the record encodeStoredMessage produces, and get returns it in order", () =>
      withStore(factory, async ({ store, setTime }) => {
        const inputs = [0, 1, 2].map((i) => message({ seed: i, size: 50 + i, tags: "TagA" }));
        const results: PutResult[] = [];
        for (const [i, m] of inputs.entries()) {
          setTime(1_800_000_000_000 + i);
          results.push(await store.put(m));
        }
        const got = await store.get("T", 0, 0, 32, 1 << 20);
        assert.equal(got.status, "FOUND");
        assert.deepEqual(got.queueOffsets, [0, 1, 2]);
        assert.equal(got.nextBeginOffset, 3);
        assert.equal(got.minOffset, 0);
        assert.equal(got.maxOffset, 3);
        for (const [i, record] of got.records.entries()) {
          const m = inputs[i]!;
          const r = results[i]!;
          const expected = encodeStoredMessage({
            ...m,
            queueOffset: i,
            commitLogOffset: r.commitLogOffset,
            storeTimestamp: r.storeTimestamp,
          });
          assert.deepEqual(record, expected);
          assert.equal(record.length, r.size);
          const d = decodeStoredMessage(record);
          assert.equal(d.storeTimestamp, 1_800_000_000_000 + i);
          assert.deepEqual(d.body, m.body);
          assert.equal(d.properties["TAGS"], "TagA");
        }
      }));

    it("answers the status codes of DefaultMessageStore.getMessage", () =>
      withStore(factory, async ({ store }) => {
        const unknown = await store.get("nope", 0, 0, 32, 1 << 20);
        assert.ok(
          ["NO_MESSAGE_IN_QUEUE", "NO_MATCHED_LOGIC_QUEUE"].includes(unknown.status),
          unknown.status,
        );
        assert.equal(unknown.nextBeginOffset, 0);
        assert.equal((await store.get("nope", 0, 5, 32, 1 << 20)).nextBeginOffset, 0);
        for (let i = 0; i < 3; i++) await store.put(message({ seed: i }));
        const one = await store.get("T", 0, 3, 32, 1 << 20);
        assert.equal(one.status, "OFFSET_OVERFLOW_ONE");
        assert.equal(one.nextBeginOffset, 3);
        assert.deepEqual(one.records, []);
        const badly = await store.get("T", 0, 10, 32, 1 << 20);
        assert.equal(badly.status, "OFFSET_OVERFLOW_BADLY");
        assert.equal(badly.nextBeginOffset, 0); // the queue starts at 0: from there (Java)
        assert.equal(badly.maxOffset, 3);
        const found = await store.get("T", 0, 1, 32, 1 << 20);
        assert.equal(found.status, "FOUND");
        assert.deepEqual(found.queueOffsets, [1, 2]);
        assert.equal(found.nextBeginOffset, 3);
      }));

    it("answers OFFSET_TOO_SMALL below the min offset once old records are dropped", () =>
      withStore(factory, async ({ store }) => {
        let i = 0;
        while (store.minOffset("T", 0) === 0 && i < 200) {
          await store.put(message({ seed: i++, size: 1000 }));
        }
        const min = store.minOffset("T", 0);
        assert.ok(min > 0, "old records were dropped");
        assert.equal(store.maxOffset("T", 0), i);
        const small = await store.get("T", 0, 0, 32, 1 << 20);
        assert.equal(small.status, "OFFSET_TOO_SMALL");
        assert.equal(small.nextBeginOffset, min);
        assert.equal(small.minOffset, min);
        const first = await store.get("T", 0, min, 1, 1 << 20);
        assert.equal(first.status, "FOUND");
        assert.deepEqual(first.queueOffsets, [min]);
        assert.equal(decodeStoredMessage(first.records[0]!).queueOffset, min);
        assert.equal(await store.searchOffset("T", 0, 0), min);
      }, { limitBytes: 8192 }));

    it("limits a read by maxCount and about maxBytes, always returning the first message", () =>
      withStore(factory, async ({ store }) => {
        const sizes: number[] = [];
        for (let i = 0; i < 10; i++) {
          sizes.push((await store.put(message({ seed: i, size: 200 }))).size);
        }
        const three = await store.get("T", 0, 0, 3, 1 << 20);
        assert.deepEqual(three.queueOffsets, [0, 1, 2]);
        assert.equal(three.nextBeginOffset, 3);
        const two = await store.get("T", 0, 4, 32, sizes[0]! * 2 + sizes[0]! / 2);
        assert.deepEqual(two.queueOffsets, [4, 5]);
        assert.equal(two.nextBeginOffset, 6);
        const exact = await store.get("T", 0, 4, 32, sizes[0]! * 2);
        assert.deepEqual(exact.queueOffsets, [4, 5]);
        const tiny = await store.get("T", 0, 7, 32, 1);
        assert.equal(tiny.status, "FOUND");
        assert.deepEqual(tiny.queueOffsets, [7]);
        assert.equal(tiny.nextBeginOffset, 8);
      }));

    it("filters by tags code and moves nextBeginOffset past what it scanned", () =>
      withStore(factory, async ({ store }) => {
        for (let i = 0; i < 10; i++) {
          await store.put(message({ seed: i, tags: i % 3 === 0 ? "A" : "B" }));
        }
        const a = tagsCode("A");
        const onlyA = await store.get("T", 0, 0, 32, 1 << 20, (code) => code === a);
        assert.equal(onlyA.status, "FOUND");
        assert.deepEqual(onlyA.queueOffsets, [0, 3, 6, 9]);
        assert.equal(onlyA.nextBeginOffset, 10);
        for (const record of onlyA.records) {
          assert.equal(decodeStoredMessage(record).properties["TAGS"], "A");
        }
        const twoA = await store.get("T", 0, 1, 2, 1 << 20, (code) => code === a);
        assert.deepEqual(twoA.queueOffsets, [3, 6]);
        assert.equal(twoA.nextBeginOffset, 7);
        const none = await store.get("T", 0, 0, 32, 1 << 20, () => false);
        assert.equal(none.status, "NO_MATCHED_MESSAGE");
        assert.equal(none.nextBeginOffset, 10);
        assert.deepEqual(none.records, []);
      }));

    it("scans at most max(800, maxCount) entries when nothing matches", () =>
      withStore(factory, async ({ store }) => {
        const batch = Array.from(
          { length: 20 },
          (_, i) => message({ seed: i, size: 10, tags: "B" }),
        );
        for (let i = 0; i < 45; i++) await store.putBatch(batch);
        await store.put(message({ seed: 900, size: 10, tags: "A" }));
        const a = tagsCode("A");
        const first = await store.get("T", 0, 0, 32, 1 << 20, (code) => code === a);
        assert.equal(first.status, "NO_MATCHED_MESSAGE");
        assert.equal(first.nextBeginOffset, 800);
        const second = await store.get("T", 0, 800, 32, 1 << 20, (code) => code === a);
        assert.equal(second.status, "FOUND");
        assert.deepEqual(second.queueOffsets, [900]);
        assert.equal(second.nextBeginOffset, 901);
      }));

    it("searches offsets by store time with LOWER and UPPER boundaries", () =>
      withStore(factory, async ({ store, setTime }) => {
        const times = [1000, 1000, 2000, 2000, 3000];
        for (const [i, t] of times.entries()) {
          setTime(1_800_000_000_000 + t);
          await store.put(message({ seed: i }));
        }
        const at = (t: number) => 1_800_000_000_000 + t;
        const cases: Array<[number, "LOWER" | "UPPER", number]> = [
          [1000, "LOWER", 0],
          [1000, "UPPER", 1],
          [1500, "LOWER", 2],
          [1500, "UPPER", 1],
          [2000, "LOWER", 2],
          [2000, "UPPER", 3],
          [3000, "UPPER", 4],
          [500, "LOWER", 0],
          [500, "UPPER", 0],
          [5000, "LOWER", 5],
          [5000, "UPPER", 4],
        ];
        for (const [t, boundary, expected] of cases) {
          assert.equal(
            await store.searchOffset("T", 0, at(t), boundary),
            expected,
            `${t} ${boundary}`,
          );
        }
        assert.equal(await store.searchOffset("T", 0, at(1500)), 2, "LOWER by default");
        assert.equal(await store.searchOffset("nope", 0, at(1500)), 0);
        assert.equal(await store.earliestStoreTime("T", 0), at(1000));
        assert.equal(await store.earliestStoreTime("nope", 0), 0);
      }, { now: 1_800_000_000_000 }));

    it("looks records up by physical offset", () =>
      withStore(factory, async ({ store }) => {
        const results: PutResult[] = [];
        for (let i = 0; i < 4; i++) {
          results.push(await store.put(message({ seed: i, queueId: i % 2 })));
        }
        const got = await store.get("T", 1, 0, 32, 1 << 20);
        assert.deepEqual(await store.lookup(results[3]!.commitLogOffset), got.records[1]);
        const record = await store.lookup(results[0]!.commitLogOffset);
        assert.equal(decodeStoredMessage(record!).commitLogOffset, results[0]!.commitLogOffset);
        assert.equal(await store.lookup(results[1]!.commitLogOffset + 1), undefined);
        const end = results[3]!.commitLogOffset + results[3]!.size;
        assert.equal(await store.lookup(end), undefined);
        assert.equal(await store.lookup(end + 1_000_000), undefined);
        assert.equal(await store.lookup(-1), undefined);
      }));

    it("tells arrival listeners of each append before the put resolves", () =>
      withStore(factory, async ({ store }) => {
        const seen: Array<[string, number, number, number]> = [];
        const off = store.onArrival((topic, queueId, queueOffset, code) => {
          seen.push([topic, queueId, queueOffset, code]);
        });
        const bad = store.onArrival(() => {
          throw new Error("listener bug");
        });
        const r = await store.put(message({ seed: 1, queueId: 2, tags: "X" }));
        assert.deepEqual(seen, [["T", 2, r.queueOffset, tagsCode("X")]]);
        await store.putBatch([message({ seed: 2 }), message({ seed: 3 })]);
        assert.deepEqual(seen.slice(1), [["T", 0, 0, 0], ["T", 0, 1, 0]]);
        off();
        bad();
        await store.put(message({ seed: 4 }));
        assert.equal(seen.length, 3);
      }));

    it("keeps consumer offsets per group, topic and queue", () =>
      withStore(factory, async ({ store }) => {
        assert.equal(store.queryOffset("G", "T", 0), undefined);
        store.commitOffset("G", "T", 0, 5);
        store.commitOffset("G", "T", 1, 7);
        store.commitOffset("H", "T", 0, 1);
        store.commitOffset("G", "U", 0, 2);
        store.commitOffset("G", "T", 0, 6);
        assert.equal(store.queryOffset("G", "T", 0), 6);
        assert.equal(store.queryOffset("G", "T", 1), 7);
        assert.equal(store.queryOffset("H", "T", 1), undefined);
        assert.deepEqual(store.groupsWithOffsets("T").sort(), ["G", "H"]);
        assert.deepEqual(store.groupsWithOffsets("U"), ["G"]);
        assert.deepEqual(store.groupsWithOffsets("V"), []);
        await store.flush();
        assert.equal(store.queryOffset("G", "T", 0), 6);
      }));

    it("appends a batch contiguously even among concurrent puts", () =>
      withStore(factory, async ({ store }) => {
        assert.deepEqual(await store.putBatch([]), []);
        const singles = [0, 1, 2].map((i) => store.put(message({ seed: 100 + i })));
        const batch = store.putBatch(
          [0, 1, 2, 3, 4].map((i) => message({ seed: i, size: 30 + i })),
        );
        const more = [3, 4].map((i) => store.put(message({ seed: 100 + i })));
        const results = await batch;
        await Promise.all([...singles, ...more]);
        for (let i = 1; i < results.length; i++) {
          assert.equal(results[i]!.queueOffset, results[i - 1]!.queueOffset + 1);
          assert.equal(
            results[i]!.commitLogOffset,
            results[i - 1]!.commitLogOffset + results[i - 1]!.size,
          );
        }
        const got = await store.get("T", 0, results[0]!.queueOffset, 5, 1 << 20);
        assert.deepEqual(got.records.map((r) => decodeStoredMessage(r).body.length), [
          30,
          31,
          32,
          33,
          34,
        ]);
        assert.equal(store.maxOffset("T", 0), 10);
      }));

    it("lists its queues with their max offsets", () =>
      withStore(factory, async ({ store }) => {
        assert.deepEqual(store.queues(), []);
        await store.put(message({ topic: "A", queueId: 1 }));
        await store.put(message({ topic: "A", queueId: 1 }));
        await store.put(message({ topic: "B", queueId: 0 }));
        const queues = store.queues().sort((x, y) => x.topic.localeCompare(y.topic));
        assert.deepEqual(queues, [{ topic: "A", queueId: 1, maxOffset: 2 }, {
          topic: "B",
          queueId: 0,
          maxOffset: 1,
        }]);
      }));

    it("writes IPv6 hosts and long topics in the record layout Java reads", () =>
      withStore(factory, async ({ store }) => {
        const long = "%RETRY%" + "g".repeat(150);
        const m = { ...message({ topic: long, seed: 1 }), bornHost: { address: "::1", port: 1 } };
        await store.put(m);
        const got = await store.get(long, 0, 0, 1, 1 << 20);
        const d = decodeStoredMessage(got.records[0]!);
        assert.equal(d.magicCode, MessageMagic.V2);
        assert.equal(d.topic, long);
        assert.equal(d.sysFlag & MessageSysFlag.BORNHOST_V6, MessageSysFlag.BORNHOST_V6);
        assert.equal(d.bornHost.port, 1);
      }));

    it("rejects a message it cannot encode with a typed error and stores nothing", () =>
      withStore(factory, async ({ store }) => {
        await store.put(message({ seed: 1 }));
        const huge = message({ seed: 2, properties: { BIG: "x".repeat(40_000) } });
        await assert.rejects(store.put(huge), (e: unknown) => e instanceof RocketMQError);
        const badHost = { ...message({ seed: 3 }), bornHost: { address: "not-an-ip", port: 1 } };
        await assert.rejects(store.put(badHost), (e: unknown) => e instanceof RocketMQError);
        assert.equal(store.maxOffset("T", 0), 1);
        const next = await store.put(message({ seed: 4 }));
        assert.equal(next.queueOffset, 1);
        const got = await store.get("T", 0, 0, 32, 1 << 20);
        assert.equal(got.records.length, 2);
        assert.equal(got.records[1]!.length, next.size);
      }));

    it("finds messages by a KEYS word and by UNIQ_KEY, per topic, in physical order", () =>
      withStore(factory, async ({ store }) => {
        const put: PutResult[] = [];
        put.push(await store.put(message({ seed: 0, properties: { KEYS: "order-1 acct-7" } })));
        put.push(await store.put(message({ seed: 1, properties: { KEYS: "order-2  acct-7 " } })));
        put.push(await store.put(message({ seed: 2, queueId: 1, properties: { KEYS: "acct-7" } })));
        put.push(await store.put(message({ seed: 3, topic: "U", properties: { KEYS: "acct-7" } })));
        put.push(
          await store.putBatch([message({ seed: 4, properties: { KEYS: "order-5" } })]).then(
            (r) => r[0]!,
          ),
        );
        const all = [0, Number.MAX_SAFE_INTEGER] as const;
        const seeds = async (topic: string, key: string, maxNum = 32): Promise<string[]> => {
          const r = await store.queryMessage(topic, key, maxNum, ...all);
          return r.records.map((record) => decodeStoredMessage(record).properties["UNIQ_KEY"]!);
        };
        assert.deepEqual(await seeds("T", "acct-7"), ["K0", "K1", "K2"]);
        assert.deepEqual(await seeds("U", "acct-7"), ["K3"]);
        assert.deepEqual(await seeds("T", "order-2"), ["K1"]);
        assert.deepEqual(await seeds("T", "order-5"), ["K4"]);
        assert.deepEqual(await seeds("T", "K2"), ["K2"]); // the unique key
        assert.deepEqual(await seeds("U", "K2"), []);
        assert.deepEqual(await seeds("T", "order"), []); // whole words only
        assert.deepEqual(await seeds("T", ""), []);
        assert.deepEqual(await seeds("T", "acct-7", 2), ["K1", "K2"]); // the newest maxNum
        assert.deepEqual(await seeds("T", "acct-7", 0), []);
        const r = await store.queryMessage("T", "K1", 32, ...all);
        const d = decodeStoredMessage(r.records[0]!);
        assert.equal(d.commitLogOffset, put[1]!.commitLogOffset);
        assert.deepEqual(r.records[0], await store.lookup(put[1]!.commitLogOffset));
        assert.equal(r.indexLastUpdatePhyoffset, put[4]!.commitLogOffset);
        assert.equal(r.indexLastUpdateTimestamp, put[4]!.storeTimestamp);
      }));

    it("filters a key query by store time", () =>
      withStore(factory, async ({ store, setTime }) => {
        const t0 = 1_800_000_000_000;
        for (let i = 0; i < 6; i++) {
          setTime(t0 + i * 1000);
          await store.put(message({ seed: i, properties: { KEYS: "k" } }));
        }
        const seeds = async (begin: number, end: number): Promise<string[]> =>
          (await store.queryMessage("T", "k", 32, begin, end)).records.map((r) =>
            decodeStoredMessage(r).properties["UNIQ_KEY"]!
          );
        assert.deepEqual(await seeds(t0 + 1000, t0 + 3000), ["K1", "K2", "K3"]);
        assert.deepEqual(await seeds(t0 + 1500, t0 + 1600), []);
        assert.deepEqual(await seeds(t0 + 5000, Number.MAX_SAFE_INTEGER), ["K5"]);
        assert.deepEqual(await seeds(0, t0 - 1), []);
      }));

    it("forgets the keys of dropped records, and finds those still held", () =>
      withStore(factory, async ({ store }) => {
        const results: PutResult[] = [];
        for (let i = 0; i < 200; i++) {
          results.push(
            await store.put(message({ seed: i, size: 200, properties: { KEYS: "same" } })),
          );
        }
        const min = store.minOffset("T", 0);
        assert.ok(min > 0, "old records were dropped");
        const all = [0, Number.MAX_SAFE_INTEGER] as const;
        assert.deepEqual((await store.queryMessage("T", "K0", 32, ...all)).records, []);
        const last = await store.queryMessage("T", "K199", 32, ...all);
        assert.equal(decodeStoredMessage(last.records[0]!).queueOffset, 199);
        const same = await store.queryMessage("T", "same", 1000, ...all);
        assert.deepEqual(
          same.records.map((r) => decodeStoredMessage(r).queueOffset),
          Array.from({ length: 200 - min }, (_, i) => min + i),
        );
      }, { limitBytes: 8192 }));

    it("refuses appends after close", () =>
      withStore(factory, async ({ store }) => {
        await store.put(message());
        await store.close();
        await assert.rejects(store.put(message()), IllegalStateError);
        await assert.rejects(store.putBatch([message()]), IllegalStateError);
      }));
  });
}
