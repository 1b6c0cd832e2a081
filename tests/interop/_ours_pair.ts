// deno-lint-ignore-file no-console
// Ours ↔ ours against the broker in NAMESRV_ADDR, in all four request forms,
// run as a child process under Node (tsx) or Bun by tests/interop/client_test.ts.
// Prints one JSON line: { runtime, ok, failed, forms }.
import process from "node:process";
import { type MessageQueue, Producer, PushConsumer, type ReplyMessage } from "../../mod.ts";

const nameServer = process.env.NAMESRV_ADDR;
const topic = process.env.PAIR_TOPIC;
if (!nameServer || !topic) throw new Error("NAMESRV_ADDR and PAIR_TOPIC are required");
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

const responder = new PushConsumer({ nameServer, group: `${topic}_responder` });
responder.subscribe(topic, "*", (m) => m.body.slice().reverse());
await responder.start();
const deadline = Date.now() + 30_000;
while (responder.assignedQueues.filter((q) => q.topic === topic).length === 0) {
  if (Date.now() > deadline) throw new Error("responder got no queue");
  await new Promise((r) => setTimeout(r, 20));
}
const requester = new Producer({ nameServer, group: `${topic}_requester` });
await requester.start();

const forms: Record<string, number> = {};
let failed = 0;
const queue: MessageQueue = {
  topic,
  brokerName: responder.assignedQueues[0]!.brokerName,
  queueId: 0,
};
for (let i = 0; i < 40; i++) {
  const form = ["promise", "callback", "selector", "queue"][i % 4]!;
  const body = new TextEncoder().encode(`${runtime} ${i}`);
  try {
    let reply: ReplyMessage;
    if (form === "promise") reply = await requester.request({ topic, body }, { timeout: 10_000 });
    else if (form === "callback") {
      reply = await new Promise((resolve, reject) => {
        requester.request({ topic, body }, { timeout: 10_000 }, {
          onSuccess: resolve,
          onException: reject,
        });
      });
    } else if (form === "selector") {
      reply = await requester.request({ topic, body }, {
        timeout: 10_000,
        arg: i,
        selector: (qs, _m, arg) => qs[(arg as number) % qs.length]!,
      });
    } else reply = await requester.request({ topic, body }, { timeout: 10_000, queue });
    const expected = body.slice().reverse();
    if (reply.body.length !== expected.length || reply.body.some((b, j) => b !== expected[j])) {
      throw new Error(`wrong reply for ${i}`);
    }
    forms[form] = (forms[form] ?? 0) + 1;
  } catch (err) {
    failed++;
    console.error(`${form} ${i}: ${err instanceof Error ? err.message : err}`);
  }
}
await requester.close();
await responder.close();
console.log(JSON.stringify({ runtime, ok: 40 - failed, failed, forms }));
