/**
 * The client side of remoting: one {@linkcode RemotingConnection} per peer
 * address, opened on first use, reopened after it closes, shared by every
 * call to that address.
 *
 * @example Call a peer by address
 * ```ts
 * import { RemotingClient } from "./remoting_client.ts";
 * import { RemotingConnection } from "./connection.ts";
 * import { memoryPair } from "../transport/memory.ts";
 * import { createRequest, createResponse } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const servers: RemotingConnection[] = [];
 * const client = new RemotingClient({
 *   connect: () => {
 *     const [a, b] = memoryPair();
 *     servers.push(new RemotingConnection(b, { onRequest: (req) => createResponse(req, 0) }));
 *     return Promise.resolve(a);
 *   },
 * });
 * const res = await client.invoke("broker:10911", createRequest(34, {}), { timeout: 1000 });
 * assert.equal(res.code, 0);
 * await client.close();
 * await Promise.all(servers.map((s) => s.closed));
 * ```
 *
 * @module
 */

import { ClientClosedError, ConnectionError, RemotingTimeoutError } from "../errors.ts";
import type { RemotingCommand } from "../codec/remoting_command.ts";
import type { Connect, ConnectOptions, TlsOptions } from "../transport/types.ts";
import { defaultConnect } from "../transport/default.ts";
import {
  type InvokeOptions,
  parseAddress,
  RemotingConnection,
  type RemotingConnectionOptions,
  type RequestHandler,
} from "./connection.ts";
import type { SerializeType } from "../codec/codes.ts";
import { systemTimers, type Timers } from "./timers.ts";

/** Options of {@linkcode RemotingClient}. */
export interface RemotingClientOptions {
  /** Opens transports. @default {defaultConnect} (the running runtime's adapter) */
  connect?: Connect;
  /** TLS for every connection. */
  tls?: boolean | TlsOptions;
  /**
   * Where to dial for an address (`host:port` in, `host:port` out), for
   * peers known by an address that is not reachable from here (a name
   * server handing out brokers' private addresses). Connections stay keyed
   * by the original address.
   * @default {every address as it is}
   */
  resolveAddress?: (address: string) => string;
  /**
   * Milliseconds allowed to open a connection.
   * @default {3000}
   */
  connectTimeout?: number;
  /** Largest frame, length field included. */
  maxFrameSize?: number;
  /** Answers requests that peers send on our connections (broker pushes). */
  onRequest?: RequestHandler;
  /** Called with every request just before it is encoded (e.g. ACL signing). */
  beforeRequest?: (request: RemotingCommand) => void | Promise<void>;
  /** Told when a connection opens. */
  onConnect?: (address: string, connection: RemotingConnection) => void;
  /** Told when a connection closes, with the error that closed it, if any. */
  onDisconnect?: (address: string, error: Error | undefined) => void;
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /** Header serialization of requests (see {@linkcode RemotingConnectionOptions}). */
  serializeType?: SerializeType;
}

/**
 * A pool of connections keyed by `host:port`.
 *
 * @example Failures are typed
 * ```ts
 * import { RemotingClient } from "./remoting_client.ts";
 * import { ConnectionError } from "../errors.ts";
 * import { createRequest } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const client = new RemotingClient({
 *   connect: (o) => Promise.reject(new ConnectionError(`${o.hostname}:${o.port}`, "refused")),
 * });
 * await assert.rejects(
 *   client.invoke("127.0.0.1:1", createRequest(105, { topic: "T" }), { timeout: 500 }),
 *   ConnectionError,
 * );
 * await client.close();
 * ```
 */
export class RemotingClient {
  readonly #options: RemotingClientOptions;
  readonly #timers: Timers;
  readonly #connections = new Map<string, RemotingConnection>();
  readonly #connecting = new Map<string, Promise<RemotingConnection>>();
  #closed = false;

  /**
   * Create the instance.
   *
   * @param options Transport, handlers and limits.
   */
  constructor(options: RemotingClientOptions = {}) {
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Addresses with an open connection. */
  get connectedAddresses(): string[] {
    return [...this.#connections.keys()];
  }

  /**
   * The open connection to `address`, if any (does not connect).
   *
   * @param address `host:port`.
   * @returns The connection or `undefined`.
   */
  connectionTo(address: string): RemotingConnection | undefined {
    const connection = this.#connections.get(address);
    return connection && !connection.isClosed ? connection : undefined;
  }

  /**
   * The connection to `address`, opened if needed. Concurrent callers share
   * one attempt; a failed attempt is not cached.
   *
   * @param address `host:port`.
   * @param timeout Milliseconds allowed to connect.
   * @param signal Abandons the wait.
   * @returns The connection.
   * @throws {ConnectionError} When the connection cannot be opened.
   * @throws {ClientClosedError} After {@linkcode RemotingClient.close}.
   */
  getConnection(
    address: string,
    timeout?: number,
    signal?: AbortSignal,
  ): Promise<RemotingConnection> {
    if (this.#closed) return Promise.reject(new ClientClosedError());
    const existing = this.#connections.get(address);
    if (existing && !existing.isClosed) return Promise.resolve(existing);
    let attempt = this.#connecting.get(address);
    if (!attempt) {
      attempt = this.#open(address, timeout, signal);
      this.#connecting.set(address, attempt);
      const clear = () => {
        if (this.#connecting.get(address) === attempt) this.#connecting.delete(address);
      };
      attempt.then(clear, clear);
    }
    return attempt;
  }

  async #open(
    address: string,
    timeout?: number,
    signal?: AbortSignal,
  ): Promise<RemotingConnection> {
    const { hostname, port } = parseAddress(this.#options.resolveAddress?.(address) ?? address);
    const connect = this.#options.connect ?? defaultConnect;
    const options: ConnectOptions = {
      hostname,
      port,
      timeout: Math.min(timeout ?? Infinity, this.#options.connectTimeout ?? 3000),
    };
    if (this.#options.tls !== undefined) options.tls = this.#options.tls;
    if (signal) options.signal = signal;
    let transport;
    try {
      transport = await connect(options);
    } catch (err) {
      if (err instanceof ConnectionError) throw err;
      throw new ConnectionError(address, "cannot connect", { cause: err });
    }
    if (this.#closed) {
      await transport.close();
      throw new ClientClosedError();
    }
    const connectionOptions: RemotingConnectionOptions = {
      address,
      timers: this.#timers,
    };
    if (this.#options.maxFrameSize !== undefined) {
      connectionOptions.maxFrameSize = this.#options.maxFrameSize;
    }
    if (this.#options.onRequest) connectionOptions.onRequest = this.#options.onRequest;
    if (this.#options.serializeType !== undefined) {
      connectionOptions.serializeType = this.#options.serializeType;
    }
    const connection = new RemotingConnection(transport, connectionOptions);
    this.#connections.set(address, connection);
    connection.closed.then((error) => {
      if (this.#connections.get(address) === connection) this.#connections.delete(address);
      this.#options.onDisconnect?.(address, error);
    });
    this.#options.onConnect?.(address, connection);
    return connection;
  }

  /**
   * Call `address` and wait for the response. The timeout covers connecting
   * too.
   *
   * @param address `host:port`.
   * @param request The request (its opaque is assigned here).
   * @param options Timeout and abort signal.
   * @returns The response, whatever its code.
   * @throws {RemotingTimeoutError} When no response came in time.
   * @throws {ConnectionError} When the connection failed.
   */
  async invoke(
    address: string,
    request: RemotingCommand,
    options: InvokeOptions,
  ): Promise<RemotingCommand> {
    const start = this.#timers.now();
    const connection = await this.getConnection(address, options.timeout, options.signal);
    await this.#options.beforeRequest?.(request);
    const left = options.timeout - (this.#timers.now() - start);
    if (left <= 0) throw new RemotingTimeoutError(address, request.code, options.timeout);
    return await connection.invoke(request, { timeout: left, signal: options.signal });
  }

  /**
   * Send a oneway request to `address`.
   *
   * @param address `host:port`.
   * @param request The request.
   * @param timeout Milliseconds allowed to connect.
   * @returns Resolves when written.
   */
  async invokeOneway(address: string, request: RemotingCommand, timeout = 3000): Promise<void> {
    const connection = await this.getConnection(address, timeout);
    await this.#options.beforeRequest?.(request);
    await connection.invokeOneway(request);
  }

  /**
   * Close one connection (it is reopened on next use).
   *
   * @param address `host:port`.
   * @param reason Why, passed to pending calls as `cause`.
   */
  async closeConnection(address: string, reason?: Error): Promise<void> {
    const connection = this.#connections.get(address);
    if (connection) await connection.close(reason);
  }

  /** Close every connection; later calls fail with {@linkcode ClientClosedError}. */
  async close(): Promise<void> {
    this.#closed = true;
    const attempts = [...this.#connecting.values()].map((p) => p.catch(() => undefined));
    await Promise.all(attempts);
    await Promise.all([...this.#connections.values()].map((c) => c.close(new ClientClosedError())));
    this.#connections.clear();
  }
}
