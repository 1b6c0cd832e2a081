// deno-lint-ignore-file no-console
/**
 * Request-reply to one explicit queue (for example a queue a responder owns).
 *
 *   deno run -A examples/request_queue.ts
 */
import { bodyText, Producer, PushConsumer } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("pinned");

const responder = new PushConsumer({ nameServer: server.address, group: `${topic}_responders` });
responder.subscribe(topic, "*", (_request, context) => `from queue ${context.queue.queueId}`);
await responder.start();

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();

// Send once to learn the topic's queues (it is created on first send), then pin one.
const first = await requester.send({ topic, body: "warm-up" });
const queue = { ...first.queue, queueId: 0 };
const reply = await requester.request({ topic, body: "pinned request" }, { timeout: 5000, queue });
console.log(`reply: ${bodyText(reply)}`);

await requester.close();
await responder.close();
await server.close();
