/**
 * Sends (`SendMessageProcessor`):
 *
 * - 10 SEND_MESSAGE (V1 header names)
 * - 310 SEND_MESSAGE_V2 (V2 single-letter names)
 * - 320 SEND_BATCH_MESSAGE (V2 names, batch body)
 *
 * The topic is checked and auto-created from its template as in
 * `msgCheck`; the broker adds `CLUSTER`, `MSG_REGION`, `TRACE_ON` and, when
 * missing, `UNIQ_KEY`; sends to `%RETRY%<group>` go to `%DLQ%<group>` past
 * their maximum reconsume times; messages with a `DELAY` level are parked.
 * The response is written only once the store's put resolved.
 *
 * A RIP-16 request (`CORRELATION_ID` and `REPLY_TO_CLIENT`) is recorded so
 * that its reply is accepted (see `pending_requests.ts`); its
 * `REPLY_TO_CLIENT` must be the sending connection's own client id. System
 * topics are not for sends (see `topic_access.ts`).
 *
 * Transactional half messages (`TRAN_MSG=true`) are refused with
 * NO_PERMISSION, as a Java broker with `rejectTransactionMessage=true` does:
 * this broker has no transaction check-back.
 *
 * @module
 */

import { CodecError, IllegalStateError, InvalidArgumentError } from "../../errors.ts";
import { MQVersion, RequestCode, ResponseCode } from "../../codec/codes.ts";
import { encodeSendMessageResponseHeader } from "../../codec/ext_fields.ts";
import {
  decodeBatch,
  decodeSendHeader,
  type SendMessageRequestHeader,
} from "../../codec/message.ts";
import { decodeProperties, encodeProperties, MessageProperty } from "../../codec/properties.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import { utf8Length } from "../../codec/_utf8.ts";
import {
  type BrokerContext,
  type Channel,
  parseBoolean,
  parseIntOr,
  suggestTodo,
  tagsCodeOf,
} from "../context.ts";
import {
  DLQ_TOPIC_PREFIX,
  isNotAllowedSendTopic,
  replyTopic,
  RETRY_TOPIC_PREFIX,
  type TopicConfig,
  validateTopic,
} from "../topics.ts";
import { MANY_REPLIES_PROPERTY } from "../pending_requests.ts";
import { sendRefusal } from "../topic_access.ts";
import type { PutMessageInput, PutResult } from "../store/types.ts";

/** Java `SubscriptionGroupConfig.retryMaxTimes` default. */
export const DEFAULT_MAX_RECONSUME_TIMES = 16;
/** Longest properties string Java stores (a short length field). */
const MAX_PROPERTIES_BYTES = 32767;

/** A response that failed a check, before any store write. */
export interface Refusal {
  /** Response code. */
  code: number;
  /** Remark. */
  remark: string;
}

/**
 * Extra `extFields` of every send response (Java adds them before any check).
 *
 * @param ctx Broker state.
 * @returns `MSG_REGION` and `TRACE_ON`.
 *
 * @example
 * ```ts
 * import { sendResponseExtras } from "./send_message.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { settings: { regionId: "DefaultRegion" } } as unknown as BrokerContext;
 * assert.deepEqual(sendResponseExtras(ctx), { MSG_REGION: "DefaultRegion", TRACE_ON: "true" });
 * ```
 */
export function sendResponseExtras(ctx: BrokerContext): Record<string, string> {
  return { MSG_REGION: ctx.settings.regionId, TRACE_ON: "true" };
}

/**
 * The topic checks of a send (`AbstractSendMessageProcessor.msgCheck`):
 * name, permission to send, existence with auto-creation from the template
 * (and `%RETRY%` topics), and the queue id. Sends may not write system
 * topics; replies (`kind: "reply"`) go to the reply topic only.
 *
 * @param ctx Broker state.
 * @param header The send header.
 * @param channel The producer's channel (for the remark).
 * @param kind `"send"` (10/310/320) or `"reply"` (324/325).
 * @returns The topic's configuration, or why the send is refused.
 *
 * @example
 * ```ts
 * import { checkSendTopic } from "./send_message.ts";
 * import { TopicManager } from "../topics.ts";
 * import { silentLogger } from "../../logger.ts";
 * import type { BrokerContext, Channel } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { topics: new TopicManager({ clusterName: "C", brokerName: "b" }), logger: silentLogger,
 *   settings: { clusterName: "C" } } as unknown as BrokerContext;
 * const channel = { label: "10.0.0.5:50000" } as Channel;
 * const header = { producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 0,
 *   sysFlag: 0, bornTimestamp: 0, flag: 0 };
 * const ok = checkSendTopic(ctx, header, channel);
 * assert.ok("topicName" in ok && ok.writeQueueNums === 4);
 * const bad = checkSendTopic(ctx, { ...header, queueId: 9 }, channel);
 * assert.ok("code" in bad && bad.code === 29);
 * const system = checkSendTopic(ctx, { ...header, topic: "C_REPLY_TOPIC" }, channel);
 * assert.ok("code" in system && system.code === 16); // replies use 324/325
 * ```
 */
export function checkSendTopic(
  ctx: BrokerContext,
  header: SendMessageRequestHeader,
  channel: Channel,
  kind: "send" | "reply" = "send",
): TopicConfig | Refusal {
  const invalid = validateTopic(header.topic);
  if (invalid) return { code: ResponseCode.INVALID_PARAMETER, remark: invalid };
  if (isNotAllowedSendTopic(header.topic)) {
    return {
      code: ResponseCode.NO_PERMISSION,
      remark: `Sending message to topic[${header.topic}] is forbidden.`,
    };
  }
  if (kind === "reply") {
    const expected = replyTopic(ctx.settings.clusterName);
    if (header.topic !== expected) {
      return {
        code: ResponseCode.NO_PERMISSION,
        remark: `a reply goes to topic[${expected}], not topic[${header.topic}]`,
      };
    }
  } else {
    const forbidden = sendRefusal(ctx, header.topic);
    if (forbidden !== undefined) return { code: ResponseCode.NO_PERMISSION, remark: forbidden };
  }
  let topic = ctx.topics.get(header.topic);
  if (!topic) {
    const retry = header.topic.startsWith(RETRY_TOPIC_PREFIX);
    const sysFlag = header.unitMode ? (retry ? 2 : 1) : 0;
    topic = ctx.topics.createFromTemplate(
      header.topic,
      header.defaultTopic,
      header.defaultTopicQueueNums,
      sysFlag,
    );
    if (!topic && retry) topic = ctx.topics.ensureGroupTopic(header.topic, 1, sysFlag);
    if (!topic) {
      return {
        code: ResponseCode.TOPIC_NOT_EXIST,
        remark: `topic[${header.topic}] not exist, apply first please!${suggestTodo()}`,
      };
    }
    ctx.logger.info("topic created on send", { topic: header.topic, queues: topic.writeQueueNums });
  }
  const valid = Math.max(topic.writeQueueNums, topic.readQueueNums);
  if (header.queueId >= valid) {
    return {
      code: ResponseCode.INVALID_PARAMETER,
      remark: `request queueId[${header.queueId}] is illegal, ${
        describeTopic(topic)
      } Producer: ${channel.label}`,
    };
  }
  return topic;
}

function describeTopic(t: TopicConfig): string {
  return `TopicConfig [topicName=${t.topicName}, readQueueNums=${t.readQueueNums}, writeQueueNums=${t.writeQueueNums}, perm=${
    permText(t.perm)
  }, topicFilterType=${t.topicFilterType}, topicSysFlag=${t.topicSysFlag}, order=${t.order}]`;
}

function permText(perm: number): string {
  return `${perm & 4 ? "R" : "-"}${perm & 2 ? "W" : "-"}${perm & 1 ? "X" : "-"}`;
}

/**
 * Pick a queue for a send that left it to the broker (`queueId < 0`).
 *
 * @param writeQueueNums Writable queues of the topic (at least 1).
 * @returns A random queue id.
 *
 * @example
 * ```ts
 * import { randomQueueId } from "./send_message.ts";
 * import assert from "node:assert/strict";
 *
 * const q = randomQueueId(4);
 * assert.ok(q >= 0 && q < 4);
 * ```
 */
export function randomQueueId(writeQueueNums: number): number {
  return Math.floor(Math.random() * 99999999) % Math.max(1, writeQueueNums);
}

const ILLEGAL_REMARK = (max: number): string =>
  `the message is illegal, maybe msg body or properties length not matched. msg body length limit ${max}B, msg properties length limit 32KB.`;

/**
 * Map a store failure to a response code and remark.
 *
 * @param ctx Broker state.
 * @param err What the store threw.
 * @returns The refusal.
 *
 * @example
 * ```ts
 * import { storeFailure } from "./send_message.ts";
 * import { InvalidArgumentError } from "../../errors.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { settings: { maxMessageSize: 4194304 } } as unknown as BrokerContext;
 * assert.equal(storeFailure(ctx, new InvalidArgumentError("properties", "too long")).code, 13);
 * ```
 */
export function storeFailure(ctx: BrokerContext, err: unknown): Refusal {
  if (err instanceof InvalidArgumentError) {
    return {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: `${ILLEGAL_REMARK(ctx.settings.maxMessageSize)} (${err.message})`,
    };
  }
  if (err instanceof IllegalStateError) {
    return {
      code: ResponseCode.SERVICE_NOT_AVAILABLE,
      remark: `service not available now: ${err.message}`,
    };
  }
  return {
    code: ResponseCode.SYSTEM_ERROR,
    remark: `store put failed: ${err instanceof Error ? err.message : String(err)}`,
  };
}

function refuse(request: RemotingCommand, ctx: BrokerContext, refusal: Refusal): RemotingCommand {
  return createResponse(request, refusal.code, sendResponseExtras(ctx), { remark: refusal.remark });
}

/**
 * Handles SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE
 * (320).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @param channel The producer's channel.
 * @returns The response, once stored.
 * @throws {CodecError} When the header is malformed (answered with
 * INVALID_PARAMETER by the dispatcher).
 *
 * @example
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
 * const header = encodeSendHeaderV2({ producerGroup: "PG", topic: "T", defaultTopic: "TBW102",
 *   defaultTopicQueueNums: 4, queueId: 1, sysFlag: 0, bornTimestamp: 1, flag: 0, properties: "TAGS\u0001A\u0002" });
 * const res = await client.invoke(createRequest(310, header, { body: new Uint8Array([1]) }), { timeout: 1000 });
 * assert.equal(res.code, 0);
 * assert.equal(res.extFields.queueId, "1");
 * assert.equal(res.extFields.MSG_REGION, "DefaultRegion");
 * await client.close();
 * await broker.close();
 * ```
 */
export async function sendMessage(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
): Promise<RemotingCommand> {
  const v2 = request.code !== RequestCode.SEND_MESSAGE;
  const header = decodeSendHeader(request.extFields, { v2 });
  const checked = checkSendTopic(ctx, header, channel);
  if ("code" in checked) return refuse(request, ctx, checked);
  const topic = checked;
  if (topic.writeQueueNums <= 0 && header.queueId < 0) {
    return refuse(request, ctx, {
      code: ResponseCode.SYSTEM_ERROR,
      remark: `topic[${header.topic}] has no writable queue`,
    });
  }
  if (header.batch) return await sendBatch(ctx, request, channel, header, topic);

  const queueId = header.queueId < 0 ? randomQueueId(topic.writeQueueNums) : header.queueId;
  const body = request.body;
  if (body.length > ctx.settings.maxMessageSize) {
    return refuse(request, ctx, {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: ILLEGAL_REMARK(ctx.settings.maxMessageSize),
    });
  }
  const wire = header.properties ?? "";
  const properties = decodeProperties(wire);
  const popCk = properties[MessageProperty.POP_CK] !== undefined;
  delete properties[MessageProperty.POP_CK];
  // What the broker adds, kept apart so that the stored text is the client's
  // own with these appended (see storedProperties).
  const added: Record<string, string> = {};
  const add = (key: string, value: string): void => {
    properties[key] = value;
    added[key] = value;
  };
  add(MessageProperty.MSG_REGION, ctx.settings.regionId);
  add(MessageProperty.TRACE_ON, "true");

  let storeTopic = header.topic;
  let storeQueueId = queueId;
  const reconsumeTimes = header.reconsumeTimes ?? 0;
  if (header.topic.startsWith(RETRY_TOPIC_PREFIX)) {
    // handleRetryAndDLQ: the client's own fallback when CONSUMER_SEND_MSG_BACK failed
    const group = header.topic.slice(RETRY_TOPIC_PREFIX.length);
    let maxReconsumeTimes = DEFAULT_MAX_RECONSUME_TIMES;
    if (request.version >= MQVersion.V3_4_9 && header.maxReconsumeTimes !== undefined) {
      maxReconsumeTimes = header.maxReconsumeTimes;
    }
    if (reconsumeTimes > maxReconsumeTimes || !ctx.locks.isLockAllExpired(group)) {
      add(MessageProperty.DELAY, "-1");
      storeTopic = DLQ_TOPIC_PREFIX + group;
      storeQueueId = 0;
      ctx.topics.ensureGroupTopic(storeTopic, 1);
    }
  }
  if (!properties[MessageProperty.UNIQ_KEY]) add(MessageProperty.UNIQ_KEY, ctx.uniqueKeys.next());
  add(MessageProperty.CLUSTER, ctx.settings.clusterName);
  const propertiesText = popCk ? undefined : storedProperties(wire, added);

  const delayLevel = parseIntOr(properties[MessageProperty.DELAY], 0);
  if (
    parseBoolean(properties[MessageProperty.TRAN_MSG]) && !(reconsumeTimes > 0 && delayLevel > 0)
  ) {
    return refuse(request, ctx, {
      code: ResponseCode.NO_PERMISSION,
      remark: `the broker[${ctx.storeHost.address}] sending transaction message is forbidden`,
    });
  }
  if (utf8Length(propertiesText ?? safeEncode(properties)) > MAX_PROPERTIES_BYTES) {
    return refuse(request, ctx, {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: ILLEGAL_REMARK(ctx.settings.maxMessageSize),
    });
  }

  const correlationId = properties[MessageProperty.CORRELATION_ID];
  const replyTo = properties[MessageProperty.REPLY_TO_CLIENT];
  const isRequest = correlationId !== undefined && replyTo !== undefined &&
    !header.topic.startsWith(RETRY_TOPIC_PREFIX);
  if (isRequest) {
    const refusal = recordRequest(
      ctx,
      channel,
      header.topic,
      correlationId,
      replyTo,
      properties,
      storeQueueId,
    );
    if (refusal) return refuse(request, ctx, refusal);
  }

  const input: PutMessageInput = {
    topic: storeTopic,
    queueId: storeQueueId,
    flag: header.flag,
    sysFlag: header.sysFlag,
    bornTimestamp: header.bornTimestamp,
    bornHost: channel.remote,
    storeHost: ctx.storeHost,
    reconsumeTimes,
    preparedTransactionOffset: 0,
    body,
    properties,
    propertiesText,
    tagsCode: tagsCodeOf(properties),
  };
  let result: PutResult;
  try {
    result = await ctx.putMessage(input);
  } catch (err) {
    if (isRequest) ctx.requests.delete(correlationId);
    ctx.logger.warn("send: store put failed", { topic: storeTopic, err });
    return refuse(request, ctx, storeFailure(ctx, err));
  }
  ctx.counters.messagesStored++;
  return createResponse(request, ResponseCode.SUCCESS, {
    ...encodeSendMessageResponseHeader({
      msgId: result.msgId,
      queueId,
      queueOffset: result.queueOffset,
      transactionId: properties[MessageProperty.UNIQ_KEY]!,
    }),
    ...sendResponseExtras(ctx),
  });
}

/**
 * Record a RIP-16 request (a message with `CORRELATION_ID` and
 * `REPLY_TO_CLIENT`) so that its reply is accepted later, once, and pushed
 * to the connection that sent it. The requester's client id must be its own:
 * held by this connection, or by nobody (then this connection claims it).
 */
function recordRequest(
  ctx: BrokerContext,
  channel: Channel,
  topic: string,
  correlationId: string,
  replyTo: string,
  properties: Record<string, string>,
  queueId: number,
): Refusal | undefined {
  const claim = ctx.registry.claim(replyTo, channel, channel.principal?.accessKey);
  if (!claim.ok) {
    ctx.counters.clientIdRefused++;
    const held = claim.owner !== undefined
      ? `connection ${claim.owner.label}`
      : claim.account !== undefined
      ? `account ${claim.account}`
      : "no one, but this connection holds too many client ids already";
    ctx.logger.warn("request refused: REPLY_TO_CLIENT belongs to another client", {
      replyTo,
      channel: channel.label,
      heldBy: held,
    });
    return {
      code: ResponseCode.NO_PERMISSION,
      remark: `REPLY_TO_CLIENT ${replyTo} is in use by ${held}; a reply only goes to the ` +
        "connection that sent the request (every client needs its own instanceName)",
    };
  }
  const ttl = parseIntOr(properties[MessageProperty.TTL], 0);
  const added = ctx.requests.add(correlationId, {
    topic,
    replyTo,
    channel,
    ttl: ttl > 0 ? ttl : undefined,
    queueId,
    many: properties[MANY_REPLIES_PROPERTY] === "many",
  });
  if (added === "conflict") {
    return {
      code: ResponseCode.NO_PERMISSION,
      remark: `CORRELATION_ID ${correlationId} belongs to a request of another connection`,
    };
  }
  if (added === "full") {
    return {
      code: ResponseCode.SYSTEM_BUSY,
      remark: "too many requests are waiting for their reply; try again later",
    };
  }
  return undefined;
}

/**
 * The properties text to store: the client's own, with what the broker added
 * appended (a later duplicate wins when read, in Java too). The client's part
 * is neither decoded into a record nor encoded again on its way to the store
 * and to the consumers, which cost a few µs per message. `undefined` when
 * the additions cannot be written (a separator in a configured name): the
 * record is then encoded afresh, and refused there.
 *
 * @param wire The properties string as the client sent it.
 * @param added The keys the broker set, with their values.
 * @returns Text that decodes to the client's properties with `added` applied.
 */
export function storedProperties(
  wire: string,
  added: Readonly<Record<string, string>>,
): string | undefined {
  try {
    // A last segment without its separator would swallow the first addition.
    const joint = wire.length > 0 && !wire.endsWith("\u0002") ? "\u0002" : "";
    return wire + joint + encodeProperties(added);
  } catch {
    return undefined;
  }
}

function safeEncode(properties: Record<string, string>): string {
  try {
    return encodeProperties(properties);
  } catch {
    return ""; // a separator inside a value: the store refuses it with MESSAGE_ILLEGAL
  }
}

async function sendBatch(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
  header: SendMessageRequestHeader,
  topic: TopicConfig,
): Promise<RemotingCommand> {
  const queueId = header.queueId < 0 ? randomQueueId(topic.writeQueueNums) : header.queueId;
  if (header.topic.length > 127) {
    return refuse(request, ctx, {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: `message topic length too long ${header.topic.length}`,
    });
  }
  if (header.topic.startsWith(RETRY_TOPIC_PREFIX)) {
    return refuse(request, ctx, {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: `batch request does not support retry group ${header.topic}`,
    });
  }
  if (request.body.length > ctx.settings.maxMessageSize) {
    return refuse(request, ctx, {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: ILLEGAL_REMARK(ctx.settings.maxMessageSize),
    });
  }
  let entries;
  try {
    entries = decodeBatch(request.body);
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    return refuse(request, ctx, {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: `the batch body is malformed: ${err.message}`,
    });
  }
  if (entries.length === 0) {
    return refuse(request, ctx, {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: "the batch is empty",
    });
  }
  // Batch-level properties (the batch's UNIQ_KEY, WAIT, CLUSTER, …) complete
  // each entry's own, which win: every message keeps its own UNIQ_KEY (Java
  // 4.8.0–5.3.3 let the batch's overwrite it; later versions drop CLUSTER).
  const batchProps = decodeProperties(header.properties ?? "");
  delete batchProps[MessageProperty.POP_CK];
  batchProps[MessageProperty.MSG_REGION] = ctx.settings.regionId;
  batchProps[MessageProperty.TRACE_ON] = "true";
  const batchKey = batchProps[MessageProperty.UNIQ_KEY];
  delete batchProps[MessageProperty.UNIQ_KEY];
  const inputs: PutMessageInput[] = entries.map((entry) => {
    const properties: Record<string, string> = { ...entry.properties };
    for (const [key, value] of Object.entries(batchProps)) {
      if (!(key in properties)) properties[key] = value;
    }
    properties[MessageProperty.CLUSTER] = ctx.settings.clusterName;
    if (!properties[MessageProperty.UNIQ_KEY]) {
      properties[MessageProperty.UNIQ_KEY] = ctx.uniqueKeys.next();
    }
    return {
      topic: header.topic,
      queueId,
      flag: entry.flag,
      sysFlag: header.sysFlag,
      bornTimestamp: header.bornTimestamp,
      bornHost: channel.remote,
      storeHost: ctx.storeHost,
      reconsumeTimes: header.reconsumeTimes ?? 0,
      preparedTransactionOffset: 0,
      body: entry.body,
      properties,
      tagsCode: tagsCodeOf(properties),
    };
  });
  let results: PutResult[];
  try {
    results = await ctx.putBatch(inputs);
  } catch (err) {
    ctx.logger.warn("send batch: store put failed", { topic: header.topic, err });
    return refuse(request, ctx, storeFailure(ctx, err));
  }
  ctx.counters.messagesStored += results.length;
  return createResponse(request, ResponseCode.SUCCESS, {
    ...encodeSendMessageResponseHeader({
      msgId: results.map((r) => r.msgId).join(","),
      queueId,
      queueOffset: results[0]!.queueOffset,
      transactionId: batchKey ?? inputs[0]!.properties[MessageProperty.UNIQ_KEY]!,
    }),
    ...sendResponseExtras(ctx),
  });
}
