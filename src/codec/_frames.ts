/**
 * What the LZ4 and zstd frame readers share: little-endian words, the
 * skippable frames both formats define (magic 0x184D2A5?), and the error of
 * an output past its limit (zlib's too). Internal.
 *
 * @module
 */

import { CodecError } from "../errors.ts";

const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;

/** The unsigned little-endian 32-bit word at `at`. */
export function u32le(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>>
    0;
}

/**
 * Where the skippable frame at `pos` ends, or `undefined` when the frame at
 * `pos` is not a skippable one (at least 4 bytes must be left).
 *
 * @param corrupt Throws the format's own error for a truncated frame.
 */
function skippableFrameEnd(
  input: Uint8Array,
  pos: number,
  corrupt: (problem: string) => never,
): number | undefined {
  if ((u32le(input, pos) & SKIPPABLE_MASK) >>> 0 !== SKIPPABLE) return undefined;
  if (input.length - pos < 8) corrupt("truncated skippable frame");
  const size = u32le(input, pos + 4);
  if (size > input.length - pos - 8) corrupt("skippable frame runs past the input");
  return pos + 8 + size;
}

/**
 * Where the next data frame from `pos` begins, just past its magic number
 * (skippable frames passed over), or `undefined` when only skippable frames
 * were left.
 *
 * @param magic The format's frame magic number.
 * @param corrupt Throws the format's own error: trailing bytes, a truncated
 *   skippable frame, a frame with another magic number.
 */
export function nextFrame(
  input: Uint8Array,
  pos: number,
  magic: number,
  corrupt: (problem: string) => never,
): number | undefined {
  while (pos < input.length) {
    if (input.length - pos < 4) corrupt(`${input.length - pos} trailing bytes`);
    const skipped = skippableFrameEnd(input, pos, corrupt);
    if (skipped !== undefined) {
      pos = skipped;
      continue;
    }
    const found = u32le(input, pos);
    if (found !== magic) corrupt(`bad magic number 0x${found.toString(16)}`);
    return pos + 4;
  }
  return undefined;
}

/** Throws the error of a decompressed body over `maxSize`. */
export function decompressedTooLarge(maxSize: number): never {
  throw new CodecError("compression", `decompressed body exceeds the limit of ${maxSize} bytes`);
}
