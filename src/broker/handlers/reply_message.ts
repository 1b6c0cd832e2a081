/**
 * RIP-16 replies (`ReplyMessageProcessor`):
 *
 * - 324 SEND_REPLY_MESSAGE (V1 header names)
 * - 325 SEND_REPLY_MESSAGE_V2 (V2 names)
 *
 * The reply is pushed with 326 PUSH_REPLY_MESSAGE_TO_CLIENT to the
 * connection that sent the request, then stored (`storeReplyMessage`,
 * default true as in Java). The replier gets code 0 when the push
 * succeeded, else SYSTEM_ERROR with Java's remark texts.
 *
 * Safer than RocketMQ, which pushes any reply to whichever connection last
 * announced its `REPLY_TO_CLIENT` id: a reply is accepted only
 *
 * - for a request this broker stored and still waits on (before its `TTL`,
 *   not yet answered, its requester still connected; see
 *   `pending_requests.ts`), naming that request's requester;
 * - to the reply topic;
 * - from a connection that speaks for a consumer group subscribed to the
 *   request's topic (a member, or a member's process: same IP address, same
 *   `ip@pid` client id prefix or no heartbeat yet, same ACL account), and,
 *   with ACL, whose account may SUB that topic.
 *
 * A refused reply gets NO_PERMISSION (or SYSTEM_ERROR when nothing waits)
 * and is neither pushed nor stored. Without ACL, a client on the requester's
 * host can still pass for a responder; ACL closes that.
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
import { Permission } from "../acl/access_control.ts";
import { type BrokerContext, type Channel, tagsCodeOf } from "../context.ts";
import type { PendingRequest } from "../pending_requests.ts";
import {
  checkSendTopic,
  randomQueueId,
  type Refusal,
  sendResponseExtras,
  storedProperties,
} from "./send_message.ts";

interface PushOutcome {
  ok: boolean;
  remark: string;
}

/** The part of a client id shared by a process's clients: `ip@pid` of `ip@pid#nanos`. */
function processKey(clientId: string): string {
  const hash = clientId.indexOf("#");
  return hash < 0 ? clientId : clientId.slice(0, hash);
}

/**
 * Whether a connection speaks for a consumer group subscribed to a topic:
 * it is a member itself, or it belongs to a member's process. A Java
 * responder replies through a separate `DefaultMQProducer`, whose client id
 * (`ip@pid#nanos`) shares the consumer's `ip@pid`, and which has sent no
 * heartbeat yet when it sends its first reply; it comes from the member's
 * IP address, with the member's ACL account.
 */
function speaksForSubscriber(ctx: BrokerContext, topic: string, replier: Channel): boolean {
  const ids = ctx.registry.clientIdsOf(replier);
  const account = replier.principal?.accessKey;
  for (const member of ctx.registry.subscribers(topic)) {
    const m = member.channel;
    if (m === replier) return true;
    if (m.remote.address !== replier.remote.address || m.principal?.accessKey !== account) continue;
    if (ids.size === 0) return true;
    const key = processKey(member.clientId);
    for (const id of ids) if (processKey(id) === key) return true;
  }
  return false;
}

type Acceptance = { pending: PendingRequest<Channel> } | Refusal;

/** Whether a reply answers a request this broker waits on, from a replier allowed to. */
function acceptReply(
  ctx: BrokerContext,
  properties: Record<string, string>,
  replier: Channel,
): Acceptance {
  const clientId = properties[MessageProperty.REPLY_TO_CLIENT];
  if (clientId === undefined) {
    return {
      code: ResponseCode.SYSTEM_ERROR,
      remark: `reply message properties[${MessageProperty.REPLY_TO_CLIENT}] is null`,
    };
  }
  const correlationId = properties[MessageProperty.CORRELATION_ID];
  if (correlationId === undefined) {
    return {
      code: ResponseCode.SYSTEM_ERROR,
      remark: `reply message properties[${MessageProperty.CORRELATION_ID}] is null`,
    };
  }
  const pending = ctx.requests.get(correlationId);
  if (pending === undefined) {
    return {
      code: ResponseCode.SYSTEM_ERROR,
      remark: `no request waits for a reply with CORRELATION_ID ${correlationId}: ` +
        "unknown, already answered, expired, or its requester left",
    };
  }
  if (pending.replyTo !== clientId) {
    return {
      code: ResponseCode.NO_PERMISSION,
      remark: `the request ${correlationId} was sent by ${pending.replyTo}, not ${clientId}`,
    };
  }
  const acl = ctx.acl;
  if (acl !== undefined) {
    const principal = replier.principal;
    if (principal === undefined || !acl.may(principal, "topic", pending.topic, Permission.SUB)) {
      return {
        code: ResponseCode.NO_PERMISSION,
        remark: `accessKey=${principal?.accessKey} may not read topic ${pending.topic}, ` +
          "so it may not answer its requests",
      };
    }
  }
  if (replier.principal?.admin !== true && !speaksForSubscriber(ctx, pending.topic, replier)) {
    return {
      code: ResponseCode.NO_PERMISSION,
      remark: `connection ${replier.label} is not in a consumer group subscribed to topic ` +
        `${pending.topic}, so it may not answer its requests`,
    };
  }
  return { pending };
}

async function pushReply(
  ctx: BrokerContext,
  header: SendMessageRequestHeader,
  properties: Record<string, string>,
  propertiesText: string | undefined,
  body: Uint8Array,
  replier: Channel,
  pending: PendingRequest<Channel>,
): Promise<PushOutcome> {
  const clientId = pending.replyTo;
  const target = pending.channel;
  const now = ctx.timers.now();
  const pushTime = { [MessageProperty.PUSH_REPLY_TIME]: String(now) };
  const pushProperties =
    (propertiesText !== undefined ? storedProperties(propertiesText, pushTime) : undefined) ??
      encodeProperties({ ...properties, ...pushTime });
  const pushHeader = encodeReplyMessageRequestHeader({
    producerGroup: header.producerGroup,
    topic: header.topic,
    defaultTopic: header.defaultTopic,
    defaultTopicQueueNums: header.defaultTopicQueueNums,
    queueId: header.queueId,
    sysFlag: header.sysFlag,
    bornTimestamp: header.bornTimestamp,
    flag: header.flag,
    properties: pushProperties,
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
 * @example A reply to a request nobody sent
 * ```ts
 * import { Broker } from "../broker.ts";
 * import { memoryPair } from "../../transport/memory.ts";
 * import { RemotingConnection } from "../../remoting/connection.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { encodeSendHeaderV2 } from "../../codec/message.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker();
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const header = encodeSendHeaderV2({ producerGroup: "PG", topic: "DefaultCluster_REPLY_TOPIC",
 *   defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 0, sysFlag: 0, bornTimestamp: 1, flag: 0,
 *   properties: "MSG_TYPE\u0001reply\u0002REPLY_TO_CLIENT\u0001gone@1\u0002CORRELATION_ID\u0001c\u0002" });
 * const res = await client.invoke(createRequest(325, header), { timeout: 1000 });
 * assert.equal(res.code, 1);
 * assert.match(res.remark ?? "", /^no request waits for a reply with CORRELATION_ID c/);
 * assert.equal(broker.stats.repliesRefused, 1);
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
  const checked = checkSendTopic(ctx, header, channel, "reply");
  if ("code" in checked) {
    return createResponse(request, checked.code, extras, { remark: checked.remark });
  }
  const queueId = header.queueId < 0 ? randomQueueId(checked.writeQueueNums) : header.queueId;
  const wire = header.properties ?? "";
  const properties = decodeProperties(wire);
  const added = {
    [MessageProperty.MSG_REGION]: ctx.settings.regionId,
    [MessageProperty.TRACE_ON]: "true",
  };
  Object.assign(properties, added);
  // The replier's own text with the broker's keys appended, as for sends.
  const propertiesText = storedProperties(wire, added);

  const accepted = acceptReply(ctx, properties, channel);
  if ("code" in accepted) {
    ctx.counters.repliesRefused++;
    ctx.logger.warn("reply refused", { channel: channel.label, reason: accepted.remark });
    return createResponse(request, accepted.code, extras, { remark: accepted.remark });
  }
  const outcome = await pushReply(
    ctx,
    header,
    properties,
    propertiesText,
    request.body,
    channel,
    accepted.pending,
  );
  if (outcome.ok) {
    ctx.counters.repliesPushed++;
    // One reply answers a request; one of requestMany() takes more until it ends.
    if (!accepted.pending.many) ctx.requests.delete(accepted.pending.correlationId);
  } else {
    ctx.counters.repliesFailed++;
  }
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
        propertiesText,
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
