/**
 * Message body compression. RocketMQ's default (and the only type older
 * brokers and clients know) is zlib: the RFC 1950 container that
 * `java.util.zip.Deflater` writes, which is what the Web's
 * `CompressionStream("deflate")` produces and `DecompressionStream("deflate")`
 * reads. LZ4 and zstd (sysFlag types 1 and 2, 4.9.4+) are not supported.
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
import { CodecError } from "../errors.ts";

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
        throw new CodecError(
          "compression",
          `decompressed body exceeds the limit of ${maxSize} bytes`,
        );
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
 * `(sysFlag >> 8) & 7`: 0 (producers before 4.9.4) and 3 are zlib; 1 (LZ4)
 * and 2 (zstd) are not supported; 4–7 are invalid (Java fails too).
 *
 * Never buffers more than `maxSize` bytes of output plus one bounded step
 * (a zip bomb fails early with `CodecError`).
 *
 * @param body The body as stored or sent.
 * @param sysFlag The message's sysFlag.
 * @param maxSize Largest decompressed size accepted.
 * @returns The decompressed body, or `body` itself when not compressed.
 * @throws {CodecError} With reason `"compression"` for corrupt or truncated
 * data (the Adler-32 trailer is checked here too, since Deno's
 * `DecompressionStream` lets a truncated stream pass), trailing bytes after
 * the zlib stream, an unsupported or invalid
 * type, or output beyond `maxSize`.
 *
 * @example
 * ```ts
 * import { decompressBody } from "./compression.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const plain = new Uint8Array([1, 2, 3]);
 * assert.equal(await decompressBody(plain, 0), plain);
 * await assert.rejects(decompressBody(plain, 0x1 | 0x100), (e) => e instanceof CodecError && /LZ4/.test(e.message));
 * await assert.rejects(decompressBody(plain, 0x301), CodecError);
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
      throw new CodecError(
        "compression",
        "LZ4-compressed bodies (sysFlag type 1) are not supported",
      );
    case 2:
      throw new CodecError(
        "compression",
        "zstd-compressed bodies (sysFlag type 2) are not supported",
      );
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
 * Compress a body with zlib (`CompressionStream("deflate")`, level 6; Java
 * uses level 5, so the bytes differ from Java's but decode the same). Set
 * `sysFlag |= MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB`
 * on the message that carries the result.
 *
 * @param body The body.
 * @returns The zlib stream.
 *
 * @example
 * ```ts
 * import { compressBody } from "./compression.ts";
 * import assert from "node:assert/strict";
 *
 * const compressed = await compressBody(new Uint8Array(5000));
 * assert.equal(compressed[0], 0x78); // zlib header
 * assert.ok(compressed.length < 100);
 * ```
 */
export async function compressBody(body: Uint8Array): Promise<Uint8Array> {
  return await drain(new CompressionStream("deflate"), body, 1 << 20, Number.POSITIVE_INFINITY);
}
