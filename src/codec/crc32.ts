/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib and `java.util.zip.CRC32`),
 * which RocketMQ uses for the `BODYCRC` field of stored messages
 * (`UtilAll.crc32`, masked with `0x7FFFFFFF`).
 *
 * @example
 * ```ts
 * import { crc32 } from "./crc32.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 *
 * @module
 */

/**
 * Eight tables of 256 entries ("slicing-by-8"): table 0 is the classic
 * byte-at-a-time table; table k gives the CRC of a byte followed by k zero
 * bytes, so eight bytes are folded in per step.
 */
const TABLES: Uint32Array = (() => {
  const tables = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let k = 1; k < 8; k++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[k * 256 + n] = c >>> 0;
    }
  }
  return tables;
})();

/**
 * The CRC-32 of some bytes, as `java.util.zip.CRC32.getValue()` returns it
 * (an unsigned 32-bit value). A running checksum continues from `previous`.
 *
 * RocketMQ's body CRC is `crc32(body) & 0x7FFFFFFF`.
 *
 * @param bytes The bytes.
 * @param previous The CRC of the bytes before these, to continue a running
 * checksum.
 * @returns The unsigned CRC-32.
 *
 * @example
 * ```ts
 * import { crc32 } from "./crc32.ts";
 * import assert from "node:assert/strict";
 *
 * const data = new TextEncoder().encode("hello world");
 * assert.equal(crc32(data), 0x0d4a1185);
 * assert.equal(crc32(data.subarray(6), crc32(data.subarray(0, 6))), crc32(data));
 * assert.equal(crc32(data) & 0x7fffffff, 222957957);
 * ```
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = TABLES;
  const n = bytes.length;
  let c = ~previous;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const lo = c ^ (bytes[i]! | bytes[i + 1]! << 8 | bytes[i + 2]! << 16 | bytes[i + 3]! << 24);
    const hi = bytes[i + 4]! | bytes[i + 5]! << 8 | bytes[i + 6]! << 16 | bytes[i + 7]! << 24;
    c = t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^ t[512 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^ t[hi >>> 24]!;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
