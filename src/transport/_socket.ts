// The runtime-independent half of every adapter: turns a callback-style socket
// (a "driver") into a Transport with the semantics documented in types.ts, and
// queues accepted connections for a Listener. Adapters only translate their
// runtime's events into SocketEvents calls.

import { ConnectionClosedError, ConnectionError, InvalidArgumentError } from "../errors.ts";
import type { NetAddr, Transport } from "./types.ts";

/** Bytes the readable side queues before it pauses the socket. */
export const READ_HIGH_WATER_MARK = 64 * 1024;

/** Accepted connections a listener queues before it closes new ones. */
export const MAX_PENDING_ACCEPTS = 128;

/** What an adapter implements. */
export interface SocketDriver {
  readonly localAddr: NetAddr | undefined;
  readonly remoteAddr: NetAddr | undefined;
  /** Hands every byte of a non-empty chunk to the OS; rejects if the socket failed or closed. */
  write(chunk: Uint8Array): Promise<void>;
  /** Stops delivering `data` events until `resume()`; a few may still arrive. */
  pause(): void;
  resume(): void;
  /**
   * Releases the socket now (bytes already handed to the OS are still sent).
   * Called at most once, and not after `closed()`. Must make a pending
   * `write` settle and lead to exactly one `closed()` event.
   */
  destroy(): void;
}

/** What an adapter calls, in this order: data* then (end | error)? then closed. */
export interface SocketEvents {
  /** Bytes from the peer; the chunk is not reused by the adapter. */
  data(chunk: Uint8Array): void;
  /** Orderly end of the peer's stream. */
  end(): void;
  /** The socket failed; `cause` is the runtime's error. */
  error(cause: unknown): void;
  /** The socket is released (after destroy(), or on its own). */
  closed(): void;
}

/** `host:port`, with brackets around IPv6 addresses. */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** A NetAddr, its family inferred from the hostname when not given. */
export function netAddr(hostname: string, port: number, family?: string): NetAddr {
  const f = family === "IPv4" || family === "IPv6"
    ? family
    : family === undefined && /^[0-9.]+$/.test(hostname)
    ? "IPv4"
    : family === undefined && hostname.includes(":")
    ? "IPv6"
    : undefined;
  return f ? { hostname, port, family: f } : { hostname, port };
}

const PROBLEMS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ECONNABORTED: "connection aborted",
  EPIPE: "broken pipe",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found (temporary name resolution failure)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  ConnectionRefused: "connection refused",
  ConnectionReset: "connection reset by peer",
  ConnectionAborted: "connection aborted",
  BrokenPipe: "broken pipe",
  TimedOut: "timed out",
  AddrInUse: "address already in use",
  AddrNotAvailable: "address not available",
  PermissionDenied: "permission denied",
};

/** A short description of a runtime's socket error. */
export function describeCause(cause: unknown): string {
  if (typeof cause === "object" && cause !== null) {
    const { code, name, message } = cause as { code?: unknown; name?: unknown; message?: unknown };
    const known = (typeof code === "string" && PROBLEMS[code]) ||
      (typeof name === "string" && PROBLEMS[name]);
    if (known) return known;
    if (typeof message === "string" && message) return message;
  }
  return String(cause);
}

/** The cause as a ConnectionError for `address` (kept as is if it already is one). */
export function toConnectionError(address: string, cause: unknown, prefix = ""): ConnectionError {
  if (cause instanceof ConnectionError) return cause;
  return new ConnectionError(address, prefix + describeCause(cause), { cause });
}

/**
 * Builds a Transport on a driver. Returns the events the adapter must call.
 * `address` (`host:port` of the peer) names the peer in errors.
 */
export function socketTransport(
  address: string,
  driver: SocketDriver,
): { transport: Transport; events: SocketEvents } {
  let open = true;
  let released = false;
  let readDone = false;
  let writeDone = false;
  let paused = false;
  let closedError: ConnectionClosedError | undefined;
  let readController!: ReadableStreamDefaultController<Uint8Array>;
  let writeController!: WritableStreamDefaultController;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => resolveClosed = resolve);

  function shutdown(failure?: ConnectionError): void {
    if (!open) return;
    open = false;
    closedError = new ConnectionClosedError(address, failure ? { cause: failure } : undefined);
    if (!readDone) {
      readDone = true;
      if (failure) readController.error(failure);
      else readController.close();
    }
    if (!writeDone) {
      writeDone = true;
      writeController.error(closedError);
    }
    if (!released) driver.destroy();
  }

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      readController = controller;
    },
    pull() {
      if (paused && open) {
        paused = false;
        driver.resume();
      }
    },
    cancel() {
      readDone = true;
      shutdown();
    },
  }, { highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });

  const writable = new WritableStream<Uint8Array>({
    start(controller) {
      writeController = controller;
    },
    async write(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        const error = new InvalidArgumentError("chunk", "must be a Uint8Array");
        shutdown();
        throw error;
      }
      if (!open) throw closedError;
      if (chunk.byteLength === 0) return;
      try {
        await driver.write(chunk);
      } catch (cause) {
        // A write fails only because the socket failed or was closed.
        if (open) shutdown(toConnectionError(address, cause));
        throw closedError;
      }
      // Closed meanwhile: the bytes may not have left (Node reports writes
      // cut off by destroy() as successful).
      if (!open) throw closedError;
    },
    async close() {
      writeDone = true;
      shutdown();
      await closed;
    },
    abort() {
      writeDone = true;
      shutdown();
    },
  });

  const events: SocketEvents = {
    data(chunk) {
      if (!open || readDone) return;
      readController.enqueue(chunk);
      if (!paused && (readController.desiredSize ?? 0) <= 0) {
        paused = true;
        driver.pause();
      }
    },
    end() {
      if (!open) return;
      readDone = true;
      readController.close();
      shutdown();
    },
    error(cause) {
      shutdown(toConnectionError(address, cause));
    },
    closed() {
      released = true;
      shutdown();
      resolveClosed();
    },
  };

  const transport: Transport = {
    readable,
    writable,
    localAddr: driver.localAddr,
    remoteAddr: driver.remoteAddr,
    close() {
      shutdown();
      return closed;
    },
    closed,
  };
  return { transport, events };
}

/** Accepted transports waiting for a Listener's iterator; bounded. */
export class AcceptQueue {
  #items: Transport[] = [];
  #waiters: ((result: IteratorResult<Transport, undefined>) => void)[] = [];
  #closed = false;

  /** Hands a transport to a waiting iterator, queues it, or closes it when full or closed. */
  push(transport: Transport): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ done: false, value: transport });
    else if (!this.#closed && this.#items.length < MAX_PENDING_ACCEPTS) {
      this.#items.push(transport);
    } else transport.close();
  }

  /** Ends iterations and closes the queued transports. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter({ done: true, value: undefined });
    for (const transport of this.#items.splice(0)) transport.close();
  }

  /** An async iterator over accepted transports. */
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
