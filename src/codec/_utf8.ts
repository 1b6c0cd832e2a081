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

/**
 * The string of `bytes[start, end)`. Short ASCII runs (header keys and
 * values) are built by hand: a `TextDecoder` call costs more than the loop
 * below 16 bytes in Deno, Node and Bun alike.
 */
export function utf8DecodeRange(bytes: Uint8Array, start: number, end: number): string {
  if (end - start < 16) {
    let text = "";
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
      text += String.fromCharCode(c);
    }
    return text;
  }
  return decoder.decode(bytes.subarray(start, end));
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
