/**
 * Transports: connected byte streams (TCP, TLS, in-memory) and the functions
 * that open and accept them. The runtime adapters are separate entry points
 * (`./transport/deno`, `./transport/node`, `./transport/bun`); this one
 * offers the types, the in-memory pair and the runtime's default.
 *
 * @example Round trip over the runtime's TCP
 * ```ts
 * import { defaultConnect, defaultListen } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await defaultListen({ port: 0 });
 * const client = await defaultConnect({ hostname: "127.0.0.1", port: listener.addr.port });
 * for await (const server of listener) {
 *   server.readable.pipeTo(server.writable).catch(() => {}); // echo
 *   break;
 * }
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

export * from "./types.ts";
export * from "./memory.ts";
export * from "./default.ts";
export * from "./socket_like.ts";
