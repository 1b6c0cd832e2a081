// deno-lint-ignore-file no-console
/**
 * Cancellation that reaches the responder: the requester gives up (its
 * signal aborts), and the handler working on the request sees its
 * `context.signal` abort with a `RequestCancelledError`, so it stops. A
 * handler can also ask whether its requester is still there before costly
 * work (`context.requesterAlive()`).
 *
 *   deno run -A examples/cancellation.ts
 */
import { Producer, PushConsumer, RequestAbortedError, RequestCancelledError } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("report");

const requester = new Producer({ nameServer: server.address, group: `${topic}_requesters` });
await requester.start();
await requester.send({ topic, body: "create the topic" });

let started!: () => void;
const handlerStarted = new Promise<void>((resolve) => started = resolve);
const responder = new PushConsumer({ nameServer: server.address, group: `${topic}_workers` });
responder.subscribe(topic, "*", async (_request, context) => {
  if (!context.isRequest) return undefined;
  console.log(`worker: requester alive? ${await context.requesterAlive()}`);
  started();
  // A long job that listens to its signal.
  for (let step = 1; step <= 100; step++) {
    if (context.signal.aborted) {
      const why = context.signal.reason instanceof RequestCancelledError
        ? "the requester cancelled"
        : String(context.signal.reason);
      console.log(`worker: stopped at step ${step}: ${why}`);
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return "report ready";
});
await responder.start();
while (responder.assignedQueues.filter((q) => q.topic === topic).length < 4) {
  await new Promise((r) => setTimeout(r, 20));
}

const controller = new AbortController();
const pending = requester.request({ topic, body: "quarterly" }, {
  timeout: 30_000,
  signal: controller.signal,
});
await handlerStarted;
await new Promise((r) => setTimeout(r, 200));
console.log("requester: not waiting any longer");
controller.abort();
try {
  await pending;
} catch (err) {
  console.log(`requester: ${err instanceof RequestAbortedError ? "aborted" : err}`);
}
while (responder.stats.cancelled === 0) await new Promise((r) => setTimeout(r, 20));
console.log(`responder stats: ${responder.stats.cancelled} handler cancelled`);

await requester.close();
await responder.close();
await server.close();
