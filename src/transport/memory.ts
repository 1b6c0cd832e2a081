/**
 * In-memory transports with the semantics of the TCP ones (see
 * {@linkcode Transport}): for unit tests, examples and embedding a broker in
 * the same process. No runtime API, no timers.
 *
 * Like a socket, a pair copies each written chunk and delivers it in
 * segments of at most 64 KiB; a write resolves once the peer's readable
 * queue took all of it, so a reader that does not read stalls the writer.
 *
 * @example A client and a server in one process
 * ```ts
 * import { createMemoryNetwork } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const net = createMemoryNetwork();
 * const listener = await net.listen({ port: 9876 });
 * const client = await net.connect({ hostname: "127.0.0.1", port: 9876 });
 * const iterator = listener[Symbol.asyncIterator]();
 * const server = (await iterator.next()).value!;
 * await client.writable.getWriter().write(new Uint8Array([42]));
 * assert.deepEqual((await server.readable.getReader().read()).value, new Uint8Array([42]));
 * await client.close();
 * await server.closed;
 * await listener.close();
 * ```
 *
 * @module
 */

import { ConnectionError } from "../errors.ts";
import { checkConnectOptions, checkListenOptions } from "./_connect.ts";
import {
  AcceptQueue,
  formatAddress,
  type SocketDriver,
  type SocketEvents,
  socketTransport,
} from "./_socket.ts";
import type { Connect, Listen, NetAddr, Transport } from "./types.ts";

const SEGMENT = 64 * 1024;

/** One end of a pair: delivers its writes to the other end's events. */
class MemoryEnd implements SocketDriver {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  events!: SocketEvents;
  peer!: MemoryEnd;
  paused = false;
  /** Set by destroy(); settles once the peer was told and this end closed. */
  gone: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(localAddr: NetAddr, remoteAddr: NetAddr) {
    this.localAddr = localAddr;
    this.remoteAddr = remoteAddr;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const peer = this.peer;
    for (let offset = 0; offset < chunk.byteLength; offset += SEGMENT) {
      while (peer.paused && !peer.gone && !this.gone) {
        await new Promise<void>((resolve) => this.#wake = resolve);
      }
      if (this.gone || peer.gone) {
        await peer.gone; // the end reaches this side first, as with TCP
        throw new Error("connection closed");
      }
      peer.events.data(chunk.slice(offset, offset + SEGMENT));
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.peer.wake();
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  destroy(): void {
    this.gone = Promise.resolve().then(() => {
      if (!this.peer.gone) this.peer.events.end();
      this.events.closed();
    });
    this.wake();
    this.peer.wake();
  }
}

/**
 * Addresses of the first transport of a {@linkcode memoryPair}.
 *
 * @example
 * ```ts
 * import { memoryPair, type MemoryPairOptions } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const options: MemoryPairOptions = {
 *   localAddr: { hostname: "10.0.0.5", port: 50000 },
 *   remoteAddr: { hostname: "10.0.0.1", port: 10911 },
 * };
 * const [client, server] = memoryPair(options);
 * assert.deepEqual(client.remoteAddr, { hostname: "10.0.0.1", port: 10911 });
 * assert.deepEqual(server.remoteAddr, { hostname: "10.0.0.5", port: 50000 }); // mirrored
 * await client.close();
 * await server.closed;
 * ```
 */
export interface MemoryPairOptions {
  /** Local address of the first transport (remote of the second). @default {{ hostname: "memory", port: 1 }} */
  localAddr?: NetAddr;
  /** Remote address of the first transport (local of the second). @default {{ hostname: "memory", port: 2 }} */
  remoteAddr?: NetAddr;
}

/**
 * Two transports connected to each other in memory.
 *
 * @param options Addresses to report.
 * @returns The two ends; what one writes, the other reads.
 *
 * @example Backpressure: a write waits for the reader
 * ```ts
 * import { memoryPair } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = memoryPair();
 * let written = false;
 * const write = a.writable.getWriter().write(new Uint8Array(1024 * 1024)).then(() => written = true);
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * assert.equal(written, false); // b has not read: its queue is full
 * let received = 0;
 * for await (const chunk of b.readable) {
 *   received += chunk.byteLength;
 *   if (received === 1024 * 1024) break; // cancels b's readable: closes b
 * }
 * await write;
 * await a.closed;
 * ```
 */
export function memoryPair(options: MemoryPairOptions = {}): [Transport, Transport] {
  const one = options.localAddr ?? { hostname: "memory", port: 1 };
  const two = options.remoteAddr ?? { hostname: "memory", port: 2 };
  const a = new MemoryEnd(one, two);
  const b = new MemoryEnd(two, one);
  a.peer = b;
  b.peer = a;
  const ta = socketTransport(formatAddress(two.hostname, two.port), a);
  const tb = socketTransport(formatAddress(one.hostname, one.port), b);
  a.events = ta.events;
  b.events = tb.events;
  return [ta.transport, tb.transport];
}

/**
 * A private in-memory network: a {@linkcode Connect} and a {@linkcode Listen} that reach each other.
 *
 * @example Networks do not see each other
 * ```ts
 * import { createMemoryNetwork, type MemoryNetwork } from "./memory.ts";
 * import { ConnectionError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const a: MemoryNetwork = createMemoryNetwork();
 * const b: MemoryNetwork = createMemoryNetwork();
 * const listener = await a.listen({ hostname: "127.0.0.1", port: 9876 });
 * await assert.rejects(b.connect({ hostname: "127.0.0.1", port: 9876 }), ConnectionError);
 * await listener.close();
 * ```
 */
export interface MemoryNetwork {
  /** Connects to a listener of this network; refused when none listens there. */
  connect: Connect;
  /** Listens on this network; port 0 picks a free one. */
  listen: Listen;
}

/**
 * A private in-memory network. `connect` reaches a listener of the same
 * network whose `hostname` (compared as a string, no name resolution) and
 * port match; otherwise it rejects with a `ConnectionError` ("connection
 * refused"). TLS options are checked and then ignored. Nothing is global:
 * two networks never see each other.
 *
 * @returns The network's connect and listen functions.
 *
 * @example Refused without a listener
 * ```ts
 * import { createMemoryNetwork } from "./memory.ts";
 * import { ConnectionError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const net = createMemoryNetwork();
 * await assert.rejects(net.connect({ hostname: "127.0.0.1", port: 1 }), ConnectionError);
 * ```
 */
export function createMemoryNetwork(): MemoryNetwork {
  const listeners = new Map<string, AcceptQueue>();
  let nextPort = 49152;
  const freePort = (hostname: string): number => {
    for (let i = 0; i < 16384; i++) {
      const port = nextPort;
      nextPort = nextPort === 65535 ? 49152 : nextPort + 1;
      if (!listeners.has(formatAddress(hostname, port))) return port;
    }
    throw new ConnectionError(formatAddress(hostname, 0), "no free port");
  };
  const connect: Connect = async (options) => {
    const target = checkConnectOptions(options);
    if (target.signal?.aborted) {
      throw new ConnectionError(target.address, "connect aborted", { cause: target.signal.reason });
    }
    const queue = listeners.get(target.address);
    if (!queue) throw new ConnectionError(target.address, "connection refused");
    await Promise.resolve();
    const local = { hostname: target.hostname, port: freePort(target.hostname) };
    const remote = { hostname: target.hostname, port: target.port };
    const [client, server] = memoryPair({ localAddr: local, remoteAddr: remote });
    queue.push(server);
    return client;
  };
  const listen: Listen = async (options) => {
    const target = checkListenOptions(options);
    const port = target.port === 0 ? freePort(target.hostname) : target.port;
    const address = formatAddress(target.hostname, port);
    if (listeners.has(address)) {
      throw new ConnectionError(address, "cannot listen: address already in use");
    }
    const queue = new AcceptQueue();
    listeners.set(address, queue);
    await Promise.resolve();
    return {
      addr: { hostname: target.hostname, port },
      [Symbol.asyncIterator]: () => queue.iterator(),
      close() {
        if (listeners.get(address) === queue) listeners.delete(address);
        queue.close();
        return Promise.resolve();
      },
    };
  };
  return { connect, listen };
}
