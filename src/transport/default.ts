/**
 * The transport of the running runtime, picked when first used: the Deno,
 * Bun or Node adapter is loaded with a dynamic `import()`, so the code for
 * the other runtimes is never loaded. There is no global setting: to use
 * another transport, pass your own {@linkcode Connect} / {@linkcode Listen}
 * where the library asks for one (see `fromSocketLike()` in
 * `./socket_like.ts` for sockets that already have Web streams).
 *
 * @example Connect with the runtime's transport
 * ```ts
 * import { defaultConnect, defaultListen } from "./default.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await defaultListen({ port: 0 });
 * const client = await defaultConnect({ hostname: "127.0.0.1", port: listener.addr.port });
 * for await (const server of listener) {
 *   assert.equal(server.remoteAddr?.port, client.localAddr?.port);
 *   await server.close();
 *   break;
 * }
 * await client.closed;
 * await listener.close();
 * ```
 *
 * @module
 */

import { IllegalStateError } from "../errors.ts";
import type {
  Connect,
  ConnectOptions,
  Listen,
  Listener,
  ListenOptions,
  Transport,
} from "./types.ts";

/**
 * A runtime with a built-in transport adapter.
 *
 * @example
 * ```ts
 * import { detectRuntime, type RuntimeName } from "./default.ts";
 * import assert from "node:assert/strict";
 *
 * const runtime: RuntimeName | undefined = detectRuntime({ Deno: { version: { deno: "2.1.0" } } });
 * assert.equal(runtime, "deno");
 * ```
 */
export type RuntimeName = "deno" | "bun" | "node";

/**
 * The functions of a transport adapter module.
 *
 * @example Any connect/listen pair is an adapter
 * ```ts
 * import { loadAdapter, type TransportAdapter } from "./default.ts";
 * import { createMemoryNetwork } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const builtIn: TransportAdapter = await loadAdapter("deno");
 * const inMemory: TransportAdapter = createMemoryNetwork();
 * assert.equal(typeof builtIn.connect, "function");
 * assert.equal(typeof inMemory.listen, "function");
 * ```
 */
export interface TransportAdapter {
  /** Opens connections. */
  connect: Connect;
  /** Listens for connections. */
  listen: Listen;
}

/**
 * Tells which runtime the given globals belong to. Deno and Bun also provide
 * `process.versions.node`, so they are recognised first.
 *
 * @param globals The global object to inspect.
 * @returns The runtime, or `undefined` when none of the three is recognised.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./default.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(detectRuntime({ process: { versions: { node: "20.0.0" } } }), "node");
 * assert.equal(detectRuntime({ Bun: { version: "1.4.5" }, process: { versions: { node: "24.3.0" } } }), "bun");
 * assert.equal(detectRuntime({}), undefined);
 * ```
 */
export function detectRuntime(globals: object = globalThis): RuntimeName | undefined {
  const g = globals as {
    Deno?: { version?: { deno?: unknown } };
    Bun?: { version?: unknown };
    process?: { versions?: { node?: unknown; bun?: unknown } };
  };
  if (typeof g.Deno?.version?.deno === "string") return "deno";
  if (typeof g.Bun?.version === "string" || typeof g.process?.versions?.bun === "string") {
    return "bun";
  }
  if (typeof g.process?.versions?.node === "string") return "node";
  return undefined;
}

/**
 * Loads the transport adapter of a runtime.
 *
 * @param runtime Which adapter; by default the running runtime's.
 * @returns The adapter's `connect` and `listen`.
 * @throws {IllegalStateError} When the runtime has no built-in adapter.
 *
 * @example
 * ```ts
 * import { loadAdapter } from "./default.ts";
 * import { IllegalStateError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof (await loadAdapter()).connect, "function");
 * await assert.rejects(loadAdapter(undefined, {}), IllegalStateError);
 * ```
 */
export async function loadAdapter(
  runtime?: RuntimeName,
  globals: object = globalThis,
): Promise<TransportAdapter> {
  switch (runtime ?? detectRuntime(globals)) {
    case "deno":
      return await import("./deno.ts");
    case "bun":
      return await import("./bun.ts");
    case "node":
      return await import("./node.ts");
    default:
      throw new IllegalStateError(
        "no built-in transport for this runtime: pass a Connect/Listen function (see fromSocketLike)",
      );
  }
}

/**
 * Connects with the running runtime's adapter.
 *
 * @param options Where and how to connect.
 * @returns The connected transport.
 * @throws {ConnectionError} When the connection cannot be made.
 * @throws {IllegalStateError} When the runtime has no built-in adapter.
 *
 * @example
 * ```ts
 * import { defaultConnect } from "./default.ts";
 * import { ConnectionError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(defaultConnect({ hostname: "127.0.0.1", port: 1 }), ConnectionError);
 * ```
 */
export async function defaultConnect(options: ConnectOptions): Promise<Transport> {
  return await (await loadAdapter()).connect(options);
}

/**
 * Listens with the running runtime's adapter.
 *
 * @param options Where to listen.
 * @returns The listener.
 * @throws {ConnectionError} When the address cannot be listened on.
 * @throws {IllegalStateError} When the runtime has no built-in adapter.
 *
 * @example
 * ```ts
 * import { defaultListen } from "./default.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = await defaultListen({ hostname: "127.0.0.1", port: 0 });
 * assert.equal(listener.addr.hostname, "127.0.0.1");
 * await listener.close();
 * ```
 */
export async function defaultListen(options: ListenOptions): Promise<Listener> {
  return await (await loadAdapter()).listen(options);
}
