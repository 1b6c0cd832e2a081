/**
 * Validation of client options with valibot, once, at construction or call
 * time. A failure is an {@linkcode InvalidArgumentError} naming the option,
 * in words ("must not be empty", "must be at least 1, got 0"), not schema
 * text. An option name the schema does not know is refused with the closest
 * known name ("did you mean nameServer?"): the known names are the schemas'
 * keys, so an option added to a schema is known at once.
 *
 * @example
 * ```ts
 * import { parseProducerOptions } from "./options.ts";
 * import { InvalidArgumentError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseProducerOptions({ nameServer: "127.0.0.1:9876" }).sendTimeout, 3000);
 * assert.throws(
 *   () => parseProducerOptions({ nameServer: "127.0.0.1:9876", sendTimeout: -1 }),
 *   (e) => e instanceof InvalidArgumentError && e.path === "sendTimeout",
 * );
 * assert.throws(
 *   () => parseProducerOptions({ nameserver: "127.0.0.1:9876" }),
 *   /unknown option \(did you mean nameServer\?\)/,
 * );
 * ```
 *
 * @module
 */

import * as v from "valibot";
import { InvalidArgumentError } from "../errors.ts";
import type { Message, MessageQueue, ReplyMessage, ReplySerializer } from "./message.ts";

const positiveMs = v.pipe(v.number(), v.finite(), v.minValue(1));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const groupName = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(255),
  v.regex(/^[%|a-zA-Z0-9_-]+$/, "must contain only letters, digits and %|_-"),
);

/**
 * Why `text` is not a usable `host:port` address, or `undefined` when it is.
 * IPv6 hosts may be bracketed (`[::1]:9876`).
 *
 * @param text The address.
 * @returns The problem, in words.
 */
export function addressProblem(text: string): string | undefined {
  const colon = text.lastIndexOf(":");
  if (colon < 0) {
    return `${JSON.stringify(text)} has no port: expected host:port (e.g. 127.0.0.1:9876)`;
  }
  let host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "" || /[\s/@]/.test(host) || host.includes("[") || host.includes("]")) {
    return `${JSON.stringify(text)} is not host:port (e.g. 127.0.0.1:9876)`;
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return `the port of ${JSON.stringify(text)} must be 1 to 65535`;
  }
  return undefined;
}

/** `host:port`, several separated by `;`, or a non-empty array of them. */
const nameServer = v.pipe(
  v.union(
    [v.string(), v.array(v.string())],
    "must be host:port, several separated by ;, or an array of them",
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const value = dataset.value;
    const list = (typeof value === "string" ? value.split(";") : value)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (list.length === 0) {
      addIssue({ message: "must name at least one name server (host:port)" });
      return;
    }
    for (const address of list) {
      const problem = addressProblem(address);
      if (problem) {
        addIssue({ message: problem });
        return;
      }
    }
  }),
);

const fn = (what: string) =>
  v.custom<(...args: never[]) => unknown>(
    (value) => typeof value === "function",
    `must be a function (${what})`,
  );

const objectWith = <T>(methods: readonly string[], what: string) =>
  v.custom<T>(
    (value) =>
      typeof value === "object" && value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function"),
    `must be ${what} (an object with ${methods.join(", ")})`,
  );

const addressMap = v.union(
  [
    v.pipe(
      v.record(v.string(), v.string()),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        for (const [from, to] of Object.entries(dataset.value)) {
          const problem = addressProblem(from) ?? addressProblem(to);
          if (problem) {
            addIssue({ message: problem });
            return;
          }
        }
      }),
    ),
    fn("address => address"),
  ],
  'must map "host:port" to "host:port" (an object), or be a function (address) => address',
);

const serializerSchema = v.custom<ReplySerializer>(
  (value) =>
    typeof value === "object" && value !== null &&
    typeof (value as ReplySerializer).contentType === "string" &&
    (value as ReplySerializer).contentType.length > 0 &&
    typeof (value as ReplySerializer).serialize === "function" &&
    typeof (value as ReplySerializer).deserialize === "function",
  "must be a serializer (an object with contentType, serialize, deserialize)",
);

/** Fields common to producers and consumers: every option of `ClientOptions`. */
const clientSchema = {
  nameServer,
  instanceName: v.optional(
    v.pipe(v.string(), v.minLength(1), v.regex(/^[^@]+$/, "must not contain @")),
  ),
  clientIP: v.optional(v.pipe(v.string(), v.minLength(1))),
  connect: v.optional(fn("options => Promise<Transport>")),
  tls: v.optional(v.union([
    v.boolean(),
    v.object({
      caCerts: v.optional(v.array(v.string())),
      serverName: v.optional(v.string()),
      insecure: v.optional(v.boolean()),
      cert: v.optional(v.string()),
      key: v.optional(v.string()),
    }),
  ], "must be true, false or TLS settings ({ caCerts, serverName, cert, key, insecure })")),
  addressMap: v.optional(addressMap),
  logger: v.optional(objectWith(["debug", "info", "warn", "error"], "a Logger")),
  timers: v.optional(objectWith(["now", "setTimeout", "clearTimeout"], "a Timers")),
  spanHooks: v.optional(objectWith(["startSpan"], "SpanHooks")),
  rpcTimeout: v.optional(positiveMs),
  heartbeatInterval: v.optional(positiveMs),
  routeRefreshInterval: v.optional(positiveMs),
  serializeType: v.optional(v.picklist([0, 1], "must be SerializeType.JSON (0) or ROCKETMQ (1)")),
  credentials: v.optional(v.object({
    accessKey: v.pipe(v.string(), v.minLength(1)),
    secretKey: v.pipe(v.string(), v.minLength(1)),
    securityToken: v.optional(v.string()),
  })),
};

const producerSchema = v.looseObject({
  ...clientSchema,
  group: v.optional(groupName, "RPC_PRODUCER"),
  sendTimeout: v.optional(positiveMs, 3000),
  retryTimes: v.optional(v.pipe(nonNegativeInt, v.maxValue(16)), 2),
  compressThreshold: v.optional(v.pipe(v.number(), v.minValue(0)), 4096),
  compressType: v.optional(
    v.picklist(["zlib", "lz4", "zstd"], 'must be "zlib", "lz4" or "zstd"'),
    "zlib",
  ),
  compressLevel: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(22, "must be from 1 to 22")),
    5,
  ),
  maxBodySize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 4 * 1024 * 1024),
  defaultTopicQueueNums: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024)),
    4,
  ),
  requestTimeout: v.optional(positiveMs, 3000),
  maxInFlightRequests: v.optional(v.pipe(v.number(), v.minValue(1))),
  serializer: v.optional(serializerSchema),
  propagateCancel: v.optional(v.boolean(), true),
});

/** Producer options after defaults. */
export type ParsedProducerOptions = v.InferOutput<typeof producerSchema>;

const queueSchema = v.object({
  topic: v.pipe(v.string(), v.minLength(1)),
  brokerName: v.pipe(v.string(), v.minLength(1)),
  queueId: nonNegativeInt,
});

const signalSchema = v.custom<AbortSignal>(
  (value) => typeof AbortSignal !== "undefined" && value instanceof AbortSignal,
  "must be an AbortSignal",
);

const routingSchema = {
  queue: v.optional(queueSchema),
  selector: v.optional(
    v.custom<(queues: readonly MessageQueue[], message: Message, arg: unknown) => MessageQueue>(
      (value) => typeof value === "function",
      "must be a function",
    ),
  ),
  arg: v.optional(v.unknown()),
  signal: v.optional(signalSchema),
};

const sendSchema = v.pipe(
  v.object({ ...routingSchema, timeout: v.optional(positiveMs) }),
  v.check((o) => !(o.queue && o.selector), "give either queue or selector, not both"),
);

const traceSchema = v.object({
  traceparent: v.string(),
  tracestate: v.optional(v.string()),
});

const parentSchema = v.object({
  deadline: v.optional(v.pipe(v.number(), v.finite())),
  signal: v.optional(signalSchema),
  trace: v.optional(traceSchema),
});

const requestSchema = v.pipe(
  v.object({
    ...routingSchema,
    timeout: v.optional(positiveMs),
    failFast: v.optional(v.union([v.boolean(), v.object({ group: groupName })])),
    parent: v.optional(parentSchema),
    trace: v.optional(traceSchema),
  }),
  v.check((o) => !(o.queue && o.selector), "give either queue or selector, not both"),
);

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

const requestManySchema = v.pipe(
  v.object({
    ...routingSchema,
    timeout: v.optional(positiveMs),
    parent: v.optional(parentSchema),
    trace: v.optional(traceSchema),
    maxReplies: v.optional(v.union([positiveInt, v.literal(Infinity)])),
    stall: v.optional(positiveMs),
    sentinel: v.optional(v.union([
      v.literal(false),
      v.custom<(reply: ReplyMessage) => boolean>(
        (value) => typeof value === "function",
        "must be a function or false",
      ),
    ])),
    responders: v.optional(positiveInt),
    maxBuffered: v.optional(v.pipe(positiveInt, v.maxValue(1_000_000)), 256),
  }),
  v.check((o) => !(o.queue && o.selector), "give either queue or selector, not both"),
);

const consumerSchema = v.looseObject({
  ...clientSchema,
  group: groupName,
  consumeFrom: v.optional(v.picklist(["last", "first", "timestamp"]), "last"),
  consumeTimestamp: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  concurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024)), 20),
  pullBatchSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024)), 32),
  pollTimeout: v.optional(v.pipe(v.number(), v.minValue(1000), v.maxValue(60_000)), 15_000),
  maxCachedMessagesPerQueue: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1000),
  maxReconsumeTimes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(32)), 16),
  offsetPersistInterval: v.optional(positiveMs, 5000),
  rebalanceInterval: v.optional(positiveMs, 20_000),
  maxBodySize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 16 * 1024 * 1024),
  skipExpiredRequests: v.optional(v.boolean(), true),
  replyTimeout: v.optional(positiveMs, 3000),
  maxReplySize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 4 * 1024 * 1024),
  replyCompression: v.optional(
    v.strictObject({
      type: v.optional(
        v.picklist(["zlib", "lz4", "zstd"], 'must be "zlib", "lz4" or "zstd"'),
        "zlib",
      ),
      threshold: v.optional(v.pipe(v.number(), v.minValue(0)), 4096),
      level: v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(22, "must be from 1 to 22")),
        5,
      ),
    }),
    {},
  ),
  serializer: v.optional(serializerSchema),
  idempotency: v.optional(
    v.union([
      v.literal(false),
      v.object({
        maxEntries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
        maxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
      }),
    ]),
    {},
  ),
  consumeTimeout: v.optional(positiveMs, 15 * 60_000),
  drainTimeout: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0)), 10_000),
  queueHandover: v.optional(v.picklist(["lock", "none"]), "lock"),
  handoverTimeout: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0)), 5000),
  orderly: v.optional(v.boolean(), false),
  // Java's suspendCurrentQueueTimeMillis, within the bounds it clamps to.
  orderlyRetryDelay: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(10), v.maxValue(30_000)),
    1000,
  ),
  messageModel: v.optional(v.picklist(["CLUSTERING", "BROADCASTING"]), "CLUSTERING"),
  offsetFile: v.optional(v.pipe(v.string(), v.minLength(1))),
});

const closeSchema = v.object({
  drainTimeout: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
});

/** Consumer options after defaults. */
export type ParsedConsumerOptions = v.InferOutput<typeof consumerSchema>;

// ---- turning schema failures into words ------------------------------------------------------

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d[i] = [i];
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to `name`: the same but for case, or at most a
 * third of its letters off.
 *
 * @param name The name given.
 * @param known The names accepted.
 * @returns The suggestion, if one is close enough.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate.toLowerCase() === name.toLowerCase()) return candidate;
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

type AnySchema = v.GenericSchema & {
  entries?: Record<string, AnySchema>;
  wrapped?: AnySchema;
  options?: AnySchema[];
};

/** The object schemas `schema` accepts a plain object through. */
function objectSchemas(schema: AnySchema): Array<Record<string, AnySchema>> {
  if (schema.entries) return [schema.entries];
  if (schema.wrapped) return objectSchemas(schema.wrapped);
  if (Array.isArray(schema.options)) {
    return schema.options.flatMap((o) =>
      typeof o === "object" && o !== null ? objectSchemas(o) : []
    );
  }
  return [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Nested option objects whose keys are checked too (not data such as `queue`). */
const NESTED_OPTIONS = new Set(["tls", "credentials", "failFast", "idempotency"]);

const knownKeys = new WeakMap<
  AnySchema,
  { shapes: Array<Record<string, AnySchema>>; known: Set<string> }
>();

/** Throws for the first key of `value` (or of a nested options object) the schema does not know. */
function refuseUnknownKeys(schema: AnySchema, value: unknown, prefix: string): void {
  if (!isPlainObject(value)) return;
  let cached = knownKeys.get(schema);
  if (!cached) {
    const shapes = objectSchemas(schema);
    cached = { shapes, known: new Set(shapes.flatMap((entries) => Object.keys(entries))) };
    knownKeys.set(schema, cached);
  }
  const { shapes, known } = cached;
  if (shapes.length === 0) return;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (!known.has(key)) {
      const suggestion = closestName(key, known);
      throw new InvalidArgumentError(
        path,
        suggestion
          ? `unknown option (did you mean ${suggestion}?)`
          : `unknown option; known options: ${[...known].join(", ")}`,
      );
    }
    if (!NESTED_OPTIONS.has(key) || value[key] === undefined) continue;
    for (const entries of shapes) {
      const entry = entries[key];
      if (entry) refuseUnknownKeys(entry, value[key], path);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "undefined":
      return "nothing";
    case "function":
      return "a function";
    default:
      return `an ${typeof value}`;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  object: "an object",
  strict_object: "an object",
  loose_object: "an object",
  array: "an array",
  record: "an object",
};

/** A valibot issue in words, or the schema's own message when it is written for people. */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  // Messages written in the schemas ("must ...") are already words.
  if (!issue.message.startsWith("Invalid ")) {
    return issue.input === undefined && issue.kind === "schema"
      ? `is required (${issue.message.replace(/^must be /, "")})`
      : issue.message;
  }
  const got = describe(issue.input);
  const requirement = (issue as { requirement?: unknown }).requirement;
  const unit = typeof issue.input === "string" ? "characters" : "entries";
  switch (issue.type) {
    case "min_length":
      return requirement === 1 ? "must not be empty" : `must have at least ${requirement} ${unit}`;
    case "max_length":
      return `must have at most ${requirement} ${unit}, got ${
        (issue.input as { length?: number }).length
      }`;
    case "min_value":
      return `must be at least ${requirement}, got ${got}`;
    case "max_value":
      return `must be at most ${requirement}, got ${got}`;
    case "integer":
      return `must be a whole number, got ${got}`;
    case "finite":
      return `must be a finite number, got ${got}`;
    case "picklist":
      return `must be one of ${
        (issue.expected ?? "").replace(/^\(|\)$/g, "").split(" | ").join(", ")
      }, got ${got}`;
    case "number":
      return issue.input === undefined ? "is required (a number)" : `must be a number, got ${got}`;
    default: {
      const word = TYPE_WORDS[issue.type] ?? issue.expected ?? issue.type;
      return issue.input === undefined ? `is required (${word})` : `must be ${word}, got ${got}`;
    }
  }
}

function parse<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  root: string,
): v.InferOutput<S> {
  refuseUnknownKeys(schema as AnySchema, value, "");
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue) ?? root;
  throw new InvalidArgumentError(path, describeIssue(issue));
}

/**
 * Validate producer options and apply defaults.
 *
 * @param options The options given to `new Producer()`.
 * @returns Options with defaults.
 * @throws {InvalidArgumentError} Naming the first invalid option.
 *
 * @example
 * ```ts
 * import { parseProducerOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseProducerOptions({ nameServer: "a:1" }).group, "RPC_PRODUCER");
 * ```
 */
export function parseProducerOptions(options: unknown): ParsedProducerOptions {
  return parse(producerSchema, options, "options");
}

/**
 * Validate the options of one send.
 *
 * @param options The send options.
 * @param defaultTimeout The producer's send timeout.
 * @returns The options with the timeout resolved.
 * @throws {InvalidArgumentError} Naming the first invalid option.
 *
 * @example
 * ```ts
 * import { parseSendOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSendOptions({}, 3000).timeout, 3000);
 * ```
 */
export function parseSendOptions(
  options: unknown,
  defaultTimeout: number,
): v.InferOutput<typeof sendSchema> & { timeout: number } {
  const parsed = parse(sendSchema, options ?? {}, "options");
  return { ...parsed, timeout: parsed.timeout ?? defaultTimeout };
}

/**
 * Validate the options of one request.
 *
 * @param options The request options.
 * @param defaultTimeout The producer's request timeout.
 * @returns The options with the timeout resolved.
 * @throws {InvalidArgumentError} Naming the first invalid option.
 *
 * @example
 * ```ts
 * import { parseRequestOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRequestOptions({ timeout: 50 }, 3000).timeout, 50);
 * assert.throws(() => parseRequestOptions({ timeout: 0 }, 3000), /invalid timeout/);
 * ```
 */
export function parseRequestOptions(
  options: unknown,
  defaultTimeout: number,
): v.InferOutput<typeof requestSchema> & { timeout: number } {
  const parsed = parse(requestSchema, options ?? {}, "options");
  return { ...parsed, timeout: parsed.timeout ?? defaultTimeout };
}

/**
 * Validate the options of one `requestMany()`.
 *
 * @param options The options.
 * @param defaultTimeout The producer's request timeout.
 * @returns The options with the timeout resolved.
 * @throws {InvalidArgumentError} Naming the first invalid option.
 *
 * @example
 * ```ts
 * import { parseRequestManyOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRequestManyOptions({}, 3000).maxBuffered, 256);
 * assert.throws(() => parseRequestManyOptions({ maxReplies: 0 }, 3000), /maxReplies/);
 * ```
 */
export function parseRequestManyOptions(
  options: unknown,
  defaultTimeout: number,
): v.InferOutput<typeof requestManySchema> & { timeout: number } {
  const parsed = parse(requestManySchema, options ?? {}, "options");
  return { ...parsed, timeout: parsed.timeout ?? defaultTimeout };
}

/**
 * Validate push consumer options and apply defaults.
 *
 * @param options The options given to `new PushConsumer()`.
 * @returns Options with defaults.
 * @throws {InvalidArgumentError} Naming the first invalid option.
 *
 * @example
 * ```ts
 * import { parseConsumerOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseConsumerOptions({ nameServer: "a:1", group: "g" }).concurrency, 20);
 * assert.throws(() => parseConsumerOptions({ nameServer: "a:1" }), /invalid group/);
 * ```
 */
export function parseConsumerOptions(options: unknown): ParsedConsumerOptions {
  const parsed = parse(consumerSchema, options, "options");
  if (parsed.orderly && parsed.queueHandover === "none") {
    throw new InvalidArgumentError(
      "queueHandover",
      'orderly consumption holds queue locks: use "lock" (the default) with orderly: true',
    );
  }
  if (parsed.offsetFile !== undefined && parsed.messageModel !== "BROADCASTING") {
    throw new InvalidArgumentError(
      "offsetFile",
      'only a messageModel "BROADCASTING" consumer keeps its offsets itself ' +
        "(a clustering consumer commits them to the brokers)",
    );
  }
  return parsed;
}

/**
 * Validate the options of `PushConsumer.close()`.
 *
 * @param options The close options.
 * @param defaultDrainTimeout The consumer's drain timeout.
 * @returns The drain timeout to use (ms).
 * @throws {InvalidArgumentError} Naming the first invalid option.
 *
 * @example
 * ```ts
 * import { parseCloseOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseCloseOptions(undefined, 10_000), 10_000);
 * assert.equal(parseCloseOptions({ drainTimeout: 0 }, 10_000), 0);
 * assert.throws(() => parseCloseOptions({ drainTimeout: -1 }, 10_000), /drainTimeout/);
 * ```
 */
export function parseCloseOptions(options: unknown, defaultDrainTimeout: number): number {
  const parsed = parse(closeSchema, options ?? {}, "options");
  return parsed.drainTimeout ?? defaultDrainTimeout;
}

const messagesSchema = v.object({
  bufferSize: v.optional(v.pipe(positiveInt, v.maxValue(1_000_000)), 32),
  signal: v.optional(signalSchema),
});

/** `PushConsumer.messages()` options after defaults. */
export type ParsedMessagesOptions = v.InferOutput<typeof messagesSchema>;

/**
 * Validate the options of `PushConsumer.messages()`.
 *
 * @param options The iterator options.
 * @returns The buffer size and the signal.
 * @throws {InvalidArgumentError} Naming the first invalid option.
 *
 * @example
 * ```ts
 * import { parseMessagesOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseMessagesOptions(undefined).bufferSize, 32);
 * assert.throws(() => parseMessagesOptions({ bufferSize: 0 }), /bufferSize/);
 * assert.throws(() => parseMessagesOptions({ signal: "stop" }), /signal/);
 * ```
 */
export function parseMessagesOptions(options: unknown): ParsedMessagesOptions {
  return parse(messagesSchema, options ?? {}, "options");
}
