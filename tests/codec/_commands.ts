// Arbitraries and helpers for the property tests of the command codec (frames, headers,
// decoder stream): random commands in both serializations, what the wire format can carry
// of them, byte mutations, and stream plumbing that works on Deno, Node and Bun.

import fc from "fast-check";
import { SerializeType } from "../../src/codec/codes.ts";
import type { RemotingCommand } from "../../src/codec/remoting_command.ts";
import { setField } from "../../src/codec/remoting_command.ts";
import { CodecError } from "../../src/errors.ts";

const INT32 = { min: -0x80000000, max: 0x7fffffff };
const INT16 = { min: -0x8000, max: 0x7fff };

/** Characters that JSON escaping and UTF-8 treat specially. */
const SPECIALS = [
  '"',
  "\\",
  "/",
  "\u0000",
  "\u0001",
  "\u0002",
  "\n",
  "\t",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\uffff",
  "é",
  "中",
  "😀",
  "\\u0041",
  '":1}',
];

/** Strings mixing special characters and arbitrary code points (no lone surrogates). */
export const textArb: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...SPECIALS), fc.string({ unit: "binary", maxLength: 4 })), {
    maxLength: 8,
  })
  .map((parts) => parts.join(""));

const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "0", "1", "") },
  { weight: 2, arbitrary: fc.constantFrom("topic", "queueId", "a", "b", "i", "bname", "opaque") },
  { weight: 4, arbitrary: textArb },
);

/** A command the given serialization can carry in principle (16-bit code and version in ROCKETMQ). */
export function commandArb(serializeType?: SerializeType): fc.Arbitrary<RemotingCommand> {
  const typeArb = serializeType === undefined
    ? fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ)
    : fc.constant(serializeType);
  return typeArb.chain((type) => {
    const small = type === SerializeType.ROCKETMQ ? INT16 : INT32;
    return fc.record({
      code: fc.oneof(fc.constantFrom(0, 1, 105, 310, 11, 34), fc.integer(small)),
      language: fc.oneof(fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 255 })),
      version: fc.oneof(fc.constantFrom(0, 401, 479, 513), fc.integer(small)),
      opaque: fc.integer(INT32),
      flag: fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer(INT32)),
      remark: fc.option(textArb, { nil: undefined }),
      ext: fc.uniqueArray(fc.tuple(keyArb, textArb), { selector: ([k]) => k, maxLength: 6 }),
      body: fc.uint8Array({ maxLength: 48 }),
    }).map(({ ext, remark, ...rest }) => {
      const extFields: Record<string, string> = {};
      for (const [k, v] of ext) setField(extFields, k, v);
      const command: RemotingCommand = { ...rest, extFields, serializeType: type };
      if (remark !== undefined) command.remark = remark;
      return command;
    });
  });
}

/**
 * What a decoder yields for a command: an empty remark is absent (both formats), and the
 * ROCKETMQ format drops entries with an empty key or value. Bodies as hex, so that views
 * and copies compare equal.
 */
export function normalised(c: RemotingCommand): Record<string, unknown> {
  const extFields: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.extFields)) {
    if (c.serializeType === SerializeType.ROCKETMQ && (k === "" || v === "")) continue;
    setField(extFields, k, v);
  }
  const out: Record<string, unknown> = {
    code: c.code,
    language: c.language,
    version: c.version,
    opaque: c.opaque,
    flag: c.flag,
    extFields,
    body: Array.from(c.body, (b) => b.toString(16).padStart(2, "0")).join(""),
    serializeType: c.serializeType,
  };
  if (c.remark !== undefined && c.remark !== "") out.remark = c.remark;
  return out;
}

/** Values that make a 4-byte length field interesting. */
export const INTERESTING_INT32 = [
  0,
  1,
  3,
  4,
  5,
  0x7f,
  0x80,
  0xff,
  0x7fff,
  0x8000,
  0xffff,
  0xffffff,
  0x1000000,
  0x7fffffff,
  -1,
  -0x80000000,
];

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; byte: number }
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
    kind: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
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
    value: fc.oneof(fc.constantFrom(...INTERESTING_INT32), fc.integer(INT32)),
  }),
  fc.record({
    kind: fc.constant("append" as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
);

function apply(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  switch (m.kind) {
    case "flip":
    case "set": {
      if (n === 0) return input;
      const out = input.slice();
      const at = m.at % n;
      out[at] = m.kind === "flip" ? out[at]! ^ (1 << m.bit) : m.byte;
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
      // Length fields live at 4-byte boundaries of the frame; hit them often.
      const at = m.at % 3 === 0 ? (m.at % 2) * 4 : m.at % (n - 3);
      new DataView(out.buffer).setInt32(Math.min(at, n - 4), m.value);
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

/** The bytes with 1–4 random mutations (bit flip, byte set/insert/delete, truncation, int32 overwrite, append). */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([bytes, ms]) =>
    ms.reduce(apply, bytes)
  );
}

/** Run `fn`: returning or throwing a CodecError is fine; anything else is rethrown. */
export function onlyCodecError(fn: () => unknown): CodecError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof CodecError) return err;
    throw err;
  }
}

/** Split bytes at the given cut points (any numbers; reduced modulo the length, deduplicated). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    if (p > start) chunks.push(bytes.subarray(start, p));
    start = Math.max(start, p);
  }
  if (start < bytes.length) chunks.push(bytes.subarray(start));
  return chunks;
}

/** Every byte as its own chunk. */
export function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

/** Outcome of piping chunks through a transform stream. */
export interface Piped<T> {
  values: T[];
  error?: unknown;
}

/**
 * Write the chunks into the transform, close it, and collect everything it yields, or
 * the error it ended with. Fails (instead of hanging) when the stream makes no progress
 * (no chunk taken, nothing yielded) for `timeout` ms: a stall, not a slow machine, since
 * 1-byte chunks of several frames take thousands of steps, each far shorter than that.
 */
export async function pipe<T>(
  transform: TransformStream<Uint8Array, T>,
  chunks: readonly Uint8Array[],
  timeout = 5000,
): Promise<Piped<T>> {
  const writer = transform.writable.getWriter();
  const reader = transform.readable.getReader();
  const values: T[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled!: (error: Error) => void;
  const hang = new Promise<never>((_, reject) => stalled = reject);
  const progress = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => stalled(new Error(`stream made no progress for ${timeout} ms`)),
      timeout,
    );
  };
  progress();
  const read = (async (): Promise<Piped<T>> => {
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return { values };
        values.push(value);
        progress();
      }
    } catch (error) {
      return { values, error };
    }
  })();
  // Write errors mirror the readable's error, which `read` reports.
  (async () => {
    for (const chunk of chunks) {
      await writer.write(chunk);
      progress();
    }
    await writer.close();
  })().catch(() => {});
  try {
    return await Promise.race([read, hang]);
  } finally {
    clearTimeout(timer);
  }
}
