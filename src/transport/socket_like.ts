/**
 * Adapts any socket that already speaks Web streams (for example
 * `connect()` from `cloudflare:sockets`) to a {@linkcode Transport} with this
 * package's semantics: typed errors, idempotent close, `closed` that never
 * rejects, and reads that stop while the readable's queue is full.
 *
 * @example A Connect for Cloudflare Workers (sketch; runs on workerd only)
 * ```ts ignore
 * import { connect as cfConnect } from "cloudflare:sockets";
 * import { fromSocketLike } from "./socket_like.ts";
 * import type { Connect } from "./types.ts";
 *
 * export const connect: Connect = async ({ hostname, port, tls }) => {
 *   const socket = cfConnect({ hostname, port }, { secureTransport: tls ? "on" : "off" });
 *   await socket.opened;
 *   return fromSocketLike(socket, { remoteAddr: { hostname, port } });
 * };
 * ```
 *
 * @module
 */

import { formatAddress, type SocketDriver, socketTransport } from "./_socket.ts";
import type { NetAddr, Transport } from "./types.ts";

/**
 * A socket with Web streams, as `cloudflare:sockets` returns.
 *
 * @example The transport closes the socket
 * ```ts
 * import { fromSocketLike, type SocketLike } from "./socket_like.ts";
 * import assert from "node:assert/strict";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>(); // what is written comes back
 * let closes = 0;
 * const socket: SocketLike = { readable: pipe.readable, writable: pipe.writable, close: () => closes++ };
 * const transport = fromSocketLike(socket);
 * await transport.close();
 * assert.equal(closes, 1);
 * ```
 */
export interface SocketLike {
  /** Bytes from the peer. Its chunks must not be reused by the socket. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** Settles once the socket is closed, if the socket offers it. */
  readonly closed?: Promise<unknown>;
  /** Closes the socket. */
  close(): unknown;
}

/**
 * Addresses of a {@linkcode SocketLike}, for the transport to report.
 *
 * @example Errors name the peer
 * ```ts
 * import { fromSocketLike, type SocketLikeInfo } from "./socket_like.ts";
 * import { ConnectionClosedError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const info: SocketLikeInfo = { remoteAddr: { hostname: "10.0.0.1", port: 10911 } };
 * const transport = fromSocketLike({ readable: pipe.readable, writable: pipe.writable, close: () => {} }, info);
 * assert.deepEqual(transport.remoteAddr, info.remoteAddr);
 * await transport.close();
 * const err = await transport.writable.getWriter().write(new Uint8Array([1])).catch((e) => e);
 * assert.ok(err instanceof ConnectionClosedError);
 * assert.equal(err.address, "10.0.0.1:10911");
 * ```
 */
export interface SocketLikeInfo {
  /** Local address. */
  localAddr?: NetAddr;
  /** Address of the peer; also names the peer in errors. */
  remoteAddr?: NetAddr;
}

/**
 * Wraps a socket with Web streams into a {@linkcode Transport}. The
 * transport takes the socket's reader and writer for itself.
 *
 * @param socket The connected socket.
 * @param info Its addresses.
 * @returns The transport.
 *
 * @example Wrap a hand-made socket
 * ```ts
 * import { fromSocketLike } from "./socket_like.ts";
 * import assert from "node:assert/strict";
 *
 * // A loopback "socket": what is written comes back.
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const transport = fromSocketLike(
 *   { readable, writable, close: () => writable.close() },
 *   { remoteAddr: { hostname: "example.com", port: 9876 } },
 * );
 * await transport.writable.getWriter().write(new Uint8Array([1, 2]));
 * const reader = transport.readable.getReader();
 * assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2]));
 * await transport.close();
 * assert.equal((await reader.read()).done, true);
 * ```
 */
export function fromSocketLike(socket: SocketLike, info: SocketLikeInfo = {}): Transport {
  const reader = socket.readable.getReader();
  const writer = socket.writable.getWriter();
  let paused = false;
  let destroyed = false;
  let wake: (() => void) | undefined;
  const driver: SocketDriver = {
    localAddr: info.localAddr,
    remoteAddr: info.remoteAddr,
    write: (chunk) => writer.write(chunk),
    pause: () => paused = true,
    resume() {
      paused = false;
      wake?.();
    },
    destroy() {
      destroyed = true;
      wake?.();
      reader.cancel().catch(() => {});
      writer.abort().catch(() => {});
      try {
        Promise.resolve(socket.close()).catch(() => {});
      } catch { /* already closed */ }
    },
  };
  const peer = info.remoteAddr;
  const address = peer ? formatAddress(peer.hostname, peer.port) : "unknown";
  const { transport, events } = socketTransport(address, driver);
  (async () => {
    try {
      while (!destroyed) {
        if (paused) {
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
          continue;
        }
        const { done, value } = await reader.read();
        if (done) {
          events.end();
          break;
        }
        events.data(value);
      }
    } catch (cause) {
      if (!destroyed) events.error(cause);
    }
    if (!destroyed) driver.destroy();
    await Promise.allSettled([socket.closed]);
    events.closed();
  })();
  return transport;
}
