/**
 * Consumer group queries:
 *
 * - 38 GET_CONSUMER_LIST_BY_GROUP (`ConsumerManageProcessor`): client ids of
 *   the group's live channels; SYSTEM_ERROR `no consumer for this group, <g>`
 *   when there is none, as Java.
 * - 300 QUERY_TOPIC_CONSUME_BY_WHO (`AdminBrokerProcessor`): groups with a
 *   live subscription to the topic plus groups with committed offsets for it,
 *   `{"groupList":[…]}`.
 *
 * @module
 */

import { encodeConsumerListBody } from "../../codec/bodies.ts";
import { ResponseCode } from "../../codec/codes.ts";
import { decodeGetConsumerListByGroupRequestHeader } from "../../codec/ext_fields.ts";
import { stringifyJson } from "../../codec/fastjson.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import { utf8Encode } from "../../codec/_utf8.ts";
import { CodecError } from "../../errors.ts";
import type { BrokerContext } from "../context.ts";
import { DELAY_OFFSET_GROUP } from "../delay.ts";

/**
 * Handles GET_CONSUMER_LIST_BY_GROUP (38).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { getConsumerListByGroup } from "./consumer_manage.ts";
 * import { ClientRegistry } from "../client_registry.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { silentLogger } from "../../logger.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { registry: new ClientRegistry(), logger: silentLogger } as unknown as BrokerContext;
 * const res = getConsumerListByGroup(ctx, createRequest(38, { consumerGroup: "CG" }));
 * assert.equal(res.code, 1);
 * assert.equal(res.remark, "no consumer for this group, CG");
 * ```
 */
export function getConsumerListByGroup(
  ctx: BrokerContext,
  request: RemotingCommand,
): RemotingCommand {
  const header = decodeGetConsumerListByGroupRequestHeader(request.extFields);
  const ids = ctx.registry.consumerIds(header.consumerGroup);
  if (ids.length === 0) {
    ctx.logger.debug("no consumer for group", { group: header.consumerGroup });
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: `no consumer for this group, ${header.consumerGroup}`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, undefined, {
    body: encodeConsumerListBody({ consumerIdList: ids }),
  });
}

/**
 * Handles QUERY_TOPIC_CONSUME_BY_WHO (300).
 *
 * @param ctx Broker state.
 * @param request The request (extField `topic`).
 * @returns The response.
 * @throws {CodecError} When `topic` is missing.
 *
 * @example
 * ```ts
 * import { queryTopicConsumeByWho } from "./consumer_manage.ts";
 * import { ClientRegistry } from "../client_registry.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * store.commitOffset("CG", "T", 0, 5);
 * const ctx = { registry: new ClientRegistry(), store } as unknown as BrokerContext;
 * const res = queryTopicConsumeByWho(ctx, createRequest(300, { topic: "T" }));
 * assert.deepEqual(JSON.parse(new TextDecoder().decode(res.body)), { groupList: ["CG"] });
 * ```
 */
export function queryTopicConsumeByWho(
  ctx: BrokerContext,
  request: RemotingCommand,
): RemotingCommand {
  const topic = request.extFields.topic;
  if (topic === undefined) {
    throw new CodecError("schema", "QueryTopicConsumeByWhoRequestHeader: field topic is required");
  }
  const groups = new Set(ctx.registry.groupsByTopic(topic));
  for (const group of ctx.store.groupsWithOffsets(topic)) {
    if (group !== DELAY_OFFSET_GROUP) groups.add(group);
  }
  return createResponse(request, ResponseCode.SUCCESS, undefined, {
    body: utf8Encode(stringifyJson({ groupList: [...groups] })),
  });
}
