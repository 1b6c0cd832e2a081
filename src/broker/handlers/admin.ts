/**
 * Administration (`AdminBrokerProcessor`):
 *
 * - 17 UPDATE_AND_CREATE_TOPIC: create or change a topic (persisted with a
 *   data directory). System topics are refused, as a Java broker with
 *   `validateSystemTopicWhenUpdateTopic=true` (the default) does.
 * - 351 GET_TOPIC_CONFIG: a topic's configuration (5.x admin tools ask for
 *   it before `consumerProgress`), never a static-topic mapping.
 *
 * @module
 */

import { ResponseCode } from "../../codec/codes.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import { utf8Encode } from "../../codec/_utf8.ts";
import { stringifyJson } from "../../codec/fastjson.ts";
import { CodecError } from "../../errors.ts";
import type { BrokerContext } from "../context.ts";
import { type TopicConfig, validateTopic } from "../topics.ts";

function field(ext: Readonly<Record<string, string>>, name: string): string {
  const value = ext[name];
  if (value === undefined) {
    throw new CodecError("schema", `CreateTopicRequestHeader: field ${name} is required`);
  }
  return value;
}

function intField(
  ext: Readonly<Record<string, string>>,
  name: string,
  min: number,
  max: number,
): number {
  const text = field(ext, name);
  const n = /^[+-]?\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CodecError(
      "schema",
      `CreateTopicRequestHeader: field ${name} must be an integer ${min}..${max}, got ${
        JSON.stringify(text.slice(0, 32))
      }`,
    );
  }
  return n;
}

/**
 * Decode a CreateTopicRequestHeader (code 17).
 *
 * @param ext The request's `extFields`.
 * @returns The topic configuration asked for.
 * @throws {CodecError} With reason `"schema"`, naming the bad field.
 *
 * @example
 * ```ts
 * import { decodeCreateTopicHeader } from "./admin.ts";
 * import assert from "node:assert/strict";
 *
 * const t = decodeCreateTopicHeader({ topic: "T", defaultTopic: "TBW102", readQueueNums: "8", writeQueueNums: "8",
 *   perm: "6", topicFilterType: "SINGLE_TAG", order: "false" });
 * assert.equal(t.readQueueNums, 8);
 * assert.throws(() => decodeCreateTopicHeader({ topic: "T" }), /field defaultTopic/);
 * ```
 */
export function decodeCreateTopicHeader(ext: Readonly<Record<string, string>>): TopicConfig {
  const topicName = field(ext, "topic");
  field(ext, "defaultTopic");
  return {
    topicName,
    readQueueNums: intField(ext, "readQueueNums", 0, 65535),
    writeQueueNums: intField(ext, "writeQueueNums", 0, 65535),
    perm: intField(ext, "perm", 0, 15),
    topicFilterType: ext.topicFilterType ?? "SINGLE_TAG",
    topicSysFlag: ext.topicSysFlag === undefined
      ? 0
      : intField(ext, "topicSysFlag", -2147483648, 2147483647),
    order: (ext.order ?? "").toLowerCase() === "true",
  };
}

/**
 * Handles UPDATE_AND_CREATE_TOPIC (17).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { updateAndCreateTopic } from "./admin.ts";
 * import { TopicManager } from "../topics.ts";
 * import { silentLogger } from "../../logger.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { topics: new TopicManager({ clusterName: "C", brokerName: "b" }), logger: silentLogger } as unknown as BrokerContext;
 * const header = { topic: "orders", defaultTopic: "TBW102", readQueueNums: 2, writeQueueNums: 2, perm: 6,
 *   topicFilterType: "SINGLE_TAG", order: false };
 * assert.equal(updateAndCreateTopic(ctx, createRequest(17, header)).code, 0);
 * assert.equal(ctx.topics.get("orders")?.readQueueNums, 2);
 * assert.equal(updateAndCreateTopic(ctx, createRequest(17, { ...header, topic: "TBW102" })).code, 29);
 * ```
 */
export function updateAndCreateTopic(
  ctx: BrokerContext,
  request: RemotingCommand,
): RemotingCommand {
  const topic = decodeCreateTopicHeader(request.extFields);
  const invalid = validateTopic(topic.topicName);
  if (invalid) {
    return createResponse(request, ResponseCode.INVALID_PARAMETER, undefined, { remark: invalid });
  }
  if (ctx.topics.isSystemTopic(topic.topicName)) {
    return createResponse(request, ResponseCode.INVALID_PARAMETER, undefined, {
      remark: `The topic[${topic.topicName}] is conflict with system topic.`,
    });
  }
  if (ctx.topics.update(topic)) {
    ctx.logger.info("topic created or updated", { ...topic });
  }
  return createResponse(request, ResponseCode.SUCCESS);
}

/**
 * Handles GET_TOPIC_CONFIG (351): the topic's configuration as RocketMQ 5.x
 * answers it (`TopicConfigAndQueueMapping`, without a static-topic mapping),
 * or TOPIC_NOT_EXIST.
 *
 * @param ctx Broker state.
 * @param request The request (`topic`).
 * @returns The response.
 * @throws {CodecError} When the header has no topic.
 *
 * @example
 * ```ts
 * import { getTopicConfig } from "./admin.ts";
 * import { TopicManager } from "../topics.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { topics: new TopicManager({ clusterName: "C", brokerName: "b" }) } as unknown as BrokerContext;
 * const reply = getTopicConfig(ctx, createRequest(351, { topic: "C_REPLY_TOPIC", lo: true }));
 * assert.equal(JSON.parse(new TextDecoder().decode(reply.body)).topicName, "C_REPLY_TOPIC");
 * assert.equal(getTopicConfig(ctx, createRequest(351, { topic: "nope" })).code, 17);
 * ```
 */
export function getTopicConfig(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const name = request.extFields.topic;
  if (!name) throw new CodecError("schema", "GetTopicConfigRequestHeader: field topic is required");
  const topic = ctx.topics.get(name);
  if (!topic) {
    return createResponse(request, ResponseCode.TOPIC_NOT_EXIST, undefined, {
      remark: `No topic in this broker. topic: ${name}`,
    });
  }
  // fastjson's bean order: alphabetical.
  const body = utf8Encode(stringifyJson({
    attributes: {},
    order: topic.order,
    perm: topic.perm,
    readQueueNums: topic.readQueueNums,
    topicFilterType: topic.topicFilterType,
    topicName: topic.topicName,
    topicSysFlag: topic.topicSysFlag,
    writeQueueNums: topic.writeQueueNums,
  }));
  return createResponse(request, ResponseCode.SUCCESS, undefined, { body });
}
