// Consumers of one group join and leave every 0.3-0.7 s for 20 s while
// requests flow (one every 3 ms, handlers take 0-60 ms); counts requests run
// more than once and requests without a reply. Usage:
//   deno run -A tests/bench/handover_churn.ts [lock|none] [--rocketmq]
// (--rocketmq: RocketMQ 5.5.0 from the interop harness instead of our broker.)
// Measured: lock 0 duplicates of ~4,900 on both brokers; none 85 (ours), 78 (5.5.0).
import process from "node:process";
import { bodyText, Producer, PushConsumer } from "../../mod.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { silentLogger } from "../../src/logger.ts";
import { startRocketMQ } from "../interop/harness.ts";
const mode = (process.argv[2] ?? "lock") as "lock" | "none";
const topic = "churn" + Date.now();
let nameServer: string;
let stopBroker: () => Promise<void>;
if (process.argv.includes("--rocketmq")) {
  const cluster = await startRocketMQ({ line: "5" });
  await cluster.createTopic(topic, { queues: 4 });
  nameServer = cluster.nameServer;
  stopBroker = () => cluster.stop();
} else {
  const broker = await startBroker({ port: 0, logger: silentLogger });
  nameServer = broker.address;
  stopBroker = () => broker.close();
}
const p = new Producer({ nameServer, logger: silentLogger });
await p.start();
await p.send({ topic, body: "create" });
const runs = new Map<string, number>();
const mk = (name: string) => {
  const c = new PushConsumer({
    nameServer,
    group: "gchurn",
    consumeFrom: "first",
    queueHandover: mode,
    logger: silentLogger,
  });
  c.subscribe(topic, "*", async (m) => {
    const id = bodyText(m);
    runs.set(id, (runs.get(id) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, Math.random() * 60));
    return id + name;
  });
  return c;
};
const cs = [mk("a"), mk("b")];
for (const c of cs) await c.start();
let n = 0, ok = 0, fail = 0;
let stop = false;
const sender = (async () => {
  const pending: Promise<unknown>[] = [];
  while (!stop) {
    const id = `r${n++}`;
    pending.push(
      p.request({ topic, body: id }, { timeout: 15000 }).then(() => ok++, (e) => {
        fail++;
        process.stderr.write(`${e}\n`);
      }),
    );
    await new Promise((r) => setTimeout(r, 3));
  }
  await Promise.all(pending);
})();
const end = Date.now() + 20000;
let k = 0;
while (Date.now() < end) {
  await new Promise((r) => setTimeout(r, 300 + Math.random() * 400));
  if (cs.length > 1 && Math.random() < 0.5) {
    const c = cs.splice(Math.floor(Math.random() * cs.length), 1)[0]!;
    await c.close();
  } else if (cs.length < 4) {
    const c = mk(`x${k++}`);
    cs.push(c);
    await c.start();
  }
}
stop = true;
await sender;
const dups = [...runs].filter(([id, c]) => c > 1 && id !== "create");
process.stdout.write(
  `${mode}: sent ${n} ok ${ok} fail ${fail} duplicates ${dups.length} ${
    JSON.stringify(dups.slice(0, 5))
  }\n`,
);
for (const c of cs) await c.close();
await p.close();
await stopBroker();
