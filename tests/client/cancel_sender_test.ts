// A requester that gives up tells the consumer holding the request, through
// the broker's own route (the route like a reply, for RocketMQ brokers, is
// tested in tests/interop/features_test.ts). The consumer side here is a
// bare client instance registered as a consumer (the push consumer builds on
// the same `cancel` push handler). Real loopback TCP to the embedded broker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBroker } from "../../src/broker/mod.ts";
import { listener } from "./_cancel_listener.ts";
import { Producer } from "../../src/client/producer.ts";
import { RequestAbortedError, RequestTimeoutError } from "../../src/errors.ts";
import { until } from "../_wait.ts";

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
    await until(() => holder.notices.length === 1, "the holder's cancel notice");
    assert.deepEqual(holder.notices[0], {
      correlationId: err.correlationId,
      topic: "slow",
      group: "slow_g",
    });
    await until(() => requester.stats.cancelsSent === 1, "the requester to count its cancel");
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
      await until(() => producer.stats.sent === sent + 1, "the broker to store the request");
      controller.abort("changed my mind");
      await assert.rejects(pending, RequestAbortedError);
      if (producer === requester) {
        await until(() => holder.notices.length === 1, "the holder's cancel notice");
      }
    }
    assert.equal(quiet.stats.cancelsSent, 0);
    assert.equal(holder.notices.length, 1);
  } finally {
    await holder.instance.close();
  }
});
