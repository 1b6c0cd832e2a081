// context.requesterAlive() asks the broker whether the requester's client is
// still registered (GET_PRODUCER_CONNECTION_LIST of CLIENT_INNER_PRODUCER).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBroker } from "../../src/broker/mod.ts";
import { ClientInstance } from "../../src/client/client_instance.ts";
import { Producer } from "../../src/client/producer.ts";
import { RequesterAliveChecker } from "../../src/client/requester_alive.ts";

test("a requester is alive while its client is registered, and not once it closed", async () => {
  await using broker = await startBroker({ port: 0 });
  const asker = new ClientInstance({ nameServer: broker.address, instanceName: "asker" });
  asker.start();
  const requester = new Producer({ nameServer: broker.address, instanceName: "req-1" });
  await requester.start();
  try {
    await requester.send({ topic: "alive", body: "registers us" });
    await requester.request({ topic: "alive", body: "x" }, { timeout: 50 }).catch(() => {});
    const checker = new RequesterAliveChecker(asker, 0);
    assert.equal(await checker.isAlive(broker.address, requester.clientId), true);
    assert.equal(await checker.isAlive(broker.address, "10.9.9.9@nobody"), false);
    await requester.close();
    assert.equal(await checker.isAlive(broker.address, requester.clientId), false);
  } finally {
    await requester.close();
    await asker.close();
  }
});

test("one broker query serves every check within the cache time", async () => {
  await using broker = await startBroker({ port: 0 });
  const asker = new ClientInstance({ nameServer: broker.address, instanceName: "asker" });
  asker.start();
  try {
    const checker = new RequesterAliveChecker(asker, 60_000);
    const before = broker.stats.requests;
    await Promise.all(Array.from({ length: 5 }, () => checker.isAlive(broker.address, "x@1")));
    assert.equal(broker.stats.requests - before, 1);
  } finally {
    await asker.close();
  }
});
