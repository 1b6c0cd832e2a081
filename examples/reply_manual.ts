// deno-lint-ignore-file no-console
/**
 * Manual replies: inside the handler with `context.reply()`, or later, from
 * anywhere, with `consumer.reply(request, value)`. A handler that throws on a
 * request makes the requester's promise reject with a RemoteError.
 *
 *   deno run -A examples/reply_manual.ts
 */
import { bodyText, type MessageExt, Producer, PushConsumer, RemoteError } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("jobs");

const consumer = new PushConsumer({ nameServer: server.address, group: `${topic}_workers` });
const later: MessageExt[] = [];
consumer.subscribe(topic, "*", async (request, context) => {
  const job = bodyText(request);
  if (job === "now") await context.reply("done at once"); // manual reply inside the handler
  else if (job === "fail") throw new TypeError("cannot do that job");
  else later.push(request); // no reply yet: someone replies later
});
await consumer.start();

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();

console.log(bodyText(await requester.request({ topic, body: "now" }, { timeout: 5000 })));

const pending = requester.request({ topic, body: "slow" }, { timeout: 5000 });
while (later.length === 0) await new Promise((r) => setTimeout(r, 10));
setTimeout(() => consumer.reply(later[0]!, "done later"), 100);
console.log(bodyText(await pending));

try {
  await requester.request({ topic, body: "fail" }, { timeout: 5000 });
} catch (err) {
  if (err instanceof RemoteError) {
    console.log(`responder failed: ${err.remoteName}: ${err.remoteMessage}`);
  } else throw err;
}

await requester.close();
await consumer.close();
await server.close();
