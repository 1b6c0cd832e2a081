import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { crc32 } from "../../src/codec/crc32.ts";

const text = (s: string) => new TextEncoder().encode(s);

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
