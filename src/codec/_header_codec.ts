// The field-spec machinery of the custom headers (ext_fields.ts): one table
// per header drives both the valibot schema (decode) and the encoder, and the
// table's type is checked against the header's interface at compile time.

import * as v from "valibot";
import { InvalidArgumentError } from "../errors.ts";
import { checkInt32, checkInt64, parseJavaInteger } from "./_int.ts";
import { describeValue, parseWith } from "./_schema.ts";

type Kind = "string" | "int" | "long" | "bool";

type KindOf<V> = [V] extends [string] ? "string"
  : [V] extends [boolean] ? "bool"
  : [V] extends [number] ? "int" | "long"
  : never;

// deno-lint-ignore ban-types
type IsOptional<T, K extends keyof T> = {} extends Pick<T, K> ? true : false;

/** For each field of `T`: its kind and whether it is required. */
export type HeaderSpec<T> = {
  readonly [K in keyof T]-?: readonly [
    KindOf<Exclude<T[K], undefined>>,
    IsOptional<T, K> extends true ? "optional" : "required",
  ];
};

function integerField(bits: 32 | 64): v.GenericSchema<unknown, number> {
  return v.pipe(
    v.string((issue) => `expected a decimal string, got ${describeValue(issue.input)}`),
    v.rawTransform<string, number>(({ dataset, addIssue, NEVER }) => {
      const n = parseJavaInteger(dataset.value, bits);
      if (n === undefined) {
        addIssue({
          message: `expected a ${bits}-bit decimal integer, got ${describeValue(dataset.value)}`,
        });
        return NEVER;
      }
      return n;
    }),
  );
}

const FIELD: Record<Kind, v.GenericSchema<unknown, unknown>> = {
  string: v.string((issue) => `expected a string, got ${describeValue(issue.input)}`),
  int: integerField(32),
  long: integerField(64),
  bool: v.pipe(
    v.string((issue) => `expected "true" or "false", got ${describeValue(issue.input)}`),
    v.transform((s: string) => s.toLowerCase() === "true"),
  ),
};

function objectMessage(issue: v.BaseIssue<unknown>): string {
  return issue.expected?.startsWith('"')
    ? "is required but missing"
    : `expected an object of strings, got ${describeValue(issue.input)}`;
}

function headerSchema<T>(spec: HeaderSpec<T>): v.GenericSchema<unknown, T> {
  const entries: Record<string, v.GenericSchema<unknown, unknown>> = {};
  for (const [key, [kind, presence]] of Object.entries(spec) as [string, [Kind, string]][]) {
    entries[key] = presence === "required" ? FIELD[kind] : v.exactOptional(FIELD[kind]);
  }
  return v.object(entries, objectMessage) as unknown as v.GenericSchema<unknown, T>;
}

/** A spec as a list, made once per header: key, kind, required. */
type Fields = readonly (readonly [key: string, kind: Kind, required: boolean])[];

function fieldsOf<T>(spec: HeaderSpec<T>): Fields {
  return (Object.entries(spec) as [string, [Kind, string]][]).map((
    [key, [kind, presence]],
  ) => [key, kind, presence === "required"] as const);
}

function encodeHeader<T>(what: string, fields: Fields, header: T): Record<string, string> {
  const out: Record<string, string> = {};
  const record = header as Record<string, unknown>;
  for (const [key, kind, required] of fields) {
    const value = record[key];
    if (value === undefined || value === null) {
      if (required) throw new InvalidArgumentError(`${what}.${key}`, "is required");
      continue;
    }
    switch (kind) {
      case "string":
        if (typeof value !== "string") {
          throw new InvalidArgumentError(`${what}.${key}`, `must be a string, got ${typeof value}`);
        }
        out[key] = value;
        break;
      case "int":
        out[key] = String(checkInt32(value, `${what}.${key}`));
        break;
      case "long":
        out[key] = String(checkInt64(value, `${what}.${key}`));
        break;
      case "bool":
        if (typeof value !== "boolean") {
          throw new InvalidArgumentError(
            `${what}.${key}`,
            `must be a boolean, got ${typeof value}`,
          );
        }
        out[key] = value ? "true" : "false";
        break;
    }
  }
  return out;
}

/**
 * The decoding of valid `extFields`, without valibot: the same output as the
 * schema, or `undefined` at the first thing it would not accept as is (then
 * the schema runs and reports it). valibot's object pipeline costs 2-6 µs a
 * header, on every frame of every process.
 */
function decodeValid(fields: Fields, extFields: Readonly<Record<string, string>>): unknown {
  if (typeof extFields !== "object" || extFields === null || Array.isArray(extFields)) {
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [key, kind, required] of fields) {
    if (!(key in extFields)) {
      if (required) return undefined;
      continue;
    }
    const text: unknown = extFields[key];
    if (typeof text !== "string") return undefined;
    switch (kind) {
      case "string":
        out[key] = text;
        break;
      case "int":
      case "long": {
        const n = parseJavaInteger(text, kind === "int" ? 32 : 64);
        if (n === undefined) return undefined;
        out[key] = n;
        break;
      }
      case "bool":
        out[key] = text.toLowerCase() === "true";
        break;
    }
  }
  return out;
}

/** A header's spec and the valibot schema made from it. */
export interface Codec<T> {
  readonly name: string;
  readonly spec: HeaderSpec<T>;
  readonly fields: Fields;
  /** Made on first use: valid headers never need it (see decodeValid). */
  readonly schema: v.GenericSchema<unknown, T>;
}

/** The codec of a header spec. */
export function codec<T>(name: string, spec: HeaderSpec<T>): Codec<T> {
  let schema: v.GenericSchema<unknown, T> | undefined;
  return {
    name,
    spec,
    fields: fieldsOf(spec),
    get schema() {
      // Building ~25 valibot schemas took a few ms of every process's start.
      return schema ??= headerSchema(spec);
    },
  };
}

/** Decode `extFields` into the header, as Java does; CodecError("schema") when invalid. */
export function decode<T>(c: Codec<T>, extFields: Readonly<Record<string, string>>): T {
  return (decodeValid(c.fields, extFields) as T | undefined) ??
    parseWith(c.schema, extFields, c.name);
}

/**
 * Decode with the valibot schema alone (the reference the fast path is tested
 * against).
 */
export function decodeWithSchema<T>(c: Codec<T>, extFields: unknown): T {
  return parseWith(c.schema, extFields, c.name);
}

/** Encode the header into `extFields`; InvalidArgumentError naming the field when invalid. */
export function encode<T>(c: Codec<T>, header: T): Record<string, string> {
  return encodeHeader(c.name, c.fields, header);
}
