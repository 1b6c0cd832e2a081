/**
 * Byte-slice helpers with the names and semantics of `@std/bytes`.
 *
 * JSR (and so `@std/bytes`) cannot be reached from the machines this project is
 * built on. This module mirrors the subset we use, with the same signatures, so
 * that switching to the real package is a one-line change of the import.
 *
 * @example Concatenate and compare
 * ```ts
 * import { concat, equals } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const joined = concat([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * assert.ok(equals(joined, new Uint8Array([1, 2, 3])));
 * ```
 *
 * @module
 */

/**
 * Concatenate an array of byte slices into a single slice.
 *
 * @param buffers Array of byte slices to concatenate.
 * @returns A new byte slice containing all the input slices concatenated.
 *
 * @example Basic usage
 * ```ts
 * import { concat } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(concat([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concat(buffers: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const buffer of buffers) length += buffer.length;
  const output = new Uint8Array(length);
  let index = 0;
  for (const buffer of buffers) {
    output.set(buffer, index);
    index += buffer.length;
  }
  return output;
}

/**
 * Check whether two byte slices are equal to each other.
 *
 * @param a First array to check equality.
 * @param b Second array to check equality.
 * @returns `true` if the arrays are equal, `false` otherwise.
 *
 * @example Basic usage
 * ```ts
 * import { equals } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(equals(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
 * assert.equal(equals(new Uint8Array([1, 2]), new Uint8Array([2, 1])), false);
 * ```
 */
export function equals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * Returns the index of the first occurrence of the needle array in the source
 * array, or -1 if it is not present.
 *
 * A start index can be specified as the third argument that begins the search
 * at that given index. The start index defaults to the start of the array; a
 * negative start counts from the end.
 *
 * @param source Source array to check.
 * @param needle Needle array to check for.
 * @param start Start index in the source array to begin the search.
 * @returns Index of the first occurrence of the needle in the source, or -1.
 *
 * @example Basic usage
 * ```ts
 * import { indexOfNeedle } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const source = new Uint8Array([0, 1, 2, 1, 2, 1, 2, 3]);
 * assert.equal(indexOfNeedle(source, new Uint8Array([1, 2])), 1);
 * assert.equal(indexOfNeedle(source, new Uint8Array([1, 2]), 2), 3);
 * assert.equal(indexOfNeedle(source, new Uint8Array([9])), -1);
 * ```
 */
export function indexOfNeedle(source: Uint8Array, needle: Uint8Array, start = 0): number {
  if (start < 0) start = Math.max(0, source.length + start);
  if (needle.length === 0) return start <= source.length ? start : -1;
  const first = needle[0];
  const last = source.length - needle.length;
  outer: for (let i = start; i <= last; i++) {
    if (source[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) {
      if (source[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * Returns `true` if the prefix array appears at the start of the source array,
 * `false` otherwise.
 *
 * @param source Source array to check.
 * @param prefix Prefix array to check for.
 * @returns `true` if the prefix array appears at the start of the source array.
 *
 * @example Basic usage
 * ```ts
 * import { startsWith } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(startsWith(new Uint8Array([0, 1, 2]), new Uint8Array([0, 1])), true);
 * ```
 */
export function startsWith(source: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > source.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (source[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * Copy bytes from the source array to the destination array and return the
 * number of bytes copied. Copying stops at whichever array ends first.
 *
 * @param src Source array to copy from.
 * @param dst Destination array to copy to.
 * @param offset Offset in the destination array to start copying to.
 * @returns Number of bytes copied.
 *
 * @example Basic usage
 * ```ts
 * import { copy } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const dst = new Uint8Array(4);
 * assert.equal(copy(new Uint8Array([7, 8, 9]), dst, 2), 2);
 * assert.deepEqual(dst, new Uint8Array([0, 0, 7, 8]));
 * ```
 */
export function copy(src: Uint8Array, dst: Uint8Array, offset = 0): number {
  offset = Math.max(0, Math.min(offset, dst.byteLength));
  const available = dst.byteLength - offset;
  if (src.byteLength > available) src = src.subarray(0, available);
  dst.set(src, offset);
  return src.byteLength;
}
