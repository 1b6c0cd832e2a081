/**
 * Transport for Cloudflare Workers: outbound TCP (and TLS) through
 * `connect()` from `cloudflare:sockets`. Pass that function in: this module
 * imports nothing from `cloudflare:`, so it type-checks, documents and tests
 * on any runtime, and a Worker bundle carries only the import the Worker
 * itself writes. No `nodejs_compat` flag is needed.
 *
 * Workers allow a socket only within the request (or event) that opened it,
 * so a client lives for one invocation: see `requestOnce()` in `./client`.
 *
 * @example A Worker that asks a responder and returns its reply
 * ```ts ignore
 * import { connect } from "cloudflare:sockets";
 * import { requestOnce } from "@rocketmq-rpc/core/client";
 * import { cloudflareConnect } from "@rocketmq-rpc/core/transport/cloudflare";
 *
 * export default {
 *   async fetch(request: Request, env: { NAMESRV_ADDR: string }): Promise<Response> {
 *     const reply = await requestOnce(
 *       { nameServer: env.NAMESRV_ADDR, connect: cloudflareConnect(connect) },
 *       { topic: "quotes", body: await request.text() },
 *       { timeout: 5000 },
 *     );
 *     return new Response(reply.body);
 *   },
 * };
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { checkConnectOptions, dial } from "./_connect.ts";
import { netAddr } from "./_socket.ts";
import { fromSocketLike } from "./socket_like.ts";
import type { Connect, ConnectOptions, NetAddr, Transport } from "./types.ts";

/**
 * The socket `connect()` of `cloudflare:sockets` returns, as far as this
 * transport uses it.
 *
 * @example A stand-in socket over an in-memory pair (how the tests fake one)
 * ```ts
 * import type { CloudflareSocket } from "./cloudflare.ts";
 * import assert from "node:assert/strict";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const socket: CloudflareSocket = {
 *   readable: pipe.readable,
 *   writable: pipe.writable,
 *   opened: Promise.resolve({ remoteAddress: "127.0.0.1:9876" }),
 *   closed: Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * assert.equal((await socket.opened).remoteAddress, "127.0.0.1:9876");
 * ```
 */
export interface CloudflareSocket {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once connected (rejects when the connection fails). */
  readonly opened: Promise<{ remoteAddress?: string; localAddress?: string }>;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  /** Closes the socket. */
  close(): Promise<void>;
}

/**
 * The signature of `connect()` from `cloudflare:sockets`.
 *
 * @example
 * ```ts
 * import type { CloudflareSocketConnect } from "./cloudflare.ts";
 * import assert from "node:assert/strict";
 *
 * const calls: string[] = [];
 * const fake: CloudflareSocketConnect = (address, options) => {
 *   calls.push(`${address.hostname}:${address.port} ${options?.secureTransport}`);
 *   throw new Error("not in a Worker");
 * };
 * assert.throws(() => fake({ hostname: "broker", port: 10911 }, { secureTransport: "on" }));
 * assert.deepEqual(calls, ["broker:10911 on"]);
 * ```
 */
export type CloudflareSocketConnect = (
  address: { hostname: string; port: number },
  options?: { secureTransport?: "off" | "on" | "starttls"; allowHalfOpen?: boolean },
) => CloudflareSocket;

/** `"host:port"` (IPv6 possibly bracketed) as a NetAddr. */
function parseSocketAddress(text: string | undefined): NetAddr | undefined {
  if (!text) return undefined;
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  let hostname = text.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  return colon > 0 && Number.isInteger(port) ? netAddr(hostname, port) : undefined;
}

/**
 * A {@linkcode Connect} over `connect()` from `cloudflare:sockets`. TLS is
 * the platform's (`secureTransport: "on"`), verified against the hostname
 * with the platform's roots: custom CAs, client certificates, another
 * server name and `insecure` are refused with an `InvalidArgumentError`.
 *
 * @param socketConnect `connect` from `cloudflare:sockets`.
 * @returns The connect function to pass as the client's `connect` option.
 * Its promise rejects with a `ConnectionError` when the connection cannot
 * be made, and with an `InvalidArgumentError` for options the platform
 * does not support.
 * @throws {InvalidArgumentError} When `socketConnect` is not a function.
 *
 * @example Round trip through a stand-in for `cloudflare:sockets`
 * ```ts
 * import { cloudflareConnect, type CloudflareSocketConnect } from "./cloudflare.ts";
 * import assert from "node:assert/strict";
 *
 * // An echo "network": what is written comes back.
 * const echo: CloudflareSocketConnect = ({ hostname, port }) => {
 *   const pipe = new TransformStream<Uint8Array, Uint8Array>();
 *   return {
 *     readable: pipe.readable,
 *     writable: pipe.writable,
 *     opened: Promise.resolve({ remoteAddress: `${hostname}:${port}` }),
 *     closed: Promise.resolve(),
 *     close: () => Promise.resolve(),
 *   };
 * };
 * const connect = cloudflareConnect(echo);
 * const transport = await connect({ hostname: "10.0.0.1", port: 9876 });
 * assert.deepEqual(transport.remoteAddr, { hostname: "10.0.0.1", port: 9876, family: "IPv4" });
 * await transport.writable.getWriter().write(new Uint8Array([7]));
 * assert.deepEqual((await transport.readable.getReader().read()).value, new Uint8Array([7]));
 * await transport.close();
 *
 * await assert.rejects( // the platform's TLS only
 *   connect({ hostname: "10.0.0.1", port: 9876, tls: { caCerts: ["PEM"] } }),
 *   /invalid tls.caCerts: not supported on Cloudflare Workers/,
 * );
 * ```
 */
export function cloudflareConnect(socketConnect: CloudflareSocketConnect): Connect {
  if (typeof socketConnect !== "function") {
    throw new InvalidArgumentError(
      "socketConnect",
      'must be connect from "cloudflare:sockets"',
    );
  }
  return async (options: ConnectOptions): Promise<Transport> => {
    const target = checkConnectOptions(options);
    const { hostname, port, tls } = target;
    if (tls) {
      for (const key of ["caCerts", "cert", "key", "insecure"] as const) {
        if (tls[key] !== undefined && tls[key] !== false) {
          throw new InvalidArgumentError(
            `tls.${key}`,
            "not supported on Cloudflare Workers (TLS uses the platform's roots and settings)",
          );
        }
      }
      if (tls.serverName !== undefined && tls.serverName !== hostname) {
        throw new InvalidArgumentError(
          "tls.serverName",
          "not supported on Cloudflare Workers (the certificate is checked against the hostname)",
        );
      }
    }
    return await dial(target, async (signal) => {
      const socket = socketConnect(
        { hostname, port },
        { secureTransport: tls ? "on" : "off", allowHalfOpen: false },
      );
      const abandon = (): void => {
        socket.close().catch(() => {});
      };
      signal.addEventListener("abort", abandon, { once: true });
      try {
        const info = await socket.opened;
        return fromSocketLike(socket, {
          remoteAddr: parseSocketAddress(info?.remoteAddress) ?? netAddr(hostname, port),
          ...(parseSocketAddress(info?.localAddress)
            ? { localAddr: parseSocketAddress(info?.localAddress)! }
            : {}),
        });
      } catch (cause) {
        abandon();
        throw cause;
      } finally {
        signal.removeEventListener("abort", abandon);
      }
    }, (transport) => {
      transport.close();
    });
  };
}
