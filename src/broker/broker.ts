/**
 * The embedded RocketMQ-compatible broker: name server and broker on one
 * port. {@linkcode Broker} serves any byte stream (`handle(transport)`, as
 * aedes does), so tests can attach in-memory pairs; {@linkcode startBroker}
 * listens on TCP, opens the store (memory, or files under `dataDir`) and
 * returns a handle.
 *
 * @example Start on an ephemeral port and ask for a route
 * ```ts
 * import { startBroker } from "./broker.ts";
 * import { RemotingClient } from "../remoting/remoting_client.ts";
 * import { createRequest } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * const client = new RemotingClient();
 * const res = await client.invoke(broker.address, createRequest(105, { topic: "TBW102" }), { timeout: 3000 });
 * assert.equal(res.code, 0);
 * await client.close();
 * ```
 *
 * @module
 */

import {
  type CodecError,
  ConnectionClosedError,
  IllegalStateError,
  InvalidArgumentError,
} from "../errors.ts";
import { RequestCode } from "../codec/codes.ts";
import { encodeNotifyConsumerIdsChangedRequestHeader } from "../codec/ext_fields.ts";
import { parseFastJson, stringifyJson } from "../codec/fastjson.ts";
import { MessageSysFlag } from "../codec/message.ts";
import type { HostAddress } from "../codec/message_ext.ts";
import { UniqueKeyGenerator } from "../codec/message_id.ts";
import { MessageProperty } from "../codec/properties.ts";
import { createOneway, createResponse } from "../codec/remoting_command.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { formatAddress, RemotingConnection } from "../remoting/connection.ts";
import { systemTimers, type TimerHandle, type Timers } from "../remoting/timers.ts";
import { defaultConnect, defaultListen } from "../transport/default.ts";
import { listenPermissiveTls } from "../transport/permissive_tls.ts";
import type { Connect, Listen, Listener, Transport } from "../transport/types.ts";
import { AtomicFileWriter, readTextFile } from "./_config_file.ts";
import { AccessControl } from "./acl/access_control.ts";
import { BrokerMeters } from "./meters.ts";
import type { AclConfig } from "./acl/plain_acl.ts";
import { ClientRegistry } from "./client_registry.ts";
import { QueuePullers } from "./queue_pullers.ts";
import {
  type BrokerContext,
  type BrokerCounters,
  type BrokerSettings,
  type Channel,
  parseIntOr,
} from "./context.ts";
import { DelayService } from "./delay.ts";
import { dispatch } from "./handlers/mod.ts";
import { PullHoldService } from "./long_polling.ts";
import { PendingRequests } from "./pending_requests.ts";
import { RebalanceLockManager } from "./rebalance_lock.ts";
import { nodeFileSystem } from "./store/_fs.ts";
import { openFileStore } from "./store/file_store.ts";
import { MemoryStore } from "./store/memory_store.ts";
import type { MessageStore, PutMessageInput, PutResult } from "./store/types.ts";
import { SCHEDULE_QUEUE_NUMS, SCHEDULE_TOPIC, type TopicConfig, TopicManager } from "./topics.ts";

/**
 * Options of {@linkcode Broker}.
 *
 * @example A broker that only serves topics created explicitly
 * ```ts
 * import { Broker, type BrokerOptions } from "./broker.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const options: BrokerOptions = {
 *   address: "10.0.0.1:10911", // what routes tell clients to connect to
 *   brokerName: "broker-b",
 *   autoCreateTopics: false, // no TBW102 template: sends to unknown topics fail
 *   timers: new ManualTimers(0),
 * };
 * const broker = new Broker(options);
 * assert.equal(broker.address, "10.0.0.1:10911");
 * assert.equal(broker.topics.get("TBW102"), undefined);
 * assert.ok(broker.topics.get("DefaultCluster_REPLY_TOPIC")); // the reply topic always exists
 * await broker.close();
 * ```
 */
export interface BrokerOptions {
  /**
   * `host:port` advertised in routes (clients connect there for everything).
   * @default {"127.0.0.1:9876"}
   */
  address?: string;
  /** Cluster name. @default {"DefaultCluster"} */
  clusterName?: string;
  /** Broker name. @default {"broker-a"} */
  brokerName?: string;
  /**
   * Whether a send may create its topic from `TBW102`.
   * @default {true}
   */
  autoCreateTopics?: boolean;
  /**
   * Queues of the `TBW102` template, the most an auto-created topic gets
   * (Java's `defaultTopicQueueNums`; the Java producer asks for 4).
   * @default {8}
   */
  defaultQueueNums?: number;
  /** The message store. @default {a MemoryStore of `memoryLimitBytes`} */
  store?: MessageStore;
  /**
   * Bound of the default in-memory store.
   * @default {268435456} (256 MiB)
   */
  memoryLimitBytes?: number;
  /**
   * Whether consumers may filter by SQL92 on properties (Java's
   * `enablePropertyFilter`, off by default there). With `false`, SQL92
   * subscriptions are refused as RocketMQ refuses them: CHECK_CLIENT_CONFIG
   * and pulls answer SYSTEM_ERROR "The broker does not support consumer to
   * filter message by SQL92".
   * @default {true}
   */
  enablePropertyFilter?: boolean;
  /**
   * Whether replies (324/325) are stored as well as pushed (Java's
   * `storeReplyMessageEnable`).
   * @default {true}
   */
  storeReplyMessage?: boolean;
  /**
   * Accepted and checked, no longer used: a reply waited this long for its
   * requester's heartbeat. A request now registers its requester's client id
   * when it is stored, and its reply goes to the connection that sent it, so
   * a reply never has to wait.
   * @default {1000}
   * @deprecated Has no effect.
   */
  replyWaitMillis?: number;
  /**
   * Timeout of the PUSH_REPLY_MESSAGE_TO_CLIENT call (Java: 10 s; shorter
   * here, so that the replier learns the outcome within its own default
   * 3-s send timeout).
   * @default {3000}
   */
  replyPushTimeout?: number;
  /** Largest message body accepted (Java `maxMessageSize`). @default {4194304} */
  maxMessageSize?: number;
  /** Largest frame accepted, length field included. @default {16777216} */
  maxFrameSize?: number;
  /**
   * Connections without traffic, and registrations without heartbeat, for
   * this long are closed (Java: 120 s).
   * @default {120000}
   */
  channelIdleTimeout?: number;
  /**
   * Most connections served at once; beyond it a new connection is closed
   * at once, with a warning in the log (Java has no such cap). Each idle
   * connection costs about 7 (Bun) to 36 KiB (Deno) and a file descriptor:
   * keep it below the process's `ulimit -n`.
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * Most ms a frame may take to arrive once its first byte has; a connection
   * whose frame is not complete by then is closed (a peer trickling bytes to
   * hold a connection and its buffer: slowloris). Large frames need a
   * transfer rate above `maxFrameSize / frameTimeout` (16 MiB in 10 s:
   * 1.7 MB/s; a 4 MiB message: 420 KB/s).
   * @default {10000}
   */
  frameTimeout?: number;
  /**
   * Most bytes held, across all connections, for frames still arriving,
   * beyond the first 64 KiB of each connection (free, so that ordinary
   * frames never touch it). A connection whose frame would take more is
   * closed, with a warning: many connections each starting a 16 MiB frame
   * cannot make the broker hold more than this plus 64 KiB per connection.
   * @default {134217728} (128 MiB)
   */
  partialFrameBudget?: number;
  /** Longest a pull may be held, whatever it asks. @default {300000} */
  maxSuspendMillis?: number;
  /** Most pulls held at once. @default {100000} */
  maxHeldPulls?: number;
  /** Lifetime of an orderly consumer's queue lock. @default {60000} */
  lockMaxLiveTime?: number;
  /** Region sent as `MSG_REGION`. @default {"DefaultRegion"} */
  regionId?: string;
  /** Topics to restore (persisted earlier). */
  topics?: readonly TopicConfig[];
  /** Told after any change of a persistent topic. */
  onTopicsChanged?: (topics: TopicConfig[]) => void;
  /** Where connection events and failures go. @default {consoleLogger("warn")} */
  logger?: Logger;
  /**
   * Delay of each of the 18 delay levels in ms (Java's `messageDelayLevel`,
   * "1s 5s 10s 30s 1m … 2h"); levels also pace consumer retries.
   * @default {DELAY_LEVELS}
   */
  delayLevels?: readonly number[];
  /** Clock and timers (delays, long polling, expiry). @default {systemTimers} */
  timers?: Timers;
  // ---- security ----
  /**
   * ACL, in the shape of RocketMQ's `plain_acl.yml` (see `parsePlainAcl`):
   * every request must then be signed by an account allowed to do what it
   * asks. Off when not given: the embedded broker trusts every client.
   */
  acl?: AclConfig;
  /**
   * Most RIP-16 requests waiting for their reply at once; a request sent
   * beyond it is refused with SYSTEM_BUSY.
   * @default {100000}
   */
  maxPendingRequests?: number;
}

/**
 * A snapshot of a broker's activity.
 *
 * @example A new broker
 * ```ts
 * import { Broker, type BrokerStats } from "./broker.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker({ timers: new ManualTimers(0) });
 * const stats: BrokerStats = broker.stats;
 * assert.deepEqual(stats, {
 *   connectionsAccepted: 0, connectionsRefused: 0, requests: 0, messagesStored: 0, messagesPulled: 0,
 *   repliesPushed: 0, repliesFailed: 0, sentBack: 0, cancelsForwarded: 0, adminCallsRelayed: 0,
 *   malformed: 0, connections: 0, heldPulls: 0,
 *   producerGroups: 0, consumerGroups: 0, scheduledMessages: 0, delayedDelivered: 0, queueLocks: 0,
 *   accessDenied: 0, clientIdRefused: 0, repliesRefused: 0, pendingRequests: 0,
 * });
 * await broker.close();
 * ```
 */
export interface BrokerStats extends BrokerCounters {
  /** Open connections. */
  connections: number;
  /** Pulls held (long polling). */
  heldPulls: number;
  /** Producer groups registered. */
  producerGroups: number;
  /** Consumer groups registered. */
  consumerGroups: number;
  /** Delayed messages not yet delivered. */
  scheduledMessages: number;
  /** Delayed messages delivered. */
  delayedDelivered: number;
  /** Live queue locks. */
  queueLocks: number;
  /** RIP-16 requests waiting for their reply. */
  pendingRequests: number;
}

const HOUSEKEEPING_INTERVAL = 10_000;
/** Most often a warning about a flood (refusals, budget) is logged; the line counts the others. */
const FLOOD_LOG_INTERVAL = 10_000;

/** A warning logged at most once per FLOOD_LOG_INTERVAL, with the number of occurrences since. */
class FloodWarning {
  readonly #message: string;
  readonly #logger: Logger;
  readonly #timers: Timers;
  #unlogged = 0;
  #loggedAt = -Infinity;

  constructor(message: string, logger: Logger, timers: Timers) {
    this.#message = message;
    this.#logger = logger;
    this.#timers = timers;
  }

  note(fields: Record<string, unknown>): void {
    this.#unlogged++;
    const now = this.#timers.now();
    if (now - this.#loggedAt < FLOOD_LOG_INTERVAL) return;
    this.#logger.warn(this.#message, { ...fields, occurrences: this.#unlogged });
    this.#unlogged = 0;
    this.#loggedAt = now;
  }
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ||
    (host.includes(":") && /^[0-9a-fA-F:.]+$/.test(host));
}

function hostAddress(hostname: string | undefined, port: number | undefined): HostAddress {
  return {
    address: hostname && isIpLiteral(hostname) ? hostname : "127.0.0.1",
    port: port !== undefined && port >= 0 && port <= 65535 ? port : 0,
  };
}

function parseAdvertised(address: string): HostAddress {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError("address", `expected host:port, got ${JSON.stringify(address)}`);
  }
  return hostAddress(host, port);
}

function positive(
  name: string,
  value: number | undefined,
  fallback: number,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)
  ) {
    throw new InvalidArgumentError(
      name,
      `must be a ${allowZero ? "non-negative" : "positive"} number, got ${value}`,
    );
  }
  return value;
}

interface ChannelState extends Channel {
  readonly abort: AbortController;
  /** Resolves once the broker forgot the closed channel. */
  forgotten?: Promise<void>;
}

/**
 * A RocketMQ name server and broker in one object.
 *
 * @example Serve an in-memory pair
 * ```ts
 * import { Broker } from "./broker.ts";
 * import { memoryPair } from "../transport/memory.ts";
 * import { RemotingConnection } from "../remoting/connection.ts";
 * import { createRequest } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = new Broker({ address: "127.0.0.1:9876" });
 * const [a, b] = memoryPair();
 * broker.handle(b);
 * const client = new RemotingConnection(a);
 * const res = await client.invoke(createRequest(106), { timeout: 1000 });
 * assert.equal(res.code, 0);
 * assert.equal(broker.stats.connections, 1);
 * await client.close();
 * await broker.close();
 * ```
 */
export class Broker {
  readonly #ctx: BrokerContext;
  readonly #ownsStore: boolean;
  readonly #delay: DelayService;
  readonly #channels = new Map<RemotingConnection, ChannelState>();
  readonly #maxFrameSize: number | undefined;
  readonly #idleTimeout: number;
  readonly #maxConnections: number;
  readonly #frameTimeout: number;
  #frameSweep: TimerHandle | undefined;
  readonly #refusals: FloodWarning;
  readonly #overBudget: FloodWarning;
  /** Bytes of the partial-frame budget not taken. */
  #frameBytesLeft: number;
  readonly #unsubscribe: () => void;
  readonly #notifyQueued = new Set<string>();
  #housekeeping: TimerHandle | undefined;
  #nextChannelId = 1;
  #closing: Promise<void> | undefined;

  /**
   * Create a broker; it serves nothing until transports are handed to
   * {@linkcode Broker.handle}.
   *
   * @param options Names, store, limits, logger and timers.
   * @throws {InvalidArgumentError} When an option is invalid.
   */
  constructor(options: BrokerOptions = {}) {
    const levels = options.delayLevels;
    if (
      levels !== undefined &&
      (levels.length !== 18 || levels.some((ms) => !Number.isFinite(ms) || ms < 0))
    ) {
      throw new InvalidArgumentError("delayLevels", "must be 18 delays in ms, each ≥ 0");
    }
    const address = options.address ?? "127.0.0.1:9876";
    const storeHost = parseAdvertised(address);
    const timers = options.timers ?? systemTimers;
    const logger = options.logger ?? consoleLogger("warn");
    const clusterName = options.clusterName ?? "DefaultCluster";
    const brokerName = options.brokerName ?? "broker-a";
    const settings: BrokerSettings = {
      clusterName,
      brokerName,
      address,
      regionId: options.regionId ?? "DefaultRegion",
      maxMessageSize: positive("maxMessageSize", options.maxMessageSize, 4 * 1024 * 1024),
      storeReplyMessage: options.storeReplyMessage ?? true,
      enablePropertyFilter: options.enablePropertyFilter ?? true,
      replyWaitMillis: positive("replyWaitMillis", options.replyWaitMillis, 1000, true),
      replyPushTimeout: positive("replyPushTimeout", options.replyPushTimeout, 3000),
      maxSuspendMillis: positive("maxSuspendMillis", options.maxSuspendMillis, 300_000, true),
    };
    this.#idleTimeout = positive("channelIdleTimeout", options.channelIdleTimeout, 120_000);
    this.#maxConnections = positive("maxConnections", options.maxConnections, 10_000);
    this.#frameTimeout = positive("frameTimeout", options.frameTimeout, 10_000);
    this.#frameBytesLeft = positive(
      "partialFrameBudget",
      options.partialFrameBudget,
      128 * 1024 * 1024,
      true,
    );
    this.#refusals = new FloodWarning(
      "connection refused: maxConnections reached",
      logger,
      timers,
    );
    this.#overBudget = new FloodWarning(
      "closing a connection: frames still arriving exceed partialFrameBudget",
      logger,
      timers,
    );
    this.#maxFrameSize = options.maxFrameSize;
    this.#ownsStore = options.store === undefined;
    const store = options.store ?? new MemoryStore({
      now: () => timers.now(),
      ...(options.memoryLimitBytes !== undefined
        ? { memoryLimitBytes: options.memoryLimitBytes }
        : {}),
    });
    const onTopicsChanged = options.onTopicsChanged;
    const topics: TopicManager = new TopicManager({
      clusterName,
      brokerName,
      autoCreateTopics: options.autoCreateTopics ?? true,
      defaultQueueNums: positive("defaultQueueNums", options.defaultQueueNums, 8),
      onChange: () => onTopicsChanged?.(topics.persistent()),
      // Consumers subscribed to a topic before it existed learn of it now,
      // not at their next rebalance (Java consumers rebalance on this too).
      onCreated: (topic) => {
        for (const group of this.#ctx.registry.groupsByTopic(topic)) {
          this.#notifyConsumerIdsChanged(group);
        }
      },
    });
    if (options.topics) topics.restore(options.topics);
    restoreTopicsFromStore(topics, store);

    const ip = storeHost.address;
    const ipBytes = ip.includes(":") ? undefined : new Uint8Array(ip.split(".").map(Number));
    const ctx: BrokerContext = {
      settings,
      storeHost,
      store,
      topics,
      registry: new ClientRegistry<Channel>({ timers, reserveMillis: this.#idleTimeout }),
      pulls: new PullHoldService<Channel>({
        timers,
        ...(options.maxHeldPulls !== undefined ? { maxHeld: options.maxHeldPulls } : {}),
      }),
      locks: new RebalanceLockManager({
        timers,
        ...(options.lockMaxLiveTime !== undefined ? { maxLiveTime: options.lockMaxLiveTime } : {}),
      }),
      pullers: new QueuePullers<Channel>({ timers }),
      timers,
      logger,
      uniqueKeys: new UniqueKeyGenerator({
        ...(ipBytes ? { ip: ipBytes } : {}),
        now: () => timers.now(),
      }),
      counters: {
        connectionsAccepted: 0,
        connectionsRefused: 0,
        requests: 0,
        messagesStored: 0,
        messagesPulled: 0,
        repliesPushed: 0,
        repliesFailed: 0,
        sentBack: 0,
        cancelsForwarded: 0,
        adminCallsRelayed: 0,
        malformed: 0,
        accessDenied: 0,
        clientIdRefused: 0,
        repliesRefused: 0,
      },
      heartbeatFingerprints: new Map(),
      putMessage: (message) => this.#put(message),
      putBatch: async (messages) => {
        const results = await store.putBatch(messages.map(withHostFlags));
        if (messages.length > 0) this.#ctx.meters.stored(messages[0]!.topic, results.length);
        return results;
      },
      meters: new BrokerMeters(timers),
      notifyConsumerIdsChanged: (group) => this.#notifyConsumerIdsChanged(group),
      dropChannel: (channel) => this.#dropChannel(channel),
      requests: new PendingRequests<Channel>({
        timers,
        ...(options.maxPendingRequests !== undefined
          ? { maxEntries: positive("maxPendingRequests", options.maxPendingRequests, 100_000) }
          : {}),
      }),
      acl: options.acl ? new AccessControl(options.acl) : undefined,
    };
    this.#ctx = ctx;
    this.#delay = new DelayService({
      store,
      timers,
      logger,
      ...(options.delayLevels ? { levels: options.delayLevels } : {}),
    });
    this.#unsubscribe = store.onArrival((topic, queueId, queueOffset, tagsCode, properties) => {
      ctx.pulls.notifyArrival(topic, queueId, queueOffset, tagsCode, properties);
      if (topic === SCHEDULE_TOPIC) this.#delay.notify(queueId);
    });
    this.#delay.start();
    this.#scheduleHousekeeping();
  }

  /** `host:port` advertised in routes. */
  get address(): string {
    return this.#ctx.settings.address;
  }

  /** The message store. */
  get store(): MessageStore {
    return this.#ctx.store;
  }

  /** The topic table. */
  get topics(): TopicManager {
    return this.#ctx.topics;
  }

  /**
   * Replace the ACL's accounts and whitelists while the broker runs (keys
   * rotated, accounts added or removed, as RocketMQ reloads
   * `plain_acl.yml`). Every connection's next request is checked against
   * the new configuration; an invalid one changes nothing.
   *
   * @param config The new configuration, as `startBroker({ acl })` takes it.
   * @throws {IllegalStateError} When the broker was started without ACL
   *   (turning ACL on or off takes a restart).
   * @throws {InvalidArgumentError} When the configuration is invalid.
   *
   * @example Rotate an account's secret
   * ```ts
   * import { startBroker } from "./broker.ts";
   * import { createMemoryNetwork } from "../transport/memory.ts";
   * import assert from "node:assert/strict";
   *
   * await using handle = await startBroker({
   *   listen: createMemoryNetwork().listen,
   *   acl: { accounts: [{ accessKey: "app", secretKey: "old-secret" }] },
   * });
   * handle.broker.updateAcl({ accounts: [{ accessKey: "app", secretKey: "new-secret" }] });
   * assert.throws(() => handle.broker.updateAcl({ accounts: [{ accessKey: "", secretKey: "x" }] }));
   * ```
   */
  updateAcl(config: AclConfig): void {
    const acl = this.#ctx.acl;
    if (acl === undefined) {
      throw new IllegalStateError("this broker was started without ACL; restart it with acl");
    }
    acl.replace(config);
    this.#ctx.logger.info("ACL updated", { accounts: acl.size });
  }

  /** A snapshot of the broker's counters and sizes. */
  get stats(): BrokerStats {
    const counts = this.#ctx.registry.counts;
    return {
      ...this.#ctx.counters,
      connections: this.#channels.size,
      heldPulls: this.#ctx.pulls.size,
      producerGroups: counts.producerGroups,
      consumerGroups: counts.consumerGroups,
      scheduledMessages: this.#delay.pending,
      delayedDelivered: this.#delay.delivered,
      queueLocks: this.#ctx.locks.size,
      pendingRequests: this.#ctx.requests.size,
    };
  }

  /**
   * Serve a connection: the broker owns the transport from now on and
   * closes it when the peer leaves, misbehaves or goes silent, or when the
   * broker closes.
   *
   * @param transport A connected byte stream.
   */
  handle(transport: Transport): void {
    if (this.#closing) {
      void transport.close();
      return;
    }
    if (this.#channels.size >= this.#maxConnections) {
      this.#refuse(transport);
      return;
    }
    const remote = transport.remoteAddr;
    const label = remote ? formatAddress(remote.hostname, remote.port) : "unknown";
    const id = this.#nextChannelId++;
    const abort = new AbortController();
    const ref: { channel?: ChannelState } = {};
    const connection = new RemotingConnection(transport, {
      address: label,
      timers: this.#ctx.timers,
      // Speak to each client in the header serialization it uses.
      serializeType: "peer",
      ...(this.#maxFrameSize !== undefined ? { maxFrameSize: this.#maxFrameSize } : {}),
      onRequest: (request) => dispatch(this.#ctx, request, ref.channel!),
      onInvalidFrame: (error) => this.#invalidFrame(ref.channel!, error),
      frameBudget: {
        take: (bytes) => this.#takeFrameBytes(bytes, ref.channel!),
        give: (bytes) => this.#frameBytesLeft += bytes,
      },
    });
    const channel: ChannelState = {
      id,
      connection,
      remote: hostAddress(remote?.hostname, remote?.port),
      label,
      signal: abort.signal,
      abort,
    };
    ref.channel = channel;
    this.#channels.set(connection, channel);
    this.#ctx.counters.connectionsAccepted++;
    this.#ctx.logger.info("connection opened", { id, remote: label });
    channel.forgotten = connection.closed.then((error) => this.#closed(channel, error));
    this.#scheduleFrameSweep();
  }

  async #dropChannel(channel: Channel): Promise<void> {
    const state = this.#channels.get(channel.connection);
    if (!state) return;
    void channel.connection.close();
    await state.forgotten;
  }

  #refuse(transport: Transport): void {
    void transport.close();
    this.#ctx.counters.connectionsRefused++;
    const remote = transport.remoteAddr;
    this.#refusals.note({
      remote: remote ? formatAddress(remote.hostname, remote.port) : "unknown",
      maxConnections: this.#maxConnections,
    });
  }

  #takeFrameBytes(bytes: number, channel: ChannelState): boolean {
    if (bytes > this.#frameBytesLeft) {
      this.#overBudget.note({ id: channel.id, remote: channel.label });
      return false;
    }
    this.#frameBytesLeft -= bytes;
    return true;
  }

  /**
   * While connections are open, check every `frameTimeout / 4` (at most 1 s)
   * for frames that began too long ago: one pass over the connections, no
   * timer per connection or frame.
   */
  #scheduleFrameSweep(): void {
    if (this.#frameSweep !== undefined || this.#closing) return;
    const interval = Math.min(1000, Math.max(10, this.#frameTimeout / 4));
    this.#frameSweep = this.#ctx.timers.setTimeout(() => {
      this.#frameSweep = undefined;
      if (this.#closing) return;
      const now = this.#ctx.timers.now();
      for (const channel of this.#channels.values()) {
        const since = channel.connection.partialFrameSince;
        if (
          since !== undefined && now - since > this.#frameTimeout && !channel.connection.isClosed
        ) {
          this.#ctx.logger.warn("closing a connection whose frame is late", {
            id: channel.id,
            remote: channel.label,
            frameTimeout: this.#frameTimeout,
          });
          void channel.connection.close();
        }
      }
      if (this.#channels.size > 0) this.#scheduleFrameSweep();
    }, interval);
  }

  #invalidFrame(channel: ChannelState, error: CodecError): void {
    this.#ctx.counters.malformed++;
    if (error.opaque !== undefined) {
      this.#ctx.logger.warn("malformed request answered", {
        id: channel.id,
        remote: channel.label,
        error: error.message,
      });
      const response = createResponse({ opaque: error.opaque }, 29, undefined, {
        remark: `malformed request: ${error.message}`,
      });
      channel.connection.send(response).catch(() => {});
      return;
    }
    // The "connection closed" line names the error: one line per event.
    void channel.connection.close(error);
  }

  #closed(channel: ChannelState, error: Error | undefined): void {
    this.#channels.delete(channel.connection);
    channel.abort.abort();
    const ctx = this.#ctx;
    const dropped = ctx.pulls.dropChannel(channel);
    ctx.requests.dropChannel(channel);
    ctx.pullers.removeChannel(channel);
    const { groups, clientIds } = ctx.registry.removeChannel(channel);
    for (const group of groups) {
      if (ctx.registry.consumerGroup(group)?.messageModel !== "BROADCASTING") {
        this.#notifyConsumerIdsChanged(group);
      }
    }
    for (const clientId of clientIds) {
      if (!ctx.registry.hasClient(clientId)) ctx.locks.clientGone(clientId);
    }
    const fields: Record<string, unknown> = { id: channel.id, remote: channel.label };
    if (dropped > 0) fields.heldPulls = dropped;
    // A peer that hangs up shows as ConnectionClosedError: not worth reporting.
    if (error && !this.#closing && !(error instanceof ConnectionClosedError)) fields.error = error;
    ctx.logger.info("connection closed", fields);
  }

  #notifyConsumerIdsChanged(group: string): void {
    if (this.#notifyQueued.has(group) || this.#closing) return;
    this.#notifyQueued.add(group);
    queueMicrotask(() => {
      this.#notifyQueued.delete(group);
      const header = encodeNotifyConsumerIdsChangedRequestHeader({ consumerGroup: group });
      for (const channel of this.#ctx.registry.consumerChannels(group)) {
        channel.connection
          .invokeOneway(createOneway(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, header))
          .catch(() => {/* the channel is closing; its own close is handled */});
      }
    });
  }

  async #put(message: PutMessageInput): Promise<PutResult> {
    let m = withHostFlags(message);
    let level = parseIntOr(m.properties[MessageProperty.DELAY], 0);
    const tranType = m.sysFlag & MessageSysFlag.TRANSACTION_ROLLBACK;
    if (
      level > 0 && m.topic !== SCHEDULE_TOPIC &&
      (tranType === 0 || tranType === MessageSysFlag.TRANSACTION_COMMIT)
    ) {
      level = Math.min(level, SCHEDULE_QUEUE_NUMS);
      m = {
        ...m,
        topic: SCHEDULE_TOPIC,
        queueId: level - 1,
        propertiesText: undefined,
        properties: {
          ...m.properties,
          [MessageProperty.DELAY]: String(level),
          [MessageProperty.REAL_TOPIC]: m.topic,
          [MessageProperty.REAL_QID]: String(m.queueId),
        },
      };
    }
    const result = await this.#ctx.store.put(m);
    this.#ctx.meters.stored(m.topic, 1);
    return result;
  }

  #scheduleHousekeeping(): void {
    this.#housekeeping = this.#ctx.timers.setTimeout(() => {
      this.#housekeeping = undefined;
      if (this.#closing) return;
      try {
        this.#housekeep();
      } finally {
        this.#scheduleHousekeeping();
      }
    }, HOUSEKEEPING_INTERVAL);
  }

  #housekeep(): void {
    const ctx = this.#ctx;
    const now = ctx.timers.now();
    for (const channel of ctx.registry.expired(this.#idleTimeout)) {
      ctx.logger.info("closing a channel without heartbeat", {
        id: channel.id,
        remote: channel.label,
        idleMs: this.#idleTimeout,
      });
      void channel.connection.close();
    }
    for (const channel of this.#channels.values()) {
      if (now - channel.connection.lastActivity > this.#idleTimeout) {
        ctx.logger.info("closing an idle connection", { id: channel.id, remote: channel.label });
        void channel.connection.close();
      }
    }
    ctx.locks.purge();
    ctx.requests.purge();
    ctx.registry.purgeReservations();
  }

  /**
   * Close every connection, stop the services and close the store if the
   * broker created it.
   *
   * @returns Resolves when everything is closed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const ctx = this.#ctx;
    if (this.#housekeeping !== undefined) ctx.timers.clearTimeout(this.#housekeeping);
    this.#housekeeping = undefined;
    if (this.#frameSweep !== undefined) ctx.timers.clearTimeout(this.#frameSweep);
    this.#frameSweep = undefined;
    ctx.pulls.close();
    ctx.registry.close();
    ctx.requests.clear();
    await Promise.all([...this.#channels.values()].map((c) => c.connection.close()));
    await this.#delay.close();
    this.#unsubscribe();
    if (this.#ownsStore) await ctx.store.close();
  }

  /** `await using` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Set the IPv6 host bits of a message's sysFlag from its host addresses.
 *
 * @param message A message to store.
 * @returns The message with bits 0x10/0x20 matching its hosts.
 *
 * @example
 * ```ts
 * import { withHostFlags } from "./broker.ts";
 * import assert from "node:assert/strict";
 *
 * const m = withHostFlags({ topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 0,
 *   bornHost: { address: "::1", port: 1 }, storeHost: { address: "127.0.0.1", port: 2 }, reconsumeTimes: 0,
 *   preparedTransactionOffset: 0, body: new Uint8Array(), properties: {}, tagsCode: 0 });
 * assert.equal(m.sysFlag, 0x10);
 * ```
 */
export function withHostFlags(message: PutMessageInput): PutMessageInput {
  let sysFlag = message.sysFlag & ~(MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6);
  if (message.bornHost.address.includes(":")) sysFlag |= MessageSysFlag.BORNHOST_V6;
  if (message.storeHost.address.includes(":")) sysFlag |= MessageSysFlag.STOREHOST_V6;
  return sysFlag === message.sysFlag ? message : { ...message, sysFlag };
}

/** Topics found in the store but missing from the configuration get one (perm 6). */
function restoreTopicsFromStore(topics: TopicManager, store: MessageStore): void {
  const queues = new Map<string, number>();
  for (const q of store.queues()) {
    queues.set(q.topic, Math.max(queues.get(q.topic) ?? 0, q.queueId + 1));
  }
  for (const [topic, count] of queues) {
    if (topics.get(topic)) continue;
    topics.update({
      topicName: topic,
      readQueueNums: count,
      writeQueueNums: count,
      perm: 6,
      topicFilterType: "SINGLE_TAG",
      topicSysFlag: 0,
      order: false,
    });
  }
}

/**
 * Options of {@linkcode startBroker}.
 *
 * @example Listening on every interface
 * ```ts
 * import { startBroker, type StartBrokerOptions } from "./broker.ts";
 * import { createMemoryNetwork } from "../transport/memory.ts";
 * import assert from "node:assert/strict";
 *
 * const options: StartBrokerOptions = {
 *   hostname: "0.0.0.0",
 *   port: 10911,
 *   listen: createMemoryNetwork().listen, // an in-memory network instead of TCP
 * };
 * await using broker = await startBroker(options);
 * // A wildcard address cannot be connected to: routes advertise 127.0.0.1
 * // unless `advertisedHost` says otherwise.
 * assert.equal(broker.address, "127.0.0.1:10911");
 * ```
 */
export interface StartBrokerOptions
  extends Omit<BrokerOptions, "address" | "store" | "topics" | "onTopicsChanged"> {
  /** Address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port; 0 picks a free one. @default {9876} */
  port?: number;
  /**
   * Host advertised in routes. Defaults to `hostname`, or 127.0.0.1 when
   * listening on a wildcard address.
   */
  advertisedHost?: string;
  /**
   * Directory of the file store, the consumer offsets and the topic
   * configuration. Without it everything is kept in memory.
   */
  dataDir?: string;
  /**
   * With `dataDir`: `"sync"` resolves a send only once it is on disk,
   * `"async"` once it is written to the file (flushed shortly after).
   * @default {"async"}
   */
  flush?: "async" | "sync";
  /**
   * With `dataDir`: delete the oldest commit-log segments (and what indexes
   * them) while the log holds more than this many bytes; the segment being
   * written is kept. A consumer behind is moved to the oldest message left.
   * RocketMQ bounds its disk by time and usage ratio; this bounds it by
   * size. Unlimited if absent.
   */
  retentionBytes?: number;
  /**
   * With `dataDir`: delete the oldest commit-log segments once every message
   * in them is older than this many ms (checked every 10 s), as RocketMQ's
   * `fileReservedTime` (72 hours there). Unlimited if absent.
   */
  retentionMs?: number;
  /**
   * With `dataDir`: most message keys (`KEYS` words and `UNIQ_KEY`s, ~32
   * bytes each) the key index holds in memory for QUERY_MESSAGE; older
   * messages are still found by their offset message id.
   * @default {1048576}
   */
  keyIndexEntries?: number;
  /** Opens the listening socket. @default {defaultListen} */
  listen?: Listen;
  /**
   * Opens connections on the `listen` network; used by TLS `permissive`
   * mode to relay TLS clients to its loopback TLS listener.
   * @default {defaultConnect}
   */
  connect?: Connect;
  /**
   * PEM certificate and key to serve TLS with. `mode` `"enforcing"` (the
   * default) refuses plain clients; `"permissive"` serves TLS and plain
   * clients on the one port, told apart by their first byte, as RocketMQ's
   * `tls.server.mode=permissive` does (its default; here a choice to make).
   */
  tls?: { cert: string; key: string; mode?: "enforcing" | "permissive" };
  /** Opens the store under `dataDir` (injectable for tests). @default {the file store} */
  openStore?: (
    dataDir: string,
    options: {
      flush: "async" | "sync";
      logger: Logger;
      retentionBytes?: number;
      retentionMs?: number;
      keyIndexEntries?: number;
    },
  ) => Promise<MessageStore>;
}

/**
 * A running broker.
 *
 * @example A client on the same in-memory network
 * ```ts
 * import { type BrokerHandle, startBroker } from "./broker.ts";
 * import { createMemoryNetwork } from "../transport/memory.ts";
 * import { RemotingClient } from "../remoting/remoting_client.ts";
 * import { createRequest } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const net = createMemoryNetwork();
 * const broker: BrokerHandle = await startBroker({ listen: net.listen, port: 9876 });
 * const client = new RemotingClient({ connect: net.connect });
 * const res = await client.invoke(broker.address, createRequest(106), { timeout: 1000 });
 * assert.equal(res.code, 0);
 * assert.equal(broker.stats.requests, 1);
 * await client.close();
 * await broker.close(); // or `await using broker = ...`
 * ```
 */
export interface BrokerHandle {
  /** `host:port`: the name server address for clients, also Java's `namesrvAddr`. */
  readonly address: string;
  /** Host the broker listens on. */
  readonly hostname: string;
  /** Port the broker listens on. */
  readonly port: number;
  /** A snapshot of the broker's activity. */
  readonly stats: BrokerStats;
  /** The broker (to attach more transports, or inspect its topics and store). */
  readonly broker: Broker;
  /** Stop listening, close every connection, flush and close the store. */
  close(): Promise<void>;
  /** `await using` support. */
  [Symbol.asyncDispose](): Promise<void>;
}

const TOPICS_FILE = "topics.json";

async function loadTopics(dataDir: string, logger: Logger): Promise<TopicConfig[]> {
  const text = await readTextFile(nodeFileSystem, `${dataDir}/${TOPICS_FILE}`);
  if (text === undefined) return [];
  try {
    const parsed = parseFastJson(text) as { topicConfigTable?: Record<string, TopicConfig> };
    const table = parsed?.topicConfigTable ?? {};
    const out: TopicConfig[] = [];
    for (const [name, t] of Object.entries(table)) {
      if (typeof t !== "object" || t === null) continue;
      const read = Number(t.readQueueNums), write = Number(t.writeQueueNums), perm = Number(t.perm);
      if (![read, write, perm].every((n) => Number.isInteger(n) && n >= 0)) continue;
      out.push({
        topicName: name,
        readQueueNums: read,
        writeQueueNums: write,
        perm,
        topicFilterType: typeof t.topicFilterType === "string" ? t.topicFilterType : "SINGLE_TAG",
        topicSysFlag: Number.isInteger(Number(t.topicSysFlag)) ? Number(t.topicSysFlag) : 0,
        order: t.order === true,
      });
    }
    return out;
  } catch (err) {
    logger.error("topics.json is unreadable; topics are rebuilt from the store", { err });
    return [];
  }
}

function topicsJson(topics: readonly TopicConfig[]): string {
  const table: Record<string, TopicConfig> = {};
  for (const t of topics) table[t.topicName] = t;
  return stringifyJson({ topicConfigTable: table });
}

function defaultOpenStore(
  dataDir: string,
  options: {
    flush: "async" | "sync";
    logger: Logger;
    timers?: Timers;
    retentionBytes?: number;
    retentionMs?: number;
    keyIndexEntries?: number;
  },
): Promise<MessageStore> {
  return openFileStore({ dataDir, ...options });
}

/**
 * Start a broker listening on TCP (name server and broker on one port).
 *
 * @param options Where to listen, names, storage and limits.
 * @returns The running broker.
 * @throws {InvalidArgumentError} When an option is invalid.
 * @throws {ConnectionError} When the port cannot be listened on.
 *
 * @example
 * ```ts
 * import { startBroker } from "./broker.ts";
 * import assert from "node:assert/strict";
 *
 * const broker = await startBroker({ port: 0 });
 * assert.match(broker.address, /^127\.0\.0\.1:\d+$/);
 * await broker.close();
 * ```
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const logger = options.logger ?? consoleLogger("warn");
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 9876;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError("port", `must be an integer 0-65535, got ${port}`);
  }
  const flush = options.flush ?? "async";
  if (flush !== "async" && flush !== "sync") {
    throw new InvalidArgumentError("flush", `must be "async" or "sync", got ${String(flush)}`);
  }
  const listen = options.listen ?? defaultListen;

  let store: MessageStore | undefined;
  let topics: TopicConfig[] = [];
  let writer: AtomicFileWriter | undefined;
  const dataDir = options.dataDir;
  if (dataDir === undefined) {
    for (const name of ["retentionBytes", "retentionMs", "keyIndexEntries"] as const) {
      if (options[name] !== undefined) {
        throw new InvalidArgumentError(
          name,
          "applies to the file store: give dataDir too (the memory store is bounded by memoryLimitBytes)",
        );
      }
    }
  }
  if (dataDir !== undefined) {
    await nodeFileSystem.mkdir(dataDir);
    topics = await loadTopics(dataDir, logger);
    store = await (options.openStore ?? defaultOpenStore)(dataDir, {
      flush,
      logger,
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.retentionBytes !== undefined ? { retentionBytes: options.retentionBytes } : {}),
      ...(options.retentionMs !== undefined ? { retentionMs: options.retentionMs } : {}),
      ...(options.keyIndexEntries !== undefined
        ? { keyIndexEntries: options.keyIndexEntries }
        : {}),
    });
    writer = new AtomicFileWriter(nodeFileSystem, dataDir, TOPICS_FILE);
  }

  const tls = options.tls;
  const tlsMode = tls?.mode ?? "enforcing";
  if (tls && tlsMode !== "enforcing" && tlsMode !== "permissive") {
    throw new InvalidArgumentError(
      "tls.mode",
      `must be "enforcing" or "permissive", got ${String(tlsMode)}`,
    );
  }
  let listener: Listener;
  try {
    listener = !tls
      ? await listen({ hostname, port })
      : tlsMode === "permissive"
      ? await listenPermissiveTls(
        { hostname, port, tls: { cert: tls.cert, key: tls.key } },
        { listen, connect: options.connect ?? defaultConnect },
      )
      : await listen({ hostname, port, tls: { cert: tls.cert, key: tls.key } });
  } catch (err) {
    await store?.close();
    throw err;
  }
  const actualPort = listener.addr.port;
  const wildcard = hostname === "0.0.0.0" || hostname === "::" || hostname === "";
  const advertisedHost = options.advertisedHost ?? (wildcard ? "127.0.0.1" : hostname);
  const address = formatAddress(advertisedHost, actualPort);

  const brokerOptions: BrokerOptions = { ...options, logger, address, topics };
  if (store) brokerOptions.store = store;
  if (writer) {
    const w = writer;
    brokerOptions.onTopicsChanged = (current) => w.schedule(() => topicsJson(current));
  }
  const broker = new Broker(brokerOptions);
  if (writer) writer.schedule(() => topicsJson(broker.topics.persistent()));
  logger.info("broker started", { address, dataDir: dataDir ?? "(memory)" });

  const accepting = (async () => {
    try {
      for await (const transport of listener) broker.handle(transport);
    } catch (err) {
      logger.error("listener failed", { err });
    }
  })();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await listener.close();
      await accepting;
      await broker.close();
      if (writer) {
        writer.schedule(() => topicsJson(broker.topics.persistent()));
        await writer.flush();
      }
      if (store) {
        await store.flush();
        await store.close();
      }
      logger.info("broker stopped", { address });
    })();
    return closing;
  };
  return {
    address,
    hostname,
    port: actualPort,
    get stats() {
      return broker.stats;
    },
    broker,
    close,
    [Symbol.asyncDispose]: close,
  };
}
