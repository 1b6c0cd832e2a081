// SQL92 subscriptions through the embedded broker over loopback TCP, on Deno,
// Bun and Node: the shared suite (the broker filters on message properties),
// plus start() failing when a broker refuses the expression or is too old.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BrokerError, IllegalStateError, PushConsumer } from "../../mod.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { emptyTopic } from "../broker/_helpers.ts";
import { HANDLERS } from "../../src/broker/handlers/mod.ts";
import { createRequest, createResponse } from "../../src/codec/remoting_command.ts";
import { RemotingClient } from "../../src/remoting/remoting_client.ts";
import { sql92Suite } from "./_sql92_suite.ts";

sql92Suite("SQL92 subscriptions through the embedded broker", async () => {
  const broker = await startBroker({ port: 0 });
  return {
    nameServer: broker.address,
    createTopic: (topic) => {
      emptyTopic(broker.broker, topic, 4);
      return Promise.resolve();
    },
    close: () => broker.close(),
  };
});

describe("SQL92 subscription refused by the broker", () => {
  test("start() fails with the broker's answer to CHECK_CLIENT_CONFIG and closes the consumer", async () => {
    // As a RocketMQ broker without enablePropertyFilter answers.
    await using broker = await startBroker({ port: 0, enablePropertyFilter: false });
    emptyTopic(broker.broker, "sql_refused", 4);
    const checks = () => broker.stats.requests;
    const consumer = new PushConsumer({ nameServer: broker.address, group: "sql_refused_g" });
    consumer.subscribe("sql_refused", { sql: "n > 5" }, () => {});
    const err = await consumer.start().catch((e) => e);
    assert.ok(err instanceof BrokerError, String(err));
    assert.equal(err.responseCode, 1);
    assert.equal(err.requestCode, 46);
    assert.match(err.remark ?? "", /does not support consumer to filter message by SQL92/);
    await assert.rejects(consumer.start(), /closed/);
    // A TAG subscription does not ask, and is served.
    const before = checks();
    const tags = new PushConsumer({ nameServer: broker.address, group: "sql_refused_t" });
    tags.subscribe("sql_refused", "*", () => {});
    await tags.start();
    await tags.close();
    assert.ok(checks() > before);
  });

  test("with enablePropertyFilter: false the broker refuses SQL92 pulls as RocketMQ does", async () => {
    await using broker = await startBroker({ port: 0, enablePropertyFilter: false });
    emptyTopic(broker.broker, "sql_pull", 1);
    const client = new RemotingClient({});
    try {
      const res = await client.invoke(
        broker.address,
        createRequest(11, {
          consumerGroup: "g",
          topic: "sql_pull",
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 1,
          sysFlag: 4,
          commitOffset: 0,
          suspendTimeoutMillis: 1000,
          subscription: "n > 5",
          subVersion: 1,
          expressionType: "SQL92",
        }),
        { timeout: 5000 },
      );
      assert.deepEqual([res.code, res.remark], [
        1,
        "The broker does not support consumer to filter message by SQL92",
      ]);
    } finally {
      await client.close();
    }
  });

  test("start() fails on a broker older than 4.1.0 (version ordinal below 232)", async () => {
    await using broker = await startBroker({ port: 0 });
    emptyTopic(broker.broker, "sql_old", 4);
    const handlers = HANDLERS as Map<number, unknown>;
    const original = handlers.get(46);
    handlers.set(
      46,
      (_ctx: unknown, request: Parameters<typeof createResponse>[0]) =>
        createResponse(request, 0, undefined, { version: 231 }),
    );
    try {
      const consumer = new PushConsumer({ nameServer: broker.address, group: "sql_old_g" });
      consumer.subscribe("sql_old", { sql: "n > 5" }, () => {});
      const err = await consumer.start().catch((e) => e);
      assert.ok(err instanceof IllegalStateError, String(err));
      assert.match(err.message, /older than 4\.1\.0 and cannot filter messages by SQL92/);
    } finally {
      handlers.set(46, original);
    }
  });
});
