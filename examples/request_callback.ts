// deno-lint-ignore-file no-console
/**
 * Request-reply, callback form: `request()` resolves once the request is
 * sent; the callback fires exactly once with the reply or the error.
 *
 *   deno run -A examples/request_callback.ts
 */
import { bodyText, Producer, PushConsumer, type ReplyMessage } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("quote");

const responder = new PushConsumer({ nameServer: server.address, group: `${topic}_responders` });
// Any JSON value is a reply: sent as JSON, decoded back into `reply.value`.
responder.subscribe(topic, "*", (request) => ({ symbol: bodyText(request), price: 42.5 }));
await responder.start();

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();

const done = new Promise<ReplyMessage>((resolve, reject) => {
  requester.request({ topic, body: "ACME" }, { timeout: 5000 }, {
    onSuccess: resolve,
    onException: reject,
  });
});
console.log("request sent; waiting for the callback");
const reply = await done;
console.log(
  `reply: ${JSON.stringify(reply.value)} (round trip ${
    reply.timing.arrived - reply.timing.sent
  } ms)`,
);

await requester.close();
await responder.close();
await server.close();
