// zstd (RFC 8878 frames, what zstd-jni's ZstdOutputStream writes and
// RocketMQ's ZstdCompressor reads). Decoding: fzstd, pure JavaScript (runs
// everywhere, Cloudflare Workers included). Encoding: @hpcc-js/wasm-zstd, the
// reference C library compiled to WebAssembly, loaded on first use (240 KiB);
// runtimes that forbid compiling WebAssembly at run time (Workers) cannot
// encode zstd and get a CodecError saying so.

import { CodecError } from "../errors.ts";
import { decompressedTooLarge, nextFrame } from "./_frames.ts";

const MAGIC = 0xfd2fb528;

interface Fzstd {
  Decompress: new (ondata: (chunk: Uint8Array, final: boolean) => void) => {
    push(chunk: Uint8Array, final?: boolean): void;
  };
}
interface ZstdWasm {
  compress(data: Uint8Array, level?: number): Uint8Array;
}

let fzstdLoaded: Promise<Fzstd> | undefined;
let wasmLoaded: Promise<ZstdWasm> | undefined;

function corrupt(problem: string, cause?: unknown): never {
  throw new CodecError(
    "compression",
    `corrupt zstd frame: ${problem}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Walk the frames and refuse, before fzstd allocates anything, one whose
 * declared content size or window (fzstd allocates the window up front)
 * exceeds `maxSize`.
 */
function checkFrames(input: Uint8Array, maxSize: number): void {
  let pos = 0;
  if (input.length === 0) corrupt("no frame");
  for (
    let start = nextFrame(input, pos, MAGIC, corrupt);
    start !== undefined;
    start = nextFrame(input, pos, MAGIC, corrupt)
  ) {
    pos = start;
    if (pos >= input.length) corrupt("truncated frame header");
    const fhd = input[pos++]!;
    const singleSegment = (fhd >>> 5) & 1;
    const fcsFlag = fhd >>> 6;
    const dictFlag = fhd & 3;
    const checksum = (fhd >>> 2) & 1;
    if ((fhd & 0x08) !== 0) corrupt("reserved bit set");
    let window = 0;
    if (!singleSegment) {
      if (pos >= input.length) corrupt("truncated window descriptor");
      const wd = input[pos++]!;
      const base = 2 ** (10 + (wd >>> 3));
      window = base + (base / 8) * (wd & 7);
    }
    pos += dictFlag === 3 ? 4 : dictFlag;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    if (input.length - pos < fcsBytes) corrupt("truncated frame header");
    let contentSize: number | undefined;
    if (fcsBytes > 0) {
      contentSize = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + input[pos + i]!;
      if (fcsBytes === 2) contentSize += 256;
    }
    pos += fcsBytes;
    if (singleSegment) window = contentSize!;
    if (contentSize !== undefined && contentSize > maxSize) decompressedTooLarge(maxSize);
    if (window > maxSize) {
      throw new CodecError(
        "compression",
        `zstd window of ${window} bytes exceeds the limit of ${maxSize} bytes`,
      );
    }
    // Blocks: 3-byte little-endian header (last flag, type, size).
    while (true) {
      if (input.length - pos < 3) corrupt("truncated block header");
      const header = input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16);
      pos += 3;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === 3) corrupt("reserved block type");
      const stored = type === 1 ? 1 : size; // RLE blocks store one byte
      if (stored > input.length - pos) corrupt("block runs past the input");
      pos += stored;
      if ((header & 1) !== 0) break;
    }
    if (checksum) {
      if (input.length - pos < 4) corrupt("truncated content checksum");
      pos += 4;
    }
  }
}

/**
 * Decompress zstd frames (fzstd, streaming, so the limit is checked as the
 * output grows).
 *
 * @throws {CodecError} reason "compression" on any malformation or output
 * beyond `maxSize`.
 */
export async function zstdDecompress(input: Uint8Array, maxSize: number): Promise<Uint8Array> {
  checkFrames(input, maxSize);
  fzstdLoaded ??= import("fzstd") as Promise<unknown> as Promise<Fzstd>;
  const fzstd = await fzstdLoaded;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const decoder = new fzstd.Decompress((chunk, final) => {
    total += chunk.length;
    if (total > maxSize) decompressedTooLarge(maxSize);
    if (chunk.length > 0) chunks.push(chunk);
    if (final) ended = true;
  });
  try {
    decoder.push(input, true);
  } catch (err) {
    if (err instanceof CodecError) throw err;
    corrupt((err as Error)?.message ?? String(err), err);
  }
  if (!ended) corrupt("truncated");
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Compress into one zstd frame at the given level (the reference library,
 * as WebAssembly).
 *
 * @throws {CodecError} reason "compression" when the runtime cannot compile
 * WebAssembly at run time (Cloudflare Workers).
 */
export async function zstdCompress(input: Uint8Array, level: number): Promise<Uint8Array> {
  wasmLoaded ??= import("@hpcc-js/wasm-zstd").then((m) => m.Zstd.load());
  let zstd: ZstdWasm;
  try {
    zstd = await wasmLoaded;
  } catch (err) {
    wasmLoaded = undefined;
    throw new CodecError(
      "compression",
      "zstd compression needs WebAssembly compiled at run time, which this runtime refuses " +
        `(${(err as Error)?.message ?? err}); use compressType "lz4" or "zlib" here`,
      { cause: err },
    );
  }
  // The WebAssembly module returns a view into its own memory: copy it out.
  return zstd.compress(input, level).slice();
}
