// Shared by the examples: where the broker is, and a way to run them on any runtime.
//
// Set NAMESRV_ADDR (as for the Java client) to run an example against a real
// RocketMQ name server or a running `deno task broker`; without it, the
// example starts the embedded broker in-process.
import { startBroker } from "../src/broker/mod.ts";

interface EnvLike {
  Deno?: { env: { get(name: string): string | undefined } };
  process?: { env: Record<string, string | undefined> };
}

/** Read an environment variable on Deno, Bun or Node. */
export function env(name: string): string | undefined {
  const g = globalThis as EnvLike;
  return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
}

/** The name server to use, and a function that releases what was started for it. */
export async function nameServer(): Promise<{ address: string; close(): Promise<void> }> {
  const given = env("NAMESRV_ADDR");
  if (given) return { address: given, close: () => Promise.resolve() };
  const broker = await startBroker({ port: 0 });
  return { address: broker.address, close: () => broker.close() };
}

/** A topic name unique to this run, so examples do not see each other's leftovers. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}`;
}
