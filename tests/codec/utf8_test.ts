import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { utf8Length, utf8Write } from "../../src/codec/_utf8.ts";

describe("UTF-8 helpers agree with TextEncoder", () => {
  it("utf8Length and utf8Write give TextEncoder's bytes for any string, lone surrogates included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.nat(8), (text, pos) => {
        const expected = new TextEncoder().encode(text);
        assert.equal(utf8Length(text), expected.length);
        const out = new Uint8Array(pos + expected.length + 3).fill(0xee);
        const written = utf8Write(text, out, pos);
        assert.equal(written, expected.length);
        assert.deepEqual(out.subarray(pos, pos + written), expected);
        assert.ok(out.subarray(0, pos).every((b) => b === 0xee), "nothing written before pos");
        assert.ok(out.subarray(pos + written).every((b) => b === 0xee), "nothing written after");
      }),
      { numRuns: 500 },
    );
  });

  it("switches to the encoder in the middle of a string", () => {
    const out = new Uint8Array(8);
    assert.equal(utf8Write("ab€", out, 1), 5);
    assert.deepEqual([...out], [0, 0x61, 0x62, 0xe2, 0x82, 0xac, 0, 0]);
  });
});
