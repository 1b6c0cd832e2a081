// deno-lint-ignore-file no-console
// Figures for the responder's edges (issue 10), on the embedded broker over
// loopback TCP. Not a test: it prints what it measured, one JSON line per
// figure.
//
//   deno run -A tests/bench/responder_edges.ts [rounds]
//
// - fresh_topic_ms: first round trip on a topic the request creates, its
//   responder subscribed (and started) before;
// - fail_fast_online_ms / fail_fast_gone_ms: a failFast request to a new
//   topic whose responder is online (answered), and one right after the
//   responder closed (NoResponderError);
// - hung_recovery_ms: with every handler slot hung on requests of 200 ms,
//   the round trip of the next request;
// - drain_close_ms: close({ drainTimeout: 300 }) while a handler hangs.
import { bodyText, NoResponderError, Producer, PushConsumer } from "../../mod.ts";
import { startBroker } from "../../src/broker/mod.ts";

const rounds = Number((globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? 20);
const broker = await startBroker({ port: 0 });
const requester = new Producer({ nameServer: broker.address, group: "bench_edges" });
await requester.start();
let n = 0;
const unique = (p: string) => `${p}_${Date.now().toString(36)}_${n++}`;

function summary(name: string, values: number[]): void {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  console.log(JSON.stringify({
    figure: name,
    n: values.length,
    min: Math.round(sorted[0]!),
    p50: Math.round(at(0.5)),
    p90: Math.round(at(0.9)),
    max: Math.round(sorted[sorted.length - 1]!),
  }));
}

const fresh: number[] = [];
const online: number[] = [];
const gone: number[] = [];
for (let i = 0; i < rounds; i++) {
  const topic = unique("fresh");
  const consumer = new PushConsumer({ nameServer: broker.address, group: unique("g") });
  consumer.subscribe(topic, "*", (m) => bodyText(m));
  await consumer.start();
  let t = performance.now();
  await requester.request({ topic, body: "x" }, { timeout: 5000 });
  fresh.push(performance.now() - t);

  const other = unique("ff");
  const responder = new PushConsumer({ nameServer: broker.address, group: unique("g") });
  responder.subscribe(other, "*", (m) => bodyText(m));
  await responder.start();
  t = performance.now();
  await requester.request({ topic: other, body: "x" }, { timeout: 5000, failFast: true });
  online.push(performance.now() - t);
  await responder.close();
  t = performance.now();
  const err = await requester.request({ topic: other, body: "x" }, {
    timeout: 5000,
    failFast: true,
  })
    .catch((e) => e);
  if (!(err instanceof NoResponderError)) throw new Error(`expected NoResponderError: ${err}`);
  gone.push(performance.now() - t);
  await consumer.close();
}
summary("fresh_topic_ms", fresh);
summary("fail_fast_online_ms", online);
summary("fail_fast_gone_ms", gone);

const hung: number[] = [];
const drain: number[] = [];
for (let i = 0; i < Math.max(1, Math.floor(rounds / 4)); i++) {
  const topic = unique("hung");
  const consumer = new PushConsumer({ nameServer: broker.address, group: unique("g") });
  let lastStarted = false;
  consumer.subscribe(topic, "*", (m, ctx) => {
    if (!ctx.isRequest) return undefined;
    if (bodyText(m) === "last") lastStarted = true;
    return bodyText(m) === "ok" ? "ok" : new Promise(() => {});
  });
  await requester.send({ topic, body: "create" });
  await consumer.start();
  while (consumer.assignedQueues.filter((q) => q.topic === topic).length < 4) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const stuck = Array.from(
    { length: 20 },
    () => requester.request({ topic, body: "hang" }, { timeout: 200 }).catch(() => undefined),
  );
  const t = performance.now();
  await requester.request({ topic, body: "ok" }, { timeout: 5000 });
  hung.push(performance.now() - t);
  await Promise.all(stuck);
  void requester.request({ topic, body: "last" }, { timeout: 5000 }).catch(() => undefined);
  while (!lastStarted) await new Promise((r) => setTimeout(r, 5));
  const c = performance.now();
  await consumer.close({ drainTimeout: 300 });
  drain.push(performance.now() - c);
}
summary("hung_recovery_ms", hung);
summary("drain_close_ms", drain);

await requester.close();
await broker.close();
