import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { COMPRESS_THRESHOLD, compressBody, decompressBody } from "../../src/codec/compression.ts";
import { MessageSysFlag } from "../../src/codec/message.ts";
import { CodecError } from "../../src/errors.ts";
import { hex, mutated, onlyCodecErrorAsync } from "./_fuzz.ts";

const ZLIB = MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB; // 769, what Java sets
const TEXT = new TextEncoder().encode(
  "RocketMQ compresses bodies of 4096 bytes or more with zlib. ".repeat(80),
);

// zlib.deflateSync(TEXT, { level: 5 }) from Node 20.
const FROM_NODE = hex(
  "785eedcbb10980301445d155de046221824358e808d12f06952f4940747a7108bb5b9ee28c3e6d56fa41931f67b29c2d2bf81c2dcb17" +
    "3575d72adce553d2e1c974c5b2ead963a83472b95c2e97cbe572b95c2e97cbe572b93fdf175c348fbb",
);
// new DeflaterOutputStream(out, new Deflater(5)) on Java 17: RocketMQ's ZlibCompressor at its default level.
const FROM_JAVA = hex(
  "785eedcbb10980301040d1556e02b110c1212ccc088927060d274940747a7508bb5f7d7ef19c854deb3849b074642d458b789be31b5b" +
    "a46b875efc55bfcb922cab9cb1ae72efd137e2b0582c168bc562b1582c168bc562b1d89fed035c348fbb",
);

describe("decompressBody()", () => {
  it("inflates zlib streams made by Node's zlib and by Java's Deflater", async () => {
    assert.deepEqual(await decompressBody(FROM_NODE, ZLIB), TEXT);
    assert.deepEqual(await decompressBody(FROM_JAVA, ZLIB), TEXT);
    // Compression type 0: producers before 4.9.4 set only the compressed bit.
    assert.deepEqual(await decompressBody(FROM_JAVA, MessageSysFlag.COMPRESSED), TEXT);
  });

  it("returns an uncompressed body as is", async () => {
    assert.equal(await decompressBody(FROM_NODE, MessageSysFlag.COMPRESSION_ZLIB), FROM_NODE);
  });

  it("rejects LZ4, zstd and unknown types", async () => {
    await assert.rejects(decompressBody(FROM_NODE, 0x101), /LZ4.*not supported/);
    await assert.rejects(decompressBody(FROM_NODE, 0x201), /zstd.*not supported/);
    for (const type of [4, 5, 6, 7]) {
      await assert.rejects(decompressBody(FROM_NODE, (type << 8) | 1), /unknown compression type/);
    }
  });

  it("rejects corrupt, truncated, empty and over-long streams", async () => {
    const corrupt = FROM_NODE.slice();
    corrupt[10]! ^= 0xff;
    const trailing = new Uint8Array(FROM_NODE.length + 2);
    trailing.set(FROM_NODE);
    for (
      const [name, bytes] of [
        ["corrupt", corrupt],
        ["truncated", FROM_NODE.subarray(0, 40)],
        ["no checksum", FROM_NODE.subarray(0, FROM_NODE.length - 4)],
        ["empty", new Uint8Array(0)],
        ["trailing bytes", trailing],
        ["raw deflate, no zlib header", FROM_NODE.subarray(2)],
      ] as const
    ) {
      await assert.rejects(
        decompressBody(bytes, ZLIB),
        (e) => e instanceof CodecError && e.reason === "compression",
        name,
      );
    }
  });

  it("rejects trailing bytes that arrive in a later input slice", async () => {
    // A small maxSize makes decompressBody() feed the input in 64-byte slices.
    const junk = new Uint8Array(FROM_NODE.length + 100).fill(7);
    junk.set(FROM_NODE);
    await assert.rejects(decompressBody(junk, ZLIB, 70_000), CodecError);
    assert.deepEqual(await decompressBody(FROM_NODE, ZLIB, 70_000), TEXT);
  });

  it("stops a zip bomb once maxSize is exceeded", async () => {
    // 20 KiB of zlib that inflate to 32 MiB.
    const bomb = await compressBody(new Uint8Array(32 * 1024 * 1024));
    assert.ok(bomb.length < 64 * 1024);
    await assert.rejects(
      decompressBody(bomb, ZLIB),
      (e) => e instanceof CodecError && /exceeds the limit of 16777216 bytes/.test(e.message),
    );
    await assert.rejects(decompressBody(bomb, ZLIB, 1000), /exceeds the limit of 1000 bytes/);
    // Exactly at the limit is fine.
    const small = await compressBody(new Uint8Array(1000));
    assert.equal((await decompressBody(small, ZLIB, 1000)).length, 1000);
    await assert.rejects(decompressBody(small, ZLIB, 999), CodecError);
  });

  it("random bytes produce only CodecError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        await onlyCodecErrorAsync(() => decompressBody(bytes, ZLIB, 1 << 20));
      }),
      { numRuns: 200 },
    );
  });

  it("mutated zlib streams produce only CodecError or some output", async () => {
    await fc.assert(
      fc.asyncProperty(mutated(fc.constantFrom(FROM_NODE, FROM_JAVA)), async (bytes) => {
        await onlyCodecErrorAsync(() => decompressBody(bytes, ZLIB, 1 << 20));
      }),
      { numRuns: 200 },
    );
  });
});

describe("compressBody()", () => {
  it("writes a zlib stream (RFC 1950 header)", async () => {
    const out = await compressBody(TEXT);
    assert.equal(out[0], 0x78);
    assert.equal(((out[0]! << 8) | out[1]!) % 31, 0);
  });

  it("round-trips through decompressBody()", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 20_000 }),
          fc.string({ maxLength: 5000 }).map((s) => new TextEncoder().encode(s)),
        ),
        async (body) => {
          assert.deepEqual(await decompressBody(await compressBody(body), ZLIB), body);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("accepts views into larger buffers", async () => {
    const big = new Uint8Array(10_000).map((_, i) => i & 0xff);
    const view = big.subarray(100, 5100);
    assert.deepEqual(await decompressBody(await compressBody(view), ZLIB), view);
  });

  it("has Java's threshold", () => {
    assert.equal(COMPRESS_THRESHOLD, 4096);
  });
});
