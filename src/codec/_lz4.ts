// LZ4 frame format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md)
// as RocketMQ's Lz4Compressor writes and reads it with lz4-java's
// LZ4FrameOutputStream / LZ4FrameInputStream: independent blocks of up to
// 4 MiB. The block compressor and xxHash32 come from lz4js (pure JavaScript),
// loaded on first use. The frame around them is written and read here because
// lz4js writes frames without the block-independence bit (lz4-java refuses
// them: "Dependent block stream is unsupported") and its block decoder checks
// no bounds (a hostile body would read past its input and write zeros for bad
// match offsets, undetected). The decoder below checks every length and
// offset and never holds more than `maxSize` bytes of output.

import { CodecError } from "../errors.ts";
import { decompressedTooLarge, nextFrame, u32le } from "./_frames.ts";

const MAGIC = 0x184d2204;
const BLOCK_MAX: Readonly<Record<number, number>> = {
  4: 0x10000,
  5: 0x40000,
  6: 0x100000,
  7: 0x400000,
};
const FLG_VERSION = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const UNCOMPRESSED = 0x80000000;
const MIN_MATCH = 4;

type Xxh32 = (seed: number, src: Uint8Array, index: number, length: number) => number;
interface Lz4js {
  compressBound(n: number): number;
  compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number;
}

let xxh32Loaded: Promise<Xxh32> | undefined;
/** lz4js's hash table, cleared before each block (allocating 256 KiB per block made compression ~7x slower). */
let hashTable: Uint32Array | undefined;
let lz4Loaded: Promise<Lz4js> | undefined;

/** xxHash32 (lz4js's, a small module without lz4js's 5 MiB work buffer). */
function loadXxh32(): Promise<Xxh32> {
  xxh32Loaded ??= import("lz4js/xxh32.js").then((m) => {
    const mod = ((m as { default?: unknown }).default ?? m) as { hash: Xxh32 };
    return mod.hash;
  });
  return xxh32Loaded;
}

/** lz4js itself (allocates a 5 MiB work buffer when first imported). */
function loadLz4js(): Promise<Lz4js> {
  lz4Loaded ??= import("lz4js").then((m) =>
    ((m as { default?: unknown }).default ?? m) as unknown as Lz4js
  );
  return lz4Loaded;
}

function corrupt(problem: string): never {
  throw new CodecError("compression", `corrupt LZ4 frame: ${problem}`);
}

/** Output that grows on demand, never beyond `max` bytes. */
class Output {
  buf: Uint8Array;
  length = 0;
  constructor(initial: number, readonly max: number) {
    this.buf = new Uint8Array(Math.min(initial, max));
  }
  reserve(n: number): void {
    const need = this.length + n;
    if (need > this.max) decompressedTooLarge(this.max);
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.max, Math.max(need, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
  }
}

/**
 * Decode one LZ4 block (`src[start, end)`) onto `out`. Matches may reach back
 * to `floor` (the block's start for independent blocks) and no further; the
 * block may produce at most `blockMax` bytes.
 */
function decodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Output,
  floor: number,
  blockMax: number,
): void {
  const limit = out.length + blockMax;
  let s = start;
  while (true) {
    if (s >= end) corrupt("block ends inside a sequence");
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= end) corrupt("block ends inside a literal length");
        b = src[s++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > end - s) corrupt("literals run past the block");
    if (out.length + literals > limit) corrupt("block decodes beyond its maximum size");
    out.reserve(literals);
    if (literals < 32) {
      const buf = out.buf;
      let to = out.length;
      for (let i = 0; i < literals; i++) buf[to++] = src[s + i]!;
    } else {
      out.buf.set(src.subarray(s, s + literals), out.length);
    }
    out.length += literals;
    s += literals;
    if (s === end) return; // the last sequence has literals only
    if (end - s < 2) corrupt("block ends inside a match offset");
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > out.length - floor) corrupt(`match offset ${offset} out of range`);
    let match = token & 15;
    if (match === 15) {
      let b: number;
      do {
        if (s >= end) corrupt("block ends inside a match length");
        b = src[s++]!;
        match += b;
      } while (b === 255);
    }
    match += MIN_MATCH;
    if (out.length + match > limit) corrupt("block decodes beyond its maximum size");
    out.reserve(match);
    const buf = out.buf;
    let from = out.length - offset;
    let to = out.length;
    if (match < 32) {
      for (let i = 0; i < match; i++) buf[to++] = buf[from++]!;
    } else {
      // An overlapping match repeats its last `offset` bytes: copy in chunks
      // that double as the copied region grows.
      let left = match;
      while (left > 0) {
        const n = Math.min(to - from, left);
        buf.copyWithin(to, from, from + n);
        to += n;
        left -= n;
      }
    }
    out.length += match;
  }
}

/**
 * Decompress LZ4 frames (one or more, skippable frames ignored).
 *
 * @throws {CodecError} reason "compression" on any malformation, a checksum
 * mismatch, or output beyond `maxSize`.
 */
export async function lz4Decompress(input: Uint8Array, maxSize: number): Promise<Uint8Array> {
  const xxh32 = await loadXxh32();
  const out = new Output(Math.max(1024, input.length * 4), maxSize);
  let pos = 0;
  let frames = 0;
  for (
    let start = nextFrame(input, pos, MAGIC, corrupt);
    start !== undefined;
    start = nextFrame(input, pos, MAGIC, corrupt)
  ) {
    pos = start;
    const descriptorStart = pos;
    if (input.length - pos < 3) corrupt("truncated frame descriptor");
    const flg = input[pos++]!;
    const bd = input[pos++]!;
    if ((flg & 0xc0) !== FLG_VERSION) corrupt(`unsupported version ${flg >>> 6}`);
    if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) corrupt("reserved bits set");
    if ((flg & FLG_DICT_ID) !== 0) corrupt("dictionaries are not supported");
    const blockMax = BLOCK_MAX[(bd >>> 4) & 7];
    if (blockMax === undefined) corrupt(`bad block maximum size id ${(bd >>> 4) & 7}`);
    let contentSize: number | undefined;
    if ((flg & FLG_CONTENT_SIZE) !== 0) {
      if (input.length - pos < 8) corrupt("truncated content size");
      const high = u32le(input, pos + 4);
      contentSize = high * 2 ** 32 + u32le(input, pos);
      pos += 8;
      if (high !== 0 || out.length + contentSize > maxSize) decompressedTooLarge(maxSize);
    }
    if (pos >= input.length) corrupt("truncated frame descriptor");
    const hc = input[pos]!;
    if (((xxh32(0, input, descriptorStart, pos - descriptorStart) >>> 8) & 0xff) !== hc) {
      corrupt("header checksum mismatch");
    }
    pos++;
    const frameStart = out.length;
    const independent = (flg & FLG_BLOCK_INDEPENDENCE) !== 0;
    while (true) {
      if (input.length - pos < 4) corrupt("truncated block size");
      const word = u32le(input, pos);
      pos += 4;
      if (word === 0) break; // EndMark
      const size = (word & ~UNCOMPRESSED) >>> 0;
      if (size > blockMax) corrupt(`block of ${size} bytes exceeds the maximum ${blockMax}`);
      const checksummed = (flg & FLG_BLOCK_CHECKSUM) !== 0 ? 4 : 0;
      if (size + checksummed > input.length - pos) corrupt("block runs past the input");
      if (checksummed && xxh32(0, input, pos, size) !== u32le(input, pos + size)) {
        corrupt("block checksum mismatch");
      }
      if ((word & UNCOMPRESSED) !== 0) {
        out.reserve(size);
        out.buf.set(input.subarray(pos, pos + size), out.length);
        out.length += size;
      } else {
        decodeBlock(input, pos, pos + size, out, independent ? out.length : frameStart, blockMax);
      }
      pos += size + checksummed;
    }
    const produced = out.length - frameStart;
    if (contentSize !== undefined && produced !== contentSize) {
      corrupt(`content size says ${contentSize} bytes, the blocks hold ${produced}`);
    }
    if ((flg & FLG_CONTENT_CHECKSUM) !== 0) {
      if (input.length - pos < 4) corrupt("truncated content checksum");
      if (xxh32(0, out.buf, frameStart, produced) !== u32le(input, pos)) {
        corrupt("content checksum mismatch");
      }
      pos += 4;
    }
    frames++;
  }
  if (frames === 0) corrupt("no frame");
  return out.buf.length === out.length ? out.buf : out.buf.slice(0, out.length);
}

/**
 * Compress into one LZ4 frame as lz4-java's `LZ4FrameOutputStream` does by
 * default (version 1, independent blocks of up to 4 MiB), plus a content
 * checksum, which lz4-java verifies.
 */
export async function lz4Compress(input: Uint8Array): Promise<Uint8Array> {
  const [lz4, xxh32] = await Promise.all([loadLz4js(), loadXxh32()]);
  const blockMax = BLOCK_MAX[7]!;
  const blocks = Math.max(1, Math.ceil(input.length / blockMax));
  const out = new Uint8Array(
    7 + blocks * 4 + lz4.compressBound(input.length) + blocks * 16 + 4 + 4,
  );
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  out[4] = FLG_VERSION | FLG_BLOCK_INDEPENDENCE | FLG_CONTENT_CHECKSUM;
  out[5] = 7 << 4;
  out[6] = (xxh32(0, out, 4, 2) >>> 8) & 0xff;
  let pos = 7;
  const scratch = new Uint8Array(lz4.compressBound(Math.min(blockMax, input.length)) + 16);
  hashTable ??= new Uint32Array(1 << 16);
  for (let start = 0; start < input.length; start += blockMax) {
    const length = Math.min(blockMax, input.length - start);
    // A cleared hash table per block: no match may reach into an earlier block.
    // (Synchronous from here on, so no other compression shares the table meanwhile.)
    hashTable.fill(0);
    const size = lz4.compressBlock(input, scratch, start, length, hashTable);
    if (size > 0 && size < length) {
      view.setUint32(pos, size, true);
      out.set(scratch.subarray(0, size), pos + 4);
      pos += 4 + size;
    } else {
      view.setUint32(pos, (length | UNCOMPRESSED) >>> 0, true);
      out.set(input.subarray(start, start + length), pos + 4);
      pos += 4 + length;
    }
  }
  view.setUint32(pos, 0, true);
  view.setUint32(pos + 4, xxh32(0, input, 0, input.length), true);
  return out.slice(0, pos + 8);
}
