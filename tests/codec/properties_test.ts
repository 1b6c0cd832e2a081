import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeProperties, encodeProperties, MessageProperty } from "../../src/codec/properties.ts";
import { InvalidArgumentError } from "../../src/errors.ts";

/** Strings without the two separators. */
const part = (minLength: number) =>
  fc.string({ unit: "binary", minLength, maxLength: 20 }).filter((s) =>
    !s.includes("\u0001") && !s.includes("\u0002")
  );

describe("MessageProperty", () => {
  it("has MessageConst's keys", () => {
    assert.equal(MessageProperty.CORRELATION_ID, "CORRELATION_ID");
    assert.equal(MessageProperty.REPLY_TO_CLIENT, "REPLY_TO_CLIENT");
    assert.equal(MessageProperty.UNIQ_KEY, "UNIQ_KEY");
    assert.equal(MessageProperty.WAIT, "WAIT");
    assert.equal(MessageProperty.BORN_HOST, "__BORNHOST");
    assert.equal(MessageProperty.TRANSACTION_ID, "__transactionId__");
    assert.equal(MessageProperty.FIRST_POP_TIME, "1ST_POP_TIME");
    assert.equal(MessageProperty.CRC32, "__CRC32#");
    assert.equal(MessageProperty.MSG_TYPE, "MSG_TYPE");
  });
});

describe("encodeProperties()", () => {
  it("writes key \\u0001 value \\u0002 per entry and skips undefined", () => {
    assert.equal(
      encodeProperties({ UNIQ_KEY: "A1", WAIT: "true", DELAY: undefined, TAGS: "t" }),
      "UNIQ_KEY\u0001A1\u0002WAIT\u0001true\u0002TAGS\u0001t\u0002",
    );
  });

  it("rejects separators in keys and values (property injection)", () => {
    assert.throws(() => encodeProperties({ A: "x\u0002B\u0001y" }), InvalidArgumentError);
    assert.throws(() => encodeProperties({ "A\u0001": "x" }), InvalidArgumentError);
  });
});

describe("decodeProperties()", () => {
  it("follows string2messageProperties", () => {
    // short segments, empty key, empty value, no separator, later duplicate wins
    assert.deepEqual(
      decodeProperties(
        "ab\u0002\u0001vv\u0002K\u0001\u0002noSep\u0002K\u00011\u0002K\u00012\u0002",
      ),
      { K: "2" },
    );
    // value keeps later \u0001; last segment needs no trailing \u0002
    assert.deepEqual(decodeProperties("A\u0001x\u0001y\u0002B\u0001z"), { A: "x\u0001y", B: "z" });
    assert.deepEqual(decodeProperties(""), {});
    assert.deepEqual(decodeProperties("\u0002\u0002\u0002"), {});
  });

  it("keeps __proto__ as an own property", () => {
    const props = decodeProperties("__proto__\u0001x\u0002");
    assert.equal(Object.getPrototypeOf(props), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(props, "__proto__")?.value, "x");
  });

  it("searches the name separator within each segment only", () => {
    // Java searches the rest of the string for \u0001 (quadratic on such input);
    // the result is the same: a separator after the segment does not count.
    assert.deepEqual(decodeProperties("abc\u0002".repeat(100_000) + "k\u0001v"), { k: "v" });
  });

  it("round-trips any properties without separators or empty parts", () => {
    fc.assert(
      fc.property(fc.dictionary(part(1), part(1), { maxKeys: 8 }), (props) => {
        assert.deepEqual(decodeProperties(encodeProperties(props)), { ...props });
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on any string", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "b", "\u0001", "\u0002"), maxLength: 60 }),
        (s) => {
          const props = decodeProperties(s);
          for (const [k, v] of Object.entries(props)) {
            assert.ok(
              k.length > 0 && v.length > 0 && !k.includes("\u0001") && !k.includes("\u0002"),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
