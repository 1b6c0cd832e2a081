// deno-lint-ignore-file no-console
/**
 * The demo behind `deno task demo`: starts the embedded broker (name server
 * and broker on one port), a responder and a requester, runs a few hundred
 * requests in each of the four forms (promise, callback, queue selector,
 * explicit queue), and prints sample replies and latency percentiles.
 *
 *   deno task demo                  # embedded broker
 *   NAMESRV_ADDR=host:9876 deno task demo   # a real RocketMQ cluster instead
 *   DEMO_REQUESTS=1000 deno task demo
 */
import {
  bodyText,
  type MessageQueue,
  Producer,
  PushConsumer,
  type ReplyMessage,
  type RequestOptions,
} from "../mod.ts";
import { env, nameServer, uniqueTopic } from "./_shared.ts";

const perForm = Number(env("DEMO_REQUESTS") ?? 300);
const concurrency = Number(env("DEMO_CONCURRENCY") ?? 16);

const server = await nameServer();
console.log(`broker: ${server.address}${env("NAMESRV_ADDR") ? "" : " (embedded)"}`);
const topic = uniqueTopic("demo");

const responder = new PushConsumer({ nameServer: server.address, group: `${topic}_responders` });
responder.subscribe(topic, "*", (request) => `pong #${bodyText(request).slice(5)}`);
await responder.start();

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();

const selector = (queues: readonly MessageQueue[], _m: unknown, arg: unknown) =>
  queues[Number(arg) % queues.length]!;
// A first plain message creates the topic and tells which broker hosts it,
// so the explicit-queue form can pin queue 0 of that broker.
const probe = await requester.send({ topic, body: "probe" });
const pinned: MessageQueue = { ...probe.queue, queueId: 0 };
// The responder takes its share of the new topic's queues on its next rebalance.
while (!responder.assignedQueues.some((q) => q.topic === topic)) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}

type Form = "promise" | "callback" | "selector" | "queue";

function requestOnce(form: Form, i: number): Promise<ReplyMessage> {
  const message = { topic, body: `ping ${i}` };
  const options: RequestOptions = { timeout: 5000 };
  switch (form) {
    case "promise":
      return requester.request(message, options);
    case "callback":
      return new Promise((resolve, reject) => {
        requester.request(message, options, { onSuccess: resolve, onException: reject });
      });
    case "selector":
      return requester.request(message, { ...options, selector, arg: i });
    case "queue":
      return requester.request(message, { ...options, queue: pinned });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

console.log(`${perForm} requests per form, ${concurrency} in flight\n`);
console.log("form      ok    failed   p50 ms   p90 ms   p99 ms   max ms   req/s   sample reply");
for (const form of ["promise", "callback", "selector", "queue"] as const) {
  const latencies: number[] = [];
  let failed = 0;
  let sample = "";
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < perForm) {
      const i = next++;
      const t0 = performance.now();
      try {
        const reply = await requestOnce(form, i);
        latencies.push(performance.now() - t0);
        if (i === 0 || !sample) sample = bodyText(reply);
      } catch (err) {
        failed++;
        if (failed === 1) console.error(`  ${form}: ${err instanceof Error ? err.message : err}`);
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(
    `${form.padEnd(8)} ${String(latencies.length).padStart(4)} ${String(failed).padStart(8)} ` +
      `${f(percentile(latencies, 50))} ${f(percentile(latencies, 90))} ${
        f(percentile(latencies, 99))
      } ` +
      `${f(latencies.at(-1) ?? NaN)} ${
        (latencies.length / seconds).toFixed(0).padStart(7)
      }   ${sample}`,
  );
}

const stats = requester.stats;
console.log(
  `\nrequester: ${stats.replied} replies, ${stats.timedOut} timeouts, ${stats.lateReplies} late replies dropped`,
);
console.log(
  `responder: ${responder.stats.replied} replies sent, ${responder.stats.expiredRequests} expired requests skipped`,
);

await requester.close();
await responder.close();
await server.close();
