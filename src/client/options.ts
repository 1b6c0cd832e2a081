/**
 * Validation of client options with valibot, once, at construction or call
 * time. A failure is an {@linkcode InvalidArgumentError} naming the option.
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
 * ```
 *
 * @module
 */

import * as v from "valibot";
import { InvalidArgumentError } from "../errors.ts";
import type { Message, MessageQueue } from "./message.ts";

const positiveMs = v.pipe(v.number(), v.finite(), v.minValue(1));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const groupName = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(255),
  v.regex(/^[%|a-zA-Z0-9_-]+$/, "must contain only [%|a-zA-Z0-9_-]"),
);
const nameServer = v.union([
  v.pipe(v.string(), v.minLength(1)),
  v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1)),
]);

/** Fields common to producers and consumers (the rest passes through unchecked). */
const clientSchema = {
  nameServer,
  instanceName: v.optional(
    v.pipe(v.string(), v.minLength(1), v.regex(/^[^@]+$/, "must not contain @")),
  ),
  clientIP: v.optional(v.pipe(v.string(), v.minLength(1))),
  rpcTimeout: v.optional(positiveMs),
  heartbeatInterval: v.optional(positiveMs),
  routeRefreshInterval: v.optional(positiveMs),
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
  maxBodySize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 4 * 1024 * 1024),
  defaultTopicQueueNums: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024)),
    4,
  ),
  requestTimeout: v.optional(positiveMs, 3000),
  maxInFlightRequests: v.optional(v.pipe(v.number(), v.minValue(1))),
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

const requestSchema = v.pipe(
  v.object({
    ...routingSchema,
    timeout: v.optional(positiveMs),
    failFast: v.optional(v.union([v.boolean(), v.object({ group: groupName })])),
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
});

/** Consumer options after defaults. */
export type ParsedConsumerOptions = v.InferOutput<typeof consumerSchema>;

function parse<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  root: string,
): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue) ?? root;
  throw new InvalidArgumentError(path, issue.message);
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
  return parse(consumerSchema, options, "options");
}
