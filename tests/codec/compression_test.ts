import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Zstd } from "@hpcc-js/wasm-zstd";
import {
  COMPRESS_THRESHOLD,
  compressBody,
  compressionSysFlag,
  type CompressionType,
  decompressBody,
} from "../../src/codec/compression.ts";
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

  it("rejects a zlib stream flagged LZ4 or zstd, and unknown types", async () => {
    await assert.rejects(decompressBody(FROM_NODE, 0x101), /corrupt LZ4 frame: bad magic/);
    await assert.rejects(decompressBody(FROM_NODE, 0x201), /corrupt zstd frame: bad magic/);
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

const LZ4 = MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_LZ4; // 257
const ZSTD = MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZSTD; // 513
const TYPES: readonly CompressionType[] = ["zlib", "lz4", "zstd"];
const isCompressionError = (e: unknown) => e instanceof CodecError && e.reason === "compression";

describe("LZ4 and zstd", () => {
  it("compressionSysFlag() gives Java's flags", () => {
    assert.equal(compressionSysFlag("lz4"), LZ4);
    assert.equal(compressionSysFlag("zstd"), ZSTD);
    assert.equal(compressionSysFlag("zlib"), ZLIB);
    assert.throws(() => compressionSysFlag("gzip" as CompressionType), /unknown compression type/);
  });

  it("round-trips every type through decompressBody()", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TYPES),
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 20_000 }),
          fc.string({ minLength: 1, maxLength: 5000 }).map((s) => new TextEncoder().encode(s)),
          // long runs: matches that overlap their own output
          fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 70_000 })).map((
            [b, n],
          ) => new Uint8Array(n).fill(b)),
        ),
        fc.integer({ min: 1, max: 9 }),
        async (type, body, level) => {
          const compressed = await compressBody(body, { type, level });
          assert.deepEqual(await decompressBody(compressed, compressionSysFlag(type)), body);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("LZ4: splits bodies over 4 MiB into independent blocks", async () => {
    const body = new Uint8Array(4 * 1024 * 1024 + 1000).map((_, i) => (i * 7) >> 3);
    const compressed = await compressBody(body, { type: "lz4" });
    assert.equal(compressed[4]! & 0x20, 0x20, "block independence flag");
    assert.deepEqual(await decompressBody(compressed, LZ4), body);
  });

  it("LZ4: reads concatenated frames and skips skippable frames", async () => {
    const body = new TextEncoder().encode("hello, LZ4");
    const ours = await compressBody(body, { type: "lz4" });
    const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]);
    const both = new Uint8Array(skippable.length + ours.length * 2);
    both.set(skippable);
    both.set(ours, skippable.length);
    both.set(ours, skippable.length + ours.length);
    const out = await decompressBody(both, LZ4);
    assert.equal(new TextDecoder().decode(out), "hello, LZ4hello, LZ4");
  });

  it("corrupt, truncated and empty frames fail with CodecError", async () => {
    for (const type of ["lz4", "zstd"] as const) {
      const flag = compressionSysFlag(type);
      const good = await compressBody(TEXT, { type });
      const flipped = good.slice();
      flipped[good.length >> 1]! ^= 0xff;
      for (
        const [name, bytes] of [
          ["truncated", good.subarray(0, good.length - 3)],
          ["header only", good.subarray(0, 7)],
          ["empty", new Uint8Array(0)],
          ...(type === "lz4" ? [["flipped byte (content checksum)", flipped] as const] : []),
          ["bad magic", good.slice().fill(0, 0, 1)],
        ] as const
      ) {
        await assert.rejects(decompressBody(bytes, flag), isCompressionError, `${type} ${name}`);
      }
      if (type === "zstd") {
        // Neither zstd-jni nor we write zstd's optional xxHash64 content checksum (fzstd
        // does not check it): a flipped literal can decode to other bytes, never silently
        // to the original.
        try {
          assert.notDeepEqual(await decompressBody(flipped, flag), TEXT);
        } catch (err) {
          assert.ok(isCompressionError(err), String(err));
        }
      }
    }
  });

  it("random and mutated bytes produce only CodecError or some output", async () => {
    const frames = await Promise.all(
      (["lz4", "zstd"] as const).map(async (type) => ({
        type,
        bytes: await compressBody(TEXT, { type }),
      })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(LZ4, ZSTD),
        fc.uint8Array({ maxLength: 200 }),
        async (flag, bytes) => {
          await onlyCodecErrorAsync(() => decompressBody(bytes, flag, 1 << 20));
        },
      ),
      { numRuns: 200 },
    );
    for (const { type, bytes } of frames) {
      await fc.assert(
        fc.asyncProperty(mutated(fc.constant(bytes)), async (m) => {
          await onlyCodecErrorAsync(() => decompressBody(m, compressionSysFlag(type), 1 << 20));
        }),
        { numRuns: 200 },
      );
    }
  });

  it("a bomb stops at maxSize with CodecError, whatever the type", async () => {
    for (const type of TYPES) {
      const bomb = await compressBody(new Uint8Array(8 * 1024 * 1024), { type });
      assert.ok(bomb.length < 64 * 1024, `${type}: ${bomb.length} bytes`);
      await assert.rejects(
        decompressBody(bomb, compressionSysFlag(type), 1024 * 1024),
        (e) => isCompressionError(e) && /exceeds the limit of 1048576 bytes/.test(String(e)),
        type,
      );
      const exact = await compressBody(new Uint8Array(1000), { type });
      assert.equal((await decompressBody(exact, compressionSysFlag(type), 1000)).length, 1000);
      await assert.rejects(
        decompressBody(exact, compressionSysFlag(type), 999),
        isCompressionError,
      );
    }
  });

  it("zstd: a streamed frame without a content size stops at maxSize", async () => {
    // What zstd-jni's ZstdOutputStream writes: no content size, a window from the level.
    const zstd = await Zstd.load();
    zstd.reset();
    zstd.setCompressionLevel(1);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) parts.push(zstd.compressChunk(new Uint8Array(128 * 1024)).slice());
    parts.push(zstd.compressEnd().slice());
    const bomb = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bomb.set(p, at);
      at += p.length;
    }
    assert.equal(bomb[4]! >> 6, 0, "no frame content size");
    assert.equal((await decompressBody(bomb, ZSTD)).length, 8 * 1024 * 1024);
    await assert.rejects(
      decompressBody(bomb, ZSTD, 4 * 1024 * 1024),
      (e) => isCompressionError(e) && /exceeds the limit/.test(String(e)),
    );
  });

  it("zstd: a frame declaring a huge content size or window is refused before decoding", async () => {
    // Single-segment frame header declaring 2^40 bytes, then one empty raw last block.
    const huge = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]);
    await assert.rejects(decompressBody(huge, ZSTD), /exceeds the limit/);
    // Window descriptor of 2 GiB (exponent 21 + 10 = 31), no content size.
    const wide = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 1, 0, 0]);
    await assert.rejects(decompressBody(wide, ZSTD), /window of 2147483648 bytes exceeds/);
  });

  it("checks the level", async () => {
    await assert.rejects(compressBody(TEXT, { type: "zstd", level: 0 }), /from 1 to 22/);
    await assert.rejects(compressBody(TEXT, { type: "zstd", level: 23 }), /from 1 to 22/);
  });
});
