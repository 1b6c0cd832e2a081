// deno-lint-ignore-file no-console
/**
 * Many replies to one request: scatter-gather across responder groups.
 * Three "banks" (three consumer groups) each quote a price; the requester
 * asks how many groups are online, then takes one quote from each, or what
 * it has when the timeout comes (a partial result, flagged).
 *
 *   deno run -A examples/request_many.ts
 */
import { bodyText, Producer, PushConsumer } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("quote");

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();
await requester.send({ topic, body: "create the topic" });

const banks = await Promise.all(["alpha", "beta", "gamma"].map(async (bank, i) => {
  const consumer = new PushConsumer({ nameServer: server.address, group: `${topic}_${bank}` });
  consumer.subscribe(topic, "*", (request) => `${bank}: ${bodyText(request)} at ${1.08 + i / 100}`);
  await consumer.start();
  return consumer;
}));
// Wait until each bank reads every queue of the topic (a fresh group takes a moment).
while (banks.some((b) => b.assignedQueues.filter((q) => q.topic === topic).length < 4)) {
  await new Promise((r) => setTimeout(r, 20));
}

const online = await requester.responders(topic, { stats: false });
console.log(`${online.length} responder groups online: ${online.map((g) => g.group).join(", ")}`);

const stream = requester.requestMany({ topic, body: "EURUSD" }, {
  timeout: 2000,
  responders: online.length, // done once every group answered
});
for await (const reply of stream) console.log(`  ${bodyText(reply)}`);
console.log(
  `ended: ${stream.endReason}${stream.partial ? " (partial)" : ""}, ${stream.received} replies`,
);

await requester.close();
await Promise.all(banks.map((b) => b.close()));
await server.close();
