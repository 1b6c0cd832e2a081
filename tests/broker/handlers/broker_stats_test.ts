import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequest } from "../../../src/codec/remoting_command.ts";
import {
  decodeConsumeStats,
  decodeKVTable,
  decodeTopicStatsTable,
} from "../../../src/codec/admin_bodies.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import { attach, call, emptyTopic, newBroker, pull, send } from "../_helpers.ts";

describe("broker statistics (28 GET_BROKER_RUNTIME_INFO, 202 GET_TOPIC_STATS_INFO)", () => {
  it("GET_BROKER_RUNTIME_INFO: version, message totals and the earliest store time", async () => {
    const timers = new ManualTimers(1_800_000_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    const before = decodeKVTable((await call(conn, createRequest(28))).body);
    assert.equal(before.earliestMessageTimeStamp, "0");
    assert.equal(before.msgPutTotalTodayNow, "0");
    await send(conn, { topic: "T" });
    timers.advance(1000);
    await send(conn, { topic: "U" });
    const res = await call(conn, createRequest(28));
    assert.equal(res.code, 0);
    const table = decodeKVTable(res.body);
    assert.match(table.brokerVersionDesc!, /^V\d+_\d+_\d+/);
    assert.equal(table.msgPutTotalTodayNow, "2");
    assert.equal(table.earliestMessageTimeStamp, "1800000000000");
    assert.equal(table.brokerActive, "true");
    await conn.close();
    await broker.close();
  });

  it("rates: putTps and the get rates in the runtime info, topicPutTps, a group's consumeTps", async () => {
    const timers = new ManualTimers(1_800_000_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    emptyTopic(broker, "T");
    timers.advance(120_000); // two minutes up: rates divide by their whole window
    for (let i = 0; i < 30; i++) await send(conn, { topic: "T", queueId: 0 });
    const found = await pull(conn, { group: "G", topic: "T", subscription: "*", maxMsgNums: 20 });
    assert.equal(found.code, 0);
    const none = await pull(conn, { group: "G", topic: "T", queueId: 1, subscription: "*" });
    assert.equal(none.code, 19);

    const info = decodeKVTable((await call(conn, createRequest(28))).body);
    assert.equal(info.putTps, "3 0.5 0.25"); // 30 in the last 10 s, the minute, the 2 minutes up
    assert.equal(info.getTransferedTps, "2 0.33 0.17");
    assert.equal(info.getFoundTps, "0.1 0.02 0.01");
    assert.equal(info.getMissTps, "0.1 0.02 0.01");
    assert.equal(info.getTotalTps, "0.2 0.03 0.02");
    const topic = decodeTopicStatsTable(
      (await call(conn, createRequest(202, { topic: "T" }))).body,
    );
    assert.equal(topic.topicPutTps, 0.5);
    const consume = decodeConsumeStats(
      (await call(conn, createRequest(208, { consumerGroup: "G", topic: "T" }))).body,
    );
    assert.equal(consume.consumeTps, 20 / 60);

    timers.advance(61_000); // out of the minute
    const later = decodeKVTable((await call(conn, createRequest(28))).body);
    assert.equal(later.putTps, "0 0 0.17"); // still within 10 minutes (30 in 181 s up)
    assert.equal(
      decodeTopicStatsTable((await call(conn, createRequest(202, { topic: "T" }))).body)
        .topicPutTps,
      0,
    );
    await conn.close();
    await broker.close();
  });

  it("GET_TOPIC_STATS_INFO: min, max and last store time of every write queue; TOPIC_NOT_EXIST", async () => {
    const timers = new ManualTimers(1_800_000_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    emptyTopic(broker, "T");
    await send(conn, { topic: "T", queueId: 2 });
    timers.advance(500);
    await send(conn, { topic: "T", queueId: 2 });
    const res = await call(conn, createRequest(202, { topic: "T" }));
    assert.equal(res.code, 0);
    const stats = decodeTopicStatsTable(res.body);
    assert.equal(stats.offsetTable.length, 8);
    const q2 = stats.offsetTable.find((e) => e.queue.queueId === 2)!;
    assert.deepEqual(q2.offsets, {
      minOffset: 0,
      maxOffset: 2,
      lastUpdateTimestamp: 1_800_000_000_500,
    });
    assert.equal(q2.queue.brokerName, "broker-a");
    assert.deepEqual(stats.offsetTable.find((e) => e.queue.queueId === 0)!.offsets, {
      minOffset: 0,
      maxOffset: 0,
      lastUpdateTimestamp: 0,
    });
    const missing = await call(conn, createRequest(202, { topic: "Nope" }));
    assert.equal(missing.code, 17);
    assert.equal((await call(conn, createRequest(202, {}))).code, 29);
    await conn.close();
    await broker.close();
  });
});
