/**
 * The JSON command header (serialize type 0), byte-compatible with what the
 * Java implementation (fastjson 1.2.83) writes: fields in alphabetical order,
 * null fields left out, the language as its name, and fastjson's string
 * escaping.
 *
 * @example
 * ```ts
 * import { decodeJsonHeader, encodeJsonHeader } from "./header_json.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeJsonHeader(createRequest(105, { topic: "T" }, { opaque: 1 }));
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   '{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}',
 * );
 * assert.equal(decodeJsonHeader(bytes).opaque, 1);
 * ```
 *
 * @module
 */

import { CodecError } from "../errors.ts";
import { LanguageCode } from "./codes.ts";
import type { RemotingCommand } from "./remoting_command.ts";
import { utf8Decode, utf8Encode } from "./_utf8.ts";
import { jsonHeaderText, quote } from "./_header_write.ts";

/**
 * The fields a header carries: everything of a command but its body and its
 * serialize type (which the frame's header word carries).
 *
 * @example
 * ```ts
 * import { decodeJsonHeader, encodeJsonHeader, type CommandHeader } from "./header_json.ts";
 * import assert from "node:assert/strict";
 *
 * const header: CommandHeader = { code: 106, language: 0, version: 479, opaque: 4, flag: 0, extFields: {} };
 * assert.deepEqual(decodeJsonHeader(encodeJsonHeader(header)), header);
 * ```
 */
export type CommandHeader = Omit<RemotingCommand, "body" | "serializeType">;

/**
 * Quote a string the way fastjson 1.2.83's default `SerializeWriter` does
 * (RocketMQ 4.x to 5.3.x): `"` and `\` escaped, `\b \t \n \f \r` in short
 * form, other C0 controls, DEL, the C1 controls U+0080–U+009F and U+2028/U+2029
 * as `\uXXXX` with upper-case hex, everything else (other non-ASCII included)
 * written as is. (fastjson2, used by RocketMQ 5.5, spells some of these
 * differently; every spelling decodes to the same string.)
 *
 * @param text The string.
 * @returns The JSON string literal, with quotes.
 *
 * @example
 * ```ts
 * import { quoteJsonString } from "./header_json.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteJsonString('a"\u0001\n'), '"a\\"\\u0001\\n"');
 * assert.equal(quoteJsonString("\u007f\u0085\u2028é"), '"\\u007F\\u0085\\u2028é"');
 * ```
 */
export function quoteJsonString(text: string): string {
  return quote(text);
}

/**
 * Encode a command's header as JSON bytes, as the Java implementation does.
 * `extFields` is left out when empty, `remark` when undefined.
 *
 * @param command The command (its body is not part of the header).
 * @returns The UTF-8 JSON header.
 *
 * @example
 * ```ts
 * import { encodeJsonHeader } from "./header_json.ts";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(encodeJsonHeader({
 *   code: 106, language: 0, version: 479, opaque: 4, flag: 0, extFields: {},
 * }));
 * assert.equal(text, '{"code":106,"flag":0,"language":"JAVA","opaque":4,"serializeTypeCurrentRPC":"JSON","version":479}');
 * ```
 */
export function encodeJsonHeader(command: CommandHeader): Uint8Array {
  return utf8Encode(jsonHeaderText(command));
}

const INT_PATTERN = /^-?\d{1,10}$/;

function readInt(
  value: unknown,
  field: string,
  required: boolean,
  fallback: number,
): number {
  if (value === undefined || value === null) {
    if (required) throw new CodecError("header", `JSON header lacks "${field}"`);
    return fallback;
  }
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && INT_PATTERN.test(value)) n = Number(value);
  else throw new CodecError("header", `JSON header field "${field}" is not an integer`);
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new CodecError("header", `JSON header field "${field}" is not a 32-bit integer: ${n}`);
  }
  return n;
}

function readLanguage(value: unknown): number {
  if (value === undefined || value === null) return LanguageCode.JAVA;
  if (typeof value === "string") {
    const code = (LanguageCode as Record<string, number>)[value];
    if (code !== undefined && Object.hasOwn(LanguageCode, value)) return code;
    // Java decodes an unknown name to null; keep a usable value instead.
    if (INT_PATTERN.test(value)) return readInt(value, "language", false, LanguageCode.OTHER);
    return LanguageCode.OTHER;
  }
  return readInt(value, "language", false, LanguageCode.OTHER);
}

function scalarToString(value: unknown, key: string): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
      return String(value);
    default:
      if (value === null) return undefined;
      throw new CodecError("header", `extFields value of "${key}" is not a scalar`);
  }
}

/**
 * Best-effort extraction of the opaque from a header that failed to decode,
 * so that a server can still answer the request.
 */
function salvageOpaque(text: string): number | undefined {
  const match = /"opaque"\s*:\s*"?(-?\d{1,10})"?/.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

/**
 * Decode a JSON command header. Accepts what fastjson accepts from Java:
 * integers also as numeric strings, the language as a name or a number,
 * `extFields` values that are numbers or booleans (turned into strings), and
 * null where a field is absent. Unknown keys are ignored.
 *
 * @param bytes The header bytes.
 * @returns The header fields.
 * @throws {CodecError} When the bytes are not a valid JSON header; its
 * `opaque` is set when it could still be read.
 *
 * @example
 * ```ts
 * import { decodeJsonHeader } from "./header_json.ts";
 * import assert from "node:assert/strict";
 *
 * const header = decodeJsonHeader(new TextEncoder().encode(
 *   '{"code":0,"extFields":{"queueId":1,"ok":true},"flag":1,"language":"GO","opaque":"9","version":401}',
 * ));
 * assert.deepEqual(header.extFields, { queueId: "1", ok: "true" });
 * assert.equal(header.language, 9);
 * assert.equal(header.opaque, 9);
 * ```
 */
export function decodeJsonHeader(bytes: Uint8Array): CommandHeader {
  const text = utf8Decode(bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    const err = new CodecError("json", "JSON header is not valid JSON", { cause });
    const opaque = salvageOpaque(text);
    if (opaque !== undefined) err.opaque = opaque;
    throw err;
  }
  try {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new CodecError("header", "JSON header is not an object");
    }
    const object = raw as Record<string, unknown>;
    const header: CommandHeader = {
      code: readInt(object.code, "code", true, 0),
      language: readLanguage(object.language),
      version: readInt(object.version, "version", false, 0),
      opaque: readInt(object.opaque, "opaque", false, 0),
      flag: readInt(object.flag, "flag", false, 0),
      extFields: {},
    };
    const remark = object.remark;
    if (typeof remark === "string") {
      if (remark.length > 0) header.remark = remark;
    } else if (remark !== undefined && remark !== null) {
      throw new CodecError("header", 'JSON header field "remark" is not a string');
    }
    const ext = object.extFields;
    if (typeof ext === "object" && ext !== null && !Array.isArray(ext)) {
      // JSON.parse made this object, with own data properties only (a key
      // "__proto__" included): keep it, turning the rare non-strings into
      // strings in place, rather than copying every field into a new one.
      const fields = ext as Record<string, unknown>;
      for (const key of Object.keys(fields)) {
        const value = fields[key];
        if (typeof value === "string") continue;
        const text = scalarToString(value, key);
        if (text === undefined) delete fields[key];
        else fields[key] = text;
      }
      header.extFields = fields as Record<string, string>;
    } else if (ext !== undefined && ext !== null) {
      throw new CodecError("header", 'JSON header field "extFields" is not an object');
    }
    return header;
  } catch (err) {
    if (err instanceof CodecError && err.opaque === undefined) {
      const opaque = salvageOpaque(text);
      if (opaque !== undefined) err.opaque = opaque;
    }
    throw err;
  }
}
