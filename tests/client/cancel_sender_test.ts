// A requester that gives up tells the consumer holding the request, through
// the broker's own route or routed like a reply. The consumer side here is a
// bare client instance registered as a consumer (the push consumer builds on
// the same `cancel` push handler). Real loopback TCP to the embedded broker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBroker } from "../../src/broker/mod.ts";
import { buildSubscriptionData } from "../../src/codec/bodies.ts";
import { CancelSender } from "../../src/client/cancel_sender.ts";
import { type CancelNotice, ClientInstance } from "../../src/client/client_instance.ts";
import { Producer } from "../../src/client/producer.ts";
import { RequestAbortedError, RequestTimeoutError } from "../../src/errors.ts";

async function until(condition: () => boolean, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

let instances = 0;

/** A client registered as a consumer of `topic` in `group`, recording cancels. */
async function listener(nameServer: string, group: string, topic: string) {
  const notices: CancelNotice[] = [];
  const instance = new ClientInstance({ nameServer, instanceName: `${group}-${++instances}` });
  instance.setPushHandlers({ cancel: (notice) => notices.push(notice) });
  instance.addConsumer({
    group,
    consumerData: () => ({
      groupName: group,
      consumeType: "CONSUME_PASSIVELY",
      messageModel: "CLUSTERING",
      consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
      subscriptionDataSet: [buildSubscriptionData(topic, "*", 1)],
      unitMode: false,
    }),
  });
  instance.start();
  await instance.getRoute(topic);
  await instance.heartbeatAll();
  return { instance, notices };
}

test("a timed-out request tells the consumers through the broker's own route", async () => {
  await using broker = await startBroker({ port: 0 });
  await using requester = new Producer({ nameServer: broker.address });
  await requester.start();
  await requester.send({ topic: "slow", body: "create the topic" });
  const holder = await listener(broker.address, "slow_g", "slow");
  try {
    const err = await requester.request({ topic: "slow", body: "x" }, { timeout: 300 })
      .catch((e) => e);
    assert.ok(err instanceof RequestTimeoutError);
    await until(() => holder.notices.length === 1);
    assert.deepEqual(holder.notices[0], {
      correlationId: err.correlationId,
      topic: "slow",
      group: "slow_g",
    });
    await until(() => requester.stats.cancelsSent === 1);
    assert.equal(broker.stats.cancelsForwarded, 1);
  } finally {
    await holder.instance.close();
  }
});

test("an aborted request tells the consumers; propagateCancel: false keeps quiet", async () => {
  await using broker = await startBroker({ port: 0 });
  await using requester = new Producer({ nameServer: broker.address });
  await using quiet = new Producer({ nameServer: broker.address, propagateCancel: false });
  await requester.start();
  await quiet.start();
  await requester.send({ topic: "abort", body: "create the topic" });
  const holder = await listener(broker.address, "abort_g", "abort");
  try {
    for (const producer of [quiet, requester]) {
      const controller = new AbortController();
      const sent = producer.stats.sent;
      const pending = producer.request({ topic: "abort", body: "x" }, {
        timeout: 10_000,
        signal: controller.signal,
      });
      // Abort once the broker acknowledged it: a request still being sent reached nobody.
      await until(() => producer.stats.sent === sent + 1);
      controller.abort("changed my mind");
      await assert.rejects(pending, RequestAbortedError);
      if (producer === requester) await until(() => holder.notices.length === 1);
    }
    assert.equal(quiet.stats.cancelsSent, 0);
    assert.equal(holder.notices.length, 1);
  } finally {
    await holder.instance.close();
  }
});

test("routed like a reply (RocketMQ brokers): only the consumer of each group holding the queue", async () => {
  await using broker = await startBroker({ port: 0 });
  await using producer = new Producer({ nameServer: broker.address });
  await producer.start();
  const stored = await producer.send({ topic: "held", body: "create the topic" });
  // Two consumers in one group share the 4 queues (2 each); a third group has one consumer.
  const a = await listener(broker.address, "held_g", "held");
  const b = await listener(broker.address, "held_g", "held");
  const c = await listener(broker.address, "held_audit", "held");
  const instance = new ClientInstance({ nameServer: broker.address });
  instance.start();
  const sender = new CancelSender(instance, "PG", { brokerRoute: false });
  try {
    const queueId = stored.queue.queueId;
    sender.send({
      correlationId: "corr-r",
      topic: "held",
      reason: "timeout",
      stored: { brokerName: stored.queue.brokerName, queueId, queueOffset: 0, msgId: stored.msgId },
    });
    await sender.settled();
    assert.equal(sender.stats.cancelsSent, 1, "sent");
    await until(() => c.notices.length === 1);
    await until(() => a.notices.length + b.notices.length === 1);
    const ids = [a, b].map((x) => x.instance.clientId).sort();
    const holder = queueId < 2 ? ids[0] : ids[1]; // queues 0,1 to the first id, 2,3 to the second
    const told = a.notices.length === 1 ? a : b;
    assert.equal(told.instance.clientId, holder);
    assert.deepEqual(c.notices[0], { correlationId: "corr-r", topic: "held", group: undefined });
  } finally {
    await Promise.all([a, b, c].map((x) => x.instance.close()));
    await instance.close();
  }
});
