// deno-lint-ignore-file no-console
// Figures for issue 12's features, with broker, responders and requester in
// ONE process over loopback TCP (as inproc.ts: no scheduling between
// processes, so the steadiest numbers this machine gives):
//
// 1. requestMany: replies per second with 3 responder groups answering each
//    request (scatter-gather, `responders: 3`), closed loops;
// 2. tracing: request p50 / p99 at 1 in flight without span hooks and with
//    OpenTelemetry (the ./otel adapter on an SDK tracer that records every
//    span), on requester and responder, runs interleaved to spread noise;
// 3. cancellation: time from the requester's abort to the handler's
//    `context.signal` firing (our broker here; tests/interop/features_test.ts
//    measures it through RocketMQ 5.5.0).
//
//   deno run -A tests/bench/features.ts [seconds=5]
//
// The machine is shared: read the figures as orders of magnitude.

import process from "node:process";
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import {
  type MessageHandler,
  Producer,
  PushConsumer,
  silentLogger,
  type SpanHooks,
  startBroker,
} from "../../mod.ts";
import { otelSpanHooks } from "../../src/otel.ts";

const seconds = Number(process.argv[2] ?? 5);
const broker = await startBroker({ port: 0, logger: silentLogger });
const nameServer = broker.address;
const closers: Array<() => Promise<void>> = [];

async function responders(
  topic: string,
  groups: number,
  handler: MessageHandler,
  spanHooks?: SpanHooks,
): Promise<PushConsumer[]> {
  const consumers = Array.from({ length: groups }, (_, i) => {
    const c = new PushConsumer({
      nameServer,
      group: `${topic}_g${i}`,
      ...(spanHooks ? { spanHooks } : {}),
    });
    c.subscribe(topic, "*", handler);
    closers.push(() => c.close());
    return c;
  });
  await Promise.all(consumers.map((c) => c.start()));
  while (consumers.some((c) => c.assignedQueues.filter((q) => q.topic === topic).length < 4)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return consumers;
}

async function producer(spanHooks?: SpanHooks): Promise<Producer> {
  const p = new Producer({
    nameServer,
    group: `bench_req_${closers.length}`,
    ...(spanHooks ? { spanHooks } : {}),
  });
  await p.start();
  closers.push(() => p.close());
  return p;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

// ---- 1. requestMany at 3 responders --------------------------------------------------------------

{
  const topic = "BenchMany";
  const requester = await producer();
  await requester.send({ topic, body: "create the topic" });
  await responders(topic, 3, (m) => m.body);
  const concurrency = 16;
  const run = async (ms: number) => {
    const until = performance.now() + ms;
    let replies = 0;
    let requests = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const stream = requester.requestMany({ topic, body: new Uint8Array(64) }, {
          timeout: 10_000,
          responders: 3,
        });
        for await (const _ of stream) replies++;
        requests++;
      }
    }));
    return { replies, requests };
  };
  await run(2000); // warm-up
  const t0 = performance.now();
  const { replies, requests } = await run(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  console.log(
    `requestMany, 3 responder groups, ${concurrency} in flight: ${
      (replies / elapsed).toFixed(0)
    } replies/s ` +
      `(${(requests / elapsed).toFixed(0)} requests/s, ${
        (replies / requests).toFixed(2)
      } replies each)`,
  );
}

// ---- 2. tracing overhead on request p50 -----------------------------------------------------------

{
  let exported = 0;
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], done) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const hooks = otelSpanHooks({ tracer: provider.getTracer("bench") });
  const plainTopic = "BenchPlain";
  const tracedTopic = "BenchTraced";
  const plain = await producer();
  const traced = await producer(hooks);
  await plain.send({ topic: plainTopic, body: "create the topic" });
  await plain.send({ topic: tracedTopic, body: "create the topic" });
  await responders(plainTopic, 1, (m) => m.body);
  await responders(tracedTopic, 1, (m) => m.body, hooks);
  const sample = async (p: Producer, topic: string, ms: number, into: number[]) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      const t = performance.now();
      await p.request({ topic, body: new Uint8Array(64) }, { timeout: 10_000 });
      into.push(performance.now() - t);
    }
  };
  await sample(plain, plainTopic, 1000, []);
  await sample(traced, tracedTopic, 1000, []);
  const a: number[] = [];
  const b: number[] = [];
  const rounds = 10;
  for (let i = 0; i < rounds; i++) {
    await sample(plain, plainTopic, seconds * 100, a);
    await sample(traced, tracedTopic, seconds * 100, b);
  }
  a.sort((x, y) => x - y);
  b.sort((x, y) => x - y);
  const [pa, pb] = [percentile(a, 0.5), percentile(b, 0.5)];
  console.log(
    `request at 1 in flight, p50/p99: no tracing ${pa.toFixed(3)}/${
      percentile(a, 0.99).toFixed(3)
    } ms ` +
      `(${a.length} requests); OpenTelemetry spans ${pb.toFixed(3)}/${
        percentile(b, 0.99).toFixed(3)
      } ms ` +
      `(${b.length} requests, ${exported} spans exported): p50 +${(pb - pa).toFixed(3)} ms ` +
      `(${((pb / pa - 1) * 100).toFixed(1)} %)`,
  );
  await provider.shutdown();
}

// ---- 3. cancellation: abort → the handler's signal ---------------------------------------------

{
  const topic = "BenchCancel";
  const requester = await producer();
  await requester.send({ topic, body: "create the topic" });
  let onStart: (() => void) | undefined;
  let onAbort: ((at: number) => void) | undefined;
  await responders(topic, 1, (_m, ctx) => {
    if (!ctx.isRequest) return undefined;
    onStart?.();
    return new Promise((resolve) => {
      ctx.signal.addEventListener("abort", () => {
        onAbort?.(performance.now());
        resolve(undefined);
      }, { once: true });
    });
  });
  const samples: number[] = [];
  for (let i = 0; i < 60; i++) {
    const started = new Promise<void>((resolve) => onStart = resolve);
    const signalled = new Promise<number>((resolve) => onAbort = resolve);
    const controller = new AbortController();
    const sent = requester.stats.sent;
    const pending = requester.request({ topic, body: "job" }, {
      timeout: 30_000,
      signal: controller.signal,
    }).catch(() => undefined);
    await started;
    while (requester.stats.sent === sent) await new Promise((r) => setTimeout(r, 1));
    const t = performance.now();
    controller.abort();
    samples.push(await signalled - t);
    await pending;
  }
  samples.splice(0, 10); // warm-up
  samples.sort((x, y) => x - y);
  console.log(
    `cancel, abort → handler signal on this broker: p50 ${
      percentile(samples, 0.5).toFixed(2)
    } ms, ` +
      `p99 ${percentile(samples, 0.99).toFixed(2)} ms (${samples.length} samples)`,
  );
}

for (const close of closers.reverse()) await close();
await broker.close();
process.exit(0);
