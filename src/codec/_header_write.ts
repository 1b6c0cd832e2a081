// Header writers shared by the public encoders (header_json.ts,
// header_rocketmq.ts) and FrameEncoder (frame.ts), which writes headers
// straight into its buffer: no header array of its own per frame.

import { InvalidArgumentError } from "../errors.ts";
import { languageName } from "./codes.ts";
import type { RemotingCommand } from "./remoting_command.ts";
import { utf8Length, utf8Write } from "./_utf8.ts";

/** The fields a header carries (everything but body and serialize type). */
export type HeaderFields = Omit<RemotingCommand, "body" | "serializeType">;

const HEX = "0123456789ABCDEF";

/** fastjson 1.2.83's string literal (see `quoteJsonString`). */
export function quote(text: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c >= 0x20 && c !== 0x22 && c !== 0x5c && (c < 0x7f || c > 0x9f) && c !== 0x2028 &&
      c !== 0x2029
    ) continue;
    out += text.slice(start, i);
    start = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x0d:
        out += "\\r";
        break;
      default:
        out += "\\u" + HEX[c >> 12]! + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
    }
  }
  return out + text.slice(start) + '"';
}

/** Quoted keys seen so far: a header's keys come from a small, fixed set. */
const quotedKeys = new Map<string, string>();

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = quote(key);
    if (quotedKeys.size < 1024) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** The JSON header text, as Java writes it (see `encodeJsonHeader`). */
export function jsonHeaderText(command: HeaderFields): string {
  let json = `{"code":${command.code | 0}`;
  const ext = command.extFields;
  let opened = false;
  let first = true;
  for (const key in ext) {
    if (!Object.hasOwn(ext, key)) continue;
    if (!opened) {
      json += ',"extFields":{';
      opened = true;
    }
    const value = ext[key];
    if (value === undefined || value === null) continue;
    if (!first) json += ",";
    first = false;
    json += quoteKey(key) + ":" + quote(typeof value === "string" ? value : String(value));
  }
  if (opened) json += "}";
  json += `,"flag":${command.flag | 0}`;
  const language = languageName(command.language);
  json += language === undefined
    ? `,"language":${command.language | 0}`
    : `,"language":"${language}"`;
  json += `,"opaque":${command.opaque | 0}`;
  if (command.remark !== undefined && command.remark !== null) {
    json += `,"remark":${quote(command.remark)}`;
  }
  return json + `,"serializeTypeCurrentRPC":"JSON","version":${command.version | 0}}`;
}

/** code, language, version, opaque, flag. */
export const ROCKETMQ_FIXED = 2 + 1 + 2 + 4 + 4;

/**
 * Checks what the binary header cannot carry and returns its size: exact, or
 * (cheaper, `exact` false) an upper bound counting 3 UTF-8 bytes per UTF-16
 * unit of every string.
 */
export function rocketMQHeaderBound(command: HeaderFields, exact = false): number {
  const size = exact ? utf8Length : (text: string) => 3 * text.length;
  if (command.code < -32768 || command.code > 32767) {
    throw new InvalidArgumentError(
      "code",
      `${command.code} does not fit the ROCKETMQ header's 16 bits; use JSON serialization`,
    );
  }
  if (command.version < -32768 || command.version > 32767) {
    throw new InvalidArgumentError("version", `${command.version} does not fit 16 bits`);
  }
  let bound = ROCKETMQ_FIXED + 4 + (command.remark ? size(command.remark) : 0) + 4;
  const ext = command.extFields;
  for (const key in ext) {
    const value = ext[key];
    if (value === undefined || value === null || !Object.hasOwn(ext, key)) continue;
    bound += 6 + size(key) + size(typeof value === "string" ? value : String(value));
  }
  return bound;
}

/**
 * Writes the binary header at `pos`; `out` must have room for
 * {@linkcode rocketMQHeaderBound} bytes there. Returns the bytes written.
 */
export function writeRocketMQHeader(command: HeaderFields, out: Uint8Array, pos: number): number {
  const start = pos;
  out[pos] = command.code >> 8;
  out[pos + 1] = command.code;
  out[pos + 2] = command.language;
  out[pos + 3] = command.version >> 8;
  out[pos + 4] = command.version;
  writeInt(out, pos + 5, command.opaque);
  writeInt(out, pos + 9, command.flag);
  pos += ROCKETMQ_FIXED;
  const remarkLength = command.remark ? utf8Write(command.remark, out, pos + 4) : 0;
  writeInt(out, pos, remarkLength);
  pos += 4 + remarkLength;
  const extStart = pos;
  pos += 4;
  const ext = command.extFields;
  for (const key in ext) {
    const value = ext[key];
    if (value === undefined || value === null || !Object.hasOwn(ext, key)) continue;
    const keyLength = utf8Write(key, out, pos + 2);
    if (keyLength > 32767) {
      throw new InvalidArgumentError(
        `extFields.${key.slice(0, 20)}`,
        "key longer than 32767 bytes",
      );
    }
    out[pos] = keyLength >> 8;
    out[pos + 1] = keyLength;
    pos += 2 + keyLength;
    const valueLength = utf8Write(
      typeof value === "string" ? value : String(value),
      out,
      pos + 4,
    );
    writeInt(out, pos, valueLength);
    pos += 4 + valueLength;
  }
  writeInt(out, extStart, pos - extStart - 4);
  return pos - start;
}

function writeInt(out: Uint8Array, pos: number, value: number): void {
  out[pos] = value >>> 24;
  out[pos + 1] = value >>> 16;
  out[pos + 2] = value >>> 8;
  out[pos + 3] = value;
}
