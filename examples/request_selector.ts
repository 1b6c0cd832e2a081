// deno-lint-ignore-file no-console
/**
 * Request-reply through a queue selector: requests with the same key go to
 * the same queue (so one responder sees them in order).
 *
 *   deno run -A examples/request_selector.ts
 */
import { bodyText, type MessageQueue, Producer, PushConsumer } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("accounts");

const responder = new PushConsumer({ nameServer: server.address, group: `${topic}_responders` });
responder.subscribe(
  topic,
  "*",
  (request, context) => `${bodyText(request)} handled on queue ${context.queue.queueId}`,
);
await responder.start();

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();

// Pick the queue by a hash of the account id passed as `arg`.
const byAccount = (queues: readonly MessageQueue[], _message: unknown, arg: unknown) => {
  let hash = 0;
  for (const c of String(arg)) hash = (hash * 31 + c.charCodeAt(0)) | 0;
  return queues[Math.abs(hash) % queues.length]!;
};
for (const account of ["acct-1", "acct-2", "acct-1"]) {
  const reply = await requester.request(
    { topic, body: `debit ${account}` },
    { timeout: 5000, selector: byAccount, arg: account },
  );
  console.log(bodyText(reply));
}

await requester.close();
await responder.close();
await server.close();
