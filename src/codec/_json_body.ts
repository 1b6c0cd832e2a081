// Field schemas with fastjson's conversions, shared by the JSON bodies of
// remoting commands (bodies.ts, admin_bodies.ts): decoders accept what
// fastjson writes and fill Java's defaults; encoders write standard JSON with
// keys in alphabetical order, as fastjson writes Java beans.

import * as v from "valibot";
import { parseJavaInteger } from "./_int.ts";
import { describeValue, parseWith } from "./_schema.ts";
import { utf8Decode, utf8Encode } from "./_utf8.ts";
import { parseFastJson, stringifyJson } from "./fastjson.ts";

const INT_RANGE = { 32: 2 ** 31, 64: 2 ** 63 } as const;

export function jsonInteger(bits: 32 | 64): v.GenericSchema<unknown, number> {
  return v.pipe(
    v.unknown(),
    v.rawTransform<unknown, number>(({ dataset, addIssue, NEVER }) => {
      const value = dataset.value;
      let n: number | undefined;
      if (typeof value === "number") {
        const limit = INT_RANGE[bits];
        if (Number.isInteger(value) && value >= -limit && value < limit) n = value;
      } else if (typeof value === "string") {
        n = parseJavaInteger(value, bits);
      }
      if (n === undefined) {
        addIssue({ message: `expected a ${bits}-bit integer, got ${describeValue(value)}` });
        return NEVER;
      }
      return n;
    }),
  );
}

export const jInt = jsonInteger(32);
export const jLong = jsonInteger(64);

/** A string; numbers and booleans are converted, as fastjson does. */
export const jString: v.GenericSchema<unknown, string> = v.pipe(
  v.unknown(),
  v.rawTransform<unknown, string>(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    addIssue({ message: `expected a string, got ${describeValue(value)}` });
    return NEVER;
  }),
);

/** A boolean; also `"true"`/`"false"` (any case) and 1/0, as fastjson accepts. */
export const jBool: v.GenericSchema<unknown, boolean> = v.pipe(
  v.unknown(),
  v.rawTransform<unknown, boolean>(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    if (typeof value === "boolean") return value;
    if (value === 1 || value === 0) return value === 1;
    if (typeof value === "string") {
      const lower = value.toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
    }
    addIssue({ message: `expected a boolean, got ${describeValue(value)}` });
    return NEVER;
  }),
);

function objectMessage(issue: v.BaseIssue<unknown>): string {
  return issue.expected?.startsWith('"')
    ? "is required but missing"
    : `expected an object, got ${describeValue(issue.input)}`;
}

/** A JSON object (not an array) with the given entries; unknown keys are dropped. */
// The inferred type carries the entries' output types to the callers' schemas.
// deno-lint-ignore explicit-module-boundary-types
export function object<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    v.custom<unknown>(
      (value) => typeof value === "object" && value !== null && !Array.isArray(value),
      (issue) => `expected an object, got ${describeValue(issue.input)}`,
    ),
    v.object(entries, objectMessage),
  );
}

export function list<T>(item: v.GenericSchema<unknown, T>): v.GenericSchema<unknown, T[]> {
  return v.array(item, (issue) => `expected an array, got ${describeValue(issue.input)}`);
}

export function optionalList<T>(item: v.GenericSchema<unknown, T>): v.GenericSchema<unknown, T[]> {
  return v.optional(list(item), () => []) as v.GenericSchema<unknown, T[]>;
}

export function map<T>(
  value: v.GenericSchema<unknown, T>,
  key: v.GenericSchema<string, string> = v.string(),
): v.GenericSchema<unknown, Record<string, T>> {
  return v.record(key, value, (issue) => `expected an object, got ${describeValue(issue.input)}`);
}

/** fastjson treats null like an absent field: drop null members of objects. */
export function stripNulls(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) stripNulls(item);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (record[key] === null) delete record[key];
    else stripNulls(record[key]);
  }
}

export function decodeBody<T>(
  body: Uint8Array,
  schema: v.GenericSchema<unknown, T>,
  name: string,
): T {
  const value = parseFastJson(utf8Decode(body));
  stripNulls(value);
  return parseWith(schema, value, name);
}

export function encodeBody(value: unknown): Uint8Array {
  return utf8Encode(stringifyJson(value));
}

/** `SubscriptionData` (bodies.ts has the documented type). */
export const subscriptionDataSchema = object({
  topic: jString,
  subString: jString,
  tagsSet: optionalList(jString),
  codeSet: optionalList(jInt),
  subVersion: v.optional(jLong, 0),
  expressionType: v.optional(jString, "TAG"),
  classFilterMode: v.optional(jBool, false),
});

/** A `SubscriptionData` as fastjson writes it. */
export function subscriptionJson(
  s: Omit<v.InferOutput<typeof subscriptionDataSchema>, "classFilterMode"> & {
    classFilterMode?: boolean | undefined;
  },
): Record<string, unknown> {
  return {
    classFilterMode: s.classFilterMode ?? false,
    codeSet: s.codeSet,
    expressionType: s.expressionType,
    subString: s.subString,
    subVersion: s.subVersion,
    tagsSet: s.tagsSet,
    topic: s.topic,
  };
}

/** `MessageQueue` (bodies.ts has the documented type). */
export const messageQueueSchema = object({
  topic: jString,
  brokerName: jString,
  queueId: jInt,
});

/** A `MessageQueue` as fastjson writes it. */
export function messageQueueJson(
  q: { topic: string; brokerName: string; queueId: number },
): Record<string, unknown> {
  return { brokerName: q.brokerName, queueId: q.queueId, topic: q.topic };
}
