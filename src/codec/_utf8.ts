// Shared UTF-8 encoder and decoder. Decoding is lenient (malformed sequences
// become U+FFFD), as Java's `new String(bytes, UTF_8)` is.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** The string of UTF-8 bytes, malformed sequences replaced by U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Recently decoded short ASCII strings, by a hash of their bytes. */
const recent: (string | undefined)[] = new Array(512);

/**
 * The string of `bytes[start, end)`. Header keys and most values are short
 * ASCII strings that come back frame after frame (field names, topics,
 * groups, small numbers): those are looked up by a hash of their bytes and
 * handed out again without allocating, and built by hand when new (a
 * `TextDecoder` call costs more than that below 64 bytes, and a string grown
 * a character at a time makes garbage past 16). Longer or non-ASCII text
 * goes to the decoder.
 */
export function utf8DecodeRange(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > 64) return decoder.decode(bytes.subarray(start, end));
  let hash = length;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  const slot = hash & (recent.length - 1);
  const seen = recent[slot];
  if (seen !== undefined && seen.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (seen.charCodeAt(i) !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return seen;
  }
  let text: string;
  if (length < 16) {
    text = "";
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
  } else {
    text = String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  recent[slot] = text;
  return text;
}

/** Number of UTF-8 bytes of a string, without encoding it. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else {
        length += 3;
      }
    } else length += 3;
  }
  return length;
}

/**
 * Write a string's UTF-8 bytes into `out` at `pos`; `out` must have room for
 * `utf8Length(text)` bytes there. ASCII is copied by hand: in Deno every
 * `TextEncoder` call is a call into the runtime, dearer than the copy for
 * the short keys and values of a header.
 *
 * @returns The number of bytes written.
 */
export function utf8Write(text: string, out: Uint8Array, pos: number): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return i + encoder.encodeInto(text.slice(i), out.subarray(pos + i)).written;
    out[pos + i] = c;
  }
  return n;
}
