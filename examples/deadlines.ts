// deno-lint-ignore-file no-console
/**
 * Deadlines that carry over: a handler that calls another service with
 * `{ parent: context }` gives it only the time its own requester has left,
 * so the nested call never outlives its caller (and joins its trace).
 *
 *   deno run -A examples/deadlines.ts
 */
import { bodyText, Producer, PushConsumer, RequestTimeoutError } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const checkout = uniqueTopic("checkout");
const stock = uniqueTopic("stock");

const producer = new Producer({ nameServer: server.address, group: `${checkout}_clients` });
await producer.start();
for (const topic of [checkout, stock]) await producer.send({ topic, body: "create the topic" });

// A slow stock service: 2 s per answer, unless its requester gives up first.
const stockService = new PushConsumer({ nameServer: server.address, group: `${stock}_svc` });
stockService.subscribe(stock, "*", async (request, context) => {
  if (!context.isRequest) return undefined;
  const done = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(true), 2000);
    context.signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
  if (!done) console.log(`stock: gave up (${context.signal.reason.name})`);
  return done ? `in stock: ${bodyText(request)}` : undefined;
});
let nestedDone!: () => void;
const nested = new Promise<void>((resolve) => nestedDone = resolve);
// Checkout asks the stock service, inheriting its own deadline.
const checkoutService = new PushConsumer({ nameServer: server.address, group: `${checkout}_svc` });
checkoutService.subscribe(checkout, "*", async (request, context) => {
  if (!context.isRequest) return undefined;
  console.log(`checkout: ${context.deadline - Date.now()} ms left`);
  try {
    const answer = await producer.request({ topic: stock, body: request.body }, {
      timeout: 60_000, // asked for a minute, gets what the caller has left
      parent: context,
    });
    return `ok (${bodyText(answer)})`;
  } catch (err) {
    const what = err instanceof RequestTimeoutError
      ? `timed out after ${err.timeout} ms`
      : String(err);
    console.log(`checkout: stock call ${what}`);
    return undefined; // our own requester has given up too: nobody to answer
  } finally {
    nestedDone();
  }
});
for (const service of [stockService, checkoutService]) await service.start();
while (
  [[stockService, stock], [checkoutService, checkout]].some(([s, t]) =>
    (s as PushConsumer).assignedQueues.filter((q) => q.topic === t).length < 4
  )
) await new Promise((r) => setTimeout(r, 20));

const started = Date.now();
const outcome = await producer.request({ topic: checkout, body: "ACME-42" }, { timeout: 1000 })
  .then(bodyText, (err) => `${err.name} after ${Date.now() - started} ms`);
console.log(`client: ${outcome}`);
await nested;
await new Promise((r) => setTimeout(r, 100)); // let the stock service see the cancel

await producer.close();
await Promise.all([stockService.close(), checkoutService.close()]);
await server.close();
