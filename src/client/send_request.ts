/**
 * Building a send request (SEND_MESSAGE_V2, SEND_REPLY_MESSAGE_V2) and
 * reading its response: shared by the producer and by the consumer's replies.
 *
 * @module
 */

import { BrokerError } from "../errors.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { createRequest, type RemotingCommand } from "../codec/remoting_command.ts";
import { encodeProperties, MessageProperty } from "../codec/properties.ts";
import { encodeSendHeaderV2 } from "../codec/message.ts";
import { compressBody, compressionSysFlag, type CompressionType } from "../codec/compression.ts";
import { decodeSendMessageResponseHeader } from "../codec/ext_fields.ts";
import type { MessageQueue, OutgoingMessage } from "./message.ts";

/** The template topic brokers auto-create topics from. */
export const AUTO_CREATE_TOPIC = "TBW102";

/**
 * How the broker stored a message.
 *
 * @example Stored, but not flushed in time
 * ```ts
 * import { readSendResponse, type SendStatus } from "./send_request.ts";
 * import assert from "node:assert/strict";
 *
 * // Response code 10 (FLUSH_DISK_TIMEOUT): the broker stored the message, a
 * // SYNC_FLUSH disk did not confirm in time. The send still succeeded.
 * const result = readSendResponse(
 *   { code: 10, extFields: { msgId: "M", queueId: "0", queueOffset: "5" } },
 *   { topic: "t", brokerName: "b", queueId: 0 }, "U", "b:10911",
 * );
 * const status: SendStatus = result.status;
 * assert.equal(status, "FLUSH_DISK_TIMEOUT");
 * ```
 */
export type SendStatus =
  | "SEND_OK"
  | "FLUSH_DISK_TIMEOUT"
  | "FLUSH_SLAVE_TIMEOUT"
  | "SLAVE_NOT_AVAILABLE";

/**
 * Outcome of a successful send.
 *
 * @example
 * ```ts
 * import { readSendResponse, type SendResult } from "./send_request.ts";
 * import assert from "node:assert/strict";
 *
 * const result: SendResult = readSendResponse(
 *   { code: 0, extFields: { msgId: "7F00000100002A9F0000000000001000", queueId: "2", queueOffset: "9" } },
 *   { topic: "orders", brokerName: "broker-a", queueId: 2 }, "0A0000051234000000010000002A0000", "127.0.0.1:10911",
 * );
 * assert.equal(result.msgId, "0A0000051234000000010000002A0000"); // the UNIQ_KEY the client stamped
 * assert.equal(result.offsetMsgId, "7F00000100002A9F0000000000001000"); // the broker's id
 * assert.deepEqual(result.queue, { topic: "orders", brokerName: "broker-a", queueId: 2 });
 * ```
 */
export interface SendResult {
  /** How the broker stored it. */
  status: SendStatus;
  /** Client message id (`UNIQ_KEY`). */
  msgId: string;
  /** Broker's offset message id. */
  offsetMsgId: string;
  /** Where it went. */
  queue: MessageQueue;
  /** Offset in the queue. */
  queueOffset: number;
  /** Broker's transaction id (5.x brokers: the stored `UNIQ_KEY`). */
  transactionId: string | undefined;
}

const SEND_STATUS: Readonly<Record<number, SendStatus>> = {
  [ResponseCode.SUCCESS]: "SEND_OK",
  [ResponseCode.FLUSH_DISK_TIMEOUT]: "FLUSH_DISK_TIMEOUT",
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: "FLUSH_SLAVE_TIMEOUT",
  [ResponseCode.SLAVE_NOT_AVAILABLE]: "SLAVE_NOT_AVAILABLE",
};

/** Inputs of {@linkcode buildSendCommand}. */
export interface SendCommandInput {
  /** SEND_MESSAGE_V2 or SEND_REPLY_MESSAGE_V2. */
  code: number;
  /** Producer group in the header. */
  producerGroup: string;
  /** Target queue. */
  queue: MessageQueue;
  /** Validated message. */
  out: OutgoingMessage;
  /** `UNIQ_KEY` to stamp. */
  uniqKey: string;
  /** Compress bodies of at least this many bytes. */
  compressThreshold: number;
  /** How to compress them. @default {"zlib"} */
  compressType?: CompressionType;
  /** zstd level. @default {5} */
  compressLevel?: number;
  /** Queue count for auto-created topics. */
  defaultTopicQueueNums: number;
  /** Send time (ms). */
  now: number;
}

/**
 * Build the send request: V2 header, `UNIQ_KEY`, compression (zlib unless
 * `compressType` says otherwise) above the threshold.
 *
 * @param input What to send and where.
 * @returns The request command.
 *
 * @example
 * ```ts
 * import { buildSendCommand } from "./send_request.ts";
 * import assert from "node:assert/strict";
 *
 * const request = await buildSendCommand({
 *   code: 310, producerGroup: "g", queue: { topic: "t", brokerName: "b", queueId: 1 },
 *   out: { topic: "t", body: new Uint8Array([1]), flag: 0, properties: { WAIT: "true" } },
 *   uniqKey: "U", compressThreshold: 4096, defaultTopicQueueNums: 4, now: 1,
 * });
 * assert.equal(request.extFields.b, "t");
 * assert.equal(request.extFields.e, "1");
 * assert.match(request.extFields.i!, /UNIQ_KEY\u0001U\u0002/);
 * ```
 */
export async function buildSendCommand(input: SendCommandInput): Promise<RemotingCommand> {
  const properties = { ...input.out.properties, [MessageProperty.UNIQ_KEY]: input.uniqKey };
  let body = input.out.body;
  let sysFlag = 0;
  if (body.length >= input.compressThreshold) {
    const type = input.compressType ?? "zlib";
    body = await compressBody(body, {
      type,
      ...(input.compressLevel !== undefined ? { level: input.compressLevel } : {}),
    });
    sysFlag |= compressionSysFlag(type);
  }
  const header = encodeSendHeaderV2({
    producerGroup: input.producerGroup,
    topic: input.out.topic,
    defaultTopic: AUTO_CREATE_TOPIC,
    defaultTopicQueueNums: input.defaultTopicQueueNums,
    queueId: input.queue.queueId,
    sysFlag,
    bornTimestamp: input.now,
    flag: input.out.flag,
    properties: encodeProperties(properties),
    reconsumeTimes: 0,
    unitMode: false,
    batch: false,
    brokerName: input.queue.brokerName,
  });
  return createRequest(input.code, header, { body });
}

/**
 * Read a send response.
 *
 * @param response The broker's response.
 * @param queue The queue the message was sent to.
 * @param uniqKey The message's `UNIQ_KEY`.
 * @param address The broker's address (for errors).
 * @param requestCode The request answered (named in a `BrokerError`).
 * @returns The send result.
 * @throws {BrokerError} When the code is not one of the stored codes.
 * @throws {CodecError} When the response header is malformed.
 *
 * @example
 * ```ts
 * import { readSendResponse } from "./send_request.ts";
 * import assert from "node:assert/strict";
 *
 * const result = readSendResponse(
 *   { code: 0, extFields: { msgId: "M", queueId: "2", queueOffset: "9" } },
 *   { topic: "t", brokerName: "b", queueId: 0 }, "U", "b:1",
 * );
 * assert.equal(result.queue.queueId, 2);
 * assert.equal(result.queueOffset, 9);
 * ```
 */
export function readSendResponse(
  response: Pick<RemotingCommand, "code" | "extFields" | "remark">,
  queue: MessageQueue,
  uniqKey: string,
  address: string,
  requestCode: number = RequestCode.SEND_MESSAGE_V2,
): SendResult {
  const status = SEND_STATUS[response.code];
  if (status === undefined) throw BrokerError.fromResponse(response, { requestCode, address });
  const header = decodeSendMessageResponseHeader(response.extFields);
  return {
    status,
    msgId: uniqKey,
    offsetMsgId: header.msgId,
    queue: { topic: queue.topic, brokerName: queue.brokerName, queueId: header.queueId },
    queueOffset: header.queueOffset,
    transactionId: header.transactionId,
  };
}
