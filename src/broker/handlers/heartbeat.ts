/**
 * Client management (`ClientManageProcessor`):
 *
 * - 34 HEART_BEAT: registers producer groups and consumer groups with their
 *   subscriptions; creates `%RETRY%<group>`; tells the group's other members
 *   to rebalance when a member joined or the subscribed topics changed. A
 *   heartbeat that claims a client id held by another live connection is
 *   refused (NO_PERMISSION, extension field `CLIENT_ID_IN_USE`) and logged:
 *   RocketMQ would push that client's replies to the newcomer.
 * - 35 UNREGISTER_CLIENT
 * - 46 CHECK_CLIENT_CONFIG: TAG subscriptions are fine; SQL92 ones when they
 *   compile (this broker filters on properties, `enablePropertyFilter=true`).
 *
 * @module
 */

import { decodeHeartbeatData, ExpressionType, MessageModel } from "../../codec/bodies.ts";
import { ResponseCode } from "../../codec/codes.ts";
import { decodeUnregisterClientRequestHeader } from "../../codec/ext_fields.ts";
import { parseFastJson } from "../../codec/fastjson.ts";
import {
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../codec/remoting_command.ts";
import { utf8Decode } from "../../codec/_utf8.ts";
import { CodecError, FilterExpressionError } from "../../errors.ts";
import type { BrokerContext, Channel } from "../context.ts";
import { RETRY_TOPIC_PREFIX } from "../topics.ts";
import { sqlFilter } from "../sql_filter.ts";

/**
 * Handles HEART_BEAT (34).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @param channel The client's channel.
 * @returns The response.
 * @throws {CodecError} When the body is malformed.
 *
 * @example
 * ```ts
 * import { Broker } from "../broker.ts";
 * import { memoryPair } from "../../transport/memory.ts";
 * import { RemotingConnection } from "../../remoting/connection.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import { encodeHeartbeatData } from "../../codec/bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker();
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const body = encodeHeartbeatData({ clientID: "c1", producerDataSet: [{ groupName: "PG" }], consumerDataSet: [] });
 * const res = await client.invoke(createRequest(34, {}, { body }), { timeout: 1000 });
 * assert.equal(res.code, 0);
 * assert.equal(res.extFields.IS_SUPPORT_HEART_BEAT_V2, "true");
 * await client.close();
 * await broker.close();
 * ```
 */
export async function heartbeat(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
): Promise<RemotingCommand> {
  const data = decodeHeartbeatData(request.body);
  const refused = await claimClientId(ctx, request, channel, data.clientID);
  if (refused) return refused;
  const identity = { language: request.language, version: request.version };
  const fingerprint = data.heartbeatFingerprint ?? 0;
  let subChanged = fingerprint === 0;
  for (const consumer of data.consumerDataSet) {
    const group = consumer.groupName;
    const withoutSub = fingerprint !== 0 && data.withoutSub === true;
    if (fingerprint !== 0) {
      const previous = ctx.heartbeatFingerprints.get(group);
      // Unknown to us (e.g. after a restart) counts as changed, so that a
      // heartbeat-v2 client sends its subscriptions again.
      const known = ctx.registry.consumerGroup(group)?.subscriptions.size ?? 0;
      if (previous !== fingerprint || (withoutSub && known === 0)) subChanged = true;
      ctx.heartbeatFingerprints.set(group, fingerprint);
    }
    ctx.topics.ensureGroupTopic(RETRY_TOPIC_PREFIX + group, 1, consumer.unitMode ? 2 : 0);
    const change = ctx.registry.registerConsumer(
      group,
      channel,
      data.clientID,
      consumer,
      withoutSub ? undefined : consumer.subscriptionDataSet,
      identity,
    );
    if (change.channelAdded || change.subscriptionsChanged) {
      ctx.logger.info("consumer registered", {
        group,
        clientId: data.clientID,
        channel: channel.label,
        joined: change.channelAdded,
      });
      if (consumer.messageModel !== MessageModel.BROADCASTING) ctx.notifyConsumerIdsChanged(group);
    }
  }
  for (const producer of data.producerDataSet) {
    ctx.registry.registerProducer(producer.groupName, channel, data.clientID, identity);
  }
  return createResponse(request, ResponseCode.SUCCESS, {
    IS_SUPPORT_HEART_BEAT_V2: "true",
    IS_SUB_CHANGE: String(subChanged),
  });
}

/** Wait for a sign of life of a connection that holds a client id another one claims. */
const PROBE_TIMEOUT = 3000;
/** A request code no client serves: any answer, even "not supported", proves the peer alive. */
const PROBE_CODE = 0;

/**
 * Extension field of a refused heartbeat: the client id is held by another
 * connection. Clients of this package turn it into a `ClientIdConflictError`.
 *
 * @example
 * ```ts
 * import { CLIENT_ID_IN_USE } from "./heartbeat.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CLIENT_ID_IN_USE, "CLIENT_ID_IN_USE");
 * ```
 */
export const CLIENT_ID_IN_USE = "CLIENT_ID_IN_USE";

async function alive(channel: Channel): Promise<boolean> {
  try {
    await channel.connection.invoke(createRequest(PROBE_CODE), { timeout: PROBE_TIMEOUT });
    return true;
  } catch {
    return false;
  }
}

/**
 * A client id belongs to the first live connection that registered it (and,
 * with ACL, to its account): refuse a heartbeat that claims one held by
 * another connection. When the holder is of the same account (or there is
 * no ACL), it is asked for a sign of life first: a client that reconnected
 * before the broker noticed its old connection died gets its id back.
 */
async function claimClientId(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
  clientId: string,
): Promise<RemotingCommand | undefined> {
  const account = channel.principal?.accessKey;
  let claim = ctx.registry.claim(clientId, channel, account);
  if (!claim.ok && claim.owner !== undefined && claim.account === account) {
    const holder = claim.owner;
    if (!(await alive(holder))) {
      ctx.logger.info("client id held by a dead connection: closing it", {
        clientId,
        holder: holder.label,
        claimant: channel.label,
      });
      await ctx.dropChannel(holder);
    }
    claim = ctx.registry.claim(clientId, channel, account);
  }
  if (claim.ok) return undefined;
  ctx.counters.clientIdRefused++;
  const held = claim.owner !== undefined
    ? `connection ${claim.owner.label}`
    : claim.account !== undefined
    ? `account ${claim.account} (reserved after its connection closed)`
    : "no one, but this connection holds too many client ids already";
  ctx.logger.warn("heartbeat refused: client id in use", {
    clientId,
    channel: channel.label,
    heldBy: held,
  });
  return createResponse(request, ResponseCode.NO_PERMISSION, { [CLIENT_ID_IN_USE]: "true" }, {
    remark: `client id ${clientId} is in use by ${held}; ` +
      "every client needs its own instanceName",
  });
}

/**
 * Handles UNREGISTER_CLIENT (35).
 *
 * @param ctx Broker state.
 * @param request The request.
 * @param channel The client's channel.
 * @returns The response.
 * @throws {CodecError} When the header is malformed.
 *
 * @example
 * ```ts
 * import { Broker } from "../broker.ts";
 * import { memoryPair } from "../../transport/memory.ts";
 * import { RemotingConnection } from "../../remoting/connection.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker();
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const res = await client.invoke(createRequest(35, { clientID: "c1", producerGroup: "PG" }), { timeout: 1000 });
 * assert.equal(res.code, 0);
 * await client.close();
 * await broker.close();
 * ```
 */
export function unregisterClient(
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
): RemotingCommand {
  const header = decodeUnregisterClientRequestHeader(request.extFields);
  if (header.producerGroup !== undefined) {
    ctx.registry.unregisterProducer(header.producerGroup, channel);
  }
  if (header.consumerGroup !== undefined) {
    const group = ctx.registry.consumerGroup(header.consumerGroup);
    const model = group?.messageModel;
    if (ctx.registry.unregisterConsumer(header.consumerGroup, channel)) {
      ctx.logger.info("consumer unregistered", {
        group: header.consumerGroup,
        clientId: header.clientID,
        channel: channel.label,
      });
      if (model !== MessageModel.BROADCASTING) ctx.notifyConsumerIdsChanged(header.consumerGroup);
      // Its queue locks in the group end with it (it left; nobody renews them).
      if (!ctx.registry.consumerIds(header.consumerGroup).includes(header.clientID)) {
        ctx.locks.clientGone(header.clientID, header.consumerGroup);
      }
    }
  }
  return createResponse(request, ResponseCode.SUCCESS);
}

/**
 * Handles CHECK_CLIENT_CONFIG (46), as a Java broker with
 * `enablePropertyFilter=true`: code 0 for TAG subscriptions and for SQL92
 * expressions that compile; SUBSCRIPTION_PARSE_FAILED (23) with the parse
 * error as remark for those that do not, and for unknown expression types.
 *
 * @param _ctx Broker state.
 * @param request The request.
 * @returns The response.
 * @throws {CodecError} When the body is not JSON.
 *
 * @example
 * ```ts
 * import { checkClientConfig } from "./heartbeat.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import type { BrokerContext } from "../context.ts";
 * import assert from "node:assert/strict";
 *
 * const body = (type: string, subString: string) => new TextEncoder().encode(JSON.stringify({ clientId: "c",
 *   group: "g", subscriptionData: { topic: "T", subString, expressionType: type } }));
 * const ctx = { settings: { enablePropertyFilter: true } } as unknown as BrokerContext;
 * const check = (type: string, subString: string) => checkClientConfig(ctx, createRequest(46, {}, { body: body(type, subString) }));
 * assert.equal(check("TAG", "a || b").code, 0);
 * assert.equal(check("SQL92", "a > 1").code, 0);
 * const bad = check("SQL92", "a >");
 * assert.equal(bad.code, 23);
 * assert.match(bad.remark ?? "", /position 3/);
 * ```
 */
export function checkClientConfig(ctx: BrokerContext, request: RemotingCommand): RemotingCommand {
  let type: unknown = ExpressionType.TAG;
  let subString: unknown;
  if (request.body.length > 0) {
    const parsed = parseFastJson(utf8Decode(request.body));
    if (typeof parsed !== "object" || parsed === null) {
      throw new CodecError("schema", "CheckClientRequestBody: expected a JSON object");
    }
    const sub = (parsed as Record<string, unknown>).subscriptionData;
    if (typeof sub === "object" && sub !== null) {
      type = (sub as Record<string, unknown>).expressionType ?? ExpressionType.TAG;
      subString = (sub as Record<string, unknown>).subString;
    }
  }
  if (type === ExpressionType.TAG || type === null) {
    return createResponse(request, ResponseCode.SUCCESS);
  }
  if (!ctx.settings.enablePropertyFilter) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
      remark: `The broker does not support consumer to filter message by ${String(type)}`,
    });
  }
  let problem: string;
  if (type !== ExpressionType.SQL92) {
    problem = `unknown expression type ${String(type)}`;
  } else if (typeof subString !== "string") {
    problem = "the SQL92 expression is missing";
  } else {
    try {
      sqlFilter(subString);
      return createResponse(request, ResponseCode.SUCCESS);
    } catch (err) {
      if (!(err instanceof FilterExpressionError)) throw err;
      problem = err.message;
    }
  }
  return createResponse(request, ResponseCode.SUBSCRIPTION_PARSE_FAILED, undefined, {
    remark: problem,
  });
}
