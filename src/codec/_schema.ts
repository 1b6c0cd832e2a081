// valibot at the boundary: run a schema, turn its first issue into a
// CodecError("schema") that names the object and the dotted path of the field.

import * as v from "valibot";
import { CodecError } from "../errors.ts";

/** Describe an input value briefly for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * Validate `input` with `schema`; on failure throw
 * `CodecError("schema", "<what>: field <path>: <message>")` for the first
 * issue.
 */
export function parseWith<T>(schema: v.GenericSchema<unknown, T>, input: unknown, what: string): T {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue);
  const where = path ? `field ${path}` : "value";
  throw new CodecError("schema", `${what}: ${where}: ${issue.message}`, {
    cause: new v.ValiError(result.issues),
  });
}
