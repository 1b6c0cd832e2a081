// IP address text <-> bytes, with the conventions of Java's InetAddress:
// text is what `getHostAddress()` returns (dotted IPv4; IPv6 as eight
// lower-case hex groups without zero compression), and a 16-byte IPv4-mapped
// address (::ffff:a.b.c.d) is an IPv4 address.

import { InvalidArgumentError } from "../errors.ts";

/** Java's `getHostAddress()` text of 4 or 16 address bytes. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (isV4Mapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(":");
}

function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(text: string): Uint8Array | undefined {
  const m = V4.exec(text);
  if (!m) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(m[i + 1]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseV6(text: string): Uint8Array | undefined {
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.indexOf(".", lastColon) > lastColon) {
    tail = parseV4(text.slice(lastColon + 1));
    if (!tail) return undefined;
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/**
 * Address bytes of an IP text: 4 bytes for IPv4 and IPv4-mapped IPv6
 * (unless `width` 16 is asked for), 16 bytes for other IPv6 texts.
 *
 * @param text Dotted IPv4 or IPv6 text (full or `::`-compressed, brackets allowed).
 * @param width Required width: 4, 16 or `undefined` for the natural width.
 * @param path Argument path for the error.
 * @returns The bytes, possibly shared with other callers: read them, never write.
 */
export function parseIp(text: string, width: 4 | 16 | undefined, path: string): Uint8Array {
  // A broker parses the same few addresses (its own, its clients') for every
  // message it stores; the bytes are only ever read.
  const key = width === undefined ? text : `${width}/${text}`;
  let bytes = cache.get(key);
  if (bytes === undefined) {
    bytes = parse(text, width, path);
    if (cache.size >= 1024) cache.clear();
    cache.set(key, bytes);
  }
  return bytes;
}

const cache = new Map<string, Uint8Array>();

function parse(text: string, width: 4 | 16 | undefined, path: string): Uint8Array {
  const v4 = parseV4(text);
  if (v4) {
    if (width !== 16) return v4;
    const mapped = new Uint8Array(16);
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    mapped.set(v4, 12);
    return mapped;
  }
  const v6 = parseV6(text);
  if (!v6) throw new InvalidArgumentError(path, `not an IP address: ${JSON.stringify(text)}`);
  if (width === 16) return v6;
  if (isV4Mapped(v6)) return v6.slice(12);
  if (width === 4) {
    throw new InvalidArgumentError(path, `IPv6 address ${text} where IPv4 is required`);
  }
  return v6;
}
