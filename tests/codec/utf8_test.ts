import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { utf8DecodeRange, utf8Length, utf8Write } from "../../src/codec/_utf8.ts";

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

  it("utf8DecodeRange gives TextDecoder's string for any bytes and range, malformed included", () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 30 }).map((t) => new TextEncoder().encode(t)),
      fc.uint8Array({ maxLength: 20 }).map((b) => new Uint8Array([0xef, 0xbb, 0xbf, ...b])),
    );
    fc.assert(
      fc.property(bytesArb, fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = a % (bytes.length + 1);
        const end = start + b % (bytes.length - start + 1);
        // As Java decodes: a leading BOM is kept, malformed sequences become U+FFFD.
        const expected = new TextDecoder("utf-8", { ignoreBOM: true }).decode(
          bytes.subarray(start, end),
        );
        assert.equal(utf8DecodeRange(bytes, start, end), expected);
      }),
      { numRuns: 1000 },
    );
  });

  it("switches to the encoder in the middle of a string", () => {
    const out = new Uint8Array(8);
    assert.equal(utf8Write("ab€", out, 1), 5);
    assert.deepEqual([...out], [0, 0x61, 0x62, 0xe2, 0x82, 0xac, 0, 0]);
  });
});
