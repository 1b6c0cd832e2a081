// deno-lint-ignore-file no-console
/**
 * A responder written as a loop: `for await (const msg of
 * consumer.messages(topic))` instead of a handler. The loop replies to each
 * request with `msg.reply()`; a message is done (its offset may be
 * committed) when the loop asks for the next one. The iterator holds at most
 * `bufferSize` messages, so a slow loop slows the pulling, not the memory.
 * A "stop" message ends the loop: `break` unsubscribes the topic, and the
 * message held at the break, not done, stays for the topic's next consumer.
 *
 *   deno run -A examples/iterator.ts
 */
import { bodyText, Producer, PushConsumer } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("iterator");

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();
await requester.send({ topic, body: "create the topic" });

const responder = new PushConsumer({ nameServer: server.address, group: `${topic}_responders` });
const loop = (async () => {
  // The first next() starts the consumer.
  for await (const msg of responder.messages(topic, "*", { bufferSize: 16 })) {
    if (!msg.isRequest) {
      if (bodyText(msg) === "stop") break;
      continue; // an ordinary message: done when the loop asks for the next
    }
    const [a, b] = JSON.parse(bodyText(msg)) as [number, number];
    await msg.reply({ sum: a + b }); // JSON, decoded by the requester
  }
  console.log("loop ended; topic unsubscribed");
})();

const sums = await Promise.all(
  [[1, 2], [3, 4], [5, 6]].map(async (pair) => {
    const reply = await requester.request({ topic, body: JSON.stringify(pair) }, {
      timeout: 10_000,
    });
    return reply.value as { sum: number };
  }),
);
console.log("sums:", sums.map((s) => s.sum).join(", "));

await requester.send({ topic, body: "stop" });
await loop;
console.log(`handled ${responder.stats.handled}, replied ${responder.stats.replied}`);

await responder.close();
await requester.close();
await server.close();
