// deno-lint-ignore-file no-console
/**
 * Request-reply, promise form: the responder's handler returns the reply.
 *
 *   deno run -A examples/request_reply.ts
 *   NAMESRV_ADDR=127.0.0.1:9876 deno run -A examples/request_reply.ts
 */
import { bodyText, Producer, PushConsumer } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("greet");

const responder = new PushConsumer({ nameServer: server.address, group: `${topic}_responders` });
responder.subscribe(topic, "*", (request) => `hello, ${bodyText(request)}`);
await responder.start();

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();

const reply = await requester.request({ topic, body: "world" }, { timeout: 5000 });
console.log(
  `reply: ${bodyText(reply)} (round trip ${reply.timing.arrived - reply.timing.sent} ms)`,
);

await requester.close();
await responder.close();
await server.close();
