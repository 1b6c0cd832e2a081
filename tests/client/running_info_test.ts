// RocketMQ's admin calls reach a client of this library through the broker
// (ours here, RocketMQ's in tests/interop): GET_CONSUMER_RUNNING_INFO and
// CONSUME_MESSAGE_DIRECTLY are answered as the Java client answers them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBroker } from "../../src/broker/mod.ts";
import {
  decodeConsumeMessageDirectlyResult,
  decodeConsumerRunningInfo,
} from "../../src/codec/admin_bodies.ts";
import { buildSubscriptionData } from "../../src/codec/bodies.ts";
import { decodeStoredMessages } from "../../src/codec/message_ext.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { ClientInstance } from "../../src/client/client_instance.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push_consumer.ts";
import { bodyText, type MessageQueue } from "../../src/client/message.ts";
import { until } from "../_wait.ts";

test("GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY reach the client's consumer through the broker", async () => {
  await using broker = await startBroker({ port: 0 });
  const consumer = new ClientInstance({ nameServer: broker.address, instanceName: "ri-1" });
  const admin = new ClientInstance({ nameServer: broker.address, instanceName: "admin" });
  const handled: string[] = [];
  consumer.addConsumer({
    group: "calc",
    consumerData: () => ({
      groupName: "calc",
      consumeType: "CONSUME_PASSIVELY",
      messageModel: "CLUSTERING",
      consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
      subscriptionDataSet: [buildSubscriptionData("add", "*", 1)],
      unitMode: false,
    }),
    runningInfo: () => ({
      properties: { PROP_CONSUMER_START_TIMESTAMP: "1700000000000", RPC_STATS: "{}" },
      subscriptionSet: [buildSubscriptionData("add", "*", 1)],
      mqTable: [],
      statusTable: {},
      userConsumerInfo: {},
    }),
    consumeDirectly: (record, brokerName) => {
      const [message] = decodeStoredMessages(record);
      handled.push(`${new TextDecoder().decode(message!.body)}@${brokerName}`);
      return Promise.resolve({
        order: false,
        autoCommit: true,
        consumeResult: "CR_SUCCESS",
        spentTimeMills: 1,
      });
    },
  });
  consumer.start();
  admin.start();
  try {
    await consumer.getRoute("TBW102");
    await consumer.heartbeatAll();
    const info = await admin.call(
      broker.address,
      createRequest(307, {
        consumerGroup: "calc",
        clientId: consumer.clientId,
        jstackEnable: false,
      }),
    );
    const decoded = decodeConsumerRunningInfo(info.body);
    assert.equal(decoded.properties.PROP_CONSUME_TYPE, "CONSUME_PASSIVELY");
    assert.equal(decoded.properties.PROP_NAMESERVER_ADDR, `${broker.address};`);
    assert.equal(decoded.properties.PROP_CLIENT_VERSION, "V5_3_3");
    assert.equal(decoded.properties.RPC_STATS, "{}");
    assert.deepEqual(decoded.subscriptionSet.map((s) => s.topic), ["add"]);

    const unknown = await admin.remoting.invoke(
      broker.address,
      createRequest(307, { consumerGroup: "other", clientId: consumer.clientId }),
      { timeout: 3000 },
    );
    assert.equal(unknown.code, 1);

    await using producer = new Producer({ nameServer: broker.address });
    await producer.start();
    const sent = await producer.send({ topic: "add", body: "1+2" });
    const direct = await admin.call(
      broker.address,
      createRequest(309, {
        consumerGroup: "calc",
        clientId: consumer.clientId,
        msgId: sent.offsetMsgId,
        topic: "add",
      }),
    );
    assert.equal(decodeConsumeMessageDirectlyResult(direct.body).consumeResult, "CR_SUCCESS");
    assert.deepEqual(handled, ["1+2@broker-a"]);
  } finally {
    await admin.close();
    await consumer.close();
  }
});

test("GET_CONSUMER_RUNNING_INFO of a PushConsumer: its recent rates and when each queue was last pulled and consumed", async () => {
  await using broker = await startBroker({ port: 0 });
  const admin = new ClientInstance({ nameServer: broker.address, instanceName: "admin" });
  admin.start();
  await using producer = new Producer({ nameServer: broker.address });
  await producer.start();
  // Queue 0 only: the other three are pulled but never consume anything.
  const queue0 = (queues: readonly MessageQueue[]) => queues.find((q) => q.queueId === 0)!;
  await producer.send({ topic: "rates", body: "create" }, { selector: queue0 });
  await using consumer = new PushConsumer({
    nameServer: broker.address,
    group: "rates_g",
    consumeFrom: "first",
  });
  let seen = 0;
  consumer.subscribe("rates", "*", (m) => {
    seen++;
    if (bodyText(m).startsWith("bad")) throw new Error("refused");
  });
  await consumer.start();
  const started = Date.now();
  for (let i = 0; i < 6; i++) {
    await producer.send({ topic: "rates", body: i < 2 ? `bad ${i}` : `ok ${i}` }, {
      selector: queue0,
    });
  }
  try {
    await until(() => seen >= 7, "the 7 messages handled");
    const info = decodeConsumerRunningInfo(
      (await admin.call(
        broker.address,
        createRequest(307, { consumerGroup: "rates_g", clientId: consumer.clientId }),
      )).body,
    );
    const status = info.statusTable["rates"]!;
    assert.ok(status.pullTPS > 0, `pullTPS ${status.pullTPS}`);
    assert.ok(status.pullRT >= 0);
    assert.ok(status.consumeOKTPS > 0, `consumeOKTPS ${status.consumeOKTPS}`);
    assert.ok(status.consumeFailedTPS > 0, `consumeFailedTPS ${status.consumeFailedTPS}`);
    // The two failed messages come back from %RETRY% 10 s later: on a slow run, maybe already.
    assert.ok(status.consumeFailedMsgs >= 2, `consumeFailedMsgs ${status.consumeFailedMsgs}`);
    // The topic's own queues (the group's %RETRY% queue is in the table too, once assigned).
    const byQueue = new Map(
      info.mqTable.filter((e) => e.queue.topic === "rates").map((e) => [e.queue.queueId, e.info]),
    );
    assert.equal(byQueue.size, 4);
    for (const [queueId, q] of byQueue) {
      assert.ok(q.lastPullTimestamp >= started - 60_000 && q.lastPullTimestamp <= Date.now());
      if (queueId === 0) assert.ok(q.lastConsumeTimestamp >= started, "queue 0 consumed");
      else assert.equal(q.lastConsumeTimestamp, 0, `queue ${queueId} never consumed`);
    }
  } finally {
    await admin.close();
  }
});
