// The custom-header engine: its valibot-free decoding of valid extFields must
// give exactly what the schema gives, and Java's integer parsing rules hold.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { codec, decode, decodeWithSchema } from "../../src/codec/_header_codec.ts";
import { parseJavaInteger } from "../../src/codec/_int.ts";
import { CodecError } from "../../src/errors.ts";

interface Every {
  s: string;
  i: number;
  l: number;
  b: boolean;
  so?: string;
  io?: number;
  lo?: number;
  bo?: boolean;
}

const EVERY = codec<Every>("Every", {
  s: ["string", "required"],
  i: ["int", "required"],
  l: ["long", "required"],
  b: ["bool", "required"],
  so: ["string", "optional"],
  io: ["int", "optional"],
  lo: ["long", "optional"],
  bo: ["bool", "optional"],
});

const numberText = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom(
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "000000000000000000000012",
    "+7",
    "-0",
    "+",
    "-",
    "",
    "1e3",
    " 1",
    "0x10",
    "١٢",
  ),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.string({ maxLength: 6 }),
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: numberText },
  { weight: 2, arbitrary: fc.constantFrom("true", "TRUE", "false", "yes") },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 5, true, {}) },
);
const boolText = fc.constantFrom("true", "TRUE", "True", "false", "yes", "");
/** Mostly valid headers, with a few fields replaced, removed or added. */
const extArb = fc.record({
  s: fc.string({ maxLength: 5 }),
  i: fc.integer().map(String),
  l: fc.oneof(fc.integer().map(String), fc.constant("9007199254740993")),
  b: boolText,
  so: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
  io: fc.option(fc.integer().map(String), { nil: undefined }),
  lo: fc.option(fc.integer().map(String), { nil: undefined }),
  bo: fc.option(boolText, { nil: undefined }),
}).chain((valid) =>
  fc.array(
    fc.tuple(
      fc.constantFrom("s", "i", "l", "b", "so", "io", "lo", "bo", "extra", "toString"),
      fc.option(valueArb, { nil: "delete" as const }),
    ),
    { maxLength: 2 },
  ).map((edits) => {
    const ext: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(valid)) if (value !== undefined) ext[key] = value;
    for (const [key, value] of edits) {
      if (value === "delete") delete ext[key];
      else ext[key] = value;
    }
    return ext;
  })
);

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    assert.ok(err instanceof CodecError, String(err));
    return { error: err.message };
  }
}

describe("header codec engine", () => {
  it("decode() gives what the valibot schema gives, value or error, for any extFields", () => {
    fc.assert(
      fc.property(extArb, (ext) => {
        const fast = outcome(() => decode(EVERY, ext as Record<string, string>));
        const reference = outcome(() => decodeWithSchema(EVERY, ext));
        assert.deepEqual(fast, reference);
      }),
      { numRuns: 3000 },
    );
  });

  it("parseJavaInteger follows Integer.parseInt / Long.parseLong", () => {
    const reference = (text: string, bits: 32 | 64): number | undefined => {
      if (!/^[+-]?\d+$/.test(text)) return undefined;
      const value = BigInt(text);
      const limit = 2n ** BigInt(bits - 1);
      return value < -limit || value >= limit ? undefined : Number(value);
    };
    fc.assert(
      fc.property(numberText, fc.constantFrom(32 as const, 64 as const), (text, bits) => {
        assert.equal(parseJavaInteger(text, bits), reference(text, bits), text);
      }),
      { numRuns: 3000 },
    );
    assert.ok(Object.is(parseJavaInteger("-0", 32), 0));
  });
});
