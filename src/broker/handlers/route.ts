/**
 * The name server side of the broker: it serves routes for its own topics,
 * all pointing at its own address (`namesrv` `ClientRequestProcessor`,
 * `DefaultRequestProcessor`).
 *
 * - 105 GET_ROUTEINFO_BY_TOPIC
 * - 106 GET_BROKER_CLUSTER_INFO
 * - 206 GET_ALL_TOPIC_LIST_FROM_NAMESERVER
 *
 * Bodies are always standard JSON (quoted broker ids), which every Java
 * client reads.
 *
 * @module
 */

import { type BrokerData, encodeClusterInfo, encodeTopicRouteData } from "../../codec/bodies.ts";
import { ResponseCode } from "../../codec/codes.ts";
import { decodeGetRouteInfoRequestHeader } from "../../codec/ext_fields.ts";
import { stringifyJson } from "../../codec/fastjson.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import { utf8Encode } from "../../codec/_utf8.ts";
import { type BrokerContext, suggestTodo } from "../context.ts";

function brokerData(ctx: BrokerContext): BrokerData {
  return {
    brokerAddrs: { "0": ctx.settings.address },
    brokerName: ctx.settings.brokerName,
    cluster: ctx.settings.clusterName,
    enableActingMaster: false,
  };
}

/**
 * GET_ROUTEINFO_BY_TOPIC (105): the topic's queues on this broker, or
 * TOPIC_NOT_EXIST (17) with the name server's remark.
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 *
 * @example
 * ```ts
 * import { getRouteInfo } from "./route.ts";
 * import { TopicManager } from "../topics.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = {
 *   settings: { address: "127.0.0.1:9876", brokerName: "broker-a", clusterName: "DefaultCluster" },
 *   topics: new TopicManager({ clusterName: "DefaultCluster", brokerName: "broker-a" }),
 * } as unknown as BrokerContext;
 * const ok = getRouteInfo(ctx, createRequest(105, { topic: "TBW102" }));
 * assert.equal(ok.code, 0);
 * assert.match(new TextDecoder().decode(ok.body), /"brokerAddrs":\{"0":"127.0.0.1:9876"\}/);
 * assert.equal(getRouteInfo(ctx, createRequest(105, { topic: "nope" })).code, 17);
 * ```
 */
export function getRouteInfo(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const header = decodeGetRouteInfoRequestHeader(request.extFields);
  const topic = ctx.topics.get(header.topic);
  if (!topic) {
    return createResponse(request, ResponseCode.TOPIC_NOT_EXIST, undefined, {
      remark: `No topic route info in name server for the topic: ${header.topic}${suggestTodo()}`,
    });
  }
  const body = encodeTopicRouteData({
    brokerDatas: [brokerData(ctx)],
    filterServerTable: {},
    queueDatas: [{
      brokerName: ctx.settings.brokerName,
      perm: topic.perm,
      readQueueNums: topic.readQueueNums,
      topicSysFlag: topic.topicSysFlag,
      writeQueueNums: topic.writeQueueNums,
    }],
  });
  return createResponse(request, ResponseCode.SUCCESS, undefined, { body });
}

/**
 * GET_BROKER_CLUSTER_INFO (106): this broker, alone in its cluster.
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 *
 * @example
 * ```ts
 * import { getBrokerClusterInfo } from "./route.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { settings: { address: "h:1", brokerName: "b", clusterName: "C" } } as unknown as BrokerContext;
 * const res = getBrokerClusterInfo(ctx, createRequest(106));
 * assert.deepEqual(JSON.parse(new TextDecoder().decode(res.body)).clusterAddrTable, { C: ["b"] });
 * ```
 */
export function getBrokerClusterInfo(
  ctx: BrokerContext,
  request: RemotingCommand,
): RemotingCommand {
  const body = encodeClusterInfo({
    brokerAddrTable: { [ctx.settings.brokerName]: brokerData(ctx) },
    clusterAddrTable: { [ctx.settings.clusterName]: [ctx.settings.brokerName] },
  });
  return createResponse(request, ResponseCode.SUCCESS, undefined, { body });
}

/**
 * GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206): `{"topicList":[…]}`.
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 *
 * @example
 * ```ts
 * import { getAllTopicList } from "./route.ts";
 * import { TopicManager } from "../topics.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { topics: new TopicManager({ clusterName: "C", brokerName: "b" }) } as unknown as BrokerContext;
 * const list = JSON.parse(new TextDecoder().decode(getAllTopicList(ctx, createRequest(206)).body));
 * assert.ok(list.topicList.includes("C_REPLY_TOPIC"));
 * ```
 */
export function getAllTopicList(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const body = utf8Encode(stringifyJson({ topicList: ctx.topics.all().map((t) => t.topicName) }));
  return createResponse(request, ResponseCode.SUCCESS, undefined, { body });
}
