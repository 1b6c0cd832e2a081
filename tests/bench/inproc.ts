// deno-lint-ignore-file no-console
// CPU cost of one request-reply round trip through our whole stack, with
// broker, responder and requester in ONE process over loopback TCP: the
// steadiest figure to compare code changes with (no scheduling between
// processes), used for the before/after numbers of performance commits.
//
//   deno run -A tests/bench/inproc.ts [concurrency=16] [seconds=5]
//   bun tests/bench/inproc.ts 16 5
//   node --import tsx tests/bench/inproc.ts 16 5

import process from "node:process";
import { Producer, PushConsumer, silentLogger, startBroker } from "../../mod.ts";
import { runtimeName } from "./_common.ts";

const concurrency = Number(process.argv[2] ?? 16);
const seconds = Number(process.argv[3] ?? 5);
const broker = await startBroker({ port: 0, logger: silentLogger });
const topic = "InProcessBench";
const consumer = new PushConsumer({ nameServer: broker.address, group: "inproc_responder" });
consumer.subscribe(topic, "*", (m) => m.body.slice().reverse());
await consumer.start();
const producer = new Producer({ nameServer: broker.address, group: "inproc_requester" });
await producer.start();
await producer.send({ topic, body: "create the topic" });
while (consumer.assignedQueues.filter((q) => q.topic === topic).length < 4) {
  await new Promise((r) => setTimeout(r, 20));
}

async function phase(ms: number): Promise<number> {
  const until = performance.now() + ms;
  let n = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      await producer.request({ topic, body: new Uint8Array(64) }, { timeout: 10_000 });
      n++;
    }
  }));
  return n;
}

await phase(3000); // JIT warm-up
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const n = await phase(seconds * 1000);
const cpu = process.cpuUsage(cpu0);
const elapsed = performance.now() - t0;
console.log(
  `${runtimeName()} in-process, ${concurrency} in flight: ${
    (n / elapsed * 1000).toFixed(0)
  } req/s, ` +
    `CPU ${((cpu.user + cpu.system) / n).toFixed(0)} µs per request ` +
    `(user ${(cpu.user / n).toFixed(0)}, system ${(cpu.system / n).toFixed(0)})`,
);
await producer.close();
await consumer.close();
await broker.close();
process.exit(0);
