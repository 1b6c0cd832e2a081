/**
 * The transport contract: a connected byte stream, and the functions that
 * open and accept them. Everything above this layer (remoting, client,
 * broker) sees only these types, so any runtime's socket can be plugged in.
 *
 * @example Use a transport
 * ```ts
 * import type { Transport } from "./types.ts";
 * import { memoryPair } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const [a, b]: Transport[] = memoryPair();
 * const writer = a.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * const reader = b.readable.getReader();
 * assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2, 3]));
 * reader.releaseLock();
 * writer.releaseLock();
 * await a.close();
 * await b.closed;
 * ```
 *
 * @module
 */

/**
 * A socket address.
 *
 * @example
 * ```ts
 * import type { NetAddr } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const addr: NetAddr = { hostname: "::1", port: 10911, family: "IPv6" };
 * assert.equal(addr.port, 10911);
 * ```
 */
export interface NetAddr {
  /** IP address or host name; IPv6 addresses without brackets. */
  hostname: string;
  /** Port number. */
  port: number;
  /** Address family, when known. */
  family?: "IPv4" | "IPv6";
}

/**
 * A connected, full-duplex byte stream (a TCP or TLS connection, or an
 * in-memory pair). It knows nothing about frames.
 *
 * Semantics shared by every transport of this package:
 *
 * - **Reading.** `readable` yields the peer's bytes in order, chunked in any
 *   way. A chunk is never reused or mutated once enqueued, so consumers may
 *   keep views into it. The transport stops reading from the network while
 *   the stream's queue is full (64 KiB), so a slow reader slows the peer down
 *   through TCP flow control instead of growing memory.
 * - **Writing.** `writable.getWriter().write(chunk)` resolves once every byte
 *   of `chunk` has been handed to the operating system (for TLS: encrypted
 *   and handed over). It does not mean the peer received it. While the
 *   network cannot take more, the promise stays pending: that is the
 *   backpressure. Chunks are owned by the transport from the moment they are
 *   written: do not mutate them afterwards. An empty chunk is a no-op.
 * - **Closing.** {@linkcode Transport.close} closes both directions at once.
 *   Bytes whose write had resolved are still delivered by the operating
 *   system, followed by an orderly end (TCP FIN); writes still queued or in
 *   progress are discarded and reject with `ConnectionClosedError` (a chunk
 *   being written may have been sent in part). `readable` then ends (chunks
 *   already queued can still be read). Closing `writable` (`writer.close()`)
 *   first waits for the queued writes, then closes the transport the same
 *   way; aborting `writable` or cancelling `readable` closes it at once.
 *   Half-closed connections are not supported (as in Netty's default): an
 *   orderly end from the peer closes the transport too. As with any TCP
 *   close, if bytes from the peer still sit unread in the operating
 *   system's buffers, the OS resets the connection instead of ending it.
 * - **Peer closed or connection failed.** An orderly end from the peer ends
 *   `readable` normally (after the bytes before it) and closes the
 *   transport. A failure (reset by peer, TLS error, broken pipe) errors
 *   `readable` with a `ConnectionError` naming the peer, with the runtime's
 *   error as `cause`, and closes the transport. After either, every write
 *   rejects with `ConnectionClosedError` (its `cause` is the failure, if
 *   any). Like TCP itself, the transport notices the peer's end only while it
 *   reads: while the reader applies backpressure, an end that arrives behind
 *   unread bytes is seen once they have been read.
 * - **`closed`** resolves, never rejects, once the transport is closed for
 *   whatever reason and its socket released.
 *
 * @example Write, then close gracefully
 * ```ts
 * import { memoryPair } from "./memory.ts";
 * import { ConnectionClosedError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const [client, server] = memoryPair();
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("last words"));
 * await client.close();
 * await assert.rejects(writer.write(new Uint8Array([1])), ConnectionClosedError);
 *
 * const text = await new Response(server.readable).text();
 * assert.equal(text, "last words");
 * await server.closed;
 * ```
 */
export interface Transport {
  /** Bytes from the peer. Errors with a `ConnectionError` on a failure. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; each write resolves once the runtime took the bytes. */
  readonly writable: WritableStream<Uint8Array>;
  /** Local address of the connection, when the transport has one. */
  readonly localAddr: NetAddr | undefined;
  /** Address of the peer, when the transport has one. */
  readonly remoteAddr: NetAddr | undefined;
  /**
   * Closes both directions now. Idempotent: every call returns the same
   * promise, which resolves (never rejects) when the transport is closed.
   *
   * @returns {@linkcode Transport.closed}.
   */
  close(): Promise<void>;
  /** Resolves (never rejects) once the transport is closed, by either side. */
  readonly closed: Promise<void>;
}

/**
 * TLS settings of a client connection.
 *
 * @example Trust a private CA
 * ```ts
 * import type { TlsOptions } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const tls: TlsOptions = { caCerts: ["-----BEGIN CERTIFICATE-----\n..."], serverName: "broker-a" };
 * assert.equal(tls.serverName, "broker-a");
 * ```
 */
export interface TlsOptions {
  /**
   * PEM certificates of the certificate authorities to trust. When given,
   * they replace the runtime's default roots on Node and Bun, and are added
   * to them on Deno.
   */
  caCerts?: readonly string[];
  /**
   * Name sent as SNI and checked against the server's certificate.
   * @default {the `hostname` connected to}
   */
  serverName?: string;
  /**
   * Skip verification of the server's certificate. For tests only. Not
   * supported by the Deno adapter (it rejects the option with an
   * `InvalidArgumentError`): give `caCerts` there.
   * @default {false}
   */
  insecure?: boolean;
  /** PEM client certificate chain, for servers that require mutual TLS. */
  cert?: string;
  /** PEM private key of {@linkcode TlsOptions.cert}. */
  key?: string;
}

/**
 * Where and how to connect.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ConnectOptions = { hostname: "127.0.0.1", port: 9876, timeout: 1000 };
 * assert.equal(options.tls, undefined);
 * ```
 */
export interface ConnectOptions {
  /** IP address or host name of the peer; IPv6 addresses without brackets. */
  hostname: string;
  /** Port of the peer, 1 to 65535. */
  port: number;
  /** `true` for TLS with default settings, or the settings. @default {false} */
  tls?: boolean | TlsOptions;
  /**
   * Aborts the connection attempt; the connect promise then rejects with a
   * `ConnectionError` whose `cause` is the signal's reason. Has no effect on
   * the transport once connected.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds allowed for the connection, TLS handshake included; then the
   * connect promise rejects with a `ConnectionError`. `Infinity` for none.
   * @default {3000}
   */
  timeout?: number;
}

/**
 * Opens a transport. Rejects with a `ConnectionError` naming `host:port` when
 * the connection cannot be made (refused, unreachable, timed out, aborted,
 * TLS handshake failed), and with an `InvalidArgumentError` for bad options.
 *
 * @example Pass your own connect function
 * ```ts
 * import type { Connect } from "./types.ts";
 * import { memoryPair } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const connect: Connect = (options) => {
 *   const [client, server] = memoryPair();
 *   server.readable.pipeTo(server.writable).catch(() => {}); // an echo peer
 *   assert.equal(options.port, 9876);
 *   return Promise.resolve(client);
 * };
 * const transport = await connect({ hostname: "127.0.0.1", port: 9876 });
 * await transport.close();
 * ```
 */
export type Connect = (options: ConnectOptions) => Promise<Transport>;

/**
 * A listening socket. Iterating it yields accepted connections (for TLS,
 * after their handshake); a connection that fails its handshake is dropped
 * and not yielded. Accepted connections wait in a bounded queue until
 * iterated (128; the next ones are closed at once), so iterate continuously.
 * Breaking out of a `for await` loop does not close the listener.
 *
 * @example Accept connections
 * ```ts
 * import { createMemoryNetwork } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const net = createMemoryNetwork();
 * const listener = await net.listen({ port: 9876 });
 * const client = await net.connect({ hostname: "127.0.0.1", port: 9876 });
 * for await (const server of listener) {
 *   assert.equal(server.remoteAddr?.port, client.localAddr?.port);
 *   await server.close();
 *   break;
 * }
 * await listener.close();
 * await client.closed;
 * ```
 */
export interface Listener extends AsyncIterable<Transport> {
  /** The address listened on, with the actual port when 0 was asked for. */
  readonly addr: NetAddr;
  /**
   * Stops listening. Idempotent. Ends every iteration; closes accepted
   * connections that were not yet yielded; leaves yielded ones open.
   *
   * @returns A promise that resolves once the listening socket is closed.
   */
  close(): Promise<void>;
}

/**
 * Where to listen.
 *
 * @example
 * ```ts
 * import type { ListenOptions } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ListenOptions = { hostname: "::1", port: 0 };
 * assert.equal(options.port, 0);
 * ```
 */
export interface ListenOptions {
  /** Address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port, 0 to 65535; 0 picks a free one. @default {0} */
  port?: number;
  /** PEM certificate chain and private key to serve TLS with. */
  tls?: { cert: string; key: string };
  /**
   * With `tls`: TLS handshakes in progress at once. A connection beyond
   * this is closed at once, so that clients that connect and never finish
   * their handshake cannot pile up (they are not yet connections a server
   * can count or time out).
   * @default {1024}
   */
  maxHandshakes?: number;
  /**
   * With `tls`: milliseconds a client has to finish its handshake; then
   * its connection is closed. Deno's own TLS listener cannot close a
   * connection during its handshake: there the handshake is abandoned, but
   * the socket stays until the client leaves.
   * @default {10000}
   */
  handshakeTimeout?: number;
}

/**
 * Opens a listener. Rejects with a `ConnectionError` naming `host:port` when
 * the address cannot be listened on (for example, in use), and with an
 * `InvalidArgumentError` for bad options.
 *
 * @example
 * ```ts
 * import type { Listen } from "./types.ts";
 * import { createMemoryNetwork } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const listen: Listen = createMemoryNetwork().listen;
 * const listener = await listen({ port: 0 });
 * assert.ok(listener.addr.port > 0);
 * await listener.close();
 * ```
 */
export type Listen = (options: ListenOptions) => Promise<Listener>;
