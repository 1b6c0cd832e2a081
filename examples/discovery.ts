// deno-lint-ignore-file no-console
/**
 * Discovery: who answers a topic, and how they are doing. `responders()`
 * lists the consumer groups subscribed to a topic with a client online, each
 * client with the counters and handler latency it reports, through
 * RocketMQ's own admin calls (so it works against real clusters too, where
 * `mqadmin consumerStatus` shows the same figures).
 *
 *   deno run -A examples/discovery.ts
 */
import { Producer, PushConsumer } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("inventory");

const requester = new Producer({ nameServer: server.address, group: `${topic}_clients` });
await requester.start();
await requester.send({ topic, body: "create the topic" });

const services = await Promise.all(["warehouse-a", "warehouse-b"].map(async (name) => {
  const consumer = new PushConsumer({ nameServer: server.address, group: `${topic}_${name}` });
  consumer.subscribe(
    topic,
    "*",
    (_request, context) => context.isRequest ? `${name}: 7 left` : undefined,
  );
  await consumer.start();
  return consumer;
}));
while (services.some((s) => s.assignedQueues.filter((q) => q.topic === topic).length < 4)) {
  await new Promise((r) => setTimeout(r, 20));
}
// Some traffic, so there is something to report.
for (let i = 0; i < 10; i++) {
  for await (
    const _ of requester.requestMany({ topic, body: "sku-1" }, { timeout: 5000, responders: 2 })
  );
}

for (const group of await requester.responders(topic)) {
  console.log(`${group.group} (${group.messageModel}, "${group.expression}")`);
  for (const client of group.clients) {
    const latency = client.latency[topic];
    console.log(
      `  ${client.clientId} at ${client.address}: ${client.counters.replied ?? "?"} replies, ` +
        `handler p50 ${latency?.p50 ?? "?"} ms, p99 ${latency?.p99 ?? "?"} ms`,
    );
  }
}

await requester.close();
await Promise.all(services.map((s) => s.close()));
await server.close();
