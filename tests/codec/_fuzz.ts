// Helpers for the codec's robustness properties: mutate valid encodings, and
// check that a decoder throws nothing but CodecError.

import fc from "fast-check";
import { CodecError } from "../../src/errors.ts";

/** Values that make length fields interesting when written over 4 bytes. */
const INTERESTING_INT32 = [
  0,
  1,
  -1,
  2,
  3,
  0x7f,
  0x80,
  0xff,
  0x7fff,
  0x8000,
  0xffff,
  0x7fffffff,
  -0x80000000,
];

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; byte: number }
  | { kind: "delete"; at: number }
  | { kind: "truncate"; at: number }
  | { kind: "int32"; at: number; value: number }
  | { kind: "append"; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("int32" as const),
    at: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(...INTERESTING_INT32),
      fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    ),
  }),
  fc.record({
    kind: fc.constant("append" as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
);

function apply(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  switch (m.kind) {
    case "flip": {
      if (n === 0) return input;
      const out = input.slice();
      out[m.at % n]! ^= 1 << m.bit;
      return out;
    }
    case "insert": {
      const at = m.at % (n + 1);
      const out = new Uint8Array(n + 1);
      out.set(input.subarray(0, at));
      out[at] = m.byte;
      out.set(input.subarray(at), at + 1);
      return out;
    }
    case "delete": {
      if (n === 0) return input;
      const at = m.at % n;
      const out = new Uint8Array(n - 1);
      out.set(input.subarray(0, at));
      out.set(input.subarray(at + 1), at);
      return out;
    }
    case "truncate":
      return input.slice(0, m.at % (n + 1));
    case "int32": {
      if (n < 4) return input;
      const out = input.slice();
      new DataView(out.buffer).setInt32(m.at % (n - 3), m.value);
      return out;
    }
    case "append": {
      const out = new Uint8Array(n + m.bytes.length);
      out.set(input);
      out.set(m.bytes, n);
      return out;
    }
  }
}

/** Valid encodings with 1–4 random mutations (flip, insert, delete, truncate, int32 overwrite, append). */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([bytes, ms]) =>
    ms.reduce(apply, bytes)
  );
}

/** Run `fn`; a CodecError is fine, any other exception fails the property. */
export function onlyCodecError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
  }
}

/** Async form of {@linkcode onlyCodecError}. */
export async function onlyCodecErrorAsync(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
  }
}

/** Bytes as lower-case hex with spaces removed from the input. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Whether a string is free of the properties separators \u0001 and \u0002. */
export function noSeparators(s: string): boolean {
  return !s.includes("\u0001") && !s.includes("\u0002");
}
