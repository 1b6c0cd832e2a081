// deno-lint-ignore-file no-console
// Where the bytes are allocated per request: the in-process request-reply loop
// (broker, responder and requester in one process, 16 in flight) under V8's
// sampling heap profiler, counting objects the GC already collected too.
// Node only (node:inspector's Session):
//
//   node --import ./.tools/node_modules/tsx/dist/loader.mjs tests/bench/alloc.ts [seconds=3] [top=30]

import inspector from "node:inspector";
import process from "node:process";
import { Producer, PushConsumer, silentLogger, startBroker } from "../../mod.ts";

const seconds = Number(process.argv[2] ?? 3);
const top = Number(process.argv[3] ?? 30);
const concurrency = 16;
const broker = await startBroker({ port: 0, logger: silentLogger });
const topic = "AllocBench";
const consumer = new PushConsumer({ nameServer: broker.address, group: "alloc_responder" });
consumer.subscribe(topic, "*", (m) => m.body.slice().reverse());
await consumer.start();
const producer = new Producer({ nameServer: broker.address, group: "alloc_requester" });
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

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

await phase(2000); // JIT warm-up
const session = new inspector.Session();
session.connect();
const post = <T>(method: string, params?: object) =>
  new Promise<T>((resolve, reject) =>
    session.post(method, params, (err, result) => err ? reject(err) : resolve(result as T))
  );
await post("HeapProfiler.enable");
await post("HeapProfiler.startSampling", {
  samplingInterval: 256,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const n = await phase(seconds * 1000);
const { profile } = await post<{ profile: { head: SamplingNode } }>("HeapProfiler.stopSampling");
session.disconnect();

const bytes = new Map<string, number>();
const walk = (node: SamplingNode): void => {
  const f = node.callFrame;
  const where = f.url.replace(/^.*\/(src|tests)\//, "$1/").replace(/^file:\/\//, "");
  const key = `${f.functionName || "(anonymous)"} ${where}${where ? `:${f.lineNumber + 1}` : ""}`;
  bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
  for (const child of node.children) walk(child);
};
walk(profile.head);
const total = [...bytes.values()].reduce((a, b) => a + b, 0);
console.log(
  `${n} requests, ${(total / n / 1024).toFixed(1)} KiB allocated per request (three roles)`,
);
for (const [key, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(size / n).toFixed(0).padStart(7)} B  ${key}`);
}
await producer.close();
await consumer.close();
await broker.close();
process.exit(0);
