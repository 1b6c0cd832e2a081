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

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
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
  let c = ~previous;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
