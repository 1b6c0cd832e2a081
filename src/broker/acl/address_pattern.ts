/**
 * RocketMQ's remote address patterns (`RemoteAddressStrategyFactory`), as
 * written in `plain_acl.yml`: `*` (anywhere), an exact IPv4 or IPv6 address,
 * `192.168.1.*` or `192.168.*.*`, a range in a segment (`192.168.1.1-100`),
 * a set in the last segment (`192.168.1.{1,2,3}`) and comma lists
 * (`10.0.0.1,10.0.0.2`). IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`, as
 * dual-stack sockets report them) match as their IPv4 address.
 *
 * @example
 * ```ts
 * import { compileAddressPattern } from "./address_pattern.ts";
 * import assert from "node:assert/strict";
 *
 * const lan = compileAddressPattern("192.168.1.*");
 * assert.equal(lan("192.168.1.20"), true);
 * assert.equal(lan("::ffff:192.168.1.20"), true);
 * assert.equal(lan("192.168.2.20"), false);
 * assert.equal(compileAddressPattern("10.0.0.1-10")("10.0.0.11"), false);
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../../errors.ts";

/**
 * Tells whether an IP address matches a pattern.
 *
 * @example
 * ```ts
 * import { type AddressMatcher, compileAddressPattern } from "./address_pattern.ts";
 * import assert from "node:assert/strict";
 *
 * const local: AddressMatcher = compileAddressPattern("127.0.0.1,::1");
 * assert.ok(local("::1") && local("127.0.0.1"));
 * ```
 */
export type AddressMatcher = (ip: string) => boolean;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Segments(ip: string): number[] | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : undefined;
}

/**
 * Normalize an IP address: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6
 * as eight lower-case groups without leading zeros.
 *
 * @param ip An address, IPv6 with or without brackets.
 * @returns The normalized address, or `undefined` when it is no IP address.
 *
 * @example
 * ```ts
 * import { normalizeIp } from "./address_pattern.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalizeIp("::1"), "0:0:0:0:0:0:0:1");
 * assert.equal(normalizeIp("::FFFF:10.0.0.1"), "10.0.0.1");
 * assert.equal(normalizeIp("example.com"), undefined);
 * ```
 */
export function normalizeIp(ip: string): string | undefined {
  let s = ip.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (ipv4Segments(s)) return s;
  if (!s.includes(":")) return undefined;
  const groups = ipv6Groups(s);
  if (!groups) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  return groups.map((g) => g.toString(16)).join(":");
}

function ipv6Groups(s: string): number[] | undefined {
  let text = s.toLowerCase();
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4Segments(tail);
    if (!v4) return undefined;
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${
      ((v4[2]! << 8) | v4[3]!).toString(16)
    }`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - rest.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}

type Segment = { min: number; max: number };

function segmentPattern(text: string, max: number, radix: number): Segment | undefined {
  const t = text.trim();
  if (t === "*") return { min: 0, max };
  const digits = radix === 10 ? /^\d{1,3}$/ : /^[0-9a-fA-F]{1,4}$/;
  const dash = t.indexOf("-");
  if (dash > 0) {
    const a = t.slice(0, dash), b = t.slice(dash + 1);
    if (!digits.test(a) || !digits.test(b)) return undefined;
    const lo = parseInt(a, radix), hi = parseInt(b, radix);
    return lo <= hi && hi <= max ? { min: lo, max: hi } : undefined;
  }
  if (!digits.test(t)) return undefined;
  const n = parseInt(t, radix);
  return n <= max ? { min: n, max: n } : undefined;
}

function rangeMatcher(pattern: string): AddressMatcher | undefined {
  const v6 = pattern.includes(":");
  const parts = pattern.split(v6 ? ":" : ".");
  if (parts.length !== (v6 ? 8 : 4)) return undefined;
  const segments: Segment[] = [];
  for (const part of parts) {
    const seg = segmentPattern(part, v6 ? 0xffff : 255, v6 ? 16 : 10);
    if (!seg) return undefined;
    segments.push(seg);
  }
  return (ip) => {
    const norm = normalizeIp(ip);
    if (norm === undefined || norm.includes(":") !== v6) return false;
    const values = v6 ? norm.split(":").map((g) => parseInt(g, 16)) : norm.split(".").map(Number);
    return segments.every((s, i) => values[i]! >= s.min && values[i]! <= s.max);
  };
}

function setMatcher(addresses: readonly string[], pattern: string): AddressMatcher {
  const set = new Set<string>();
  for (const a of addresses) {
    const norm = normalizeIp(a);
    if (norm === undefined) throw invalid(pattern, `${JSON.stringify(a.trim())} is no IP address`);
    set.add(norm);
  }
  return (ip) => {
    const norm = normalizeIp(ip);
    return norm !== undefined && set.has(norm);
  };
}

function invalid(pattern: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError("whiteRemoteAddress", `${JSON.stringify(pattern)}: ${why}`);
}

/**
 * Compile a remote address pattern.
 *
 * @param pattern The pattern, as in `plain_acl.yml`.
 * @returns A matcher; a blank pattern matches nothing.
 * @throws {InvalidArgumentError} When the pattern is malformed.
 *
 * @example Sets and ranges
 * ```ts
 * import { compileAddressPattern } from "./address_pattern.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(compileAddressPattern("10.0.0.{1,2}")("10.0.0.2"), true);
 * assert.equal(compileAddressPattern("10.0.*.*")("10.0.9.9"), true);
 * assert.equal(compileAddressPattern("*")("::1"), true);
 * assert.equal(compileAddressPattern("")("10.0.0.1"), false);
 * assert.throws(() => compileAddressPattern("10.0.0.300"));
 * ```
 */
export function compileAddressPattern(pattern: string): AddressMatcher {
  const p = pattern.trim();
  if (p === "") return () => false;
  if (p === "*" || p === "*.*.*.*" || p === "*:*:*:*:*:*:*:*") return () => true;
  if (p.endsWith("}")) {
    const open = p.lastIndexOf("{");
    const sep = p.includes(":") ? ":" : ".";
    if (open <= 0 || p[open - 1] !== sep) throw invalid(p, "a {…} set must be the last segment");
    const head = p.slice(0, open);
    const items = p.slice(open + 1, -1).split(",").map((s) => s.trim()).filter((s) => s !== "");
    if (items.length === 0) throw invalid(p, "empty {…} set");
    return setMatcher(items.map((i) => head + i), p);
  }
  if (p.includes(",")) return setMatcher(p.split(","), p);
  const exact = normalizeIp(p);
  if (exact !== undefined) return setMatcher([p], p);
  const range = rangeMatcher(p);
  if (!range) {
    throw invalid(p, "not an address, a range (1.2.3.1-9), a wildcard (1.2.*.*) or a set");
  }
  return range;
}
