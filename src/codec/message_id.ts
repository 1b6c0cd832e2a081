/**
 * Message ids: the broker's offset message id (`MessageDecoder.createMessageId`)
 * and the client's `UNIQ_KEY` (`MessageClientIDSetter`).
 *
 * @example
 * ```ts
 * import { offsetMessageId, parseOffsetMessageId } from "./message_id.ts";
 * import assert from "node:assert/strict";
 *
 * const id = offsetMessageId({ address: "127.0.0.1", port: 10911 }, 4096);
 * assert.equal(id, "7F00000100002A9F0000000000001000");
 * assert.deepEqual(parseOffsetMessageId(id), { storeHost: { address: "127.0.0.1", port: 10911 }, commitLogOffset: 4096 });
 * ```
 *
 * @module
 */

import { CodecError, InvalidArgumentError } from "../errors.ts";
import { checkInt64 } from "./_int.ts";
import { formatIp, parseIp } from "./_ip.ts";
import type { HostAddress } from "./message_ext.ts";

const HEX = "0123456789ABCDEF";

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/** `value` (an unsigned 32-bit integer) as 8 upper-case hex digits. */
function hex32(value: number): string {
  const text = (value >>> 0).toString(16).toUpperCase();
  return text.length === 8 ? text : "00000000".slice(text.length) + text;
}

/** `value` as `digits` upper-case hex digits (the low 4·digits bits). */
function hexDigits(value: number, digits: number): string {
  const text = (value >>> 0).toString(16).toUpperCase();
  return text.length >= digits ? text.slice(-digits) : "0".repeat(digits - text.length) + text;
}

/** Hex of the store host's address and port, per host: the same few for every message. */
const hostHex = new Map<string, string>();

function fromHex(text: string, what: "message-id"): Uint8Array {
  if (!/^[0-9A-Fa-f]*$/.test(text) || text.length % 2 !== 0) {
    throw new CodecError(what, `${JSON.stringify(text.slice(0, 64))} is not upper-case hex`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The offset message id of a stored message: upper-case hex of
 * `storeHost IP (4 or 16 bytes) | port (int) | commitLogOffset (long)`, 32
 * characters for IPv4, 56 for IPv6. An IPv4-mapped IPv6 address counts as
 * IPv4, as in Java.
 *
 * @param storeHost The broker's address.
 * @param commitLogOffset Physical offset of the message.
 * @returns The id.
 * @throws {InvalidArgumentError} When the address or port is invalid or the
 * offset is not a 64-bit integer.
 *
 * @example IPv6
 * ```ts
 * import { offsetMessageId } from "./message_id.ts";
 * import assert from "node:assert/strict";
 *
 * const id = offsetMessageId({ address: "::1", port: 10911 }, 1);
 * assert.equal(id, "00000000000000000000000000000001" + "00002A9F" + "0000000000000001");
 * assert.equal(id.length, 56);
 * ```
 */
export function offsetMessageId(storeHost: Readonly<HostAddress>, commitLogOffset: number): string {
  const port = storeHost.port;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new InvalidArgumentError("storeHost.port", `must be a port number 0-65535, got ${port}`);
  }
  const key = `${storeHost.address}/${port}`;
  let host = hostHex.get(key);
  if (host === undefined) {
    host = toHex(parseIp(storeHost.address, undefined, "storeHost.address")) + hex32(port);
    if (hostHex.size >= 1024) hostHex.clear();
    hostHex.set(key, host);
  }
  const offset = checkInt64(commitLogOffset, "commitLogOffset");
  // Two 32-bit halves, exact below 2^53 (beyond that, as lossy as the number).
  const high = Math.floor(offset / 0x1_0000_0000);
  const low = offset - high * 0x1_0000_0000;
  return host + hex32(high) + hex32(low);
}

/**
 * Parse an offset message id (`MessageDecoder.decodeMessageId`). Lower-case
 * hex is accepted, as Java upper-cases first.
 *
 * @param id The id: 32 hex characters (IPv4) or 56 (IPv6).
 * @returns The store host and the commit-log offset (a JS number: beyond
 * 2^53 it loses precision).
 * @throws {CodecError} With reason `"message-id"` on a wrong length, a
 * non-hex character or a port outside 0–65535.
 *
 * @example
 * ```ts
 * import { parseOffsetMessageId } from "./message_id.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseOffsetMessageId("0A0000010000271100000000000000FF").commitLogOffset, 255);
 * assert.throws(() => parseOffsetMessageId("XYZ"), CodecError);
 * ```
 */
export function parseOffsetMessageId(
  id: string,
): { storeHost: HostAddress; commitLogOffset: number } {
  if (id.length !== 32 && id.length !== 56) {
    throw new CodecError(
      "message-id",
      `offset message id has ${id.length} characters, not 32 or 56`,
    );
  }
  const bytes = fromHex(id, "message-id");
  const ipLength = id.length === 32 ? 4 : 16;
  const view = new DataView(bytes.buffer);
  const port = view.getInt32(ipLength);
  if (port < 0 || port > 0xffff) {
    throw new CodecError("message-id", `offset message id has port ${port} out of range`);
  }
  return {
    storeHost: { address: formatIp(bytes.subarray(0, ipLength)), port },
    commitLogOffset: Number(view.getBigInt64(ipLength + 4)),
  };
}

/**
 * Options of {@linkcode UniqueKeyGenerator}.
 *
 * @example
 * ```ts
 * import { UniqueKeyGenerator, type UniqueKeyGeneratorOptions } from "./message_id.ts";
 * import assert from "node:assert/strict";
 *
 * const options: UniqueKeyGeneratorOptions = { ip: new Uint8Array([10, 0, 0, 5]), pid: 0x1234, seed: 1 };
 * const gen = new UniqueKeyGenerator(options);
 * // ip, pid and seed make a fixed prefix; the rest changes with time and a counter.
 * assert.ok(gen.next().startsWith("0A000005" + "1234" + "00000001"));
 * ```
 */
export interface UniqueKeyGeneratorOptions {
  /**
   * The client's IP, 4 or 16 bytes. Java uses the host's first non-loopback
   * address.
   * @default A fake address from the clock, as Java's `createFakeIP()`.
   */
  ip?: Uint8Array;
  /**
   * The process id; its low 16 bits are used.
   * @default {random}
   */
  pid?: number;
  /**
   * A per-process 32-bit value (Java: the class loader's hash code).
   * @default {random}
   */
  seed?: number;
  /**
   * Clock in ms since the epoch.
   * @default {Date.now}
   */
  now?: () => number;
}

function monthStart(ms: number): { start: number; next: number } {
  const d = new Date(ms);
  return {
    start: new Date(d.getFullYear(), d.getMonth(), 1).getTime(),
    next: new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime(),
  };
}

function randomUint32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/**
 * Generates `UNIQ_KEY` message ids in `MessageClientIDSetter`'s format:
 * upper-case hex of `ip (4 or 16 bytes) | pid (short) | seed (int) | ms
 * since the start of the current month, local calendar (int) | counter
 * (short, wrapping)`: 32 characters with an IPv4 address, 56 with IPv6.
 *
 * The month offset is a Java `int` cast of the difference: after about 24.8
 * days it wraps to negative values (its hex stays the low 32 bits).
 *
 * @example
 * ```ts
 * import { parseUniqueKey, UniqueKeyGenerator } from "./message_id.ts";
 * import assert from "node:assert/strict";
 *
 * const at = new Date(2024, 4, 2, 0, 0, 0, 5).getTime(); // 2 May, local time
 * const gen = new UniqueKeyGenerator({ ip: new Uint8Array([10, 0, 0, 5]), pid: 0x1234, seed: 0x0badcafe, now: () => at });
 * assert.equal(gen.next(), "0A000005" + "1234" + "0BADCAFE" + "05265C05" + "0000");
 * assert.equal(gen.next().slice(-4), "0001");
 * const parsed = parseUniqueKey(gen.next(), at + 1000);
 * assert.deepEqual(parsed, { ip: "10.0.0.5", pid: 0x1234, timestamp: at, counter: 2 });
 * ```
 */
export class UniqueKeyGenerator {
  #prefix: string;
  #now: () => number;
  #start = 0;
  #next = 0;
  #counter = 0;

  /**
   * Create a generator; the fixed prefix (ip, pid, seed) is computed once.
   *
   * @param options Address, process id, seed and clock.
   * @throws {InvalidArgumentError} When `ip` is not 4 or 16 bytes, or `pid`
   * or `seed` is not an integer.
   */
  constructor(options: UniqueKeyGeneratorOptions = {}) {
    this.#now = options.now ?? Date.now;
    let ip = options.ip;
    if (ip === undefined) {
      const fake = new DataView(new ArrayBuffer(8));
      fake.setBigInt64(0, BigInt(Math.trunc(this.#now())));
      ip = new Uint8Array(fake.buffer, 4, 4);
    } else if (ip.length !== 4 && ip.length !== 16) {
      throw new InvalidArgumentError("ip", `must be 4 or 16 bytes, got ${ip.length}`);
    }
    const pid = options.pid ?? randomUint32();
    const seed = options.seed ?? randomUint32();
    if (!Number.isInteger(pid)) {
      throw new InvalidArgumentError("pid", `must be an integer, got ${pid}`);
    }
    if (!Number.isInteger(seed)) {
      throw new InvalidArgumentError("seed", `must be an integer, got ${seed}`);
    }
    const fixed = new Uint8Array(ip.length + 6);
    fixed.set(ip);
    const view = new DataView(fixed.buffer);
    view.setUint16(ip.length, pid & 0xffff);
    view.setInt32(ip.length + 2, seed | 0);
    this.#prefix = toHex(fixed);
    this.#setStart(this.#now());
  }

  #setStart(ms: number): void {
    const { start, next } = monthStart(ms);
    this.#start = start;
    this.#next = next;
  }

  /**
   * The next id.
   *
   * @returns A new `UNIQ_KEY`.
   *
   * @example
   * ```ts
   * import { UniqueKeyGenerator } from "./message_id.ts";
   * import assert from "node:assert/strict";
   *
   * const gen = new UniqueKeyGenerator({ ip: new Uint8Array(16), pid: 1, seed: 2 });
   * assert.match(gen.next(), /^[0-9A-F]{56}$/);
   * ```
   */
  next(): string {
    const current = this.#now();
    if (current >= this.#next) this.#setStart(current);
    let diff = Math.trunc(current - this.#start) | 0; // Java's (int) cast
    if (diff < 0 && diff > -1_000_000) diff = 0; // clock stepped back (NTP)
    const counter = this.#counter;
    this.#counter = (counter + 1) | 0;
    return this.#prefix + hex32(diff) + hexDigits(counter & 0xffff, 4);
  }
}

/**
 * The parts of a `UNIQ_KEY`.
 *
 * @example An IPv6 client's key
 * ```ts
 * import { parseUniqueKey, type UniqueKeyInfo } from "./message_id.ts";
 * import assert from "node:assert/strict";
 *
 * const key = "00000000000000000000000000000001" + "0FA1" + "00000000" + "00000000" + "0007";
 * const info: UniqueKeyInfo = parseUniqueKey(key);
 * assert.equal(info.ip, "0000:0000:0000:0000:0000:0000:0000:0001");
 * assert.equal(info.counter, 7);
 * ```
 */
export interface UniqueKeyInfo {
  /** Client IP, dotted IPv4 or IPv6 in Java's `UtilAll.ipToIPv6Str` form (zero-padded groups). */
  ip: string;
  /** Low 16 bits of the client's process id. */
  pid: number;
  /**
   * Approximate creation time in ms since the epoch, as Java's
   * `getNearlyTimeFromID`: the month offset added to the start of the
   * current month, or of the previous month when that would lie in the
   * future.
   */
  timestamp: number;
  /** The counter (0–65535). */
  counter: number;
}

/**
 * Parse a `UNIQ_KEY` (32 hex characters with an IPv4 address, 56 with
 * IPv6).
 *
 * @param key The id.
 * @param now The reference time for the month, in ms since the epoch.
 * @returns Its parts.
 * @throws {CodecError} With reason `"message-id"` on a wrong length or a
 * non-hex character.
 *
 * @example
 * ```ts
 * import { parseUniqueKey } from "./message_id.ts";
 * import assert from "node:assert/strict";
 *
 * const info = parseUniqueKey("7F0000010FA1" + "00000000" + "00000000" + "002A");
 * assert.equal(info.ip, "127.0.0.1");
 * assert.equal(info.pid, 0x0fa1);
 * assert.equal(info.counter, 42);
 * ```
 */
export function parseUniqueKey(key: string, now: number = Date.now()): UniqueKeyInfo {
  if (key.length !== 32 && key.length !== 56) {
    throw new CodecError("message-id", `UNIQ_KEY has ${key.length} characters, not 32 or 56`);
  }
  const bytes = fromHex(key, "message-id");
  const ipLength = key.length === 32 ? 4 : 16;
  const view = new DataView(bytes.buffer);
  const ipBytes = bytes.subarray(0, ipLength);
  let ip: string;
  if (ipLength === 4) {
    ip = formatIp(ipBytes);
  } else {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(toHex(ipBytes.subarray(i, i + 2)).toLowerCase());
    ip = groups.join(":");
  }
  const span = view.getUint32(ipLength + 6);
  let { start } = monthStart(now);
  if (start + span >= now) {
    const d = new Date(start);
    start = new Date(d.getFullYear(), d.getMonth() - 1, 1).getTime();
  }
  return {
    ip,
    pid: view.getUint16(ipLength),
    timestamp: start + span,
    counter: view.getUint16(ipLength + 10),
  };
}
