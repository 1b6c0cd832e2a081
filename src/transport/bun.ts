/**
 * Transport adapter for Bun: `Bun.connect` and `Bun.listen`, whose sockets
 * are callback-based.
 *
 * Writing: `socket.write()` may take fewer bytes than given (it hands bytes
 * straight to the kernel and buffers nothing); the adapter keeps the rest and
 * resolves the write only after `drain` let it hand over every byte.
 * Reading: the socket is paused (`socket.pause()`, Bun 1.4) while the
 * readable's queue is full and resumed when it has room, so the peer sees TCP
 * backpressure. On a Bun without `pause()`, reading is not flow-controlled.
 *
 * @example Echo over TCP (runs on Bun only)
 * ```ts ignore
 * import { connect, listen } from "./bun.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * (async () => {
 *   for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
 * })();
 * const client = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.writable.getWriter().write(new TextEncoder().encode("ping"));
 * const { value } = await client.readable.getReader().read();
 * assert.equal(new TextDecoder().decode(value), "ping");
 * await client.close();
 * await listener.close();
 * ```
 *
 * @module
 */

import { checkConnectOptions, checkListenOptions, dial } from "./_connect.ts";
import {
  AcceptQueue,
  formatAddress,
  netAddr,
  type SocketDriver,
  type SocketEvents,
  socketTransport,
  toConnectionError,
} from "./_socket.ts";
import type { ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

/** The part of Bun's `Socket` this adapter uses. */
interface BunSocketLike {
  data: unknown;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly localFamily?: string;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly remoteFamily?: string;
  /** Bytes handed to the kernel (maybe fewer than given), or -1 when closed. */
  write(data: Uint8Array): number;
  end(): void;
  pause?(): void;
  resume?(): void;
  setNoDelay?(noDelay: boolean): boolean;
}

interface BunHandlers {
  open?(socket: BunSocketLike): void;
  handshake?(socket: BunSocketLike, success: boolean, authorizationError: Error | null): void;
  data(socket: BunSocketLike, data: Uint8Array): void;
  drain(socket: BunSocketLike): void;
  end(socket: BunSocketLike): void;
  close(socket: BunSocketLike, error?: Error): void;
  error(socket: BunSocketLike, error: Error): void;
}

interface BunOptions {
  hostname: string;
  port: number;
  tls?: {
    ca?: string[];
    cert?: string;
    key?: string;
    serverName?: string;
    rejectUnauthorized?: boolean;
  };
  socket: BunHandlers;
}

declare const Bun: {
  connect(options: BunOptions): Promise<BunSocketLike>;
  listen(
    options: BunOptions,
  ): { hostname: string; port: number; stop(closeActive?: boolean): void };
};

/** Per-socket state, kept in `socket.data`. */
class BunConn implements SocketDriver {
  readonly localAddr;
  readonly remoteAddr;
  events: SocketEvents | undefined;
  /** Settles the connect or accept that waits for the TLS handshake. */
  onHandshake: ((error?: Error) => void) | undefined;
  #socket: BunSocketLike;
  #closed = false;
  #pending: { chunk: Uint8Array; resolve(): void; reject(cause: Error): void } | undefined;

  constructor(socket: BunSocketLike) {
    this.#socket = socket;
    socket.data = this;
    const s = socket;
    this.localAddr = s.localAddress
      ? netAddr(s.localAddress, s.localPort ?? 0, s.localFamily)
      : undefined;
    this.remoteAddr = s.remoteAddress
      ? netAddr(s.remoteAddress, s.remotePort ?? 0, s.remoteFamily)
      : undefined;
    socket.setNoDelay?.(true);
  }

  write(chunk: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending = { chunk, resolve, reject };
      this.flush();
    });
  }

  /** Hands the pending chunk to the kernel, as far as it takes it. */
  flush(): void {
    const pending = this.#pending;
    if (!pending) return;
    const n = this.#socket.write(pending.chunk);
    if (n < 0) {
      this.#pending = undefined;
      pending.reject(new Error("socket closed"));
    } else if (n >= pending.chunk.byteLength) {
      this.#pending = undefined;
      pending.resolve();
    } else {
      pending.chunk = pending.chunk.subarray(n); // the rest goes on drain
    }
  }

  pause(): void {
    this.#socket.pause?.();
  }

  resume(): void {
    this.#socket.resume?.();
  }

  destroy(): void {
    if (!this.#closed) this.#socket.end(); // Bun runs the close handler within end()
  }

  closed(error?: Error): void {
    this.#closed = true;
    const settle = this.onHandshake;
    this.onHandshake = undefined;
    settle?.(error ?? new Error("socket closed during the TLS handshake"));
    if (error) this.events?.error(error);
    this.#pending?.reject(error ?? new Error("socket closed"));
    this.#pending = undefined;
    this.events?.closed();
  }
}

function start(conn: BunConn, address: string): Transport {
  const { transport, events } = socketTransport(address, conn);
  conn.events = events;
  return transport;
}

function handlers(onOpen: (socket: BunSocketLike) => void): BunHandlers {
  const conn = (socket: BunSocketLike): BunConn | undefined =>
    socket.data instanceof BunConn ? socket.data : undefined;
  return {
    open: onOpen,
    handshake(socket, success, authorizationError) {
      const c = conn(socket);
      const settle = c?.onHandshake;
      if (!c || !settle) return;
      c.onHandshake = undefined;
      settle(success ? undefined : authorizationError ?? new Error("TLS handshake failed"));
    },
    data: (socket, data) => {
      // A fresh Buffer per call; expose it as a plain Uint8Array.
      conn(socket)?.events?.data(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    },
    drain: (socket) => conn(socket)?.flush(),
    end: (socket) => conn(socket)?.events?.end(),
    close: (socket, error) => conn(socket)?.closed(error),
    error: (socket, error) => conn(socket)?.events?.error(error),
  };
}

/**
 * Opens a TCP or TLS connection with `Bun.connect`.
 *
 * @param options Where and how to connect.
 * @returns The connected transport.
 * @throws {ConnectionError} When the connection cannot be made.
 * @throws {InvalidArgumentError} For bad options.
 *
 * @example Connect (runs on Bun only)
 * ```ts ignore
 * import { connect } from "./bun.ts";
 *
 * const transport = await connect({ hostname: "127.0.0.1", port: 9876, tls: true });
 * await transport.close();
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Transport> {
  const target = checkConnectOptions(options);
  const { hostname, port, address, tls: settings } = target;
  return await dial(target, async (signal) => {
    let transport: Transport | undefined;
    let handshake: Promise<void> | undefined;
    const socket = await Bun.connect({
      hostname,
      port,
      // Always an object with rejectUnauthorized: Bun takes `tls: {}` for no TLS.
      ...(settings
        ? {
          tls: {
            rejectUnauthorized: !settings.insecure,
            ...(settings.caCerts ? { ca: [...settings.caCerts] } : {}),
            ...(settings.serverName ? { serverName: settings.serverName } : {}),
            ...(settings.cert !== undefined ? { cert: settings.cert, key: settings.key } : {}),
          },
        }
        : {}),
      socket: handlers((socket) => {
        // Built at once, so no event is missed while the connect settles.
        const conn = new BunConn(socket);
        transport = start(conn, address);
        if (settings) {
          handshake = new Promise((resolve, reject) => {
            conn.onHandshake = (error) => error ? reject(error) : resolve();
          });
        }
      }),
    });
    if (handshake) {
      const onAbort = (): void => socket.end();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await handshake;
      } catch (cause) {
        socket.end();
        throw toConnectionError(address, cause, "TLS handshake failed: ");
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    }
    return transport!;
  }, (transport) => transport.close());
}

/**
 * Listens for TCP or TLS connections with `Bun.listen`.
 *
 * @param options Where to listen.
 * @returns The listener.
 * @throws {ConnectionError} When the address cannot be listened on.
 * @throws {InvalidArgumentError} For bad options.
 *
 * @example Listen (runs on Bun only)
 * ```ts ignore
 * import { listen } from "./bun.ts";
 *
 * const listener = await listen({ port: 0 });
 * await listener.close();
 * ```
 */
export function listen(options: ListenOptions): Promise<Listener> {
  return Promise.resolve().then(() => listenNow(options));
}

function listenNow(options: ListenOptions): Listener {
  const { hostname, port, address, tls, maxHandshakes, handshakeTimeout } = checkListenOptions(
    options,
  );
  const queue = new AcceptQueue();
  let handshaking = 0;
  let server: ReturnType<typeof Bun.listen>;
  try {
    server = Bun.listen({
      hostname,
      port,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      socket: handlers((socket) => {
        const conn = new BunConn(socket);
        const peer = conn.remoteAddr;
        const transport = start(conn, peer ? formatAddress(peer.hostname, peer.port) : address);
        if (!tls) return queue.push(transport);
        // Too many clients in their handshake: refuse this one at once.
        if (handshaking >= maxHandshakes) return void transport.close();
        handshaking++;
        const timer = setTimeout(() => transport.close(), handshakeTimeout);
        // Yielded after the handshake; a client that fails it, or takes too
        // long, is dropped.
        conn.onHandshake = (error) => {
          clearTimeout(timer);
          handshaking--;
          if (error) transport.close();
          else queue.push(transport);
        };
      }),
    });
  } catch (cause) {
    throw toConnectionError(address, cause, "cannot listen: ");
  }
  let closing: Promise<void> | undefined;
  return {
    addr: netAddr(server.hostname, server.port),
    [Symbol.asyncIterator]: () => queue.iterator(),
    close() {
      closing ??= Promise.resolve().then(() => {
        server.stop(false);
        queue.close();
      });
      return closing;
    },
  };
}
