/**
 * Transport adapter for Node (and runtimes with `node:net` compatibility):
 * `net.connect` / `tls.connect` and `net.createServer` / `tls.createServer`.
 * The two modules come from `process.getBuiltinModule` (Node 20.16+, Bun,
 * Deno) when first used, not from import statements, so bundles that
 * contain this adapter load on runtimes without them.
 *
 * A write resolves when Node's write callback reports the chunk flushed to
 * the kernel; one chunk is handed to Node at a time, so Node's own write
 * buffer never holds more than that chunk. Reading pauses the socket while
 * the readable's queue is full.
 *
 * @example Echo over TCP
 * ```ts
 * import { connect, listen } from "./node.ts";
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

import type * as NodeNet from "node:net";
import type * as NodeTls from "node:tls";
import { IllegalStateError } from "../errors.ts";
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

// `node:net` and `node:tls` come from `process.getBuiltinModule` when first
// needed, not from import statements: a module graph that contains this file
// (every client's, through the runtime default) then names no `node:` module,
// so it bundles for runtimes without Node compatibility (Cloudflare Workers)
// and loads there; the adapter is simply never called on them.
interface NodeModules {
  net: typeof NodeNet;
  tls: typeof NodeTls;
}
let modules: NodeModules | undefined;

function nodeModules(): NodeModules {
  if (modules) return modules;
  const proc = (globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown };
  }).process;
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new IllegalStateError(
      "the node transport needs process.getBuiltinModule (Node 20.16 or later, Bun, Deno)",
    );
  }
  const getBuiltinModule = proc.getBuiltinModule;
  let tls: typeof NodeTls | undefined;
  modules = {
    net: getBuiltinModule("node:net") as typeof NodeNet,
    // Loading node:tls costs a few ms of start-up: only for TLS connections.
    get tls() {
      return tls ??= getBuiltinModule("node:tls") as typeof NodeTls;
    },
  };
  return modules;
}

function addr(hostname?: string, port?: number, family?: string): NetAddr | undefined {
  return hostname && port !== undefined ? netAddr(hostname, port, family) : undefined;
}

/** Longest wait for a TLS close_notify to be flushed before the socket is destroyed. */
const TLS_CLOSE_TIMEOUT = 1000;

function wrap(socket: NodeNet.Socket, address: string): Transport {
  // A tls.TLSSocket says so (without loading node:tls to ask instanceof).
  const encrypted = (socket as { encrypted?: boolean }).encrypted === true;
  let failPending: ((cause: Error) => void) | undefined;
  const destroy = (): void => {
    // destroy() alone sends no TLS close_notify, and peers such as rustls
    // (Deno) then report a truncation error instead of an orderly end. So end
    // TLS first, unless a write is stuck (then the data is cut anyway).
    if (!encrypted || failPending || socket.destroyed) {
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => socket.destroy(), TLS_CLOSE_TIMEOUT);
    socket.once("close", () => clearTimeout(timer));
    socket.once("finish", () => socket.destroy());
    socket.end();
  };
  const driver: SocketDriver = {
    localAddr: addr(socket.localAddress, socket.localPort, socket.localFamily),
    remoteAddr: addr(socket.remoteAddress, socket.remotePort, socket.remoteFamily),
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        failPending = reject;
        socket.write(chunk, (err) => {
          failPending = undefined;
          if (err) reject(err);
          else resolve();
        });
      }),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy,
  };
  const { transport, events } = socketTransport(address, driver);
  socket.setNoDelay(true);
  socket.on("data", (data: Uint8Array) => {
    // A Buffer that Node does not reuse; expose it as a plain Uint8Array.
    events.data(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  });
  socket.on("end", () => events.end());
  socket.on("error", (err) => events.error(err));
  socket.on("close", () => {
    failPending?.(new Error("socket closed"));
    events.closed();
  });
  return transport;
}

/**
 * Opens a TCP or TLS connection with `node:net` / `node:tls`.
 *
 * @param options Where and how to connect.
 * @returns The connected transport.
 * @throws {ConnectionError} When the connection cannot be made.
 * @throws {InvalidArgumentError} For bad options.
 *
 * @example Connection refused
 * ```ts
 * import { connect, listen } from "./node.ts";
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
  const { hostname: host, port, address, tls: settings } = target;
  const { net } = nodeModules();
  return await dial(target, (signal) =>
    new Promise<Transport>((resolve, reject) => {
      let socket: NodeNet.Socket;
      if (settings) {
        const { tls } = nodeModules();
        const name = settings.serverName ?? host;
        socket = tls.connect({
          host,
          port,
          // SNI must not be an IP address (RFC 6066); the identity check still uses it.
          ...(net.isIP(name) ? {} : { servername: name }),
          checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
          rejectUnauthorized: !settings.insecure,
          ...(settings.caCerts ? { ca: [...settings.caCerts] } : {}),
          ...(settings.cert !== undefined ? { cert: settings.cert, key: settings.key } : {}),
        });
      } else {
        socket = net.connect({ host, port });
      }
      const onAbort = (): void => {
        socket.destroy();
      };
      const onError = (err: Error): void => {
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        reject(
          settings && err.message && !("syscall" in err)
            ? toConnectionError(address, err, "TLS handshake failed: ")
            : err,
        );
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", onError);
      socket.once(settings ? "secureConnect" : "connect", () => {
        signal.removeEventListener("abort", onAbort);
        socket.off("error", onError);
        resolve(wrap(socket, address));
      });
    }), (transport) => transport.close());
}

/**
 * Listens for TCP or TLS connections with `node:net` / `node:tls`.
 *
 * @param options Where to listen.
 * @returns The listener.
 * @throws {ConnectionError} When the address cannot be listened on.
 * @throws {InvalidArgumentError} For bad options.
 *
 * @example Listen on an ephemeral port
 * ```ts
 * import { listen } from "./node.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * assert.ok(listener.addr.port > 0);
 * await listener.close();
 * ```
 */
export async function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, address, tls: settings, maxHandshakes, handshakeTimeout } =
    checkListenOptions(options);
  const { net } = nodeModules();
  const queue = new AcceptQueue();
  const server = settings
    ? nodeModules().tls.createServer({ cert: settings.cert, key: settings.key })
    : net.createServer();
  const peerOf = (socket: NodeNet.Socket): string =>
    formatAddress(socket.remoteAddress ?? "unknown", socket.remotePort ?? 0);
  // TCP connections still in their TLS handshake, by peer address (unique
  // among live connections), with their deadline: beyond maxHandshakes, a new
  // one is refused; one past its deadline is closed. (tls.Server's own
  // handshakeTimeout does not close a client that sends nothing at all.)
  const handshaking = new Map<string, ReturnType<typeof setTimeout>>();
  const handshakeEnded = (peer: string): void => {
    clearTimeout(handshaking.get(peer));
    handshaking.delete(peer);
  };
  if (settings) {
    server.on("connection", (socket: NodeNet.Socket) => {
      if (handshaking.size >= maxHandshakes) return void socket.destroy();
      const peer = peerOf(socket);
      handshaking.set(peer, setTimeout(() => socket.destroy(), handshakeTimeout));
      socket.once("close", () => handshakeEnded(peer));
    });
  }
  server.on(settings ? "secureConnection" : "connection", (socket: NodeNet.Socket) => {
    const peer = peerOf(socket);
    handshakeEnded(peer);
    queue.push(wrap(socket, peer));
  });
  // A client that fails its handshake is dropped (tls.Server destroys its socket).
  server.on("tlsClientError", () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: hostname, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (cause) {
    throw toConnectionError(address, cause, "cannot listen: ");
  }
  server.on("error", () => {}); // accept errors (EMFILE…): libuv keeps listening
  const bound = server.address() as NodeNet.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    addr: netAddr(bound.address, bound.port, bound.family),
    [Symbol.asyncIterator]: () => queue.iterator(),
    close() {
      // server.close() unbinds at once; its callback would wait for every
      // accepted connection to end, which is not the listener's business.
      closing ??= new Promise<void>((resolve) => {
        server.close();
        queue.close();
        setTimeout(resolve, 0);
      });
      return closing;
    },
  };
}
