// deno-lint-ignore-file no-console
/**
 * Many replies to one request. Scatter-gather across responder groups:
 * three "banks" (three consumer groups) each quote a price; the requester
 * asks how many groups are online, then takes one quote from each, or what
 * it has when the timeout comes (a partial result, flagged). Then streamed
 * parts from one responder (`context.reply(value, { more: true })`).
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

// Streamed parts: a report in pages; the handler's return value is the last one.
const reports = uniqueTopic("report");
await requester.send({ topic: reports, body: "create the topic" });
const writer = new PushConsumer({ nameServer: server.address, group: `${reports}_writer` });
writer.subscribe(reports, "*", async (request, context) => {
  if (!context.isRequest) return undefined;
  for (let page = 1; page <= 3; page++) {
    await context.reply(`page ${page} of ${bodyText(request)}`, { more: true });
  }
  return "end of report";
});
await writer.start();
while (writer.assignedQueues.filter((q) => q.topic === reports).length < 4) {
  await new Promise((r) => setTimeout(r, 20));
}
for await (
  const part of requester.requestMany({ topic: reports, body: "Q3" }, {
    timeout: 5000,
    responders: 1,
  })
) {
  console.log(`  ${bodyText(part)}${part.more ? " (more follows)" : ""}`);
}

await requester.close();
await writer.close();
await Promise.all(banks.map((b) => b.close()));
await server.close();
