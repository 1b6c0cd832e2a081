/**
 * Message lookup (`QueryMessageProcessor`), what `mqadmin queryMsgByKey`,
 * `queryMsgById`, `queryMsgByUniqueKey` and the Java client's
 * `viewMessage` / `queryMessage` ask:
 *
 * - 12 QUERY_MESSAGE: the messages of a topic with a key (a word of their
 *   `KEYS`, or their `UNIQ_KEY` when the extField `_UNIQUE_KEY_QUERY` is
 *   `"true"`) stored in a time range, the newest `maxNum` (at most 64; 32 for
 *   a unique key, as Java's `defaultQueryMaxNum`), as a body of stored
 *   records in physical order; the key index's reach in the response header.
 *   None: QUERY_NOT_FOUND (22).
 * - 33 VIEW_MESSAGE_BY_ID: the stored record at a physical offset (the last
 *   16 hex digits of the offset message id a send returned) as the body.
 *   With access control on, only when it belongs to the topic named.
 *   None: SYSTEM_ERROR (1) with Java's remark.
 *
 * @module
 */

import { concat } from "../../bytes.ts";
import {
  decodeQueryMessageRequestHeader,
  decodeViewMessageRequestHeader,
  encodeQueryMessageResponseHeader,
  UNIQUE_KEY_QUERY_FIELD,
} from "../../codec/admin_headers.ts";
import { ResponseCode } from "../../codec/codes.ts";
import { decodeStoredMessage } from "../../codec/message_ext.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import type { BrokerContext } from "../context.ts";

/** Java `maxMsgsNumBatch`: most messages one QUERY_MESSAGE returns. */
const MAX_QUERY_NUM = 64;
/** Java `defaultQueryMaxNum`: what a query by unique key returns at most. */
const UNIQUE_QUERY_NUM = 32;

/**
 * Handles QUERY_MESSAGE (12).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { queryMessage } from "./query_message.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { decodeStoredMessages } from "../../codec/message_ext.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 10911 };
 * await store.put({
 *   topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: { KEYS: "order-1" },
 *   tagsCode: 0,
 * });
 * const ctx = { store } as unknown as BrokerContext;
 * const ask = (key: string) =>
 *   queryMessage(ctx, createRequest(12, { topic: "T", key, maxNum: 32, beginTimestamp: 0, endTimestamp: Date.now() + 1000 }));
 * const found = await ask("order-1");
 * assert.equal(found.code, 0);
 * assert.equal(decodeStoredMessages(found.body)[0]!.properties["KEYS"], "order-1");
 * assert.equal((await ask("order-2")).code, 22); // QUERY_NOT_FOUND
 * ```
 */
export async function queryMessage(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeQueryMessageRequestHeader(request.extFields);
  const unique = request.extFields[UNIQUE_KEY_QUERY_FIELD] === "true";
  const maxNum = Math.min(unique ? UNIQUE_QUERY_NUM : header.maxNum, MAX_QUERY_NUM);
  const result = await ctx.store.queryMessage(
    header.topic,
    header.key,
    maxNum,
    header.beginTimestamp,
    header.endTimestamp,
  );
  const responseHeader = encodeQueryMessageResponseHeader({
    indexLastUpdateTimestamp: result.indexLastUpdateTimestamp,
    indexLastUpdatePhyoffset: result.indexLastUpdatePhyoffset,
  });
  if (result.records.length === 0) {
    return createResponse(request, ResponseCode.QUERY_NOT_FOUND, responseHeader, {
      remark: "can not find message, maybe time range not correct",
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, responseHeader, {
    body: concat(result.records),
  });
}

/**
 * Handles VIEW_MESSAGE_BY_ID (33).
 *
 * @param ctx Broker state.
 * @param request The request (`offset`: the physical offset).
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { viewMessageById } from "./query_message.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { decodeStoredMessage } from "../../codec/message_ext.ts";
 * import { parseOffsetMessageId } from "../../codec/message_id.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 10911 };
 * const put = await store.put({
 *   topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: {}, tagsCode: 0,
 * });
 * const ctx = { store } as unknown as BrokerContext;
 * const offset = parseOffsetMessageId(put.msgId).commitLogOffset;
 * const found = await viewMessageById(ctx, createRequest(33, { topic: "T", offset }));
 * assert.equal(decodeStoredMessage(found.body).topic, "T");
 * assert.equal((await viewMessageById(ctx, createRequest(33, { offset: offset + 1 }))).code, 1);
 * ```
 */
export async function viewMessageById(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeViewMessageRequestHeader(request.extFields);
  const record = header.offset >= 0 ? await ctx.store.lookup(header.offset) : undefined;
  // With access control, the topic the ACL let through must be the message's.
  const hidden = record !== undefined && ctx.acl !== undefined &&
    decodeStoredMessage(record).topic !== header.topic;
  if (record === undefined || record.length === 0 || hidden) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: `can not find message by the offset, ${header.offset}`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, undefined, { body: record });
}
