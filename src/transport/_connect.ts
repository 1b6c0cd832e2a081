// Option checking and the connect deadline, shared by the adapters.

import { ConnectionError, InvalidArgumentError } from "../errors.ts";
import { formatAddress, toConnectionError } from "./_socket.ts";
import type { ConnectOptions, ListenOptions, TlsOptions } from "./types.ts";

/** Default connect timeout, as Java's `connectTimeoutMillis`. */
export const DEFAULT_CONNECT_TIMEOUT = 3000;

const MAX_TIMER = 2_147_483_647;

/** Checked ConnectOptions. */
export interface ConnectTarget {
  hostname: string;
  port: number;
  /** `host:port`, for errors. */
  address: string;
  timeout: number;
  tls: TlsOptions | undefined;
  signal: AbortSignal | undefined;
}

/** Checked ListenOptions. */
export interface ListenTarget {
  hostname: string;
  port: number;
  address: string;
  tls: { cert: string; key: string } | undefined;
  /** TLS handshakes in progress at once (`ListenOptions.maxHandshakes`). */
  maxHandshakes: number;
  /** Milliseconds to finish a TLS handshake (`ListenOptions.handshakeTimeout`). */
  handshakeTimeout: number;
}

/** Default of `ListenOptions.maxHandshakes`. */
export const DEFAULT_MAX_HANDSHAKES = 1024;
/** Default of `ListenOptions.handshakeTimeout`. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

function checkHostname(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") {
    throw new InvalidArgumentError(path, "must be a non-empty string");
  }
  return value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
}

function checkPort(value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > 65535) {
    throw new InvalidArgumentError("port", `must be an integer from ${min} to 65535, got ${value}`);
  }
  return value;
}

function checkStrings(value: unknown, path: string): void {
  if (value !== undefined && typeof value !== "string") {
    throw new InvalidArgumentError(path, "must be a string");
  }
}

function checkTls(value: unknown): TlsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value !== "object" || value === null) {
    throw new InvalidArgumentError("tls", "must be a boolean or an object");
  }
  const tls = value as TlsOptions;
  if (
    tls.caCerts !== undefined &&
    (!Array.isArray(tls.caCerts) || !tls.caCerts.every((c) => typeof c === "string"))
  ) {
    throw new InvalidArgumentError("tls.caCerts", "must be an array of PEM strings");
  }
  checkStrings(tls.serverName, "tls.serverName");
  checkStrings(tls.cert, "tls.cert");
  checkStrings(tls.key, "tls.key");
  if (tls.insecure !== undefined && typeof tls.insecure !== "boolean") {
    throw new InvalidArgumentError("tls.insecure", "must be a boolean");
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new InvalidArgumentError("tls", "cert and key must be given together");
  }
  return tls;
}

/**
 * Checks connect options and fills defaults.
 * @throws {InvalidArgumentError} For a bad option.
 */
export function checkConnectOptions(options: ConnectOptions): ConnectTarget {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("options", "must be an object");
  }
  const hostname = checkHostname(options.hostname, "hostname");
  const port = checkPort(options.port, 1);
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  if (
    typeof timeout !== "number" || !(timeout > 0) || (timeout > MAX_TIMER && timeout !== Infinity)
  ) {
    throw new InvalidArgumentError(
      "timeout",
      `must be a positive number of milliseconds up to ${MAX_TIMER}, or Infinity, got ${timeout}`,
    );
  }
  const signal = options.signal;
  if (signal !== undefined && (typeof signal !== "object" || typeof signal.aborted !== "boolean")) {
    throw new InvalidArgumentError("signal", "must be an AbortSignal");
  }
  return {
    hostname,
    port,
    address: formatAddress(hostname, port),
    timeout,
    tls: checkTls(options.tls),
    signal,
  };
}

/**
 * Checks listen options and fills defaults.
 * @throws {InvalidArgumentError} For a bad option.
 */
export function checkListenOptions(options: ListenOptions): ListenTarget {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("options", "must be an object");
  }
  const hostname = checkHostname(options.hostname ?? "127.0.0.1", "hostname");
  const port = checkPort(options.port ?? 0, 0);
  const tls = options.tls;
  if (tls !== undefined && (typeof tls?.cert !== "string" || typeof tls?.key !== "string")) {
    throw new InvalidArgumentError("tls", "must have PEM strings cert and key");
  }
  const maxHandshakes = options.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES;
  if (!Number.isInteger(maxHandshakes) || maxHandshakes < 1) {
    throw new InvalidArgumentError(
      "maxHandshakes",
      `must be a positive integer, got ${maxHandshakes}`,
    );
  }
  const handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (
    typeof handshakeTimeout !== "number" || !(handshakeTimeout > 0) || handshakeTimeout > MAX_TIMER
  ) {
    throw new InvalidArgumentError(
      "handshakeTimeout",
      `must be a positive number of milliseconds up to ${MAX_TIMER}, got ${handshakeTimeout}`,
    );
  }
  return {
    hostname,
    port,
    address: formatAddress(hostname, port),
    tls,
    maxHandshakes,
    handshakeTimeout,
  };
}

/**
 * Runs `open` under the target's deadline and abort signal. When they fire
 * first, the promise rejects with a ConnectionError at once, `open`'s signal is
 * aborted (so it can release what it holds), and a value it still produces is
 * passed to `dispose`. Other failures of `open` become ConnectionErrors.
 */
export function dial<T>(
  target: ConnectTarget,
  open: (signal: AbortSignal) => Promise<T>,
  dispose: (value: T) => void,
): Promise<T> {
  const { address, timeout, signal } = target;
  if (signal?.aborted) {
    return Promise.reject(
      new ConnectionError(address, "connect aborted", { cause: signal.reason }),
    );
  }
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: ConnectionError): void => {
      cleanup();
      reject(error);
      controller.abort(error);
    };
    const onAbort = (): void =>
      fail(new ConnectionError(address, "connect aborted", { cause: signal?.reason }));
    if (timeout !== Infinity) {
      timer = setTimeout(
        () => fail(new ConnectionError(address, `connect timed out after ${timeout} ms`)),
        timeout,
      );
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = open(controller.signal);
    } catch (cause) {
      pending = Promise.reject(cause);
    }
    pending.then(
      (value) => {
        if (controller.signal.aborted) {
          dispose(value);
        } else {
          cleanup();
          resolve(value);
        }
      },
      (cause) => {
        if (controller.signal.aborted) return;
        cleanup();
        reject(toConnectionError(address, cause));
      },
    );
  });
}
