import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { crc32 } from "../../src/codec/crc32.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** The textbook bit-at-a-time CRC-32 (reflected 0xEDB88320), as the reference. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32()", () => {
  it("matches java.util.zip.CRC32 / zlib on known vectors", () => {
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(text("123456789")), 0xcbf43926);
    assert.equal(crc32(text("The quick brown fox jumps over the lazy dog")), 0x414fa339);
    assert.equal(crc32(new Uint8Array(32)), 0x190a55ad);
  });

  it("gives RocketMQ's body CRC when masked with 0x7FFFFFFF", () => {
    // UtilAll.crc32("hello world".getBytes()) == 222957957
    assert.equal(crc32(text("hello world")) & 0x7fffffff, 222957957);
  });

  it("equals the bit-at-a-time reference for any bytes, lengths and alignments", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(15), (bytes, skip) => {
        const view = bytes.subarray(Math.min(skip, bytes.length)); // any byteOffset
        assert.equal(crc32(view), reference(view));
      }),
      { numRuns: 500 },
    );
    const large = new Uint8Array(100_003).map((_, i) => (i * 2654435761) >>> 24);
    assert.equal(crc32(large), reference(large));
  });

  it("continues a running checksum across any split", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, at) => {
        const split = at % (bytes.length + 1);
        assert.equal(crc32(bytes.subarray(split), crc32(bytes.subarray(0, split))), crc32(bytes));
      }),
      { numRuns: 300 },
    );
  });
});
