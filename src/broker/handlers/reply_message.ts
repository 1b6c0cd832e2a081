/**
 * RIP-16 replies (`ReplyMessageProcessor`):
 *
 * - 324 SEND_REPLY_MESSAGE (V1 header names)
 * - 325 SEND_REPLY_MESSAGE_V2 (V2 names)
 *
 * The reply is pushed with 326 PUSH_REPLY_MESSAGE_TO_CLIENT on the channel of
 * the client named by its `REPLY_TO_CLIENT` property (found through
 * heartbeats), then stored (`storeReplyMessage`, default true as in Java).
 * The replier gets code 0 when the push succeeded, else SYSTEM_ERROR with
 * Java's remark texts.
 *
 * Improvement over Java: when the requester's client id is not registered
 * (yet), the broker waits up to `replyWaitMillis` (default 1 s, never longer
 * than the request's `TTL`) for its heartbeat before failing. This closes the
 * race where a fast responder replies before the requester's first heartbeat
 * reached the broker, which in Java loses the reply.
 *
 * @module
 */

import { RequestCode, ResponseCode } from "../../codec/codes.ts";
import {
  encodeReplyMessageRequestHeader,
  encodeSendMessageResponseHeader,
} from "../../codec/ext_fields.ts";
import { decodeSendHeader, type SendMessageRequestHeader } from "../../codec/message.ts";
import { formatHostAddress } from "../../codec/message_ext.ts";
import { decodeProperties, encodeProperties, MessageProperty } from "../../codec/properties.ts";
import {
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../codec/remoting_command.ts";
import { type BrokerContext, type Channel, parseIntOr, tagsCodeOf } from "../context.ts";
import { checkSendTopic, randomQueueId, sendResponseExtras } from "./send_message.ts";

interface PushOutcome {
  ok: boolean;
  remark: string;
}

async function pushReply(
  ctx: BrokerContext,
  header: SendMessageRequestHeader,
  properties: Record<string, string>,
  body: Uint8Array,
  replier: Channel,
): Promise<PushOutcome> {
  const clientId = properties[MessageProperty.REPLY_TO_CLIENT];
  if (clientId === undefined) {
    ctx.logger.warn("reply without REPLY_TO_CLIENT", { channel: replier.label });
    return {
      ok: false,
      remark: `reply message properties[${MessageProperty.REPLY_TO_CLIENT}] is null`,
    };
  }
  let target = ctx.registry.findClientChannel(clientId);
  if (target === undefined) {
    const ttl = parseIntOr(properties[MessageProperty.TTL], 0);
    const wait = ttl > 0
      ? Math.min(ctx.settings.replyWaitMillis, ttl)
      : ctx.settings.replyWaitMillis;
    target = await ctx.registry.waitForClient(clientId, wait, replier.signal);
    if (target !== undefined) ctx.logger.debug("reply waited for its requester", { clientId });
  }
  if (target === undefined) {
    const remark = `push reply message fail, channel of <${clientId}> not found.`;
    ctx.logger.warn(remark);
    return { ok: false, remark };
  }
  const now = ctx.timers.now();
  const pushProperties = { ...properties, [MessageProperty.PUSH_REPLY_TIME]: String(now) };
  const pushHeader = encodeReplyMessageRequestHeader({
    producerGroup: header.producerGroup,
    topic: header.topic,
    defaultTopic: header.defaultTopic,
    defaultTopicQueueNums: header.defaultTopicQueueNums,
    queueId: header.queueId,
    sysFlag: header.sysFlag,
    bornTimestamp: header.bornTimestamp,
    flag: header.flag,
    properties: encodeProperties(pushProperties),
    ...(header.reconsumeTimes !== undefined ? { reconsumeTimes: header.reconsumeTimes } : {}),
    unitMode: header.unitMode ?? false,
    bornHost: formatHostAddress(replier.remote),
    storeHost: formatHostAddress(ctx.storeHost),
    storeTimestamp: now,
  });
  const failed = `push reply message to ${clientId}fail.`;
  try {
    const response = await target.connection.invoke(
      createRequest(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, pushHeader, { body }),
      { timeout: ctx.settings.replyPushTimeout },
    );
    if (response.code === ResponseCode.SUCCESS) return { ok: true, remark: "" };
    ctx.logger.warn("push reply message returned failure", {
      clientId,
      code: response.code,
      remark: response.remark,
    });
    return { ok: false, remark: failed };
  } catch (err) {
    ctx.logger.warn("push reply message failed", { clientId, err });
    return { ok: false, remark: failed };
  }
}

/**
 * Handles SEND_REPLY_MESSAGE (324) and SEND_REPLY_MESSAGE_V2 (325).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @param channel The replier's channel.
 * @returns The response, once pushed (and stored).
 * @throws {CodecError} When the header is malformed.
 *
 * @example A reply to a client that never registered
 * ```ts
 * import { Broker } from "../broker.ts";
 * import { memoryPair } from "../../transport/memory.ts";
 * import { RemotingConnection } from "../../remoting/connection.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { encodeSendHeaderV2 } from "../../codec/message.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker({ replyWaitMillis: 0 });
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const header = encodeSendHeaderV2({ producerGroup: "PG", topic: "DefaultCluster_REPLY_TOPIC",
 *   defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 0, sysFlag: 0, bornTimestamp: 1, flag: 0,
 *   properties: "MSG_TYPE\u0001reply\u0002REPLY_TO_CLIENT\u0001gone@1\u0002CORRELATION_ID\u0001c\u0002" });
 * const res = await client.invoke(createRequest(325, header), { timeout: 1000 });
 * assert.equal(res.code, 1);
 * assert.equal(res.remark, "push reply message fail, channel of <gone@1> not found.");
 * await client.close();
 * await broker.close();
 * ```
 */
export async function sendReplyMessage(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
): Promise<RemotingCommand> {
  const v2 = request.code === RequestCode.SEND_REPLY_MESSAGE_V2;
  const header = decodeSendHeader(request.extFields, { v2 });
  const extras = sendResponseExtras(ctx);
  const checked = checkSendTopic(ctx, header, channel);
  if ("code" in checked) {
    return createResponse(request, checked.code, extras, { remark: checked.remark });
  }
  const queueId = header.queueId < 0 ? randomQueueId(checked.writeQueueNums) : header.queueId;
  const properties = decodeProperties(header.properties ?? "");
  properties[MessageProperty.MSG_REGION] = ctx.settings.regionId;
  properties[MessageProperty.TRACE_ON] = "true";

  const outcome = await pushReply(ctx, header, properties, request.body, channel);
  if (outcome.ok) ctx.counters.repliesPushed++;
  else ctx.counters.repliesFailed++;
  const fields: Record<string, string> = { ...extras };
  if (outcome.ok) {
    Object.assign(fields, encodeSendMessageResponseHeader({ msgId: "0", queueId, queueOffset: 0 }));
  }
  if (ctx.settings.storeReplyMessage) {
    try {
      const stored = await ctx.putMessage({
        topic: header.topic,
        queueId,
        flag: header.flag,
        sysFlag: header.sysFlag,
        bornTimestamp: header.bornTimestamp,
        bornHost: channel.remote,
        storeHost: ctx.storeHost,
        reconsumeTimes: header.reconsumeTimes ?? 0,
        preparedTransactionOffset: 0,
        body: request.body,
        properties,
        tagsCode: tagsCodeOf(properties),
      });
      Object.assign(
        fields,
        encodeSendMessageResponseHeader({
          msgId: stored.msgId,
          queueId,
          queueOffset: stored.queueOffset,
        }),
      );
    } catch (err) {
      ctx.logger.warn("reply: store put failed", { topic: header.topic, err });
    }
  }
  return outcome.ok
    ? createResponse(request, ResponseCode.SUCCESS, fields)
    : createResponse(request, ResponseCode.SYSTEM_ERROR, fields, { remark: outcome.remark });
}
