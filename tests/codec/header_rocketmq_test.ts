// The binary ROCKETMQ command header: exact layout, Java's length checks, what decodes
// as absent, duplicates, and robustness (only CodecError, opaque salvaged).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SerializeType } from "../../src/codec/codes.ts";
import { decodeRocketMQHeader, encodeRocketMQHeader } from "../../src/codec/header_rocketmq.ts";
import { CodecError, InvalidArgumentError } from "../../src/errors.ts";
import { commandArb, mutated, normalised, onlyCodecError } from "./_commands.ts";

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text: string): Uint8Array =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

/** Fixed part: code 105, language 0, version 479, opaque 7, flag 0. */
const FIXED = "0069 00 01df 00000007 00000000";

describe("encodeRocketMQHeader", () => {
  it("writes RocketMQSerializable's layout", () => {
    const bytes = encodeRocketMQHeader({
      code: -2,
      language: 13,
      version: 513,
      opaque: -1,
      flag: 3,
      remark: "é",
      extFields: { k: "v", "": "empty key", e: "" },
    });
    assert.equal(
      hex(bytes),
      "fffe 0d 0201 ffffffff 00000003 00000002 c3a9 0000001e".replaceAll(" ", "") +
        "0001 6b 00000001 76".replaceAll(" ", "") +
        "0000 00000009".replaceAll(" ", "") + hex(new TextEncoder().encode("empty key")) +
        "0001 65 00000000".replaceAll(" ", ""),
    );
  });

  it("writes an empty remark as length 0, like no remark", () => {
    const a = encodeRocketMQHeader({
      code: 1,
      language: 0,
      version: 0,
      opaque: 0,
      flag: 0,
      remark: "",
      extFields: {},
    });
    const b = encodeRocketMQHeader({
      code: 1,
      language: 0,
      version: 0,
      opaque: 0,
      flag: 0,
      extFields: {},
    });
    assert.equal(hex(a), hex(b));
    assert.equal(a.length, 21);
  });

  it("refuses a key longer than a short can say", () => {
    assert.throws(
      () =>
        encodeRocketMQHeader({
          code: 1,
          language: 0,
          version: 0,
          opaque: 0,
          flag: 0,
          extFields: { ["k".repeat(32768)]: "v" },
        }),
      InvalidArgumentError,
    );
  });
});

describe("decodeRocketMQHeader", () => {
  it("round-trips every header field (empty keys, values and remark decode as absent)", () => {
    fc.assert(
      fc.property(commandArb(SerializeType.ROCKETMQ), (command) => {
        const header = decodeRocketMQHeader(encodeRocketMQHeader(command));
        const { body: _b, serializeType: _s, ...expected } = normalised(command);
        assert.deepEqual(header, expected);
      }),
      { numRuns: 400 },
    );
  });

  it("accepts a header that ends after the remark (no map section)", () => {
    const header = decodeRocketMQHeader(fromHex(FIXED + "00000000"));
    assert.equal(header.opaque, 7);
    assert.deepEqual(header.extFields, {});
  });

  it("ignores bytes after the map, and keeps the later of duplicate keys", () => {
    // FastCodesHeader fields first, then extFields: a key may come twice.
    const header = decodeRocketMQHeader(fromHex(
      FIXED + "00000000 00000010 0001 61 00000001 31 0001 61 00000001 32 ffff",
    ));
    assert.deepEqual(header.extFields, { a: "2" });
  });

  const invalid: [string, string][] = [
    ["a remark longer than the header", FIXED + "00000010 41"],
    ["a negative remark length", FIXED + "ffffffff"],
    ["a map longer than the header", FIXED + "00000000 00000010 0001 61"],
    ["a negative map length", FIXED + "00000000 80000000"],
    ["a key running past the map", FIXED + "00000000 00000004 0005 6161"],
    ["a value running past the map", FIXED + "00000000 00000008 0001 61 00000009"],
    ["a negative value length", FIXED + "00000000 00000007 0001 61 ffffffff"],
    ["a truncated map length", FIXED + "00000000 0000"],
    ["a truncated remark length", FIXED + "0000"],
  ];
  for (const [what, text] of invalid) {
    it(`refuses ${what}, with the opaque`, () => {
      const err = onlyCodecError(() => decodeRocketMQHeader(fromHex(text)));
      assert.ok(err instanceof CodecError, "should have thrown");
      assert.equal(err.reason, "header");
      assert.equal(err.opaque, 7);
    });
  }

  it("refuses a header shorter than its fixed part, without an opaque", () => {
    for (let n = 0; n < 13; n++) {
      const err = onlyCodecError(() => decodeRocketMQHeader(new Uint8Array(n)));
      assert.ok(err instanceof CodecError);
      assert.equal(err.opaque, undefined);
    }
  });

  it("random and mutated bytes: only CodecError, opaque from the fixed part", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      mutated(commandArb(SerializeType.ROCKETMQ).map(encodeRocketMQHeader)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const err = onlyCodecError(() => decodeRocketMQHeader(b));
        if (err !== undefined && b.length >= 13) {
          assert.equal(err.opaque, new DataView(b.buffer, b.byteOffset).getInt32(5));
        }
      }),
      { numRuns: 1500 },
    );
  });
});
