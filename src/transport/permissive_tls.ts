/**
 * TLS and plain TCP on one port, told apart by the first byte a client
 * sends, as RocketMQ's `tls.server.mode=permissive` does: `0x16` (a TLS
 * handshake record) is TLS, anything else is plain. Runtimes cannot all
 * start TLS on a socket they accepted (Deno cannot), so TLS clients are
 * relayed through a second, TLS listener on the loopback interface, and the
 * transports it yields carry the client's own address. Built from any
 * {@linkcode Listen} and {@linkcode Connect}: no runtime API here.
 *
 * @example A plain client on a permissive port
 * ```ts
 * import { listenPermissiveTls } from "./permissive_tls.ts";
 * import { connect, listen } from "./deno.ts";
 * import assert from "node:assert/strict";
 *
 * const tls = {
 *   cert: Deno.readTextFileSync("tests/fixtures/tls/server.pem"),
 *   key: Deno.readTextFileSync("tests/fixtures/tls/server.key"),
 * };
 * const listener = await listenPermissiveTls({ port: 0, tls }, { listen, connect });
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

import type { Connect, Listen, Listener, NetAddr, Transport } from "./types.ts";

/** First byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16;
/** Most ms a new connection may stay silent before it says what it speaks. */
const SNIFF_TIMEOUT = 30_000;
/** Most connections waiting to be iterated. */
const MAX_QUEUED = 1024;

/**
 * Options of {@linkcode listenPermissiveTls}.
 *
 * @example
 * ```ts
 * import type { PermissiveTlsOptions } from "./permissive_tls.ts";
 * import assert from "node:assert/strict";
 *
 * const options: PermissiveTlsOptions = { hostname: "0.0.0.0", port: 9876, tls: { cert: "…", key: "…" } };
 * assert.equal(options.port, 9876);
 * ```
 */
export interface PermissiveTlsOptions {
  /** Address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port; 0 picks a free one. @default {0} */
  port?: number;
  /** PEM certificate chain and private key. */
  tls: { cert: string; key: string };
  /**
   * Most ms a new connection may take to send its first byte; then it is
   * closed.
   * @default {30000}
   */
  sniffTimeout?: number;
}

class Queue {
  readonly #items: Transport[] = [];
  readonly #waiters: ((r: IteratorResult<Transport, undefined>) => void)[] = [];
  #closed = false;

  push(t: Transport): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ done: false, value: t });
    else if (!this.#closed && this.#items.length < MAX_QUEUED) this.#items.push(t);
    else void t.close();
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w({ done: true, value: undefined });
    for (const t of this.#items.splice(0)) void t.close();
  }

  iterator(): AsyncIterator<Transport, undefined> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item) return Promise.resolve({ done: false, value: item });
        if (this.#closed) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }
}

/** A transport that yields `first`, then the rest of `reader`. */
function prepended(
  base: Transport,
  first: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  remoteAddr: NetAddr | undefined = base.remoteAddr,
): Transport {
  let sentFirst = false;
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentFirst) {
        sentFirst = true;
        if (first.length > 0) {
          controller.enqueue(first);
          return;
        }
      }
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return {
    readable,
    writable: base.writable,
    localAddr: base.localAddr,
    remoteAddr,
    close: () => base.close(),
    closed: base.closed,
  };
}

async function firstChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  timeout: number,
): Promise<Uint8Array | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silent = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeout);
  });
  try {
    const read = reader.read().then((r) => (r.done ? undefined : r.value), () => undefined);
    return await Promise.race([read, silent]);
  } finally {
    clearTimeout(timer);
  }
}

async function pump(from: ReadableStreamDefaultReader<Uint8Array>, to: Transport): Promise<void> {
  const writer = to.writable.getWriter();
  try {
    for (;;) {
      const { value, done } = await from.read();
      if (done) break;
      await writer.write(value);
    }
  } finally {
    writer.releaseLock();
  }
}

/**
 * Listen for plain and TLS clients on one port.
 *
 * @param options Where to listen, and the certificate.
 * @param runtime The runtime's `listen` and `connect` (the relay connects to
 *   its own loopback TLS listener with `connect`).
 * @returns A listener of plain transports and of decrypted TLS transports.
 *   Closing it ends the iteration and closes connections not yet yielded;
 *   yielded ones (and their relays) stay open.
 * @throws {ConnectionError} When a port cannot be listened on.
 */
export async function listenPermissiveTls(
  options: PermissiveTlsOptions,
  runtime: { listen: Listen; connect: Connect },
): Promise<Listener> {
  const sniffTimeout = options.sniffTimeout ?? SNIFF_TIMEOUT;
  const outer = await runtime.listen({
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  let inner: Listener;
  try {
    inner = await runtime.listen({ hostname: "127.0.0.1", port: 0, tls: options.tls });
  } catch (err) {
    await outer.close();
    throw err;
  }
  const queue = new Queue();
  /** Local port of each relay connection → the TLS client's own address. */
  const relayed = new Map<number, NetAddr | undefined>();
  /** Connections that have not said yet what they speak. */
  const sniffing = new Set<Transport>();
  let closing: Promise<void> | undefined;

  const relay = async (
    client: Transport,
    first: Uint8Array,
    reader: ReadableStreamDefaultReader<Uint8Array>,
  ) => {
    let hop: Transport;
    try {
      hop = await runtime.connect({ hostname: "127.0.0.1", port: inner.addr.port });
    } catch {
      await client.close();
      return;
    }
    const port = hop.localAddr?.port;
    if (port === undefined) {
      await Promise.all([client.close(), hop.close()]);
      return;
    }
    relayed.set(port, client.remoteAddr);
    const done = () => {
      relayed.delete(port);
      void client.close();
      void hop.close();
    };
    void client.closed.then(done);
    void hop.closed.then(done);
    const hopReader = hop.readable.getReader();
    void pump(prepended(client, first, reader).readable.getReader(), hop).catch(done).then(done);
    void pump(hopReader, client).catch(done).then(done);
  };

  const sniff = async (client: Transport) => {
    sniffing.add(client);
    const reader = client.readable.getReader();
    const first = await firstChunk(reader, sniffTimeout);
    sniffing.delete(client);
    if (first === undefined || closing) {
      await client.close();
      return;
    }
    if (first[0] === TLS_HANDSHAKE) await relay(client, first, reader);
    else queue.push(prepended(client, first, reader));
  };

  const outerLoop = (async () => {
    for await (const client of outer) void sniff(client);
  })().catch(() => {});
  const innerLoop = (async () => {
    for await (const decrypted of inner) {
      const port = decrypted.remoteAddr?.port;
      if (port === undefined || !relayed.has(port)) {
        void decrypted.close(); // not one of our relays
        continue;
      }
      const remoteAddr = relayed.get(port);
      queue.push({
        readable: decrypted.readable,
        writable: decrypted.writable,
        localAddr: decrypted.localAddr,
        remoteAddr,
        close: () => decrypted.close(),
        closed: decrypted.closed,
      });
    }
  })().catch(() => {});

  return {
    addr: outer.addr,
    [Symbol.asyncIterator]: () => queue.iterator(),
    close() {
      closing ??= (async () => {
        queue.close();
        await Promise.all([outer.close(), inner.close()]);
        // Connections still sniffed were not handed over: ours to close.
        await Promise.all([...sniffing].map((t) => t.close()));
        await Promise.all([outerLoop, innerLoop]);
      })();
      return closing;
    },
  };
}
