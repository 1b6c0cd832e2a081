/**
 * Discovery of the responders of a topic, on RocketMQ's own admin codes so
 * it works against real clusters (the equivalent of NATS's
 * `$SRV.PING/INFO/STATS`):
 *
 * 1. QUERY_TOPIC_CONSUME_BY_WHO (300): the consumer groups of the topic;
 * 2. GET_CONSUMER_CONNECTION_LIST (203): each group's online clients and
 *    subscriptions (groups with no client online are left out);
 * 3. GET_CONSUMER_RUNNING_INFO (307, relayed by the broker to each client):
 *    its properties, where responders of this library put their counters
 *    and per-topic handler latency.
 *
 * @module
 */

import { decodeConsumerConnection, decodeConsumerRunningInfo } from "../codec/admin_bodies.ts";
import { encodeGetConsumerRunningInfoRequestHeader } from "../codec/admin_headers.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { parseFastJson } from "../codec/fastjson.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { utf8Decode } from "../codec/_utf8.ts";
import { BrokerError, NoRouteError } from "../errors.ts";
import type { ClientInstance } from "./client_instance.ts";
import { type LatencySummary, parseServiceStats } from "./service_stats.ts";

/**
 * One online client of a responder group.
 *
 * @example
 * ```ts
 * import type { ResponderClient } from "./discovery.ts";
 * import assert from "node:assert/strict";
 *
 * const client: ResponderClient = {
 *   clientId: "10.0.0.7@calc-1", address: "10.0.0.7:50123", language: "JAVA", version: 479,
 *   properties: { RPC_STAT_handled: "12" }, counters: { handled: 12 }, latency: {}, error: undefined,
 * };
 * assert.equal(client.counters.handled, 12);
 * ```
 */
export interface ResponderClient {
  /** Client id. */
  clientId: string;
  /** `host:port` as the broker sees the client. */
  address: string;
  /** `LanguageCode` name the client announced (`JAVA` for this library's clients too). */
  language: string;
  /** Version ordinal the client announced. */
  version: number;
  /** Running-info properties; empty when `stats: false` or unreadable. */
  properties: Record<string, string>;
  /** Counters reported by responders of this library (`RPC_STAT_*`). */
  counters: Record<string, number>;
  /** Handler latency per topic reported by responders of this library (`RPC_LATENCY_*`). */
  latency: Record<string, LatencySummary>;
  /** Why the running info could not be read, if it could not. */
  error: unknown;
}

/**
 * A consumer group subscribed to the topic, with its online clients.
 *
 * @example
 * ```ts
 * import type { ResponderGroup } from "./discovery.ts";
 * import assert from "node:assert/strict";
 *
 * const group: ResponderGroup = {
 *   group: "calc", expression: "*", consumeType: "CONSUME_PASSIVELY", messageModel: "CLUSTERING", clients: [],
 * };
 * assert.equal(group.clients.length, 0);
 * ```
 */
export interface ResponderGroup {
  /** Consumer group. */
  group: string;
  /** The group's subscription expression for the topic. */
  expression: string;
  /** `CONSUME_PASSIVELY` (push) or `CONSUME_ACTIVELY` (pull). */
  consumeType: string;
  /** `CLUSTERING` or `BROADCASTING`. */
  messageModel: string;
  /** Online clients. */
  clients: ResponderClient[];
}

/**
 * Options of `Producer.responders()`.
 *
 * @example
 * ```ts
 * import type { RespondersOptions } from "./discovery.ts";
 * import assert from "node:assert/strict";
 *
 * const fast: RespondersOptions = { stats: false }; // groups and clients only, no call to each client
 * assert.equal(fast.stats, false);
 * ```
 */
export interface RespondersOptions {
  /**
   * Ask each client for its running info (one call per client, relayed by
   * the broker), for its counters and latency.
   * @default {true}
   */
  stats?: boolean;
  /** Time allowed per call (ms). @default {the client's rpcTimeout} */
  timeout?: number;
}

/**
 * Find the responders of a topic.
 *
 * @param instance The asking client.
 * @param topic The topic.
 * @param options Whether to read stats, and the time per call.
 * @returns The groups subscribed to the topic with a client online, sorted by name.
 * @throws {NoRouteError} When the topic has no route.
 * @throws {BrokerError} When the broker refuses the queries.
 */
export async function discoverResponders(
  instance: ClientInstance,
  topic: string,
  options: RespondersOptions = {},
): Promise<ResponderGroup[]> {
  const timeout = options.timeout ?? instance.rpcTimeout;
  const route = await instance.getRoute(topic);
  const addresses = route.masterAddresses;
  if (addresses.length === 0) throw new NoRouteError(topic, { cause: "no master broker" });
  // Consumers register with every broker of their topics: one broker knows them all.
  let lastError: unknown;
  for (const address of addresses) {
    try {
      return await fromBroker(instance, address, topic, options.stats ?? true, timeout);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function fromBroker(
  instance: ClientInstance,
  address: string,
  topic: string,
  stats: boolean,
  timeout: number,
): Promise<ResponderGroup[]> {
  const byWho = await instance.call(
    address,
    createRequest(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic }),
    { timeout },
  );
  const list = (parseFastJson(utf8Decode(byWho.body)) as { groupList?: unknown } | null)?.groupList;
  const names = Array.isArray(list) ? list.filter((g): g is string => typeof g === "string") : [];
  const groups = await Promise.all(names.map(async (name): Promise<ResponderGroup | undefined> => {
    const response = await instance.remoting.invoke(
      address,
      createRequest(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: name }),
      { timeout },
    );
    if (response.code === ResponseCode.CONSUMER_NOT_ONLINE) return undefined;
    if (response.code !== ResponseCode.SUCCESS) {
      throw BrokerError.fromResponse(response, {
        requestCode: RequestCode.GET_CONSUMER_CONNECTION_LIST,
        address,
      });
    }
    const connections = decodeConsumerConnection(response.body);
    const subscription = connections.subscriptionTable[topic];
    if (!subscription || connections.connectionSet.length === 0) return undefined;
    const clients = await Promise.all(
      connections.connectionSet.map(async (c): Promise<ResponderClient> => {
        const client: ResponderClient = {
          clientId: c.clientId,
          address: c.clientAddr,
          language: c.language,
          version: c.version,
          properties: {},
          counters: {},
          latency: {},
          error: undefined,
        };
        if (!stats) return client;
        try {
          const info = await instance.call(
            address,
            createRequest(
              RequestCode.GET_CONSUMER_RUNNING_INFO,
              encodeGetConsumerRunningInfoRequestHeader({
                consumerGroup: name,
                clientId: c.clientId,
                jstackEnable: false,
              }),
            ),
            { timeout },
          );
          client.properties = decodeConsumerRunningInfo(info.body).properties;
          const parsed = parseServiceStats(client.properties);
          client.counters = parsed.counters;
          client.latency = parsed.latency;
        } catch (err) {
          client.error = err;
        }
        return client;
      }),
    );
    clients.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
    return {
      group: name,
      expression: subscription.subString,
      consumeType: connections.consumeType,
      messageModel: connections.messageModel,
      clients,
    };
  }));
  return groups
    .filter((g): g is ResponderGroup => g !== undefined)
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
