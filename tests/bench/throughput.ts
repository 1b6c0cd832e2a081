// Bench: send throughput (pipelined Producer.send) and pull-path throughput
// (a PushConsumer draining a backlog), our client, in its own process. Runs
// under Deno, Bun and Node (tsx).
//
//   deno run -A tests/bench/throughput.ts --role send --namesrv A --topic T \
//     [--count 100000] [--inflight 128] [--body-size 1024]
//   deno run -A tests/bench/throughput.ts --role consume --namesrv A --topic T --group G \
//     [--count 100000] [--timeout-ms 120000]
//
// `consume` starts from the first offset of a group without offsets and
// measures first message → count-th message (plus start → count-th).

import { Producer, PushConsumer } from "../../mod.ts";
import {
  Args,
  cpuMs,
  emit,
  exit,
  fatal,
  Latencies,
  makeBody,
  memoryKb,
  pid,
  runtimeName,
} from "./_common.ts";

async function send(args: Args, nameServer: string, topic: string): Promise<void> {
  const count = args.num("count", 100_000);
  const inflight = args.num("inflight", 128);
  const bodySize = args.num("body-size", 1024);
  args.done();
  const producer = new Producer({ nameServer, group: `bench_send_${pid()}` });
  await producer.start();
  // One send first: route lookup and connection are not part of the rate.
  await producer.send({ topic, body: makeBody(0, bodySize) });
  const latencies = new Latencies();
  let next = 1, ok = 1, errors = 0;
  let firstError: string | undefined;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < count) {
      const body = makeBody(next++, bodySize);
      const s = performance.now();
      try {
        await producer.send({ topic, body });
        latencies.add(performance.now() - s);
        ok++;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
  }));
  const elapsedMs = performance.now() - t0;
  const runCpuMs = cpuMs() - cpu0;
  emit({
    event: "summary",
    role: "send",
    runtime: runtimeName(),
    inflight,
    sent: count,
    ok,
    errors,
    ...(firstError ? { firstError } : {}),
    elapsedMs: Math.round(elapsedMs),
    throughputPerSec: (ok - 1) / (elapsedMs / 1000),
    latencyMs: latencies.summary(),
    runCpuMs: Math.round(runCpuMs),
    cpuMsPer1k: ok > 1 ? (runCpuMs / (ok - 1)) * 1000 : null,
    ...await memoryKb(),
  });
  await producer.close();
}

async function consume(args: Args, nameServer: string, topic: string): Promise<void> {
  const count = args.num("count", 100_000);
  const group = args.str("group");
  const timeout = args.num("timeout-ms", 120_000);
  args.done();
  const consumer = new PushConsumer({ nameServer, group, consumeFrom: "first" });
  let received = 0;
  let first = 0;
  let cpu0 = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => resolve = r);
  consumer.subscribe(topic, "*", () => {
    if (received++ === 0) {
      first = performance.now();
      cpu0 = cpuMs();
    }
    if (received === count) resolve();
  });
  const t0 = performance.now();
  await consumer.start();
  const timer = setTimeout(resolve, timeout);
  await done;
  clearTimeout(timer);
  const end = performance.now();
  const runCpuMs = cpuMs() - cpu0;
  const elapsedMs = end - first;
  emit({
    event: "summary",
    role: "consume",
    runtime: runtimeName(),
    count: received,
    complete: received >= count,
    elapsedMs: Math.round(elapsedMs),
    sinceStartMs: Math.round(end - t0),
    throughputPerSec: received / (elapsedMs / 1000),
    runCpuMs: Math.round(runCpuMs),
    cpuMsPer1k: received > 0 ? (runCpuMs / received) * 1000 : null,
    ...await memoryKb(),
  });
  await consumer.close();
}

async function main(): Promise<void> {
  const args = new Args();
  const role = args.str("role");
  const nameServer = args.str("namesrv");
  const topic = args.str("topic");
  args.flag("stdin-watch");
  if (role === "send") await send(args, nameServer, topic);
  else if (role === "consume") await consume(args, nameServer, topic);
  else throw new Error(`--role must be send or consume, got ${role}`);
}

main().then(() => exit(0), fatal);
