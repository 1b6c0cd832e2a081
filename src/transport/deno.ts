/**
 * Transport adapter for Deno: `Deno.connect` (plus `Deno.startTls` or
 * `Deno.connectTls`) and `Deno.listen` / `Deno.listenTls`. Needs `--allow-net`.
 *
 * Deno cannot skip certificate verification per connection, so
 * `tls.insecure` is refused; trust a private CA with `tls.caCerts`. A client
 * certificate (`tls.cert`) cannot be combined with a `tls.serverName` other
 * than `hostname`.
 *
 * @example Echo over TCP
 * ```ts
 * import { connect, listen } from "./deno.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * (async () => {
 *   for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
 * })();
 * const client = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * const { value } = await client.readable.getReader().read();
 * assert.equal(new TextDecoder().decode(value), "ping");
 * await client.close();
 * await listener.close();
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { checkConnectOptions, checkListenOptions, dial } from "./_connect.ts";
import {
  AcceptQueue,
  formatAddress,
  netAddr,
  type SocketDriver,
  socketTransport,
  toConnectionError,
} from "./_socket.ts";
import type { ConnectOptions, Listener, ListenOptions, NetAddr, Transport } from "./types.ts";

/** Largest read: the buffer while data keeps coming. */
const READ_SIZE = 64 * 1024;
/**
 * Read buffer between bursts, which is what an idle connection holds (a
 * pending read owns its buffer): 4 KiB instead of 64 KiB per connection.
 */
const IDLE_READ_SIZE = 4 * 1024;

function toNetAddr(addr: Deno.Addr): NetAddr | undefined {
  return "hostname" in addr ? netAddr(addr.hostname, addr.port) : undefined;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

function wrap(conn: Deno.Conn, address: string): Transport {
  let paused = false;
  let destroyed = false;
  let wake: (() => void) | undefined;
  let writing: Promise<unknown> = Promise.resolve();
  const release = (): void => {
    destroyed = true;
    closeQuietly(conn);
    wake?.();
  };
  const driver: SocketDriver = {
    localAddr: toNetAddr(conn.localAddr),
    remoteAddr: toNetAddr(conn.remoteAddr),
    write(chunk) {
      const done = (async () => {
        // conn.write() may take fewer bytes than given.
        for (let offset = 0; offset < chunk.byteLength;) {
          offset += await conn.write(chunk.subarray(offset));
        }
      })();
      writing = done.catch(() => {});
      return done;
    },
    pause: () => paused = true,
    resume() {
      paused = false;
      wake?.();
    },
    destroy: release,
  };
  const { transport, events } = socketTransport(address, driver);
  (async () => {
    let buffer = new Uint8Array(IDLE_READ_SIZE);
    try {
      while (!destroyed) {
        if (paused) {
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
          continue;
        }
        const n = await conn.read(buffer);
        if (n === null) {
          events.end();
          break;
        }
        // A read that filled its buffer means more is coming: read up to
        // 64 KiB next; a short one means the burst is over: back to 4 KiB.
        const size = n === buffer.length
          ? READ_SIZE
          : n <= IDLE_READ_SIZE
          ? IDLE_READ_SIZE
          : buffer.length;
        // Hand over a well-filled buffer; copy a small read so that a short
        // chunk does not pin a large buffer.
        if (n > buffer.length / 2) {
          events.data(buffer.subarray(0, n));
          buffer = new Uint8Array(size);
        } else {
          events.data(buffer.slice(0, n));
          if (buffer.length !== size) buffer = new Uint8Array(size);
        }
      }
    } catch (cause) {
      if (!destroyed) events.error(cause);
    }
    if (!destroyed) release();
    await writing;
    events.closed();
  })();
  return transport;
}

async function handshake(conn: Deno.TlsConn, address: string, signal: AbortSignal): Promise<void> {
  const onAbort = (): void => closeQuietly(conn);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.handshake();
  } catch (cause) {
    closeQuietly(conn);
    throw toConnectionError(address, cause, "TLS handshake failed: ");
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Opens a TCP or TLS connection with Deno's APIs.
 *
 * @param options Where and how to connect.
 * @returns The connected transport.
 * @throws {ConnectionError} When the connection cannot be made.
 * @throws {InvalidArgumentError} For bad options, `tls.insecure` included.
 *
 * @example Connection refused
 * ```ts
 * import { connect, listen } from "./deno.ts";
 * import { ConnectionError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * const port = listener.addr.port;
 * await listener.close();
 * await assert.rejects(connect({ hostname: "127.0.0.1", port }), ConnectionError);
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Transport> {
  const target = checkConnectOptions(options);
  const { hostname, port, address, tls } = target;
  if (tls?.insecure) {
    throw new InvalidArgumentError(
      "tls.insecure",
      "Deno cannot skip certificate verification; trust the CA with tls.caCerts",
    );
  }
  const serverName = tls?.serverName ?? hostname;
  if (tls?.cert !== undefined && serverName !== hostname) {
    throw new InvalidArgumentError("tls.serverName", "cannot differ from hostname with tls.cert");
  }
  const caCerts = tls?.caCerts ? { caCerts: [...tls.caCerts] } : {};
  const conn = await dial(target, async (signal) => {
    if (tls?.cert !== undefined && tls.key !== undefined) {
      const conn = await Deno.connectTls({
        hostname,
        port,
        ...caCerts,
        cert: tls.cert,
        key: tls.key,
      });
      await handshake(conn, address, signal);
      return conn;
    }
    const tcp = await Deno.connect({ hostname, port, signal });
    tcp.setNoDelay(true);
    if (!tls) return tcp;
    const conn = await Deno.startTls(tcp, { hostname: serverName, ...caCerts });
    await handshake(conn, address, signal);
    return conn;
  }, closeQuietly);
  return wrap(conn, address);
}

/**
 * Listens for TCP or TLS connections with Deno's APIs.
 *
 * @param options Where to listen.
 * @returns The listener.
 * @throws {ConnectionError} When the address cannot be listened on.
 * @throws {InvalidArgumentError} For bad options.
 *
 * @example Listen on an ephemeral port
 * ```ts
 * import { listen } from "./deno.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * assert.ok(listener.addr.port > 0);
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
  let listener: Deno.Listener;
  try {
    listener = tls ? Deno.listenTls({ hostname, port, ...tls }) : Deno.listen({ hostname, port });
  } catch (cause) {
    throw toConnectionError(address, cause, "cannot listen: ");
  }
  const queue = new AcceptQueue();
  const handshakes = new Map<Deno.Conn, Promise<void>>();
  let closing: Promise<void> | undefined;
  const accept = (conn: Deno.Conn): void => {
    const peer = toNetAddr(conn.remoteAddr);
    const peerAddress = peer ? formatAddress(peer.hostname, peer.port) : address;
    if (!tls) {
      (conn as Deno.TcpConn).setNoDelay(true);
      return queue.push(wrap(conn, peerAddress));
    }
    // Too many clients in their handshake: refuse this one at once.
    if (handshakes.size >= maxHandshakes) return closeQuietly(conn);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), handshakeTimeout);
    const done = handshake(conn as Deno.TlsConn, peerAddress, deadline.signal).then(
      () => closing ? closeQuietly(conn) : queue.push(wrap(conn, peerAddress)),
      () => {}, // a client that fails its handshake is dropped
    ).finally(() => {
      clearTimeout(timer);
      handshakes.delete(conn);
    });
    handshakes.set(conn, done);
  };
  const loop = (async () => {
    while (!closing) {
      try {
        accept(await listener.accept());
      } catch {
        if (closing) break;
        // Out of file descriptors and the like: back off, keep listening.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  return {
    addr: toNetAddr(listener.addr) ?? { hostname, port },
    [Symbol.asyncIterator]: () => queue.iterator(),
    close() {
      closing ??= (async () => {
        listener.close();
        queue.close();
        for (const conn of handshakes.keys()) closeQuietly(conn);
        await Promise.all([loop, ...handshakes.values()]);
      })();
      return closing;
    },
  };
}
