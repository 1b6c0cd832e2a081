// deno-lint-ignore-file no-console
/**
 * Orderly request-reply: requests keyed by account id go to one queue each
 * (a selector and `arg`), and an orderly consumer handles every queue's
 * requests one at a time, in the order they reached the queue, answering in
 * that order, while it holds the queue's broker lock. All requests are in
 * flight at once; each account's operations still apply one after another.
 * A handler that throws is retried in place (its queue waits) before the
 * next request of that queue runs.
 *
 *   deno run -A examples/orderly.ts
 */
import { bodyText, type MessageQueue, Producer, PushConsumer } from "../mod.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

const server = await nameServer();
const topic = uniqueTopic("ledger");

const balances = new Map<string, number>();
let flaky = true;
const responder = new PushConsumer({
  nameServer: server.address,
  group: `${topic}_ledger`,
  orderly: true, // one handler at a time per queue, in queue order
  orderlyRetryDelay: 100, // a failed handler's queue waits 100 ms, then the same request again
});
responder.subscribe(topic, "*", async (request) => {
  const { account, op, amount } = JSON.parse(bodyText(request)) as {
    account: string;
    op: "deposit" | "withdraw";
    amount: number;
  };
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 10)); // uneven work
  if (op === "withdraw" && flaky) {
    flaky = false;
    throw new Error("ledger busy"); // retried in place: nothing behind it overtakes it
  }
  const balance = (balances.get(account) ?? 0) + (op === "deposit" ? amount : -amount);
  balances.set(account, balance);
  return { account, op, amount, balance, attempt: request.reconsumeTimes + 1 };
});
await responder.start();

const requester = new Producer({ nameServer: server.address, group: `${topic}_tellers` });
await requester.start();

// The same account always goes to the same queue.
const byAccount = (queues: readonly MessageQueue[], _message: unknown, arg: unknown) => {
  let hash = 0;
  for (const c of String(arg)) hash = (hash * 31 + c.charCodeAt(0)) | 0;
  return queues[Math.abs(hash) % queues.length]!;
};
const operations = [
  { account: "alice", op: "deposit", amount: 100 },
  { account: "bob", op: "deposit", amount: 50 },
  { account: "alice", op: "withdraw", amount: 70 },
  { account: "bob", op: "withdraw", amount: 20 },
  { account: "alice", op: "deposit", amount: 5 },
  { account: "alice", op: "withdraw", amount: 35 },
];
// All at once: each account's queue keeps the order its requests arrived in.
const replies = await Promise.all(
  operations.map((operation) =>
    requester.request({ topic, body: JSON.stringify(operation) }, {
      timeout: 10_000,
      selector: byAccount,
      arg: operation.account,
    })
  ),
);
for (const reply of replies) {
  const r = reply.value as {
    account: string;
    op: string;
    amount: number;
    balance: number;
    attempt: number;
  };
  console.log(`${r.account} ${r.op} ${r.amount}: balance ${r.balance} (attempt ${r.attempt})`);
}
console.log(Object.fromEntries(balances)); // { alice: 0, bob: 30 }

await requester.close();
await responder.close();
await server.close();
