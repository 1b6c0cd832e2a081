/**
 * The binary `ROCKETMQ` command header (serialize type 1), as written by
 * `RocketMQSerializable.java`: code (short), language (byte), version (short),
 * opaque (int), flag (int), remark (int length + UTF-8), extFields (int total
 * length, then entries of short key length + key, int value length + value).
 *
 * @example
 * ```ts
 * import { decodeRocketMQHeader, encodeRocketMQHeader } from "./header_rocketmq.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeRocketMQHeader(createRequest(105, { topic: "T" }, { opaque: 1 }));
 * assert.equal(bytes.length, 33);
 * assert.deepEqual(decodeRocketMQHeader(bytes).extFields, { topic: "T" });
 * ```
 *
 * @module
 */

import { CodecError } from "../errors.ts";
import type { CommandHeader } from "./header_json.ts";
import { setField } from "./remoting_command.ts";
import { utf8DecodeRange, utf8Length } from "./_utf8.ts";
import {
  ROCKETMQ_FIXED as FIXED,
  rocketMQHeaderBound,
  writeRocketMQHeader,
} from "./_header_write.ts";

/**
 * Encode a command's header in the binary `ROCKETMQ` form. Entries with an
 * empty value are written (as Java writes them) but decode as absent.
 *
 * @param command The command (its body is not part of the header).
 * @returns The header bytes.
 * @throws {InvalidArgumentError} When `code` or `version` does not fit a
 * signed 16-bit integer (use JSON for such codes), or a key exceeds 32767 bytes.
 *
 * @example
 * ```ts
 * import { encodeRocketMQHeader } from "./header_rocketmq.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeRocketMQHeader({ code: 105, language: 0, version: 479, opaque: 1, flag: 0, extFields: {} });
 * assert.deepEqual([...bytes.subarray(0, 5)], [0x00, 0x69, 0x00, 0x01, 0xdf]);
 * ```
 */
export function encodeRocketMQHeader(command: CommandHeader): Uint8Array {
  // Exact size first, then one allocation, strings written in place.
  const out = new Uint8Array(rocketMQHeaderBound(command, true));
  writeRocketMQHeader(command, out, 0);
  return out;
}

/**
 * Whether the binary header carries a command without loss: `code` and
 * `version` fit 16 bits, and no `extFields` key or value is empty (the format
 * reads an empty one as absent, where JSON keeps it). Otherwise send it in
 * JSON.
 *
 * @param command The command (its body is not part of the header).
 * @returns `true` when {@linkcode decodeRocketMQHeader} gives the fields back.
 *
 * @example
 * ```ts
 * import { fitsRocketMQHeader } from "./header_rocketmq.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(fitsRocketMQHeader(createRequest(105, { topic: "T" })), true);
 * assert.equal(fitsRocketMQHeader(createRequest(105, { topic: "" })), false);
 * assert.equal(fitsRocketMQHeader(createRequest(200052, {})), false); // a POP code
 * ```
 */
export function fitsRocketMQHeader(command: CommandHeader): boolean {
  if (command.code < -32768 || command.code > 32767) return false;
  if (command.version < -32768 || command.version > 32767) return false;
  const ext = command.extFields;
  for (const key in ext) {
    if (!Object.hasOwn(ext, key)) continue;
    const value = ext[key];
    if (key === "" || value === "") return false;
    if (key.length > 10922 && utf8Length(key) > 32767) return false; // 3 bytes a unit at most
  }
  return true;
}

/**
 * Decode a binary `ROCKETMQ` header. Checks every length against the bytes
 * present, as Java does: a remark or map longer than the header, or a map
 * entry running past the map, is an error. Zero-length keys or values decode
 * as absent. Bytes after the map are ignored.
 *
 * @param bytes The header bytes.
 * @returns The header fields.
 * @throws {CodecError} When the header is truncated or inconsistent; its
 * `opaque` is set when the fixed part could be read.
 *
 * @example
 * ```ts
 * import { decodeRocketMQHeader } from "./header_rocketmq.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0, 0x69, 0, 1, 0xdf, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
 * const header = decodeRocketMQHeader(bytes);
 * assert.equal(header.code, 105);
 * assert.equal(header.version, 479);
 * ```
 */
export function decodeRocketMQHeader(bytes: Uint8Array): CommandHeader {
  if (bytes.length < FIXED) {
    throw new CodecError(
      "header",
      `ROCKETMQ header of ${bytes.length} bytes is shorter than ${FIXED}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: CommandHeader = {
    code: view.getInt16(0),
    language: view.getUint8(2),
    version: view.getInt16(3),
    opaque: view.getInt32(5),
    flag: view.getInt32(9),
    extFields: {},
  };
  try {
    let pos = FIXED;
    const remarkLength = readLength(view, pos, 4, bytes.length, "remark");
    pos += 4;
    if (remarkLength > 0) {
      header.remark = utf8DecodeRange(bytes, pos, pos + remarkLength);
      pos += remarkLength;
    }
    if (pos === bytes.length) return header; // no map section at all
    const extLength = readLength(view, pos, 4, bytes.length, "extFields");
    pos += 4;
    const end = pos + extLength;
    while (pos < end) {
      const keyLength = readLength(view, pos, 2, end, "extFields key");
      pos += 2;
      const key = keyLength > 0 ? utf8DecodeRange(bytes, pos, pos + keyLength) : undefined;
      pos += keyLength;
      const valueLength = readLength(view, pos, 4, end, "extFields value");
      pos += 4;
      const value = valueLength > 0 ? utf8DecodeRange(bytes, pos, pos + valueLength) : undefined;
      pos += valueLength;
      if (key !== undefined && value !== undefined) setField(header.extFields, key, value);
    }
    return header;
  } catch (err) {
    if (err instanceof CodecError) err.opaque = header.opaque;
    throw err;
  }
}

/** Read a length field at `pos` and check that it and its data fit before `end`. */
function readLength(view: DataView, pos: number, size: 2 | 4, end: number, what: string): number {
  if (pos + size > end) {
    throw new CodecError("header", `ROCKETMQ header truncated in the ${what} length`);
  }
  const length = size === 2 ? view.getInt16(pos) : view.getInt32(pos);
  if (length < 0 || pos + size + length > end) {
    throw new CodecError(
      "header",
      `ROCKETMQ header ${what} length ${length} exceeds the bytes present`,
    );
  }
  return length;
}
