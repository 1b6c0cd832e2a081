/**
 * 36 CONSUMER_SEND_MSG_BACK (`AbstractSendMessageProcessor.consumerSendMsgBack`):
 * a consumer failed a message; the broker stores a copy for redelivery in
 * `%RETRY%<group>` after a delay (level `3 + reconsumeTimes` when the
 * consumer leaves the level to the broker), or in `%DLQ%<group>` once it was
 * reconsumed `maxReconsumeTimes` times (or when the level is negative). The
 * copy has `reconsumeTimes + 1`, `RETRY_TOPIC` (the original topic) and
 * `ORIGIN_MESSAGE_ID` (the first original's offset message id).
 *
 * @module
 */

import { ResponseCode } from "../../codec/codes.ts";
import { decodeConsumerSendMsgBackRequestHeader } from "../../codec/ext_fields.ts";
import { decodeStoredMessage } from "../../codec/message_ext.ts";
import { offsetMessageId } from "../../codec/message_id.ts";
import { MessageProperty } from "../../codec/properties.ts";
import { createResponse, MQVersion, type RemotingCommand } from "../../codec/mod.ts";
import { CodecError } from "../../errors.ts";
import { type BrokerContext, tagsCodeOf } from "../context.ts";
import { DLQ_TOPIC_PREFIX, RETRY_TOPIC_PREFIX } from "../topics.ts";
import { DEFAULT_MAX_RECONSUME_TIMES, storeFailure } from "./send_message.ts";

/**
 * Handles CONSUMER_SEND_MSG_BACK (36).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response, once the copy is stored.
 * @throws {CodecError} When the header is malformed.
 *
 * @example An unknown offset
 * ```ts
 * import { Broker } from "../broker.ts";
 * import { memoryPair } from "../../transport/memory.ts";
 * import { RemotingConnection } from "../../remoting/connection.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker();
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const res = await client.invoke(createRequest(36, { offset: 12345, group: "CG", delayLevel: 0 }), { timeout: 1000 });
 * assert.equal(res.code, 1);
 * assert.equal(res.remark, "look message by offset failed, 12345");
 * await client.close();
 * await broker.close();
 * ```
 */
export async function consumerSendMsgBack(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeConsumerSendMsgBackRequestHeader(request.extFields);
  const group = header.group;
  const retryTopic = RETRY_TOPIC_PREFIX + group;
  ctx.topics.ensureGroupTopic(retryTopic, 1, header.unitMode ? 2 : 0);

  const record = await ctx.store.lookup(header.offset);
  let original;
  try {
    original = record ? decodeStoredMessage(record) : undefined;
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    original = undefined;
  }
  if (!original) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: `look message by offset failed, ${header.offset}`,
    });
  }

  const properties: Record<string, string> = { ...original.properties };
  if (properties[MessageProperty.RETRY_TOPIC] === undefined) {
    properties[MessageProperty.RETRY_TOPIC] = original.topic;
  }
  properties[MessageProperty.WAIT] = "false";

  let maxReconsumeTimes = DEFAULT_MAX_RECONSUME_TIMES;
  if (request.version >= MQVersion.V3_4_9 && header.maxReconsumeTimes !== undefined) {
    maxReconsumeTimes = header.maxReconsumeTimes;
  }
  let delayLevel = header.delayLevel;
  let topic = retryTopic;
  let dlq = false;
  if (original.reconsumeTimes >= maxReconsumeTimes || delayLevel < 0) {
    dlq = true;
    topic = DLQ_TOPIC_PREFIX + group;
    ctx.topics.ensureGroupTopic(topic, 1);
    properties[MessageProperty.DELAY] = "0";
  } else {
    if (delayLevel === 0) delayLevel = 3 + original.reconsumeTimes;
    properties[MessageProperty.DELAY] = String(delayLevel);
  }
  if (!properties[MessageProperty.ORIGIN_MESSAGE_ID]) {
    properties[MessageProperty.ORIGIN_MESSAGE_ID] = offsetMessageId(
      original.storeHost,
      original.commitLogOffset,
    );
  }

  try {
    await ctx.putMessage({
      topic,
      queueId: 0,
      flag: original.flag,
      sysFlag: original.sysFlag,
      bornTimestamp: original.bornTimestamp,
      bornHost: original.bornHost,
      storeHost: ctx.storeHost,
      reconsumeTimes: original.reconsumeTimes + 1,
      preparedTransactionOffset: 0,
      body: original.body,
      properties,
      tagsCode: tagsCodeOf(properties),
    });
  } catch (err) {
    ctx.logger.warn("send back: store put failed", { group, err });
    const refusal = storeFailure(ctx, err);
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: refusal.remark,
    });
  }
  ctx.counters.sentBack++;
  if (dlq) {
    ctx.logger.info("message moved to the dead-letter queue", {
      group,
      topic: original.topic,
      reconsumeTimes: original.reconsumeTimes,
      uniqKey: properties[MessageProperty.UNIQ_KEY],
    });
  }
  return createResponse(request, ResponseCode.SUCCESS);
}
