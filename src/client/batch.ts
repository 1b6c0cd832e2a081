/**
 * Batch send (SEND_BATCH_MESSAGE, 320): the rules of Java's
 * `MessageBatch.generateFromList` (one topic, one `WAIT`, no delay, no
 * `%RETRY%` topic), the request with its `MessageDecoder.encodeMessages`
 * body (every message its own `UNIQ_KEY`, the batch one more, header
 * `m=true`, never compressed), the size check against the largest message a
 * broker accepts, and {@linkcode splitBatch}, which cuts a long list into
 * batches under that size, as Java users do with `ListSplitter`.
 *
 * @example Send a list in as few batches as fit
 * ```ts
 * import { Producer } from "./producer.ts";
 * import { splitBatch } from "./batch.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using producer = new Producer({ nameServer: broker.address });
 * await producer.start();
 * const messages = Array.from({ length: 10 }, (_, i) => ({ topic: "orders", body: `order ${i}` }));
 * const ids: string[] = [];
 * for (const batch of splitBatch(messages)) {
 *   const result = await producer.send(batch);
 *   ids.push(...result.msgIds);
 * }
 * assert.equal(ids.length, 10);
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { RequestCode } from "../codec/codes.ts";
import { createRequest, type RemotingCommand } from "../codec/remoting_command.ts";
import { encodeProperties, MessageProperty } from "../codec/properties.ts";
import { encodeBatch, encodeSendHeaderV2 } from "../codec/message.ts";
import { utf8Length } from "../codec/_utf8.ts";
import { decodeSendMessageResponseHeader } from "../codec/ext_fields.ts";
import { type Message, type MessageQueue, type OutgoingMessage, toOutgoing } from "./message.ts";
import { AUTO_CREATE_TOPIC, readSendResponse, type SendResult } from "./send_request.ts";

/**
 * The largest message body a broker accepts by default (`maxMessageSize`,
 * 4 MiB); Java checks a batch's encoded body against it before sending.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_BATCH_SIZE } from "./batch.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_BATCH_SIZE, 4 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_BATCH_SIZE = 4 * 1024 * 1024;

/** Retry topics start with this (`MixAll.RETRY_GROUP_TOPIC_PREFIX`). */
const RETRY_PREFIX = "%RETRY%";
/** Bytes of an entry besides body and properties (`MessageDecoder.encodeMessages`). */
const ENTRY_OVERHEAD = 4 + 4 + 4 + 4 + 4 + 2;
/** `UNIQ_KEY\u0001` + 32 hex digits + `\u0002`: what stamping a key adds. */
const UNIQ_KEY_BYTES = MessageProperty.UNIQ_KEY.length + 1 + 32 + 1;

/**
 * Outcome of a batch send: a {@linkcode SendResult} (with Java's
 * comma-separated `msgId` and `offsetMsgId`) plus the ids of each message,
 * in the order given.
 *
 * @example
 * ```ts
 * import type { BatchSendResult } from "./batch.ts";
 * import assert from "node:assert/strict";
 *
 * const result: Pick<BatchSendResult, "msgId" | "msgIds"> = { msgId: "A,B", msgIds: ["A", "B"] };
 * assert.equal(result.msgIds.join(","), result.msgId);
 * ```
 */
export interface BatchSendResult extends SendResult {
  /** Each message's `UNIQ_KEY` (what its consumer sees as `msgId`), in order. */
  msgIds: string[];
  /** Each message's offset message id, as the broker returned them. */
  offsetMsgIds: string[];
}

/** A validated batch, its keys not yet stamped. */
export interface PreparedBatch {
  /** The common topic. */
  topic: string;
  /** The messages as validated, in order. */
  entries: OutgoingMessage[];
  /** The common `WAIT` value. */
  wait: string;
  /** The first message (what a selector sees). */
  first: Message;
}

/**
 * Validate a list for a batch send (Java's `MessageBatch.generateFromList`
 * rules).
 *
 * @param messages The messages.
 * @param maxBodySize Largest body of one message.
 * @returns The validated batch.
 * @throws {InvalidArgumentError} On an empty list, an invalid message,
 * different topics or `WAIT` values, a delay level, or a `%RETRY%` topic.
 *
 * @example
 * ```ts
 * import { prepareBatch } from "./batch.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = prepareBatch([{ topic: "t", body: "a" }, { topic: "t", body: "b" }], 1024);
 * assert.equal(batch.entries.length, 2);
 * assert.throws(() => prepareBatch([{ topic: "t", body: "a" }, { topic: "u", body: "b" }], 1024),
 *   /same topic/);
 * ```
 */
export function prepareBatch(messages: readonly Message[], maxBodySize: number): PreparedBatch {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidArgumentError("messages", "a batch needs at least one message");
  }
  const entries = messages.map((message, i) => {
    try {
      return toOutgoing(message, maxBodySize);
    } catch (err) {
      if (err instanceof InvalidArgumentError) {
        throw new InvalidArgumentError(
          `messages[${i}]${err.path.replace(/^message/, "")}`,
          err.message.replace(/^[^:]*: /, ""),
          { cause: err },
        );
      }
      throw err;
    }
  });
  const first = entries[0]!;
  if (first.topic.startsWith(RETRY_PREFIX)) {
    throw new InvalidArgumentError("messages", "retry group topics are not supported in a batch");
  }
  const wait = first.properties[MessageProperty.WAIT]!;
  entries.forEach((entry, i) => {
    if (entry.topic !== first.topic) {
      throw new InvalidArgumentError(
        `messages[${i}].topic`,
        `all messages of a batch need the same topic (${first.topic}, not ${entry.topic})`,
      );
    }
    if (entry.properties[MessageProperty.DELAY] !== undefined) {
      throw new InvalidArgumentError(
        `messages[${i}].delayLevel`,
        "delayed messages are not supported in a batch",
      );
    }
    if (entry.properties[MessageProperty.WAIT] !== wait) {
      throw new InvalidArgumentError(
        `messages[${i}].properties.WAIT`,
        "all messages of a batch need the same WAIT",
      );
    }
  });
  return { topic: first.topic, entries, wait, first: messages[0]! };
}

/** Inputs of {@linkcode buildBatchCommand}. */
export interface BatchCommandInput {
  /** Producer group in the header. */
  producerGroup: string;
  /** Target queue. */
  queue: MessageQueue;
  /** The validated batch. */
  batch: PreparedBatch;
  /** Each message's `UNIQ_KEY`, in order (its own if it had one). */
  keys: readonly string[];
  /** The batch's own `UNIQ_KEY`. */
  batchKey: string;
  /** Largest encoded batch body. */
  maxBatchSize: number;
  /** Queue count for auto-created topics. */
  defaultTopicQueueNums: number;
  /** Send time (ms). */
  now: number;
  /** The body, when already encoded (and checked) by {@linkcode encodeBatchBody}. */
  body?: Uint8Array;
}

/**
 * Encode a batch body (`MessageDecoder.encodeMessages`) with each message's
 * `UNIQ_KEY`, and check its size.
 *
 * @param batch The validated batch.
 * @param keys Each message's `UNIQ_KEY`, in order.
 * @param maxBatchSize Largest encoded body.
 * @returns The body.
 * @throws {InvalidArgumentError} When the body exceeds `maxBatchSize` (the
 * message names both sizes).
 *
 * @example
 * ```ts
 * import { encodeBatchBody, prepareBatch } from "./batch.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = prepareBatch([{ topic: "t", body: "a" }], 1024);
 * assert.equal(encodeBatchBody(batch, ["K"], 1024).length, 44);
 * assert.throws(() => encodeBatchBody(batch, ["K"], 43), /encodes to 44 bytes, over the limit of 43/);
 * ```
 */
export function encodeBatchBody(
  batch: PreparedBatch,
  keys: readonly string[],
  maxBatchSize: number,
): Uint8Array {
  const body = encodeBatch(batch.entries.map((entry, i) => ({
    flag: entry.flag,
    body: entry.body,
    properties: { ...entry.properties, [MessageProperty.UNIQ_KEY]: keys[i]! },
  })));
  if (body.length > maxBatchSize) {
    throw new InvalidArgumentError(
      "messages",
      `the batch of ${batch.entries.length} messages encodes to ${body.length} bytes, over the ` +
        `limit of ${maxBatchSize} (maxBodySize; brokers refuse bodies over their ` +
        "maxMessageSize): send it in parts, see splitBatch()",
    );
  }
  return body;
}

/**
 * Build the SEND_BATCH_MESSAGE request: V2 header with `m=true`, sysFlag 0,
 * the batch's `WAIT` and `UNIQ_KEY` as its properties, and the
 * `encodeMessages` body with each message's own `UNIQ_KEY`.
 *
 * @param input The batch and where it goes.
 * @returns The request.
 * @throws {InvalidArgumentError} When the encoded body exceeds
 * `maxBatchSize` (the message names both sizes; nothing is sent).
 *
 * @example
 * ```ts
 * import { buildBatchCommand, prepareBatch } from "./batch.ts";
 * import { decodeBatch } from "../codec/message.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = prepareBatch([{ topic: "t", body: "a" }, { topic: "t", body: "b" }], 1024);
 * const request = buildBatchCommand({
 *   producerGroup: "g", queue: { topic: "t", brokerName: "b", queueId: 0 }, batch,
 *   keys: ["K1", "K2"], batchKey: "KB", maxBatchSize: 4 << 20, defaultTopicQueueNums: 4, now: 1,
 * });
 * assert.equal(request.code, 320);
 * assert.equal(request.extFields.m, "true");
 * assert.deepEqual(decodeBatch(request.body).map((e) => e.properties.UNIQ_KEY), ["K1", "K2"]);
 * ```
 */
export function buildBatchCommand(input: BatchCommandInput): RemotingCommand {
  const { batch } = input;
  const body = input.body ?? encodeBatchBody(batch, input.keys, input.maxBatchSize);
  const header = encodeSendHeaderV2({
    producerGroup: input.producerGroup,
    topic: batch.topic,
    defaultTopic: AUTO_CREATE_TOPIC,
    defaultTopicQueueNums: input.defaultTopicQueueNums,
    queueId: input.queue.queueId,
    sysFlag: 0,
    bornTimestamp: input.now,
    flag: 0,
    properties: encodeProperties({
      [MessageProperty.WAIT]: batch.wait,
      [MessageProperty.UNIQ_KEY]: input.batchKey,
    }),
    reconsumeTimes: 0,
    unitMode: false,
    batch: true,
    brokerName: input.queue.brokerName,
  });
  return createRequest(RequestCode.SEND_BATCH_MESSAGE, header, { body });
}

/**
 * Read a batch send response: the broker's comma-separated offset ids, one
 * per message.
 *
 * @param response The broker's response.
 * @param queue The queue the batch went to.
 * @param keys Each message's `UNIQ_KEY`.
 * @param address The broker's address (for errors).
 * @returns The result, with Java's joined `msgId` and the lists.
 * @throws {BrokerError} When the broker refused the batch.
 *
 * @example
 * ```ts
 * import { readBatchSendResponse } from "./batch.ts";
 * import assert from "node:assert/strict";
 *
 * const result = readBatchSendResponse(
 *   { code: 0, extFields: { msgId: "O1,O2", queueId: "1", queueOffset: "7" } },
 *   { topic: "t", brokerName: "b", queueId: 1 }, ["K1", "K2"], "b:10911",
 * );
 * assert.equal(result.msgId, "K1,K2");
 * assert.deepEqual(result.offsetMsgIds, ["O1", "O2"]);
 * ```
 */
export function readBatchSendResponse(
  response: Pick<RemotingCommand, "code" | "extFields" | "remark">,
  queue: MessageQueue,
  keys: readonly string[],
  address: string,
): BatchSendResult {
  const result = readSendResponse(
    response,
    queue,
    keys.join(","),
    address,
    RequestCode.SEND_BATCH_MESSAGE,
  );
  // Brokers that answer without ids (none known) leave the list empty.
  const offsets = decodeSendMessageResponseHeader(response.extFields).msgId;
  return {
    ...result,
    msgIds: [...keys],
    offsetMsgIds: offsets.length > 0 ? offsets.split(",") : [],
  };
}

/**
 * The bytes a message takes in a batch body once sent (its `UNIQ_KEY`
 * included when it has none yet).
 */
function entrySize(out: OutgoingMessage): number {
  const properties = encodeProperties(out.properties);
  const key = out.properties[MessageProperty.UNIQ_KEY] === undefined ? UNIQ_KEY_BYTES : 0;
  return ENTRY_OVERHEAD + out.body.length + utf8Length(properties) + key;
}

/**
 * Cut a list of messages into consecutive batches whose encoded bodies stay
 * within `maxBatchSize` (Java's `ListSplitter` example, exact here): each
 * batch can go to `producer.send(batch)`. The messages are validated the
 * way a batch send validates them.
 *
 * @param messages The messages, all for one topic.
 * @param maxBatchSize Largest encoded body of one batch.
 * @returns The batches, in order; together they hold every message once.
 * @throws {InvalidArgumentError} When a single message alone is over the
 * limit, or the list breaks a batch rule.
 *
 * @example
 * ```ts
 * import { splitBatch } from "./batch.ts";
 * import assert from "node:assert/strict";
 *
 * const messages = Array.from({ length: 5 }, () => ({ topic: "t", body: "x".repeat(1000) }));
 * const batches = splitBatch(messages, 2500);
 * assert.deepEqual(batches.map((b) => b.length), [2, 2, 1]);
 * assert.throws(() => splitBatch(messages, 500), /message 0 alone/);
 * ```
 */
export function splitBatch<M extends Message>(
  messages: readonly M[],
  maxBatchSize: number = DEFAULT_MAX_BATCH_SIZE,
): M[][] {
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new InvalidArgumentError("maxBatchSize", "must be a positive integer");
  }
  const { entries } = prepareBatch(messages, Number.MAX_SAFE_INTEGER);
  const batches: M[][] = [];
  let current: M[] = [];
  let size = 0;
  entries.forEach((entry, i) => {
    const n = entrySize(entry);
    if (n > maxBatchSize) {
      throw new InvalidArgumentError(
        `messages[${i}]`,
        `message ${i} alone encodes to ${n} bytes, over the limit of ${maxBatchSize}`,
      );
    }
    if (size + n > maxBatchSize) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(messages[i]!);
    size += n;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}
