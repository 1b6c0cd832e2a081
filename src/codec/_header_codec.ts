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

function encodeHeader<T>(what: string, spec: HeaderSpec<T>, header: T): Record<string, string> {
  const out: Record<string, string> = {};
  const record = header as Record<string, unknown>;
  for (const [key, [kind, presence]] of Object.entries(spec) as [string, [Kind, string]][]) {
    const value = record[key];
    const path = `${what}.${key}`;
    if (value === undefined || value === null) {
      if (presence === "required") throw new InvalidArgumentError(path, "is required");
      continue;
    }
    switch (kind) {
      case "string":
        if (typeof value !== "string") {
          throw new InvalidArgumentError(path, `must be a string, got ${typeof value}`);
        }
        out[key] = value;
        break;
      case "int":
        out[key] = String(checkInt32(value, path));
        break;
      case "long":
        out[key] = String(checkInt64(value, path));
        break;
      case "bool":
        if (typeof value !== "boolean") {
          throw new InvalidArgumentError(path, `must be a boolean, got ${typeof value}`);
        }
        out[key] = value ? "true" : "false";
        break;
    }
  }
  return out;
}

/** A header's spec and the valibot schema made from it. */
export interface Codec<T> {
  name: string;
  spec: HeaderSpec<T>;
  schema: v.GenericSchema<unknown, T>;
}

/** The codec of a header spec. */
export function codec<T>(name: string, spec: HeaderSpec<T>): Codec<T> {
  return { name, spec, schema: headerSchema(spec) };
}

/** Decode `extFields` into the header, as Java does; CodecError("schema") when invalid. */
export function decode<T>(c: Codec<T>, extFields: Readonly<Record<string, string>>): T {
  return parseWith(c.schema, extFields, c.name);
}

/** Encode the header into `extFields`; InvalidArgumentError naming the field when invalid. */
export function encode<T>(c: Codec<T>, header: T): Record<string, string> {
  return encodeHeader(c.name, c.spec, header);
}
