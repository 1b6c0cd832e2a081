/**
 * The shared machinery behind a producer or a push consumer (Java's
 * `MQClientInstance`): the client id, connections to name servers and
 * brokers, topic routes and their periodic refresh, heartbeats that register
 * producer and consumer groups with every broker, and dispatch of the
 * requests brokers push to the client.
 *
 * Registration is tracked per connection: a connection to a broker counts as
 * registered only once a heartbeat sent on it was acknowledged, and a new
 * connection (after a reconnect) starts unregistered. A requester awaits the
 * registration of every broker that may push its reply before it sends the
 * request, so a reply that comes back at once still finds it.
 *
 * @module
 */

import {
  BrokerError,
  ClientClosedError,
  ClientIdConflictError,
  ConnectionError,
  IllegalStateError,
  NoRouteError,
  RemotingTimeoutError,
} from "../errors.ts";
import { RequestCode, ResponseCode, RpcRequestCode, SerializeType } from "../codec/codes.ts";
import { createRequest, createResponse, type RemotingCommand } from "../codec/remoting_command.ts";
import {
  type ConsumerData,
  decodeClusterInfo,
  decodeTopicRouteData,
  encodeHeartbeatData,
} from "../codec/bodies.ts";
import {
  type ConsumeMessageDirectlyResult,
  type ConsumerRunningInfo,
  encodeConsumeMessageDirectlyResult,
  encodeConsumerRunningInfo,
} from "../codec/admin_bodies.ts";
import { RemotingClient } from "../remoting/remoting_client.ts";
import type { RemotingConnection } from "../remoting/connection.ts";
import { systemTimers, type TimerHandle, type Timers } from "../remoting/timers.ts";
import type { Connect, TlsOptions } from "../transport/types.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { createAclSigner, type Credentials } from "./acl.ts";
import { TopicRoute } from "./route.ts";
import type { SpanHooks } from "./trace.ts";
import { RpcProperty } from "./message.ts";
import { decodeProperties, MessageProperty } from "../codec/properties.ts";
import {
  decodeCancelRequestHeader,
  decodeConsumeMessageDirectlyResultRequestHeader,
  decodeGetConsumerRunningInfoRequestHeader,
} from "../codec/admin_headers.ts";

/**
 * Options shared by producers and consumers.
 *
 * @example Two name servers and a fixed client id
 * ```ts
 * import { ClientInstance, type ClientOptions } from "./client_instance.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ClientOptions = {
 *   nameServer: "10.0.0.1:9876;10.0.0.2:9876", // or ["10.0.0.1:9876", "10.0.0.2:9876"]
 *   instanceName: "billing-1",
 *   clientIP: "10.0.0.5",
 *   rpcTimeout: 5000,
 * };
 * assert.equal(new ClientInstance(options).clientId, "10.0.0.5@billing-1");
 * ```
 */
export interface ClientOptions {
  /**
   * Name server address(es): `host:port`, several separated by `;`, or an
   * array. The embedded broker's address works here too.
   */
  nameServer: string | readonly string[];
  /**
   * Instance name, part of the client id (`ip@instanceName`). Must be unique
   * per process for clients that should be told apart by brokers.
   * @default {`<pid>#<random>`}
   */
  instanceName?: string;
  /** IP shown in the client id. @default {the local address of the first connection} */
  clientIP?: string;
  /** Opens transports. @default {the running runtime's adapter} */
  connect?: Connect;
  /** TLS for all connections. */
  tls?: boolean | TlsOptions;
  /**
   * Addresses to dial instead of the ones name servers hand out, for brokers
   * registered under private addresses (behind NAT, in a container network,
   * from an edge runtime): `{ "10.0.0.7:10911": "broker-a.example.com:10911" }`,
   * or a function from `host:port` to `host:port`. Addresses not in the map
   * are dialed as they are.
   * @default {every address as it is}
   */
  addressMap?: Readonly<Record<string, string>> | ((address: string) => string);
  /** ACL credentials; every request is signed when given. */
  credentials?: Credentials;
  /** Where log lines go. @default {silentLogger} */
  logger?: Logger;
  /** Clock and timers (tests). @default {systemTimers} */
  timers?: Timers;
  /**
   * Timeout of calls to name servers and brokers (ms).
   * @default {3000}
   */
  rpcTimeout?: number;
  /**
   * Interval of heartbeats to every broker (ms). Brokers drop clients silent
   * for 120 s.
   * @default {30000}
   */
  heartbeatInterval?: number;
  /**
   * Interval of route refreshes (ms).
   * @default {30000}
   */
  routeRefreshInterval?: number;
  /**
   * Span hooks: start and end a span for each request sent, handled and
   * replied to (the OpenTelemetry adapter is `otelSpanHooks()` from
   * `@rocketmq-rpc/core/otel`). Without them no span is made.
   */
  spanHooks?: SpanHooks;
  /**
   * Header serialization of requests. Every RocketMQ broker and name server
   * reads the binary `ROCKETMQ` header, which is smaller and cheaper to
   * write and read than JSON; a request it cannot carry (a code above 16
   * bits, an empty header value) goes in JSON anyway. Responses and pushes
   * come in whatever the server writes.
   * @default {SerializeType.ROCKETMQ}
   */
  serializeType?: SerializeType;
}

/** Something that contributes consumer data to heartbeats. */
export interface ConsumerRegistration {
  /** The consumer group. */
  readonly group: string;
  /** Current consumer data (subscriptions) for the heartbeat. */
  consumerData(): ConsumerData;
  /**
   * What GET_CONSUMER_RUNNING_INFO (307, `mqadmin consumerStatus`, the
   * Dashboard) shows; the client instance adds the name servers, consume
   * type and client version, as Java's `MQClientInstance` does.
   */
  runningInfo?(): ConsumerRunningInfo;
  /**
   * CONSUME_MESSAGE_DIRECTLY (309): run the handler on one stored message
   * now (an admin's "resend to this consumer").
   *
   * @param record The stored message as the broker sent it.
   * @param brokerName The broker that stored it.
   */
  consumeDirectly?(record: Uint8Array, brokerName: string): Promise<ConsumeMessageDirectlyResult>;
}

/** A requester gave up on a request: the consumer holding it should stop. */
export interface CancelNotice {
  /** The request's correlation id. */
  correlationId: string;
  /** The request's topic, when the broker said. */
  topic: string | undefined;
  /** The consumer group the cancel is for, when the broker said. */
  group: string | undefined;
}

/** Handlers for requests that brokers push to the client. */
export interface PushHandlers {
  /**
   * A cancel, from a broker of this library (PUSH_CANCEL_TO_CLIENT) or
   * routed like a reply (PUSH_REPLY_MESSAGE_TO_CLIENT with `RPC_CANCEL`).
   */
  cancel?: (notice: CancelNotice) => void;
  /** PUSH_REPLY_MESSAGE_TO_CLIENT (326): a RIP-16 reply. */
  reply?: (request: RemotingCommand, connection: RemotingConnection) => Promise<RemotingCommand>;
  /** NOTIFY_CONSUMER_IDS_CHANGED (40): rebalance now. */
  consumerIdsChanged?: (group: string) => void;
}

/**
 * The producer group every client instance registers (as Java's
 * `MQClientInstance` does): brokers list every live client under it.
 *
 * @example
 * ```ts
 * import { INNER_PRODUCER_GROUP } from "./client_instance.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(INNER_PRODUCER_GROUP, "CLIENT_INNER_PRODUCER");
 * ```
 */
export const INNER_PRODUCER_GROUP = "CLIENT_INNER_PRODUCER";
/** Extension field of a heartbeat refused because the client id is in use (embedded broker). */
const CLIENT_ID_IN_USE = "CLIENT_ID_IN_USE";

/**
 * Client ids in use by running clients of this process, shared by every copy
 * of this package: two clients with one id would take each other's replies.
 */
const RUNNING_IDS: Set<string> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for("rocketmq-rpc.running-client-ids")
] ??= new Set<string>()) as Set<string>;

/**
 * `PROP_CLIENT_VERSION` of the running info: the RocketMQ version this
 * client announces (`MQVersion.getVersionDesc`), as tools compare it.
 */
const CLIENT_VERSION_DESC = "V5_3_3";

/** `RPC_CANCEL` as it starts a property in a properties string. */
const CANCEL_MARK = `${RpcProperty.CANCEL}\u0001`;

function pid(): number {
  const g = globalThis as { Deno?: { pid?: number }; process?: { pid?: number } };
  // Deno.pid first: touching globalThis.process in Deno sets up its Node
  // compatibility layer, about 25 ms of start-up for one number.
  const p = g.Deno ? g.Deno.pid : g.process?.pid;
  return typeof p === "number" ? p : Math.floor(Math.random() * 65536);
}

function addressResolver(
  map: Readonly<Record<string, string>> | ((address: string) => string),
): (address: string) => string {
  if (typeof map === "function") return map;
  return (address) => Object.hasOwn(map, address) ? map[address]! : address;
}

/** The shared client machinery. */
export class ClientInstance {
  /** Connections to name servers and brokers. */
  readonly remoting: RemotingClient;
  /** Where log lines go. */
  readonly logger: Logger;
  /** Clock and timers. */
  readonly timers: Timers;
  /** Timeout of calls to name servers and brokers (ms). */
  readonly rpcTimeout: number;
  /** Span hooks, if any. */
  readonly spanHooks: SpanHooks | undefined;

  readonly #options: ClientOptions;
  readonly #nameServers: string[];
  #nameServerIndex = 0;
  readonly #instanceName: string;
  #clientId: string | undefined;
  readonly #routes = new Map<string, TopicRoute>();
  readonly #routeLoads = new Map<string, Promise<TopicRoute>>();
  readonly #producerGroups = new Set<string>([INNER_PRODUCER_GROUP]);
  readonly #consumers = new Map<string, ConsumerRegistration>();
  readonly #registered = new WeakMap<RemotingConnection, Promise<void>>();
  readonly #disconnectListeners = new Set<(address: string, error: Error | undefined) => void>();
  #handlers: PushHandlers = {};
  #state: "new" | "running" | "closed" = "new";
  #heartbeatTimer: TimerHandle | undefined;
  #routeTimer: TimerHandle | undefined;
  readonly #brokerAddresses = new Set<string>();

  /**
   * @param options Validated client options.
   */
  constructor(options: ClientOptions) {
    this.#options = options;
    this.logger = options.logger ?? silentLogger;
    this.timers = options.timers ?? systemTimers;
    this.rpcTimeout = options.rpcTimeout ?? 3000;
    this.spanHooks = options.spanHooks;
    const servers = typeof options.nameServer === "string"
      ? options.nameServer.split(";")
      : [...options.nameServer];
    this.#nameServers = servers.map((s) => s.trim()).filter((s) => s.length > 0);
    this.#instanceName = options.instanceName ??
      `${pid()}#${crypto.getRandomValues(new Uint32Array(2)).join("")}`;
    const signer = options.credentials ? createAclSigner(options.credentials) : undefined;
    this.remoting = new RemotingClient({
      ...(options.connect ? { connect: options.connect } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(signer ? { beforeRequest: signer } : {}),
      ...(options.addressMap ? { resolveAddress: addressResolver(options.addressMap) } : {}),
      timers: this.timers,
      serializeType: options.serializeType ?? SerializeType.ROCKETMQ,
      onRequest: (request, connection) => this.#onPush(request, connection),
      onConnect: (address) => {
        this.logger.debug("connected", { address });
        // A new connection to a broker (first use, or after a restart) is
        // unknown to it until a heartbeat on it is answered: register now,
        // so consumers are listed and replies find us without waiting for
        // the next periodic heartbeat.
        if (this.#state === "running" && this.#brokerAddresses.has(address)) {
          this.ensureRegistered([address]).catch((error) =>
            this.logger.warn("registration after connect failed", { address, error })
          );
        }
      },
      onDisconnect: (address, error) => {
        this.logger.info("connection closed", { address, ...(error ? { error } : {}) });
        for (const listener of this.#disconnectListeners) listener(address, error);
      },
    });
  }

  /**
   * The client id, `ip@instanceName`: the value of `REPLY_TO_CLIENT` and the
   * identity brokers know this client by. Fixed on first use.
   */
  get clientId(): string {
    if (this.#clientId === undefined) {
      let ip = this.#options.clientIP;
      if (!ip) {
        for (const address of [...this.#nameServers, ...this.#brokerAddresses]) {
          const local = this.remoting.connectionTo(address)?.transport.localAddr;
          if (local) {
            ip = local.hostname;
            break;
          }
        }
      }
      this.#clientId = `${ip ?? "127.0.0.1"}@${this.#instanceName}`;
    }
    return this.#clientId;
  }

  /** The name server addresses, in the order tried. */
  get nameServers(): string[] {
    return [...this.#nameServers];
  }

  /** Whether `start()` ran and `close()` did not. */
  get running(): boolean {
    return this.#state === "running";
  }

  /**
   * Install the handlers for broker pushes.
   *
   * @param handlers Reply and rebalance handlers.
   */
  setPushHandlers(handlers: PushHandlers): void {
    this.#handlers = { ...this.#handlers, ...handlers };
  }

  /**
   * Be told when a connection closes.
   *
   * @param listener Called with the address and the error, if any.
   * @returns Removes the listener.
   */
  onDisconnect(listener: (address: string, error: Error | undefined) => void): () => void {
    this.#disconnectListeners.add(listener);
    return () => this.#disconnectListeners.delete(listener);
  }

  /**
   * Start the periodic tasks (heartbeats, route refresh).
   *
   * @throws {ClientIdConflictError} When another running client of this
   *   process has the same instance name (and IP).
   */
  start(): void {
    if (this.#state === "closed") throw new ClientClosedError();
    if (this.#state === "running") return;
    if (this.#nameServers.length === 0) {
      throw new IllegalStateError("no name server address configured");
    }
    const key = this.#processKey();
    if (RUNNING_IDS.has(key)) {
      throw new ClientIdConflictError(
        this.#options.clientIP
          ? `${this.#options.clientIP}@${this.#instanceName}`
          : this.#instanceName,
      );
    }
    RUNNING_IDS.add(key);
    this.#state = "running";
    this.#scheduleHeartbeat();
    this.#scheduleRouteRefresh();
  }

  /**
   * Unregister from every broker, stop the periodic tasks and close all
   * connections.
   *
   * @param unregisterTimeout Time allowed for each unregistration (ms).
   */
  async close(unregisterTimeout = 1000): Promise<void> {
    if (this.#state === "closed") return;
    const wasRunning = this.#state === "running";
    this.#state = "closed";
    if (wasRunning) RUNNING_IDS.delete(this.#processKey());
    this.timers.clearTimeout(this.#heartbeatTimer);
    this.timers.clearTimeout(this.#routeTimer);
    if (wasRunning) await this.#unregisterAll(unregisterTimeout);
    await this.remoting.close();
  }

  #processKey(): string {
    return `${this.#options.clientIP ?? ""}@${this.#instanceName}`;
  }

  /** Register a producer group (sent in heartbeats). */
  addProducerGroup(group: string): void {
    this.#producerGroups.add(group);
  }

  /** Register a consumer (its data is sent in heartbeats). */
  addConsumer(consumer: ConsumerRegistration): void {
    this.#consumers.set(consumer.group, consumer);
  }

  /** Remove a consumer. */
  removeConsumer(group: string): void {
    this.#consumers.delete(group);
  }

  // ---- name server and routes ----------------------------------------------------------------

  /**
   * Call a name server, trying the next one on connection failures.
   *
   * @param request The request.
   * @param timeout Timeout per attempt (ms).
   * @returns The response, whatever its code.
   */
  async invokeNameServer(
    request: RemotingCommand,
    timeout = this.rpcTimeout,
  ): Promise<RemotingCommand> {
    let lastError: unknown;
    for (let i = 0; i < this.#nameServers.length; i++) {
      const index = (this.#nameServerIndex + i) % this.#nameServers.length;
      const address = this.#nameServers[index]!;
      try {
        const response = await this.remoting.invoke(address, { ...request }, { timeout });
        this.#nameServerIndex = index;
        return response;
      } catch (err) {
        if (!(err instanceof ConnectionError || err instanceof RemotingTimeoutError)) throw err;
        lastError = err;
        this.logger.warn("name server unavailable", { address, error: err });
      }
    }
    throw lastError;
  }

  /**
   * Fetch a topic's route from the name server.
   *
   * @param topic The topic.
   * @returns The route, or `undefined` when the name server knows no such topic.
   */
  async fetchRoute(topic: string): Promise<TopicRoute | undefined> {
    const response = await this.invokeNameServer(
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }),
    );
    if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (response.code !== ResponseCode.SUCCESS) {
      throw BrokerError.fromResponse(response, { requestCode: RequestCode.GET_ROUTEINFO_BY_TOPIC });
    }
    return new TopicRoute(topic, decodeTopicRouteData(response.body));
  }

  /**
   * A topic's route, from the cache or the name server. Concurrent callers
   * share one lookup.
   *
   * @param topic The topic.
   * @returns The route.
   * @throws {NoRouteError} When the name server knows no such topic.
   */
  getRoute(topic: string): Promise<TopicRoute> {
    const cached = this.#routes.get(topic);
    if (cached) return Promise.resolve(cached);
    return this.#loadRoute(topic);
  }

  /**
   * The cached route of a topic, if any.
   *
   * @param topic The topic.
   * @returns The route or `undefined`.
   */
  cachedRoute(topic: string): TopicRoute | undefined {
    return this.#routes.get(topic);
  }

  /**
   * Refresh a topic's route now (after a send failure, for example).
   *
   * @param topic The topic.
   * @returns The new route.
   */
  refreshRoute(topic: string): Promise<TopicRoute> {
    return this.#loadRoute(topic);
  }

  /**
   * Cache a route under a topic (the producer's `TBW102` fallback).
   *
   * @param route The route.
   */
  putRoute(route: TopicRoute): void {
    this.#routes.set(route.topic, route);
    for (const address of route.addresses) this.#brokerAddresses.add(address);
  }

  #loadRoute(topic: string): Promise<TopicRoute> {
    let load = this.#routeLoads.get(topic);
    if (load) return load;
    load = (async () => {
      const route = await this.fetchRoute(topic);
      if (!route) throw new NoRouteError(topic);
      this.putRoute(route);
      return route;
    })();
    this.#routeLoads.set(topic, load);
    const clear = () => this.#routeLoads.delete(topic);
    load.then(clear, clear);
    return load;
  }

  // ---- brokers ---------------------------------------------------------------------------------

  /**
   * Call a broker and require a success code.
   *
   * @param address Broker address.
   * @param request The request.
   * @param options Timeout, abort signal and the codes that count as success.
   * @returns The response.
   * @throws {BrokerError} On another response code.
   */
  async call(
    address: string,
    request: RemotingCommand,
    options: { timeout?: number; signal?: AbortSignal; ok?: readonly number[] } = {},
  ): Promise<RemotingCommand> {
    const response = await this.remoting.invoke(address, request, {
      timeout: options.timeout ?? this.rpcTimeout,
      signal: options.signal,
    });
    const ok = options.ok ?? [ResponseCode.SUCCESS];
    if (!ok.includes(response.code)) {
      throw BrokerError.fromResponse(response, { requestCode: request.code, address });
    }
    return response;
  }

  /**
   * Make sure every given broker knows this client on the connection we
   * hold to it: heartbeat once per connection and wait for the answer.
   *
   * @param addresses Broker addresses.
   * @param timeout Time allowed (ms).
   * @param signal Abandons the wait.
   */
  async ensureRegistered(
    addresses: Iterable<string>,
    timeout = this.rpcTimeout,
    signal?: AbortSignal,
  ): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const address of new Set(addresses)) {
      const connection = this.remoting.connectionTo(address);
      const done = connection && this.#registered.get(connection);
      if (done) {
        waits.push(done);
        continue;
      }
      waits.push(this.#heartbeat(address, timeout, signal));
    }
    await Promise.all(waits);
  }

  /**
   * Send a heartbeat to every known broker now (after subscriptions change).
   *
   * @returns The failures (also logged; a client id conflict as an error).
   */
  async heartbeatAll(): Promise<unknown[]> {
    const results = await Promise.allSettled(
      [...this.#brokerAddresses].map((address) => this.#heartbeat(address, this.rpcTimeout)),
    );
    const failures: unknown[] = [];
    for (const result of results) {
      if (result.status === "rejected") {
        failures.push(result.reason);
        if (result.reason instanceof ClientIdConflictError) {
          this.logger.error("heartbeat refused: client id in use", { error: result.reason });
        } else {
          this.logger.warn("heartbeat failed", { error: result.reason });
        }
      }
    }
    return failures;
  }

  /**
   * Learn every master broker of the name server's clusters
   * (GET_BROKER_CLUSTER_INFO) and register with them. A consumer whose
   * topic does not exist yet has no route to learn brokers from; without
   * this, no broker would know its subscription (so a broker could not tell
   * it when the topic appears, nor a fail-fast requester that it is online).
   *
   * @returns The master addresses found (empty when the call failed).
   */
  async discoverBrokers(): Promise<string[]> {
    let masters: string[];
    try {
      const response = await this.invokeNameServer(
        createRequest(RequestCode.GET_BROKER_CLUSTER_INFO, {}),
      );
      if (response.code !== ResponseCode.SUCCESS) return [];
      const info = decodeClusterInfo(response.body);
      masters = Object.values(info.brokerAddrTable)
        .map((broker) => broker.brokerAddrs["0"])
        .filter((address): address is string => typeof address === "string");
    } catch (err) {
      this.logger.debug("broker discovery failed", { error: err });
      return [];
    }
    await this.ensureRegistered(masters).catch((error) =>
      this.logger.warn("registration with discovered brokers failed", { error })
    );
    return masters;
  }

  /** Broker addresses this client knows from routes. */
  get brokerAddresses(): string[] {
    return [...this.#brokerAddresses];
  }

  async #heartbeat(address: string, timeout: number, signal?: AbortSignal): Promise<void> {
    this.#brokerAddresses.add(address);
    const connection = await this.remoting.getConnection(address, timeout, signal);
    const body = encodeHeartbeatData({
      clientID: this.clientId,
      producerDataSet: [...this.#producerGroups].map((groupName) => ({ groupName })),
      consumerDataSet: [...this.#consumers.values()].map((c) => c.consumerData()),
      heartbeatFingerprint: 0,
      withoutSub: false,
    });
    const done = (async () => {
      const request = createRequest(RequestCode.HEART_BEAT, {}, { body });
      const response = await this.remoting.invoke(address, request, { timeout, signal });
      if (response.extFields[CLIENT_ID_IN_USE] === "true") {
        throw new ClientIdConflictError(this.clientId, { address, remark: response.remark });
      }
      if (response.code !== ResponseCode.SUCCESS) {
        throw BrokerError.fromResponse(response, { requestCode: RequestCode.HEART_BEAT, address });
      }
    })();
    // Later callers on this connection wait for the same heartbeat.
    const previous = this.#registered.get(connection);
    if (!previous) this.#registered.set(connection, done);
    done.catch(() => {
      if (this.#registered.get(connection) === done) this.#registered.delete(connection);
    });
    await done;
    if (previous) this.#registered.set(connection, done);
  }

  // ---- periodic tasks --------------------------------------------------------------------------

  #scheduleHeartbeat(): void {
    this.#heartbeatTimer = this.timers.setTimeout(async () => {
      if (this.#state !== "running") return;
      await this.heartbeatAll();
      if (this.#state === "running") this.#scheduleHeartbeat();
    }, this.#options.heartbeatInterval ?? 30_000);
  }

  #scheduleRouteRefresh(): void {
    this.#routeTimer = this.timers.setTimeout(async () => {
      if (this.#state !== "running") return;
      await Promise.allSettled([...this.#routes.keys()].map(async (topic) => {
        try {
          const route = await this.fetchRoute(topic);
          if (route) this.putRoute(route);
        } catch (err) {
          this.logger.warn("route refresh failed", { topic, error: err });
        }
      }));
      if (this.#state === "running") this.#scheduleRouteRefresh();
    }, this.#options.routeRefreshInterval ?? 30_000);
  }

  async #unregisterAll(timeout: number): Promise<void> {
    const calls: Promise<unknown>[] = [];
    for (const address of this.#brokerAddresses) {
      if (!this.remoting.connectionTo(address)) continue;
      for (const group of this.#producerGroups) {
        calls.push(this.remoting.invoke(
          address,
          createRequest(RequestCode.UNREGISTER_CLIENT, {
            clientID: this.clientId,
            producerGroup: group,
          }),
          { timeout },
        ));
      }
      for (const group of this.#consumers.keys()) {
        calls.push(this.remoting.invoke(
          address,
          createRequest(RequestCode.UNREGISTER_CLIENT, {
            clientID: this.clientId,
            consumerGroup: group,
          }),
          { timeout },
        ));
      }
    }
    const results = await Promise.allSettled(calls);
    for (const result of results) {
      if (result.status === "rejected") {
        this.logger.debug("unregister failed", { error: result.reason });
      }
    }
  }

  // ---- broker pushes ---------------------------------------------------------------------------

  /** GET_CONSUMER_RUNNING_INFO, as Java's `ClientRemotingProcessor` answers it. */
  #runningInfo(request: RemotingCommand): RemotingCommand {
    const header = decodeGetConsumerRunningInfoRequestHeader(request.extFields);
    const consumer = this.#consumers.get(header.consumerGroup);
    if (!consumer?.runningInfo) {
      return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
        remark: `The Consumer Group <${header.consumerGroup}> not exist in this consumer`,
      });
    }
    const info = consumer.runningInfo();
    info.properties.PROP_NAMESERVER_ADDR = this.#nameServers.map((a) => `${a};`).join("");
    info.properties.PROP_CONSUME_TYPE = consumer.consumerData().consumeType;
    info.properties.PROP_CLIENT_VERSION = CLIENT_VERSION_DESC;
    return createResponse(request, ResponseCode.SUCCESS, undefined, {
      body: encodeConsumerRunningInfo(info),
    });
  }

  /** CONSUME_MESSAGE_DIRECTLY: run the group's handler on the message now. */
  async #consumeDirectly(request: RemotingCommand): Promise<RemotingCommand> {
    const header = decodeConsumeMessageDirectlyResultRequestHeader(request.extFields);
    const consumer = this.#consumers.get(header.consumerGroup);
    if (!consumer?.consumeDirectly) {
      return createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, {
        remark: `The Consumer Group <${header.consumerGroup}> not exist in this consumer`,
      });
    }
    const result = await consumer.consumeDirectly(request.body, header.brokerName ?? "");
    return createResponse(request, ResponseCode.SUCCESS, undefined, {
      body: encodeConsumeMessageDirectlyResult(result),
    });
  }

  #cancelFromReply(request: RemotingCommand): CancelNotice | undefined {
    try {
      const properties = decodeProperties(request.extFields.properties ?? "");
      const topic = properties[RpcProperty.CANCEL];
      const correlationId = properties[MessageProperty.CORRELATION_ID];
      if (topic === undefined || !correlationId) return undefined;
      return { correlationId, topic, group: undefined };
    } catch {
      return undefined;
    }
  }

  #onPush(
    request: RemotingCommand,
    connection: RemotingConnection,
  ): Promise<RemotingCommand | undefined> | RemotingCommand | undefined {
    switch (request.code) {
      case RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT: {
        // A cancel routed like a reply (RocketMQ brokers): cheap test before any decoding.
        if (request.extFields.properties?.includes(CANCEL_MARK)) {
          const cancel = this.#cancelFromReply(request);
          if (cancel) {
            this.#handlers.cancel?.(cancel);
            return createResponse(request, ResponseCode.SUCCESS);
          }
        }
        const handler = this.#handlers.reply;
        if (handler) return handler(request, connection);
        this.logger.warn("reply pushed to a client without a producer", {
          from: connection.address,
        });
        return createResponse(request, ResponseCode.SUCCESS);
      }
      case RpcRequestCode.PUSH_CANCEL_TO_CLIENT: {
        const header = decodeCancelRequestHeader(request.extFields);
        this.#handlers.cancel?.({
          correlationId: header.correlationId,
          topic: header.topic,
          group: header.consumerGroup,
        });
        return undefined;
      }
      case RequestCode.GET_CONSUMER_RUNNING_INFO:
        return this.#runningInfo(request);
      case RequestCode.CONSUME_MESSAGE_DIRECTLY:
        return this.#consumeDirectly(request);
      case RequestCode.NOTIFY_CONSUMER_IDS_CHANGED: {
        const group = request.extFields.consumerGroup;
        if (group) this.#handlers.consumerIdsChanged?.(group);
        return undefined;
      }
      default:
        return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, undefined, {
          remark: ` request type ${request.code} not supported`,
        });
    }
  }
}
