// Bench requester: our Producer.request() in closed loops, in its own process.
// Runs under Deno, Bun and Node (tsx); prints {"event":"summary",...} last.
//
//   deno run -A tests/bench/requester.ts --namesrv 127.0.0.1:9876 --topic T \
//     [--concurrency 1] [--warmup-ms 1000] [--duration-ms 5000] [--body-size 64]
//     [--timeout-ms 10000] [--cold]   (--cold: one request, report process start → reply)
//     [--spawn-epoch-ms N]             (when the orchestrator spawned us, for --cold)
//     [--stdin-watch]                  (exit when stdin closes)
//
// Replies must be the request body reversed (tests/bench/responder.ts and the
// Java Responder in "reverse" mode do that).

import { Producer } from "../../mod.ts";
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
  pid,
  runtimeName,
} from "./_common.ts";

const loadedAt = Date.now();

async function main(): Promise<void> {
  const args = new Args();
  const nameServer = args.str("namesrv");
  const topic = args.str("topic");
  const concurrency = args.num("concurrency", 1);
  const warmupMs = args.num("warmup-ms", 1000);
  const durationMs = args.num("duration-ms", 5000);
  const bodySize = args.num("body-size", 64);
  const timeout = args.num("timeout-ms", 10_000);
  const cold = args.flag("cold");
  const spawnEpochMs = args.num("spawn-epoch-ms", 0);
  args.flag("stdin-watch"); // accepted for symmetry; the requester ends by itself
  args.done();

  const producer = new Producer({ nameServer, group: `bench_req_${pid()}` });
  await producer.start();
  const startedAt = Date.now();
  const once = async (seq: number): Promise<boolean> => {
    const body = makeBody(seq, bodySize);
    const reply = await producer.request({ topic, body }, { timeout });
    return isReversed(body, reply.body);
  };

  if (cold) {
    const t0 = performance.now();
    const ok = await once(1);
    const firstReplyEpochMs = Date.now();
    emit({
      event: "summary",
      runtime: runtimeName(),
      cold: true,
      ok,
      requestMs: performance.now() - t0,
      loadedEpochMs: loadedAt,
      startedEpochMs: startedAt,
      firstReplyEpochMs,
      ...(spawnEpochMs > 0 ? { coldStartMs: firstReplyEpochMs - spawnEpochMs } : {}),
      cpuMs: cpuMs(),
      ...await memoryKb(),
    });
    await producer.close();
    return;
  }

  const run = await closedLoop({ concurrency, warmupMs, durationMs }, once);
  const seconds = run.elapsedMs / 1000;
  emit({
    event: "summary",
    runtime: runtimeName(),
    concurrency,
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
    stats: producer.stats,
  });
  await producer.close();
}

main().then(() => exit(0), fatal);
