// The speed reference: NATS core request-reply with nats.js
// (@nats-io/transport-node), against a NATS server already running. One
// program, two roles, each run in its own process. Runs under Deno, Bun and
// Node (tsx).
//
//   node --import tsx tests/bench/nats_peer.ts --role responder --subject S [--server 127.0.0.1:4222]
//   node --import tsx tests/bench/nats_peer.ts --role requester --subject S \
//     [--concurrency 1] [--warmup-ms 1000] [--duration-ms 5000] [--body-size 64] [--cold]
//
// nats.js is not a dependency of the project: tests/bench/run.ts installs it
// into .cache/bench (gitignored) and passes --modules <that dir>/package.json.
// The responder replies with the request body reversed, as ours does.

import { createRequire } from "node:module";
import {
  Args,
  closedLoop,
  cpuMs,
  emit,
  exit,
  fatal,
  isReversed,
  makeBody,
  memoryKb,
  onStop,
  pid,
  runtimeName,
} from "./_common.ts";

const loadedAt = Date.now();

interface NatsMsg {
  data: Uint8Array;
  respond(data: Uint8Array): boolean;
}
interface NatsConnection {
  subscribe(subject: string, opts: { callback(err: unknown, msg: NatsMsg): void }): unknown;
  request(subject: string, data: Uint8Array, opts: { timeout: number }): Promise<NatsMsg>;
  flush(): Promise<void>;
  drain(): Promise<void>;
  close(): Promise<void>;
  info?: { version?: string };
}

async function main(): Promise<void> {
  const args = new Args();
  const role = args.str("role");
  const subject = args.str("subject");
  const server = args.str("server", "127.0.0.1:4222");
  const modules = args.str("modules");
  const watchStdin = args.flag("stdin-watch");
  const nats = createRequire(modules)("@nats-io/transport-node") as {
    connect(opts: { servers: string; noEcho?: boolean }): Promise<NatsConnection>;
  };
  if (role === "responder") {
    args.done();
    const nc = await nats.connect({ servers: server });
    nc.subscribe(subject, {
      callback: (err, msg) => {
        if (!err) msg.respond(msg.data.slice().reverse());
      },
    });
    await nc.flush();
    onStop(async () => {
      await nc.drain();
      emit({ event: "stopped", cpuMs: cpuMs(), ...await memoryKb() });
    }, watchStdin);
    emit({ event: "ready", runtime: runtimeName(), pid: pid(), version: nc.info?.version });
    return;
  }
  if (role !== "requester") throw new Error(`--role must be requester or responder, got ${role}`);
  const concurrency = args.num("concurrency", 1);
  const warmupMs = args.num("warmup-ms", 1000);
  const durationMs = args.num("duration-ms", 5000);
  const bodySize = args.num("body-size", 64);
  const timeout = args.num("timeout-ms", 10_000);
  const cold = args.flag("cold");
  const spawnEpochMs = args.num("spawn-epoch-ms", 0);
  args.done();
  const nc = await nats.connect({ servers: server });
  const once = async (seq: number): Promise<boolean> => {
    const body = makeBody(seq, bodySize);
    const reply = await nc.request(subject, body, { timeout });
    return isReversed(body, reply.data);
  };
  if (cold) {
    const ok = await once(1);
    const firstReplyEpochMs = Date.now();
    emit({
      event: "summary",
      runtime: runtimeName(),
      cold: true,
      ok,
      loadedEpochMs: loadedAt,
      firstReplyEpochMs,
      ...(spawnEpochMs > 0 ? { coldStartMs: firstReplyEpochMs - spawnEpochMs } : {}),
      cpuMs: cpuMs(),
      ...await memoryKb(),
    });
    await nc.close();
    return;
  }
  const run = await closedLoop({ concurrency, warmupMs, durationMs }, once);
  const seconds = run.elapsedMs / 1000;
  emit({
    event: "summary",
    runtime: runtimeName(),
    concurrency,
    version: nc.info?.version,
    ok: run.ok,
    errors: run.errors,
    mismatches: run.mismatches,
    ...(run.firstError ? { firstError: run.firstError } : {}),
    elapsedMs: Math.round(run.elapsedMs),
    throughputPerSec: seconds > 0 ? run.ok / seconds : 0,
    latencyMs: run.latencies.summary(),
    runCpuMs: Math.round(run.cpuMs),
    cpuMsPer1k: run.ok > 0 ? (run.cpuMs / run.ok) * 1000 : null,
    cpuMs: Math.round(cpuMs()),
    ...await memoryKb(),
  });
  await nc.close();
  exit(0);
}

main().catch(fatal);
