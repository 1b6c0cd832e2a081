// The key index against a plain model (property): what find() returns after
// any sequence of adds, evictions and growth, with the entry cap.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { KeyIndex, messageKeys } from "../../../src/broker/store/_key_index.ts";

interface Entry {
  topic: string;
  key: string;
  phys: number;
  time: number;
}

type Op =
  | { kind: "add"; topic: string; keys: string[]; time: number }
  | { kind: "drop"; fraction: number }
  | { kind: "find"; topic: string; key: string; begin: number; end: number; limit: number };

const topicArb = fc.constantFrom("T", "U", "T#a");
const keyArb = fc.constantFrom("a", "b", "a#", "long-key-" + "x".repeat(40));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      topic: topicArb,
      keys: fc.uniqueArray(keyArb, { maxLength: 3 }),
      time: fc.integer({ min: 0, max: 50 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("drop" as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("find" as const),
      topic: topicArb,
      key: keyArb,
      range: fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 })),
      limit: fc.integer({ min: 0, max: 20 }),
    }).map(({ range: [x, y], ...rest }) => ({
      ...rest,
      begin: Math.min(x, y) / 4, // mostly wide ranges
      end: Math.max(x, y) * 4,
    })),
  },
);

describe("KeyIndex", () => {
  it("find() returns the model's newest matches in the time range, after adds, drops and growth (property)", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 10, maxLength: 300, size: "medium" }),
        fc.integer({ min: 1, max: 300 }),
        (ops, cap) => {
          const index = new KeyIndex(cap);
          let model: Entry[] = [];
          let phys = 0;
          for (const op of ops) {
            if (op.kind === "add") {
              index.add(op.topic, op.keys, phys, op.time);
              for (const key of op.keys) model.push({ topic: op.topic, key, phys, time: op.time });
              model = model.slice(Math.max(0, model.length - cap));
              phys += 100;
            } else if (op.kind === "drop") {
              const below = Math.floor(phys * op.fraction);
              index.dropBelow(below);
              model = model.filter((e) => e.phys >= below);
            } else {
              const got = index.find(op.topic, op.key, op.begin, op.end, op.limit);
              const want = model.filter((e) =>
                e.topic === op.topic && e.key === op.key && e.time >= op.begin && e.time <= op.end
              ).map((e) => e.phys).reverse().slice(0, op.limit);
              // Hash collisions may add entries (the store checks each record); with these few
              // keys there are none, so the answer is exact.
              assert.deepEqual(got, want);
            }
            assert.equal(index.size, model.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("bytes grow with the entries held and shrink back when they are dropped", () => {
    const index = new KeyIndex(1 << 20);
    let grown = 0;
    for (let i = 0; i < 10_000; i++) grown += index.add("T", [`k${i}`, `u${i}`], i * 100, i);
    assert.equal(index.bytes, grown);
    assert.ok(index.bytes >= 20_000 * 24 && index.bytes <= 20_000 * 24 * 4, String(index.bytes));
    const dropped = index.dropBelow(999_000);
    assert.equal(index.size, 20);
    assert.ok(dropped < 0 && index.bytes < 20_000, String(index.bytes));
    assert.deepEqual(index.find("T", "k9999", 0, 1e9, 5), [999_900]);
    assert.deepEqual(index.find("T", "k0", 0, 1e9, 5), []);
    index.dropBelow(Infinity);
    assert.equal(index.bytes, 0);
  });

  it("messageKeys: the KEYS words (split on spaces, no empties, no repeats), then UNIQ_KEY", () => {
    assert.deepEqual(messageKeys({ KEYS: " a  b a ", UNIQ_KEY: "U" }), ["a", "b", "U"]);
    assert.deepEqual(messageKeys({ UNIQ_KEY: "U", KEYS: "U" }), ["U"]);
    assert.deepEqual(messageKeys({ TAGS: "t" }), []);
  });
});
