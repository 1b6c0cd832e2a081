// Shared by the transport tests: the adapters of the running runtime, TLS
// fixtures, and small stream helpers. Runtime-neutral (Deno, Node via tsx, Bun).

import { readFileSync } from "node:fs";
import { concat } from "../../src/bytes.ts";
import { detectRuntime } from "../../src/transport/default.ts";
import { createMemoryNetwork } from "../../src/transport/memory.ts";
import type { Connect, Listen, Listener, Transport } from "../../src/transport/types.ts";

/** One transport implementation under test. */
export interface AdapterCase {
  name: string;
  connect: Connect;
  listen: Listen;
  /** Real sockets: TLS, timeouts, resets and IPv6 apply. */
  tcp: boolean;
  /** Whether `tls.insecure` is supported. */
  insecure: boolean;
}

/**
 * The adapters available here: the runtime's own, the node:net one where the
 * runtime has node compatibility, and the in-memory network.
 */
export async function adapterCases(): Promise<AdapterCase[]> {
  const runtime = detectRuntime();
  const cases: AdapterCase[] = [];
  if (runtime === "deno") {
    const { connect, listen } = await import("../../src/transport/deno.ts");
    cases.push({ name: "deno", connect, listen, tcp: true, insecure: false });
  }
  if (runtime === "bun") {
    const { connect, listen } = await import("../../src/transport/bun.ts");
    cases.push({ name: "bun", connect, listen, tcp: true, insecure: true });
  }
  if (runtime !== undefined) {
    const { connect, listen } = await import("../../src/transport/node.ts");
    cases.push({ name: "node", connect, listen, tcp: true, insecure: true });
  }
  const memory = createMemoryNetwork();
  cases.push({ name: "memory", ...memory, tcp: false, insecure: true });
  return cases;
}

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), "utf8");

/** Test-only TLS material (see tests/fixtures/tls/README.md). */
export const TLS = {
  ca: fixture("ca.pem"),
  serverCert: fixture("server.pem"),
  serverKey: fixture("server.key"),
  clientCert: fixture("client.pem"),
  clientKey: fixture("client.key"),
};

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** A listener whose accepted transports are collected and closed with it. */
export interface Server {
  listener: Listener;
  port: number;
  accepted: Transport[];
  /** Resolves with the n-th accepted transport (0-based). */
  nth(n: number): Promise<Transport>;
  close(): Promise<void>;
}

export async function serve(
  listen: Listen,
  options: Parameters<Listen>[0] = {},
  onAccept?: (transport: Transport) => void,
): Promise<Server> {
  const listener = await listen(options);
  const accepted: Transport[] = [];
  const waiters: (() => void)[] = [];
  const loop = (async () => {
    for await (const transport of listener) {
      accepted.push(transport);
      onAccept?.(transport);
      for (const wake of waiters.splice(0)) wake();
    }
  })();
  const nth = async (n: number): Promise<Transport> => {
    while (accepted.length <= n) await new Promise<void>((resolve) => waiters.push(resolve));
    return accepted[n]!;
  };
  return {
    listener,
    port: listener.addr.port,
    accepted,
    nth,
    async close() {
      await listener.close();
      await loop;
      await Promise.all(accepted.map((t) => t.close()));
    },
  };
}

/** Echoes everything back. */
export function echo(transport: Transport): void {
  transport.readable.pipeTo(transport.writable).catch(() => {});
}

/** Reads a stream to its end. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readable) chunks.push(chunk);
  return concat(chunks);
}

/** Reads exactly n bytes (or fewer if the stream ends). */
export async function readN(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    have += value.byteLength;
  }
  return concat(chunks);
}

/** Waits until `value()` has not changed for `quietMs` (or `maxMs` passed). */
export async function waitUntilStable(
  value: () => number,
  quietMs = 300,
  maxMs = 20_000,
): Promise<void> {
  const start = Date.now();
  let last = value();
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() - start < maxMs) {
    await sleep(20);
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** Byte `offset` of the test pattern. */
export function patternByte(offset: number): number {
  return (offset * 31 + (offset >>> 12) * 7) & 0xff;
}

/** `length` bytes of the test pattern starting at `offset`. */
export function pattern(offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = patternByte(offset + i);
  return bytes;
}
