/**
 * Admin calls about clients (`AdminBrokerProcessor`), as RocketMQ's broker
 * answers them, so that `mqadmin consumerStatus` / `consumerConnection` /
 * `producerConnection`, the Dashboard and `Producer.responders()` work
 * against this broker:
 *
 * - 203 GET_CONSUMER_CONNECTION_LIST: the group's live connections and
 *   subscriptions; CONSUMER_NOT_ONLINE when it has none.
 * - 204 GET_PRODUCER_CONNECTION_LIST: the group's live connections;
 *   SYSTEM_ERROR when it has none.
 * - 307 GET_CONSUMER_RUNNING_INFO and 309 CONSUME_MESSAGE_DIRECTLY: relayed
 *   to the consumer client named by `consumerGroup` + `clientId`
 *   (`callConsumer`), whose answer goes back as is. 309 first gets
 *   `brokerName`, the topic's sys flag and, as the body, the stored message
 *   named by `msgId` (an offset message id).
 *
 * @module
 */

import { encodeConsumerConnection, encodeProducerConnection } from "../../codec/admin_bodies.ts";
import {
  decodeConsumeMessageDirectlyResultRequestHeader,
  decodeGetConsumerConnectionListRequestHeader,
  decodeGetConsumerRunningInfoRequestHeader,
  decodeGetProducerConnectionListRequestHeader,
} from "../../codec/admin_headers.ts";
import { languageName, ResponseCode } from "../../codec/codes.ts";
import { formatHostAddress } from "../../codec/message_ext.ts";
import { parseOffsetMessageId } from "../../codec/message_id.ts";
import {
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../codec/remoting_command.ts";
import { RemotingTimeoutError } from "../../errors.ts";
import type { ChannelRegistration } from "../client_registry.ts";
import type { BrokerContext, Channel } from "../context.ts";

/** How long a relayed call waits for the client (Java's `Broker2Client.callClient`). */
const CALL_CLIENT_TIMEOUT = 10_000;

function connectionOf(reg: Readonly<ChannelRegistration<Channel>>) {
  return {
    clientId: reg.clientId,
    clientAddr: formatHostAddress(reg.channel.remote),
    language: languageName(reg.language) ?? "OTHER",
    version: reg.version,
  };
}

/**
 * Handles GET_CONSUMER_CONNECTION_LIST (203).
 *
 * @param ctx Broker state.
 * @param request The request (`consumerGroup`).
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example A group nobody runs
 * ```ts
 * import { getConsumerConnectionList } from "./admin_client.ts";
 * import { ClientRegistry } from "../client_registry.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { registry: new ClientRegistry() } as unknown as BrokerContext;
 * const res = getConsumerConnectionList(ctx, createRequest(203, { consumerGroup: "CG" }));
 * assert.equal(res.code, 206);
 * assert.equal(res.remark, "the consumer group[CG] not online");
 * ```
 */
export function getConsumerConnectionList(
  ctx: BrokerContext,
  request: RemotingCommand,
): RemotingCommand {
  const { consumerGroup } = decodeGetConsumerConnectionListRequestHeader(request.extFields);
  const group = ctx.registry.consumerGroup(consumerGroup);
  if (!group || group.channels.size === 0) {
    return createResponse(request, ResponseCode.CONSUMER_NOT_ONLINE, undefined, {
      remark: `the consumer group[${consumerGroup}] not online`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, undefined, {
    body: encodeConsumerConnection({
      connectionSet: [...group.channels.values()].map(connectionOf),
      subscriptionTable: Object.fromEntries(group.subscriptions),
      consumeType: group.consumeType,
      messageModel: group.messageModel,
      consumeFromWhere: group.consumeFromWhere,
    }),
  });
}

/**
 * Handles GET_PRODUCER_CONNECTION_LIST (204).
 *
 * @param ctx Broker state.
 * @param request The request (`producerGroup`).
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { getProducerConnectionList } from "./admin_client.ts";
 * import { ClientRegistry } from "../client_registry.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { registry: new ClientRegistry() } as unknown as BrokerContext;
 * const res = getProducerConnectionList(ctx, createRequest(204, { producerGroup: "PG" }));
 * assert.equal(res.remark, "the producer group[PG] not exist");
 * ```
 */
export function getProducerConnectionList(
  ctx: BrokerContext,
  request: RemotingCommand,
): RemotingCommand {
  const { producerGroup } = decodeGetProducerConnectionListRequestHeader(request.extFields);
  const channels = ctx.registry.producerGroup(producerGroup);
  if (!channels) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: `the producer group[${producerGroup}] not exist`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, undefined, {
    body: encodeProducerConnection({ connectionSet: [...channels.values()].map(connectionOf) }),
  });
}

/**
 * Handles GET_CONSUMER_RUNNING_INFO (307): relayed to the client.
 *
 * @param ctx Broker state.
 * @param request The request (`consumerGroup`, `clientId`, `jstackEnable`).
 * @returns The client's response, or SYSTEM_ERROR / CONSUME_MSG_TIMEOUT with Java's remarks.
 * @throws {CodecError} When the header is malformed.
 *
 * @example A client that is not online
 * ```ts
 * import { getConsumerRunningInfo } from "./admin_client.ts";
 * import { ClientRegistry } from "../client_registry.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { registry: new ClientRegistry(), counters: {} } as unknown as BrokerContext;
 * const res = await getConsumerRunningInfo(ctx, createRequest(307, { consumerGroup: "CG", clientId: "c1" }));
 * assert.equal(res.remark, "The Consumer <CG> <c1> not online");
 * ```
 */
export function getConsumerRunningInfo(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeGetConsumerRunningInfoRequestHeader(request.extFields);
  return callConsumer(
    ctx,
    request,
    request.extFields,
    request.body,
    header.consumerGroup,
    header.clientId,
  );
}

/**
 * Handles CONSUME_MESSAGE_DIRECTLY (309): the stored message is attached and
 * the call relayed to the client.
 *
 * @param ctx Broker state.
 * @param request The request (`consumerGroup`, `clientId`, `msgId`, `topic`).
 * @returns The client's response, or SYSTEM_ERROR / CONSUME_MSG_TIMEOUT with Java's remarks.
 * @throws {CodecError} When the header is malformed.
 *
 * @example A client that is not online
 * ```ts
 * import { consumeMessageDirectly } from "./admin_client.ts";
 * import { ClientRegistry } from "../client_registry.ts";
 * import { MemoryStore } from "../store/memory_store.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = {
 *   registry: new ClientRegistry(), store: new MemoryStore(), counters: {},
 *   settings: { brokerName: "broker-a" }, topics: { get: () => undefined },
 * } as unknown as BrokerContext;
 * const res = await consumeMessageDirectly(ctx, createRequest(309, { consumerGroup: "CG", clientId: "c1", msgId: "X" }));
 * assert.equal(res.code, 1);
 * ```
 */
export async function consumeMessageDirectly(
  ctx: BrokerContext,
  request: RemotingCommand,
): Promise<RemotingCommand> {
  const header = decodeConsumeMessageDirectlyResultRequestHeader(request.extFields);
  const extFields: Record<string, string> = {
    ...request.extFields,
    brokerName: ctx.settings.brokerName,
  };
  if (header.topic) {
    const topic = ctx.topics.get(header.topic);
    if (topic) extFields.topicSysFlag = String(topic.topicSysFlag);
  }
  extFields.groupSysFlag = "0";
  let body: Uint8Array = new Uint8Array(0);
  try {
    const { commitLogOffset } = parseOffsetMessageId(header.msgId ?? "");
    body = (await ctx.store.lookup(commitLogOffset)) ?? body;
  } catch {
    // Java sends the call without a body when the id does not decode.
  }
  return await callConsumer(
    ctx,
    request,
    extFields,
    body,
    header.consumerGroup,
    header.clientId ?? "",
  );
}

async function callConsumer(
  ctx: BrokerContext,
  request: RemotingCommand,
  extFields: Record<string, string>,
  body: Uint8Array,
  consumerGroup: string,
  clientId: string,
): Promise<RemotingCommand> {
  const group = ctx.registry.consumerGroup(consumerGroup);
  const reg = group && [...group.channels.values()].find((r) => r.clientId === clientId);
  if (!reg) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: `The Consumer <${consumerGroup}> <${clientId}> not online`,
    });
  }
  try {
    const response = await reg.channel.connection.invoke(
      createRequest(request.code, extFields, { body }),
      { timeout: CALL_CLIENT_TIMEOUT },
    );
    ctx.counters.adminCallsRelayed++;
    return createResponse(request, response.code, response.extFields, {
      ...(response.remark !== undefined ? { remark: response.remark } : {}),
      body: response.body,
    });
  } catch (err) {
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (err instanceof RemotingTimeoutError) {
      return createResponse(request, ResponseCode.CONSUME_MSG_TIMEOUT, undefined, {
        remark: `consumer <${consumerGroup}> <${clientId}> Timeout: ${text}`,
      });
    }
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: `invoke consumer <${consumerGroup}> <${clientId}> Exception: ${text}`,
    });
  }
}
