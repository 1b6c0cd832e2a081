/**
 * CANCEL_REQUEST (`RpcRequestCode`, this library's own code): a requester
 * gave up on a request it sent. The broker checks that the cancel comes from
 * the connection that sent the request (as replies go only there), forgets
 * the request (a reply after it is refused), then forwards PUSH_CANCEL_TO_CLIENT
 * (oneway) to the consumer channels that pulled the request's queue lately,
 * one or more per group subscribed to the topic. When no pull is on record
 * (nothing pulled that queue yet), it goes to every consumer of those
 * groups, which remember it and skip the request when they get it.
 *
 * The routing is the broker's own: a cancel is never a reply, so the reply
 * rules (a reply goes only to its requester's connection) stay whole.
 *
 * Answers: SUCCESS with extField `forwarded` (channels told);
 * QUERY_NOT_FOUND when the request is unknown here or its TTL passed;
 * NO_PERMISSION when the caller is not the requester.
 *
 * @module
 */

import { ResponseCode, RpcRequestCode } from "../../codec/codes.ts";
import {
  createOneway,
  createResponse,
  type RemotingCommand,
} from "../../codec/remoting_command.ts";
import { decodeCancelRequestHeader, encodeCancelRequestHeader } from "../../codec/admin_headers.ts";
import type { BrokerContext, Channel } from "../context.ts";

/**
 * Handles CANCEL_REQUEST.
 *
 * @param ctx Broker state.
 * @param request The request (extFields `correlationId`, `topic`).
 * @param channel The caller's channel.
 * @returns The response.
 * @throws {CodecError} When `correlationId` is missing.
 *
 * @example An unknown request
 * ```ts
 * import { Broker } from "../broker.ts";
 * import { memoryPair } from "../../transport/memory.ts";
 * import { RemotingConnection } from "../../remoting/connection.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { RpcRequestCode } from "../../codec/codes.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker();
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const res = await client.invoke(
 *   createRequest(RpcRequestCode.CANCEL_REQUEST, { correlationId: "c1", topic: "rpc" }),
 *   { timeout: 1000 },
 * );
 * assert.equal(res.code, 22); // QUERY_NOT_FOUND
 * await client.close();
 * await broker.close();
 * ```
 */
export function cancelRequest(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
): RemotingCommand {
  const { correlationId } = decodeCancelRequestHeader(request.extFields);
  const stored = ctx.requests.forCancel(correlationId);
  if (!stored) {
    return createResponse(request, ResponseCode.QUERY_NOT_FOUND, undefined, {
      remark: `request ${correlationId} unknown or expired`,
    });
  }
  if (stored.channel !== channel) {
    return createResponse(request, ResponseCode.NO_PERMISSION, undefined, {
      remark: `only the requester ${stored.replyTo} may cancel request ${correlationId}`,
    });
  }
  // No reply is taken any more: a late one is refused here, not pushed.
  ctx.requests.delete(correlationId);
  let targets = stored.queueId === undefined
    ? []
    : ctx.pullers.holders(stored.topic, stored.queueId);
  if (targets.length === 0) {
    targets = ctx.registry.groupsByTopic(stored.topic).flatMap((group) =>
      ctx.registry.consumerChannels(group).map((target) => ({ group, channel: target }))
    );
  }
  for (const target of targets) {
    target.channel.connection
      .invokeOneway(createOneway(
        RpcRequestCode.PUSH_CANCEL_TO_CLIENT,
        encodeCancelRequestHeader({
          correlationId,
          topic: stored.topic,
          consumerGroup: target.group,
        }),
      ))
      .catch(() => {/* the channel is closing; nothing to stop there */});
  }
  ctx.counters.cancelsForwarded++;
  ctx.logger.debug("cancel forwarded", { correlationId, channels: targets.length });
  return createResponse(request, ResponseCode.SUCCESS, { forwarded: String(targets.length) });
}
