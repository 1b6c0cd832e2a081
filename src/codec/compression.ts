/**
 * Message body compression. RocketMQ's default (and the only type older
 * brokers and clients know) is zlib: the RFC 1950 container that
 * `java.util.zip.Deflater` writes, which is what the Web's
 * `CompressionStream("deflate")` produces and `DecompressionStream("deflate")`
 * reads. RocketMQ 4.9.4+ producers may also choose LZ4 (sysFlag type 1: the
 * LZ4 frame format of lz4-java's `LZ4FrameOutputStream`) or zstd (type 2: a
 * standard zstd frame, zstd-jni). Both are decoded by pure JavaScript
 * (LZ4 frames here with lz4js's xxHash32; zstd by fzstd), so every runtime,
 * Cloudflare Workers included, reads them. Encoding LZ4 uses lz4js's block
 * compressor; encoding zstd uses the reference library as WebAssembly
 * (@hpcc-js/wasm-zstd), which needs a runtime that compiles WebAssembly at
 * run time (not Workers). Each is loaded on first use.
 *
 * @example
 * ```ts
 * import { compressBody, decompressBody } from "./compression.ts";
 * import { MessageSysFlag } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const body = new TextEncoder().encode("x".repeat(10_000));
 * const compressed = await compressBody(body);
 * const sysFlag = MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB;
 * assert.deepEqual(await decompressBody(compressed, sysFlag), body);
 * ```
 *
 * @module
 */

import { concat } from "../bytes.ts";
import { CodecError, InvalidArgumentError } from "../errors.ts";
import { decompressedTooLarge } from "./_frames.ts";
import { lz4Compress, lz4Decompress } from "./_lz4.ts";
import { zstdCompress, zstdDecompress } from "./_zstd.ts";

/**
 * A body compression type a producer can choose (Java's `CompressionType`).
 *
 * @example
 * ```ts
 * import { type CompressionType, compressionSysFlag } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * const type: CompressionType = "zstd";
 * assert.equal(compressionSysFlag(type), 0x201);
 * ```
 */
export type CompressionType = "zlib" | "lz4" | "zstd";

const TYPE_BITS: Readonly<Record<CompressionType, number>> = { lz4: 1, zstd: 2, zlib: 3 };

/**
 * The sysFlag bits of a body compressed with `type`: the compressed bit
 * (0x1) and the type in bits 8–10 (LZ4 0x100, zstd 0x200, zlib 0x300).
 *
 * @param type The compression type.
 * @returns The bits to OR into the message's sysFlag.
 * @throws {InvalidArgumentError} For an unknown type.
 *
 * @example
 * ```ts
 * import { compressionSysFlag } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(compressionSysFlag("zlib"), 769); // what Java sets by default
 * assert.equal(compressionSysFlag("lz4"), 257);
 * ```
 */
export function compressionSysFlag(type: CompressionType): number {
  const bits = TYPE_BITS[type];
  if (bits === undefined || !Object.hasOwn(TYPE_BITS, type)) {
    throw new InvalidArgumentError("compressType", `unknown compression type ${String(type)}`);
  }
  return 0x1 | (bits << 8);
}

/**
 * Java's default compression level (`rocketmq.message.compressLevel`): used
 * by zstd; LZ4 has one level, and zlib here always uses level 6.
 *
 * @example
 * ```ts
 * import { DEFAULT_COMPRESS_LEVEL } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_COMPRESS_LEVEL, 5);
 * ```
 */
export const DEFAULT_COMPRESS_LEVEL = 5;

/**
 * Bodies of at least this many bytes are compressed by Java producers
 * (`compressMsgBodyOverHowmuch`), which then set `sysFlag |= 0x1 | 0x300`.
 * Batches are never compressed.
 *
 * @example
 * ```ts
 * import { COMPRESS_THRESHOLD } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(COMPRESS_THRESHOLD, 4096);
 * ```
 */
export const COMPRESS_THRESHOLD = 4096;

/**
 * Default limit of {@linkcode decompressBody}'s output: 16 MiB, above any
 * message a broker accepts (`maxMessageSize` defaults to 4 MiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_DECOMPRESSED_SIZE } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_DECOMPRESSED_SIZE, 16 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 16 * 1024 * 1024;

/** deflate cannot expand one input byte to more than about 1032 output bytes. */
const MAX_DEFLATE_RATIO = 1032;

/** Running Adler-32 (RFC 1950) over chunks; start with 1. */
function adler32(previous: number, bytes: Uint8Array): number {
  let a = previous & 0xffff;
  let b = previous >>> 16;
  let i = 0;
  while (i < bytes.length) {
    // 5552 is the most bytes before b can overflow 2^32 (zlib's NMAX).
    const end = Math.min(i + 5552, bytes.length);
    for (; i < end; i++) {
      a += bytes[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

async function drain(
  stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<BufferSource> },
  input: Uint8Array,
  sliceSize: number,
  maxSize: number,
): Promise<Uint8Array> {
  // Streams take ArrayBuffer-backed views only (not SharedArrayBuffer ones).
  const source = (input.buffer instanceof ArrayBuffer ? input : input.slice()) as Uint8Array<
    ArrayBuffer
  >;
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // Feed the input in slices, so that a runtime that inflates a whole chunk
  // at once (Deno does) never produces more than sliceSize * 1032 bytes in one
  // step: the size check below runs before memory grows further.
  const feeding = (async () => {
    for (let i = 0; i < source.length; i += sliceSize) {
      await writer.write(source.subarray(i, Math.min(i + sliceSize, source.length)));
    }
    await writer.close();
  })();
  feeding.catch(() => {}); // its failure surfaces through the reader
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxSize) {
        decompressedTooLarge(maxSize);
      }
      chunks.push(value);
    }
    await feeding;
  } catch (err) {
    await reader.cancel().catch(() => {});
    await writer.abort().catch(() => {});
    if (err instanceof CodecError) throw err;
    throw new CodecError("compression", `corrupt zlib data: ${(err as Error)?.message ?? err}`, {
      cause: err,
    });
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks);
}

/**
 * Decompress a message body according to its sysFlag. A body without the
 * compressed bit (0x1) is returned as is. With it, the compression type is
 * `(sysFlag >> 8) & 7`: 0 (producers before 4.9.4) and 3 are zlib, 1 is LZ4
 * (frame format), 2 is zstd; 4–7 are invalid (Java fails too).
 *
 * Never holds more than `maxSize` bytes of output plus one bounded step,
 * whatever the type (a zip bomb fails early with `CodecError`; a zstd frame
 * whose declared size or window exceeds `maxSize` is refused before
 * decoding).
 *
 * @param body The body as stored or sent.
 * @param sysFlag The message's sysFlag.
 * @param maxSize Largest decompressed size accepted.
 * @returns The decompressed body, or `body` itself when not compressed.
 * @throws {CodecError} With reason `"compression"` for corrupt or truncated
 * data (checksums are verified where the format has them: zlib's Adler-32,
 * since Deno's `DecompressionStream` lets a truncated stream pass; LZ4's
 * header, block and content checksums), trailing bytes, an invalid type, or
 * output beyond `maxSize`.
 *
 * @example
 * ```ts
 * import { compressBody, decompressBody } from "./compression.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const plain = new Uint8Array([1, 2, 3]);
 * assert.equal(await decompressBody(plain, 0), plain);
 * const lz4 = await compressBody(new Uint8Array(10_000), { type: "lz4" });
 * assert.equal((await decompressBody(lz4, 0x101)).length, 10_000);
 * await assert.rejects(decompressBody(lz4, 0x101, 9_999), CodecError); // over the limit
 * await assert.rejects(decompressBody(plain, 0x101), CodecError); // not an LZ4 frame
 * await assert.rejects(decompressBody(plain, 0x401), CodecError); // type 4 does not exist
 * ```
 */
export async function decompressBody(
  body: Uint8Array,
  sysFlag: number,
  maxSize: number = DEFAULT_MAX_DECOMPRESSED_SIZE,
): Promise<Uint8Array> {
  if ((sysFlag & 0x1) === 0) return body;
  const type = (sysFlag >> 8) & 7;
  switch (type) {
    case 0:
    case 3:
      break;
    case 1:
      return await lz4Decompress(body, maxSize);
    case 2:
      return await zstdDecompress(body, maxSize);
    default:
      throw new CodecError("compression", `unknown compression type ${type} in sysFlag ${sysFlag}`);
  }
  if (body.length < 8) {
    throw new CodecError("compression", `zlib stream of ${body.length} bytes is truncated`);
  }
  const sliceSize = Math.max(64, Math.min(16384, Math.floor(maxSize / MAX_DEFLATE_RATIO / 4)));
  const out = await drain(new DecompressionStream("deflate"), body, sliceSize, maxSize);
  // Deno's DecompressionStream (2.x) accepts a truncated stream and returns
  // what it inflated so far. A complete zlib stream ends with the Adler-32 of
  // its output (RFC 1950), and trailing bytes are rejected above, so a
  // mismatch here means the stream was cut short.
  const trailer = new DataView(body.buffer, body.byteOffset + body.length - 4, 4).getUint32(0);
  if (adler32(1, out) !== trailer) {
    throw new CodecError("compression", "zlib stream is truncated (Adler-32 trailer mismatch)");
  }
  return out;
}

/**
 * Options of {@linkcode compressBody}.
 *
 * @example
 * ```ts
 * import type { CompressOptions } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * const options: CompressOptions = { type: "zstd", level: 3 };
 * assert.equal(options.type, "zstd");
 * ```
 */
export interface CompressOptions {
  /** Compression type. @default {"zlib"} */
  type?: CompressionType;
  /** Level (zstd only: 1–22). @default {5} */
  level?: number;
}

/**
 * Compress a body; set `sysFlag |= compressionSysFlag(type)` on the message
 * that carries the result. zlib uses `CompressionStream("deflate")` (level
 * 6; Java uses level 5, so the bytes differ from Java's but decode the
 * same). LZ4 writes one frame as lz4-java's `LZ4FrameOutputStream` does
 * (independent 4 MiB blocks) with a content checksum. zstd writes one
 * standard frame at `level`; it needs WebAssembly compiled at run time.
 *
 * @param body The body.
 * @param options Type and level.
 * @returns The compressed bytes.
 * @throws {CodecError} With reason `"compression"` when zstd cannot be
 * loaded here (Cloudflare Workers refuse run-time WebAssembly).
 * @throws {InvalidArgumentError} For an unknown type or a bad level.
 *
 * @example
 * ```ts
 * import { compressBody } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * const zlib = await compressBody(new Uint8Array(5000));
 * assert.equal(zlib[0], 0x78); // zlib header
 * assert.ok(zlib.length < 100);
 * const lz4 = await compressBody(new Uint8Array(5000), { type: "lz4" });
 * assert.deepEqual([...lz4.subarray(0, 4)], [0x04, 0x22, 0x4d, 0x18]); // LZ4 frame magic
 * ```
 */
export async function compressBody(
  body: Uint8Array,
  options: CompressOptions = {},
): Promise<Uint8Array> {
  const type = options.type ?? "zlib";
  compressionSysFlag(type);
  const level = options.level ?? DEFAULT_COMPRESS_LEVEL;
  if (!Number.isInteger(level) || level < 1 || level > 22) {
    throw new InvalidArgumentError("compressLevel", "must be an integer from 1 to 22");
  }
  switch (type) {
    case "lz4":
      return await lz4Compress(body);
    case "zstd":
      return await zstdCompress(body, level);
    default:
      return await drain(
        new CompressionStream("deflate"),
        body,
        1 << 20,
        Number.POSITIVE_INFINITY,
      );
  }
}
