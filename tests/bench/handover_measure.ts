// How long a queue takes to move between two consumers of a group with
// queueHandover "lock": graceful (A's held requests released → B pulls the
// queues it was given) and, on our broker, crash (A's sockets cut → B
// answers a request on one of A's queues). Usage:
//   deno run -A tests/bench/handover_measure.ts [--runs 5] [--hold ms] [--rocketmq]
// (--hold: A's requests stay held this long after B's first refusal, so
// B's lock retries have backed off, up to 250 ms apart, when A unlocks.)
// (--rocketmq: RocketMQ 5.5.0 from the interop harness; crash not measured
// there, its locks outlive a crashed client up to 60 s by design).
import process from "node:process";
import { bodyText, ConnectionError, type MessageExt, Producer, PushConsumer } from "../../mod.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { defaultConnect } from "../../src/transport/default.ts";
import type { Connect, Transport } from "../../src/transport/types.ts";
import { startRocketMQ, uniqueName } from "../interop/harness.ts";
import { sleep, until } from "../_wait.ts";

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 5) || 5;
const rocketmq = args.includes("--rocketmq");
const hold = args.includes("--hold") ? Number(args[args.indexOf("--hold") + 1]) : 0;

let nameServer: string;
let brokerName = "broker-a";
let createTopic: (topic: string) => Promise<void>;
let stop: () => Promise<void>;
if (rocketmq) {
  const cluster = await startRocketMQ({ line: "5" });
  nameServer = cluster.nameServer;
  brokerName = cluster.brokerName;
  createTopic = async (topic) => void await cluster.createTopic(topic, { queues: 4 });
  stop = () => cluster.stop();
} else {
  const broker = await startBroker({ port: 0 });
  nameServer = broker.address;
  createTopic = async (topic) => void await producer.send({ topic, body: "create" });
  stop = () => broker.close();
}
const producer = new Producer({ nameServer, group: uniqueName("requester") });
await producer.start();

function consumer(
  group: string,
  topic: string,
  gate: Promise<void> | undefined,
  connect?: Connect,
) {
  const c = new PushConsumer({
    nameServer,
    group,
    consumeFrom: "first",
    ...(connect ? { connect } : {}),
  });
  c.subscribe(topic, "*", async (m: MessageExt) => {
    if (gate && bodyText(m) !== "create") await gate;
    return bodyText(m);
  });
  return c;
}
const owned = (c: PushConsumer, topic: string) =>
  c.assignedQueues.filter((q) => q.topic === topic).map((q) => q.queueId);
const request = (topic: string, id: string, queueId: number) =>
  producer.request({ topic, body: id }, { timeout: 30_000, queue: { topic, brokerName, queueId } });

function summary(name: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)]!;
  process.stdout.write(
    `${name}: p50 ${p50.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (${
      sorted.map((x) => x.toFixed(0)).join(", ")
    })\n`,
  );
}

const graceful: number[] = [];
for (let run = 0; run < runs; run++) {
  const topic = uniqueName("hm");
  const group = uniqueName("g");
  await createTopic(topic);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const a = consumer(group, topic, gate);
  const b = consumer(group, topic, undefined);
  await a.start();
  await until(() => owned(a, topic).length === 4, "A owns 4");
  const first = [0, 1, 2, 3].map((q) => request(topic, `r${q}`, q));
  await until(() => a.stats.requests === 4, "A runs 4");
  await b.start();
  // The waits that start a measurement or are one (here, and "A runs 2"
  // below) poll every millisecond: a 5 ms step would blur the times.
  await until(() => b.stats.lockRefused > 0, "B refused", 30_000, 1);
  if (hold > 0) await sleep(hold);
  const t0 = performance.now();
  open();
  await until(() => owned(b, topic).length === 2, "B owns 2", 30_000, 1);
  graceful.push(performance.now() - t0);
  await Promise.all(first);
  await Promise.all([a.close(), b.close()]);
}
summary(
  `graceful handover (${rocketmq ? "RocketMQ 5.5.0" : "our broker"}, hold ${hold} ms)`,
  graceful,
);

if (!rocketmq) {
  const crash: number[] = [];
  for (let run = 0; run < runs; run++) {
    const topic = uniqueName("hc");
    const group = uniqueName("g");
    await createTopic(topic);
    const transports = new Set<Transport>();
    let dead = false;
    const connect: Connect = async (o) => {
      if (dead) throw new ConnectionError(`${o.hostname}:${o.port}`, "crashed");
      const t = await defaultConnect(o);
      transports.add(t);
      return t;
    };
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const a = consumer(group, topic, gate, connect);
    const b = new PushConsumer({
      nameServer,
      group,
      consumeFrom: "first",
      handoverTimeout: 120_000,
    });
    b.subscribe(topic, "*", (m) => bodyText(m));
    await a.start();
    await b.start();
    await until(() => owned(a, topic).length === 2 && owned(b, topic).length === 2, "2/2");
    const aq = owned(a, topic);
    const inFlight = aq.map((q) => request(topic, `a${q}`, q));
    await until(() => a.stats.requests === 2, "A runs 2", 30_000, 1);
    const t0 = performance.now();
    dead = true;
    await Promise.all([...transports].map((t) => t.close()));
    await request(topic, "after", aq[0]!);
    crash.push(performance.now() - t0);
    await Promise.all(inFlight);
    open();
    await Promise.all([a.close({ drainTimeout: 200 }), b.close()]);
  }
  summary("crash failover (our broker; cut → a request on A's queue answered by B)", crash);
}
await producer.close();
await stop();
