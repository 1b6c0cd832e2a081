/**
 * JSON as RocketMQ's Java side (fastjson 1.2.83) writes it, and standard
 * JSON out.
 *
 * fastjson writes maps with non-string keys with the key unquoted: a `Long`
 * key as a bare number (`{0:"127.0.0.1:10911"}`) and an object key as a
 * JSON object (`{{"brokerName":"b","queueId":0,"topic":"t"}:42}`). Neither
 * is JSON, so `JSON.parse` rejects them; {@linkcode parseFastJson} accepts
 * them. Java reads standard JSON everywhere, so {@linkcode stringifyJson}
 * always writes standard JSON.
 *
 * @example
 * ```ts
 * import { parseFastJson, stringifyJson } from "./fastjson.ts";
 * import assert from "node:assert/strict";
 *
 * const value = parseFastJson('{"brokerAddrs":{0:"127.0.0.1:10911"}}');
 * assert.deepEqual(value, { brokerAddrs: { "0": "127.0.0.1:10911" } });
 * assert.equal(stringifyJson(value), '{"brokerAddrs":{"0":"127.0.0.1:10911"}}');
 * ```
 *
 * @module
 */

import { CodecError, InvalidArgumentError } from "../errors.ts";
import { quoteJsonString } from "./header_json.ts";

/**
 * Default nesting limit of {@linkcode parseFastJson}.
 *
 * @example
 * ```ts
 * import { DEFAULT_JSON_MAX_DEPTH, parseFastJson } from "./fastjson.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
 * assert.doesNotThrow(() => parseFastJson(nested(DEFAULT_JSON_MAX_DEPTH)));
 * assert.throws(() => parseFastJson(nested(DEFAULT_JSON_MAX_DEPTH + 1)), CodecError);
 * ```
 */
export const DEFAULT_JSON_MAX_DEPTH = 64;

/**
 * Options of {@linkcode parseFastJson}.
 *
 * @example A tighter nesting limit
 * ```ts
 * import { parseFastJson, type ParseFastJsonOptions } from "./fastjson.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ParseFastJsonOptions = { maxDepth: 2 };
 * assert.deepEqual(parseFastJson('{"a":[1]}', options), { a: [1] });
 * assert.throws(() => parseFastJson('{"a":[[1]]}', options), CodecError);
 * ```
 */
export interface ParseFastJsonOptions {
  /**
   * Deepest nesting of objects and arrays accepted (an object used as a key
   * counts as one level below its map).
   * @default {DEFAULT_JSON_MAX_DEPTH}
   */
  maxDepth?: number;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function describeChar(text: string, pos: number): string {
  return pos >= text.length ? "end of input" : `character ${JSON.stringify(text[pos])}`;
}

/**
 * Parse JSON as fastjson writes it: standard JSON, plus object keys that are
 * bare numbers (`{0:"a"}`, key `"0"`: the number's text as written) or JSON
 * objects (key: `JSON.stringify` of the parsed key object). A key
 * `__proto__` becomes an ordinary own property; a later duplicate key wins.
 *
 * Numbers are JS numbers: integers beyond 2^53 lose precision.
 *
 * @param text The JSON text.
 * @param options Nesting limit.
 * @returns The parsed value.
 * @throws {CodecError} With reason `"json"`, naming the offset, on any
 * syntax error or nesting beyond the limit. Nothing else is thrown, for any
 * input, and parsing is linear in the input's length.
 *
 * @example Object keys, as in `ResetOffsetBody`
 * ```ts
 * import { parseFastJson } from "./fastjson.ts";
 * import assert from "node:assert/strict";
 *
 * const value = parseFastJson('{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:42}}');
 * assert.deepEqual(value, {
 *   offsetTable: { '{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}': 42 },
 * });
 * ```
 *
 * @example Errors
 * ```ts
 * import { parseFastJson } from "./fastjson.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseFastJson('{"a":1,}'), (e) => e instanceof CodecError && /offset 7/.test(e.message));
 * ```
 */
export function parseFastJson(text: string, options: ParseFastJsonOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? DEFAULT_JSON_MAX_DEPTH;
  const length = text.length;
  let pos = 0;

  const fail = (problem: string): never => {
    throw new CodecError("json", `invalid JSON: ${problem} at offset ${pos}`);
  };
  const unexpected = (): never => fail(`unexpected ${describeChar(text, pos)}`);

  const skipWhitespace = (): void => {
    while (pos < length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const parseNumberText = (): string => {
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (!match) return unexpected();
    pos += match[0].length;
    return match[0];
  };

  const parseString = (): string => {
    pos++; // opening quote
    let out = "";
    let start = pos;
    while (true) {
      if (pos >= length) return fail("unterminated string");
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(start, pos);
        pos++;
        return out;
      }
      if (c < 0x20) return fail("control character in string");
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(start, pos);
      pos++;
      if (pos >= length) return fail("unterminated string");
      const e = text[pos];
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(pos + 1, pos + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail("invalid \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 4;
          break;
        }
        default:
          return fail("invalid escape");
      }
      pos++;
      start = pos;
    }
  };

  const parseLiteral = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, pos)) {
      pos += word.length;
      return value;
    }
    return unexpected();
  };

  const parseArray = (depth: number): unknown[] => {
    if (depth > maxDepth) return fail(`nesting deeper than ${maxDepth}`);
    pos++;
    const out: unknown[] = [];
    skipWhitespace();
    if (text.charCodeAt(pos) === 0x5d) {
      pos++;
      return out;
    }
    while (true) {
      skipWhitespace();
      out.push(parseValue(depth));
      skipWhitespace();
      const c = text.charCodeAt(pos);
      if (c === 0x2c) {
        pos++;
        continue;
      }
      if (c === 0x5d) {
        pos++;
        return out;
      }
      return unexpected();
    }
  };

  const parseKey = (depth: number): string => {
    const c = text.charCodeAt(pos);
    if (c === 0x22) return parseString();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return parseNumberText();
    if (c === 0x7b) return JSON.stringify(parseObject(depth + 1));
    return unexpected();
  };

  const parseObject = (depth: number): Record<string, unknown> => {
    if (depth > maxDepth) return fail(`nesting deeper than ${maxDepth}`);
    pos++;
    const out: Record<string, unknown> = {};
    skipWhitespace();
    if (text.charCodeAt(pos) === 0x7d) {
      pos++;
      return out;
    }
    while (true) {
      skipWhitespace();
      const key = parseKey(depth);
      skipWhitespace();
      if (text.charCodeAt(pos) !== 0x3a) return unexpected();
      pos++;
      skipWhitespace();
      setOwn(out, key, parseValue(depth));
      skipWhitespace();
      const c = text.charCodeAt(pos);
      if (c === 0x2c) {
        pos++;
        continue;
      }
      if (c === 0x7d) {
        pos++;
        return out;
      }
      return unexpected();
    }
  };

  const parseValue = (depth: number): unknown => {
    const c = text.charCodeAt(pos);
    switch (c) {
      case 0x7b:
        return parseObject(depth + 1);
      case 0x5b:
        return parseArray(depth + 1);
      case 0x22:
        return parseString();
      case 0x74:
        return parseLiteral("true", true);
      case 0x66:
        return parseLiteral("false", false);
      case 0x6e:
        return parseLiteral("null", null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return Number(parseNumberText());
        return unexpected();
    }
  };

  skipWhitespace();
  const value = parseValue(0);
  skipWhitespace();
  if (pos < length) unexpected();
  return value;
}

const MAX_STRINGIFY_DEPTH = 256;
const CANONICAL_INTEGER = /^(?:0|[1-9]\d{0,15})$/;

// fastjson sorts bean fields by name and Long-keyed maps (broker ids) by
// number: keys that are both canonical integers compare numerically.
function compareKeys(a: string, b: string): number {
  if (CANONICAL_INTEGER.test(a) && CANONICAL_INTEGER.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Write standard JSON the way fastjson writes RocketMQ's objects: object
 * keys sorted (fastjson writes bean fields alphabetically; keys that are
 * both integers compare numerically, as fastjson sorts `Long` map keys),
 * fastjson's string escaping (non-ASCII as is), `undefined` properties left
 * out, bigints as integers. Values with a `toJSON` method are replaced by
 * its result, as `JSON.stringify` does.
 *
 * @param value A JSON-compatible value.
 * @returns The JSON text.
 * @throws {InvalidArgumentError} On values JSON cannot represent (functions,
 * symbols, non-finite numbers) and on nesting deeper than 256 (cycles).
 *
 * @example
 * ```ts
 * import { stringifyJson } from "./fastjson.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stringifyJson({ topic: "t", brokerName: "b", queueId: 0, x: undefined }),
 *   '{"brokerName":"b","queueId":0,"topic":"t"}');
 * assert.equal(stringifyJson({ offset: 2n ** 60n, s: "\u0001" }), '{"offset":1152921504606846976,"s":"\\u0001"}');
 * ```
 */
export function stringifyJson(value: unknown): string {
  return write(value, "value", 0);
}

function write(value: unknown, path: string, depth: number): string {
  if (depth > MAX_STRINGIFY_DEPTH) {
    throw new InvalidArgumentError(path, `nested deeper than ${MAX_STRINGIFY_DEPTH} (a cycle?)`);
  }
  if (
    value !== null && typeof value === "object" &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  switch (typeof value) {
    case "string":
      return quoteJsonString(value);
    case "number":
      if (!Number.isFinite(value)) {
        throw new InvalidArgumentError(path, `${value} is not representable in JSON`);
      }
      return Object.is(value, -0) ? "0" : String(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        const parts = value.map((item, i) =>
          item === undefined ? "null" : write(item, `${path}[${i}]`, depth + 1)
        );
        return `[${parts.join(",")}]`;
      }
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort(compareKeys)) {
        const item = record[key];
        if (item === undefined) continue;
        parts.push(`${quoteJsonString(key)}:${write(item, `${path}.${key}`, depth + 1)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new InvalidArgumentError(path, `a ${typeof value} is not representable in JSON`);
  }
}
