/**
 * Request dispatch of the broker: one handler per request code (Java
 * `RequestCode` names in the comments). Codes without a handler are answered
 * with REQUEST_CODE_NOT_SUPPORTED (3) and Java's remark; malformed headers
 * and bodies with INVALID_PARAMETER (29) and a remark naming the field; any
 * other failure with SYSTEM_ERROR (1). Oneway requests are never answered.
 *
 * @example
 * ```ts
 * import { HANDLERS } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(HANDLERS.has(310));
 * assert.ok(!HANDLERS.has(12345));
 * ```
 *
 * @module
 */

import { RequestCode, ResponseCode, RpcRequestCode } from "../../codec/codes.ts";
import { createResponse, isOneway, type RemotingCommand } from "../../codec/remoting_command.ts";
import { CodecError } from "../../errors.ts";
import { checkAccess } from "../acl/guard.ts";
import type { BrokerContext, Channel, Handler } from "../context.ts";
import { getTopicConfig, updateAndCreateTopic } from "./admin.ts";
import {
  consumeMessageDirectly,
  getConsumerConnectionList,
  getConsumerRunningInfo,
  getProducerConnectionList,
} from "./admin_client.ts";
import { getBrokerRuntimeInfo, getTopicStatsInfo } from "./broker_stats.ts";
import { cancelRequest } from "./cancel_request.ts";
import { getConsumerListByGroup, queryTopicConsumeByWho } from "./consumer_manage.ts";
import {
  getConsumeStats,
  getEarliestMsgStoretime,
  getMaxOffset,
  getMinOffset,
  queryConsumerOffset,
  searchOffsetByTimestamp,
  updateConsumerOffset,
} from "./consumer_offset.ts";
import { checkClientConfig, heartbeat, unregisterClient } from "./heartbeat.ts";
import { lockBatchMQ, unlockBatchMQ } from "./lock.ts";
import { pullMessage } from "./pull_message.ts";
import { queryMessage, viewMessageById } from "./query_message.ts";
import { sendReplyMessage } from "./reply_message.ts";
import { getAllTopicList, getBrokerClusterInfo, getRouteInfo } from "./route.ts";
import { consumerSendMsgBack } from "./send_back.ts";
import { sendMessage } from "./send_message.ts";

/**
 * The handlers by request code.
 *
 * @example
 * ```ts
 * import { HANDLERS } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof HANDLERS.get(105), "function");
 * ```
 */
export const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  // Name server
  [RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfo], // 105
  [RequestCode.GET_BROKER_CLUSTER_INFO, getBrokerClusterInfo], // 106
  [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, getAllTopicList], // 206
  // Sends
  [RequestCode.SEND_MESSAGE, sendMessage], // 10
  [RequestCode.SEND_MESSAGE_V2, sendMessage], // 310
  [RequestCode.SEND_BATCH_MESSAGE, sendMessage], // 320
  [RequestCode.SEND_REPLY_MESSAGE, sendReplyMessage], // 324
  [RequestCode.SEND_REPLY_MESSAGE_V2, sendReplyMessage], // 325
  [RequestCode.CONSUMER_SEND_MSG_BACK, consumerSendMsgBack], // 36
  // Consumption
  [RequestCode.PULL_MESSAGE, pullMessage], // 11
  [RequestCode.LITE_PULL_MESSAGE, pullMessage], // 361, what the 5.x DefaultLitePullConsumer sends
  [RequestCode.QUERY_CONSUMER_OFFSET, queryConsumerOffset], // 14
  [RequestCode.UPDATE_CONSUMER_OFFSET, updateConsumerOffset], // 15
  [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, searchOffsetByTimestamp], // 29
  [RequestCode.GET_MAX_OFFSET, getMaxOffset], // 30
  [RequestCode.GET_MIN_OFFSET, getMinOffset], // 31
  [RequestCode.GET_EARLIEST_MSG_STORETIME, getEarliestMsgStoretime], // 32
  [RequestCode.GET_CONSUMER_LIST_BY_GROUP, getConsumerListByGroup], // 38
  [RequestCode.LOCK_BATCH_MQ, lockBatchMQ], // 41
  [RequestCode.UNLOCK_BATCH_MQ, unlockBatchMQ], // 42
  // Clients
  [RequestCode.HEART_BEAT, heartbeat], // 34
  [RequestCode.UNREGISTER_CLIENT, unregisterClient], // 35
  [RequestCode.CHECK_CLIENT_CONFIG, checkClientConfig], // 46
  // Administration
  [RequestCode.UPDATE_AND_CREATE_TOPIC, updateAndCreateTopic], // 17
  [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, queryTopicConsumeByWho], // 300
  [RequestCode.GET_TOPIC_CONFIG, getTopicConfig], // 351
  [RequestCode.GET_CONSUMER_CONNECTION_LIST, getConsumerConnectionList], // 203
  [RequestCode.GET_PRODUCER_CONNECTION_LIST, getProducerConnectionList], // 204
  [RequestCode.GET_CONSUME_STATS, getConsumeStats], // 208
  [RequestCode.QUERY_MESSAGE, queryMessage], // 12
  [RequestCode.VIEW_MESSAGE_BY_ID, viewMessageById], // 33
  [RequestCode.GET_BROKER_RUNTIME_INFO, getBrokerRuntimeInfo], // 28
  [RequestCode.GET_TOPIC_STATS_INFO, getTopicStatsInfo], // 202
  [RequestCode.GET_CONSUMER_RUNNING_INFO, getConsumerRunningInfo], // 307, relayed to the client
  [RequestCode.CONSUME_MESSAGE_DIRECTLY, consumeMessageDirectly], // 309, relayed to the client
  // This library's own
  [RpcRequestCode.CANCEL_REQUEST, cancelRequest], // 16001
]);

/** Codes without a handler (answered once the ACL let them through). */
function notSupported(_ctx: BrokerContext, request: RemotingCommand): RemotingCommand | undefined {
  if (isOneway(request)) return undefined;
  return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, undefined, {
    remark: ` request type ${request.code} not supported`,
  });
}

function failure(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
  err: unknown,
): RemotingCommand {
  if (err instanceof CodecError) {
    ctx.counters.malformed++;
    ctx.logger.warn("malformed request", {
      channel: channel.label,
      code: request.code,
      error: err.message,
    });
    return createResponse(request, ResponseCode.INVALID_PARAMETER, undefined, {
      remark: err.message,
    });
  }
  ctx.logger.error("request failed", { channel: channel.label, code: request.code, err });
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, { remark: text });
}

/**
 * Answer one request.
 *
 * @param ctx Broker state.
 * @param request The request.
 * @param channel Its channel.
 * @returns The response (`undefined` for oneway requests and dropped held pulls).
 *
 * @example
 * ```ts
 * import { dispatch } from "./mod.ts";
 * import { silentLogger } from "../../logger.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext, Channel } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { counters: { requests: 0 }, logger: silentLogger, acl: undefined } as unknown as BrokerContext;
 * const res = await dispatch(ctx, createRequest(9999), {} as Channel);
 * assert.equal(res?.code, 3);
 * assert.equal(res?.remark, " request type 9999 not supported");
 * ```
 */
export async function dispatch(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
): Promise<RemotingCommand | undefined> {
  ctx.counters.requests++;
  ctx.logger.debug("request", {
    channel: channel.label,
    code: request.code,
    opaque: request.opaque,
  });
  const handler = HANDLERS.get(request.code) ?? notSupported;
  try {
    if (ctx.acl !== undefined) {
      const refused = await checkAccess(ctx, ctx.acl, request, channel);
      if (refused !== undefined) return refused ?? undefined;
    }
    return await handler(ctx, request, channel);
  } catch (err) {
    return failure(ctx, request, channel, err);
  }
}
