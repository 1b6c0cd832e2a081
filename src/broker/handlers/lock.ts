/**
 * Queue locks of orderly consumers (`AdminBrokerProcessor`):
 *
 * - 41 LOCK_BATCH_MQ: locks (or renews) the queues it can for the client and
 *   answers `{"lockOKMQSet":[…]}`.
 * - 42 UNLOCK_BATCH_MQ (usually oneway)
 *
 * @module
 */

import { decodeLockBatchRequestBody, encodeLockBatchResponseBody } from "../../codec/bodies.ts";
import { ResponseCode } from "../../codec/codes.ts";
import { createResponse, type RemotingCommand } from "../../codec/remoting_command.ts";
import type { BrokerContext } from "../context.ts";

/**
 * Handles LOCK_BATCH_MQ (41).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the body is malformed.
 *
 * @example
 * ```ts
 * import { lockBatchMQ } from "./lock.ts";
 * import { RebalanceLockManager } from "../rebalance_lock.ts";
 * import { encodeLockBatchRequestBody } from "../../codec/bodies.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { locks: new RebalanceLockManager() } as unknown as BrokerContext;
 * const mq = { topic: "T", brokerName: "b", queueId: 0 };
 * const lock = (clientId: string) => lockBatchMQ(ctx, createRequest(41, {}, {
 *   body: encodeLockBatchRequestBody({ consumerGroup: "CG", clientId, mqSet: [mq] }),
 * }));
 * assert.equal(JSON.parse(new TextDecoder().decode(lock("c1").body)).lockOKMQSet.length, 1);
 * assert.equal(JSON.parse(new TextDecoder().decode(lock("c2").body)).lockOKMQSet.length, 0);
 * ```
 */
export function lockBatchMQ(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const body = decodeLockBatchRequestBody(request.body);
  const locked = ctx.locks.tryLockBatch(body.consumerGroup, body.mqSet, body.clientId);
  return createResponse(request, ResponseCode.SUCCESS, undefined, {
    body: encodeLockBatchResponseBody({ lockOKMQSet: locked }),
  });
}

/**
 * Handles UNLOCK_BATCH_MQ (42).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the body is malformed.
 *
 * @example
 * ```ts
 * import { unlockBatchMQ } from "./lock.ts";
 * import { RebalanceLockManager } from "../rebalance_lock.ts";
 * import { encodeLockBatchRequestBody } from "../../codec/bodies.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const locks = new RebalanceLockManager();
 * const mq = { topic: "T", brokerName: "b", queueId: 0 };
 * locks.tryLockBatch("CG", [mq], "c1");
 * const ctx = { locks } as unknown as BrokerContext;
 * unlockBatchMQ(ctx, createRequest(42, {}, { body: encodeLockBatchRequestBody({ consumerGroup: "CG", clientId: "c1", mqSet: [mq] }) }));
 * assert.equal(locks.tryLockBatch("CG", [mq], "c2").length, 1);
 * ```
 */
export function unlockBatchMQ(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  const body = decodeLockBatchRequestBody(request.body);
  ctx.locks.unlockBatch(body.consumerGroup, body.mqSet, body.clientId);
  return createResponse(request, ResponseCode.SUCCESS);
}
