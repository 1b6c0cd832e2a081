/**
 * The ACL gate of the broker's dispatch: every request of a broker with ACL
 * is checked here before its handler runs (address, signature, account of
 * the connection, admin codes, topics and groups). A refusal is answered
 * with NO_PERMISSION (16) and the reason, as RocketMQ 5 answers; oneway
 * requests are dropped. Refusals are logged, a few per connection.
 *
 * @module
 */

import { ResponseCode } from "../../codec/codes.ts";
import { createResponse, isOneway, type RemotingCommand } from "../../codec/remoting_command.ts";
import type { BrokerContext, Channel } from "../context.ts";
import type { AccessControl } from "./access_control.ts";

/** Refusals logged per connection before the log goes quiet for it. */
const LOGGED_PER_CHANNEL = 5;
const logged = new WeakMap<Channel, number>();

/**
 * Check a request against the broker's ACL.
 *
 * @param ctx Broker state (logger, counters).
 * @param acl The access control.
 * @param request The request.
 * @param channel Its connection; its `principal` is set by the first
 *   request that authenticates.
 * @returns `undefined` when the request may go on, else the response that
 *   refuses it (`null` for a refused oneway request: nothing is sent).
 * @throws {CodecError} When a body the check needs is malformed.
 *
 * @example
 * ```ts
 * import { checkAccess } from "./guard.ts";
 * import { AccessControl } from "./access_control.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { silentLogger } from "../../logger.ts";
 * import type { BrokerContext, Channel } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const acl = new AccessControl({ accounts: [{ accessKey: "app", secretKey: "app-secret" }] });
 * const ctx = { logger: silentLogger, counters: { accessDenied: 0 } } as unknown as BrokerContext;
 * const channel = { id: 1, label: "10.0.0.5:50000", remote: { address: "10.0.0.5", port: 50000 } } as Channel;
 * const res = await checkAccess(ctx, acl, createRequest(105, { topic: "T" }), channel);
 * assert.equal(res?.code, 16);
 * assert.match(res?.remark ?? "", /no AccessKey/);
 * ```
 */
export async function checkAccess(
  ctx: BrokerContext,
  acl: AccessControl,
  request: RemotingCommand,
  channel: Channel,
): Promise<RemotingCommand | null | undefined> {
  const ip = channel.remote.address;
  let remark: string | undefined;
  if (!acl.allowsAddress(ip)) {
    remark = `address ${ip} is not in globalWhiteRemoteAddresses`;
  } else {
    const who = await acl.authenticate(request, ip);
    if ("denied" in who) remark = who.denied;
    else if (channel.principal !== undefined && channel.principal.accessKey !== who.accessKey) {
      remark = `this connection is bound to accessKey=${channel.principal.accessKey}`;
    } else {
      channel.principal = who;
      remark = acl.authorize(who, request);
    }
  }
  if (remark === undefined) return undefined;
  ctx.counters.accessDenied++;
  const count = (logged.get(channel) ?? 0) + 1;
  logged.set(channel, count);
  if (count <= LOGGED_PER_CHANNEL) {
    ctx.logger.warn("request refused by ACL", {
      id: channel.id,
      remote: channel.label,
      code: request.code,
      reason: remark,
      ...(count === LOGGED_PER_CHANNEL
        ? { note: "further refusals on this connection are not logged" }
        : {}),
    });
  }
  if (isOneway(request)) return null;
  return createResponse(request, ResponseCode.NO_PERMISSION, undefined, { remark });
}
