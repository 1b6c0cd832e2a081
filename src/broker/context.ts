/**
 * What the request handlers of the broker share: the channel type (one per
 * accepted connection), the broker context handed to every handler, and a
 * few helpers for building responses the way the Java broker words them.
 *
 * @example
 * ```ts
 * import { suggestTodo, tagsCodeOf } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(tagsCodeOf({ TAGS: "TagA" }), 2598919);
 * assert.equal(tagsCodeOf({}), 0);
 * assert.match(suggestTodo(), /^\nSee https:/);
 * ```
 *
 * @module
 */

import type { BrokerMeters } from "./meters.ts";
import { javaStringHashCode } from "../codec/bodies.ts";
import type { HostAddress } from "../codec/message_ext.ts";
import type { UniqueKeyGenerator } from "../codec/message_id.ts";
import { MessageProperty } from "../codec/properties.ts";
import type { RemotingCommand } from "../codec/remoting_command.ts";
import type { Logger } from "../logger.ts";
import type { RemotingConnection } from "../remoting/connection.ts";
import type { Timers } from "../remoting/timers.ts";
import type { AccessControl } from "./acl/access_control.ts";
import type { ClientRegistry } from "./client_registry.ts";
import type { PendingRequests } from "./pending_requests.ts";
import type { PullHoldService } from "./long_polling.ts";
import type { RebalanceLockManager } from "./rebalance_lock.ts";
import type { QueuePullers } from "./queue_pullers.ts";
import type { MessageStore, PutMessageInput, PutResult } from "./store/types.ts";
import type { TopicManager } from "./topics.ts";

/** One accepted connection, as the registry and the handlers see it. */
export interface Channel {
  /** Sequence number of the connection (for logs). */
  readonly id: number;
  /** The remoting connection. */
  readonly connection: RemotingConnection;
  /** The peer's IP and port (127.0.0.1 when the transport has no IP address). */
  readonly remote: HostAddress;
  /** `host:port` of the peer for logs and remarks. */
  readonly label: string;
  /** Aborted when the connection closes. */
  readonly signal: AbortSignal;
  /**
   * The ACL account the connection authenticated as (set by its first
   * signed request; a connection keeps one account). `undefined` without
   * ACL or before the first request.
   */
  principal?: Principal | undefined;
}

/** An authenticated ACL account, as handlers see it. */
export interface Principal {
  /** The account's access key. */
  readonly accessKey: string;
  /** Whether the account is an administrator. */
  readonly admin: boolean;
}

/** Settings of a running broker that handlers read. */
export interface BrokerSettings {
  /** Cluster name. */
  readonly clusterName: string;
  /** Broker name. */
  readonly brokerName: string;
  /** `host:port` advertised in routes: name server and broker are the same port. */
  readonly address: string;
  /** Region id sent as `MSG_REGION`. */
  readonly regionId: string;
  /** Largest body accepted (Java `maxMessageSize`). */
  readonly maxMessageSize: number;
  /** Whether replies (324/325) are also stored. */
  readonly storeReplyMessage: boolean;
  /** Whether SQL92 subscriptions are served (Java's `enablePropertyFilter`). */
  readonly enablePropertyFilter: boolean;
  /** Most ms a reply waits for its requester to register. */
  readonly replyWaitMillis: number;
  /** Timeout of the PUSH_REPLY_MESSAGE_TO_CLIENT call. */
  readonly replyPushTimeout: number;
  /** Most ms a pull may be held. */
  readonly maxSuspendMillis: number;
}

/**
 * Counters of a broker.
 *
 * @example Counting requests of an in-memory connection
 * ```ts
 * import type { BrokerCounters } from "./context.ts";
 * import { Broker } from "./broker.ts";
 * import { memoryPair } from "../transport/memory.ts";
 * import { RemotingConnection } from "../remoting/connection.ts";
 * import { createRequest } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker();
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * await client.invoke(createRequest(106), { timeout: 1000 }); // GET_BROKER_CLUSTER_INFO
 * const counters: BrokerCounters = broker.stats;
 * assert.equal(counters.connectionsAccepted, 1);
 * assert.equal(counters.requests, 1);
 * assert.equal(counters.messagesStored, 0);
 * await client.close();
 * await broker.close();
 * ```
 */
export interface BrokerCounters {
  /** Connections accepted since start. */
  connectionsAccepted: number;
  /** Connections closed at once because `maxConnections` were open. */
  connectionsRefused: number;
  /** Requests received. */
  requests: number;
  /** Messages stored by sends (batches count each message). */
  messagesStored: number;
  /** Messages returned by pulls. */
  messagesPulled: number;
  /** Replies pushed to requesters. */
  repliesPushed: number;
  /** Replies that could not be pushed. */
  repliesFailed: number;
  /** Messages sent back for retry or to a DLQ. */
  sentBack: number;
  /** Cancels accepted from requesters and forwarded to the consumers holding the request. */
  cancelsForwarded: number;
  /** Admin calls relayed to a client (GET_CONSUMER_RUNNING_INFO, CONSUME_MESSAGE_DIRECTLY). */
  adminCallsRelayed: number;
  /** Requests answered with an error code because of malformed input. */
  malformed: number;
  /** Requests refused by the ACL. */
  accessDenied: number;
  /** Heartbeats and requests refused because they claimed another connection's client id. */
  clientIdRefused: number;
  /** Replies refused: no such request waiting, or a replier not allowed to answer it. */
  repliesRefused: number;
}

/** The state handlers work on. */
export interface BrokerContext {
  /** Settings. */
  readonly settings: BrokerSettings;
  /** The broker's address as a store host. */
  readonly storeHost: HostAddress;
  /** The message store. */
  readonly store: MessageStore;
  /** Topic configuration. */
  readonly topics: TopicManager;
  /** Producers and consumers. */
  readonly registry: ClientRegistry<Channel>;
  /** Held pulls. */
  readonly pulls: PullHoldService<Channel>;
  /** Queue locks of orderly consumers. */
  readonly locks: RebalanceLockManager;
  /** Consumer channels that pulled each queue lately, to route cancels. */
  readonly pullers: QueuePullers<Channel>;
  /** Clock and timers. */
  readonly timers: Timers;
  /** Where handlers log. */
  readonly logger: Logger;
  /** Generates `UNIQ_KEY`s for sends that lack one. */
  readonly uniqueKeys: UniqueKeyGenerator;
  /** Counters. */
  readonly counters: BrokerCounters;
  /** Recent rates (runtime info, topic and consume stats). */
  readonly meters: BrokerMeters;
  /** Last heartbeat fingerprint per consumer group (heartbeat v2). */
  readonly heartbeatFingerprints: Map<string, number>;
  /**
   * Store a message: sets the host sysFlag bits and parks messages with a
   * `DELAY` level in the schedule topic.
   */
  putMessage(message: PutMessageInput): Promise<PutResult>;
  /** Store messages of one queue contiguously (host sysFlag bits set; never parked). */
  putBatch(messages: readonly PutMessageInput[]): Promise<PutResult[]>;
  /** Tell every channel of a consumer group to rebalance (code 40). */
  notifyConsumerIdsChanged(group: string): void;
  /** Close a channel; resolves once the broker forgot it (registry, pulls). */
  dropChannel(channel: Channel): Promise<void>;
  /** Requests waiting for their reply (RIP-16), by correlation id. */
  readonly requests: PendingRequests<Channel>;
  /** Access control; `undefined` when ACL is off. */
  readonly acl: AccessControl | undefined;
}

/** Answers a request; `undefined` sends nothing. */
export type Handler = (
  ctx: BrokerContext,
  request: RemotingCommand,
  channel: Channel,
) => RemotingCommand | undefined | Promise<RemotingCommand | undefined>;

const FAQ_URL = "https://rocketmq.apache.org/docs/bestPractice/06FAQ";

/**
 * The FAQ hint Java appends to some remarks (`FAQUrl.suggestTodo`).
 *
 * @returns `"\nSee <url> for further details."`
 *
 * @example
 * ```ts
 * import { suggestTodo } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(suggestTodo().endsWith(" for further details."));
 * ```
 */
export function suggestTodo(): string {
  return `\nSee ${FAQ_URL} for further details.`;
}

/**
 * The tags code of a message: Java `String.hashCode()` of its `TAGS`
 * property, 0 without tags (`tagsString2tagsCode` for SINGLE_TAG topics).
 *
 * @param properties The message's properties.
 * @returns The code.
 *
 * @example
 * ```ts
 * import { tagsCodeOf } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(tagsCodeOf({ TAGS: "TagB" }), 2598920);
 * ```
 */
export function tagsCodeOf(properties: Readonly<Record<string, string>>): number {
  const tags = properties[MessageProperty.TAGS];
  return tags ? javaStringHashCode(tags) : 0;
}

/**
 * Java's `Boolean.parseBoolean`: `"true"` in any case.
 *
 * @param value Text or `undefined`.
 * @returns Whether it says true.
 *
 * @example
 * ```ts
 * import { parseBoolean } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseBoolean("TRUE"), true);
 * assert.equal(parseBoolean("yes"), false);
 * ```
 */
export function parseBoolean(value: string | undefined): boolean {
  return value !== undefined && value.toLowerCase() === "true";
}

/**
 * Java's `Integer.parseInt` for property values, with a fallback.
 *
 * @param value Text or `undefined`.
 * @param fallback Returned when the text is not a 32-bit decimal integer.
 * @returns The number.
 *
 * @example
 * ```ts
 * import { parseIntOr } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseIntOr("3", 0), 3);
 * assert.equal(parseIntOr("x", 0), 0);
 * ```
 */
export function parseIntOr(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^[+-]?\d{1,10}$/.test(value)) return fallback;
  const n = Number(value);
  return n >= -2147483648 && n <= 2147483647 ? n : fallback;
}
