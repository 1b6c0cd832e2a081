// What an edge function needs from the client, through the embedded broker
// over loopback TCP: requestOnce() leaves nothing behind (no registration,
// connection or timer; Deno's sanitizers fail the test on a leaked timer or
// socket), and addressMap reaches brokers that the name server lists under
// an address not reachable from here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startBroker } from "../../src/broker/mod.ts";
import { requestOnce } from "../../src/client/one_shot.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push_consumer.ts";
import { bodyText } from "../../src/client/message.ts";
import { ConnectionError, RequestTimeoutError } from "../../src/errors.ts";
import { until } from "../_wait.ts";

/** A responder owning every queue of `topic` (created first). */
async function responder(
  nameServer: string,
  topic: string,
  options: { addressMap?: Record<string, string> } = {},
): Promise<PushConsumer> {
  const creator = new Producer({ nameServer, ...options });
  await creator.start();
  await creator.send({ topic, body: "create the topic" });
  await creator.close();
  const consumer = new PushConsumer({ nameServer, group: `${topic}_responder`, ...options });
  consumer.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
  await consumer.start();
  await until(
    () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
    "queue assignment",
  );
  return consumer;
}

describe("requestOnce()", () => {
  it("connects, registers, requests and closes, leaving nothing registered or open", async () => {
    await using broker = await startBroker({ port: 0 });
    await using consumer = await responder(broker.address, "once");
    const baseline = broker.stats;
    const reply = await requestOnce(
      { nameServer: broker.address, group: "edge_requester" },
      { topic: "once", body: "a" },
      { timeout: 10_000 },
    );
    assert.equal(bodyText(reply), "re:a");
    await until(
      () => broker.stats.connections === baseline.connections,
      "the requester's connection to close",
    );
    assert.equal(broker.stats.producerGroups, baseline.producerGroups, "unregistered");
    assert.equal(consumer.stats.replied, 1);
  });

  it("closes the producer when the request fails too", async () => {
    await using broker = await startBroker({ port: 0 });
    const creator = new Producer({ nameServer: broker.address });
    await creator.start();
    await creator.send({ topic: "nobody", body: "create the topic" });
    await creator.close();
    const baseline = broker.stats;
    await assert.rejects(
      requestOnce({ nameServer: broker.address }, { topic: "nobody", body: "x" }, { timeout: 200 }),
      RequestTimeoutError,
    );
    await until(
      () => broker.stats.connections === baseline.connections,
      "the requester's connection to close",
    );
  });
});

describe("addressMap", () => {
  it("dials the mapped address for a broker the name server lists under an unreachable host", async () => {
    // The broker advertises itself as broker.invalid (RFC 6761: never resolves).
    await using broker = await startBroker({ port: 0, advertisedHost: "broker.invalid" });
    const port = broker.port;
    const nameServer = `127.0.0.1:${port}`;
    const addressMap = { [`broker.invalid:${port}`]: `127.0.0.1:${port}` };

    // Without the map, the route's address cannot be dialed.
    const unmapped = new Producer({ nameServer });
    await unmapped.start();
    await assert.rejects(unmapped.send({ topic: "mapped", body: "x" }), (e) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.match(e.message, /broker\.invalid/);
      return true;
    });
    await unmapped.close();

    await using consumer = await responder(nameServer, "mapped", { addressMap });
    const reply = await requestOnce(
      { nameServer, addressMap: (address) => addressMap[address] ?? address },
      { topic: "mapped", body: "b" },
      { timeout: 10_000 },
    );
    assert.equal(bodyText(reply), "re:b");
    assert.equal(consumer.stats.replied, 1);
  });
});
