import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequest } from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import { decodeConsumeStats } from "../../../src/codec/admin_bodies.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  flushMicrotasks,
  newBroker,
  oneway,
  send,
  subscription,
} from "../_helpers.ts";

describe("offset requests (14, 15, 29, 30, 31, 32)", () => {
  it("QUERY_CONSUMER_OFFSET: 0 for a new group on a queue that never lost a message, empty or not", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const query = (extra: Record<string, string | number> = {}) =>
      call(conn, createRequest(14, { consumerGroup: "G", topic: "T", queueId: 0, ...extra }));
    // Empty: 0, not QUERY_NOT_FOUND, so that a consumer never races the first
    // messages with GET_MAX_OFFSET (it would skip what arrived in between).
    const empty = await query();
    assert.deepEqual([empty.code, empty.extFields.offset], [0, "0"]);
    await send(conn, { topic: "T" });
    const young = await query();
    assert.deepEqual([young.code, young.extFields.offset], [0, "0"]);
    const notSet = await query({ setZeroIfNotFound: "false" });
    assert.equal(notSet.code, 22);
    assert.match(notSet.remark!, /^Not found/);
    await conn.close();
    await broker.close();
  });

  it("UPDATE_CONSUMER_OFFSET: oneway updates are stored and never answered", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    await send(conn, { topic: "T" });
    const before = conn.stats.framesIn;
    await conn.invokeOneway(
      oneway(15, { consumerGroup: "G", topic: "T", queueId: 0, commitOffset: 1 }),
    );
    const res = await call(conn, createRequest(14, { consumerGroup: "G", topic: "T", queueId: 0 }));
    assert.deepEqual([res.code, res.extFields.offset], [0, "1"]);
    assert.equal(conn.stats.framesIn, before + 1, "only the query was answered");
    const sync = await call(
      conn,
      createRequest(15, { consumerGroup: "G", topic: "T", queueId: 0, commitOffset: 2 }),
    );
    assert.equal(sync.code, 0);
    const unknown = await call(
      conn,
      createRequest(15, { consumerGroup: "G", topic: "Nope", queueId: 0, commitOffset: 2 }),
    );
    assert.equal(unknown.code, 17);
    await conn.close();
    await broker.close();
  });

  it("GET_MAX_OFFSET, GET_MIN_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP, GET_EARLIEST_MSG_STORETIME", async () => {
    const timers = new ManualTimers(1_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    assert.equal(
      (await call(conn, createRequest(32, { topic: "T", queueId: 0 }))).extFields.timestamp,
      "-1",
    );
    await send(conn, { topic: "T" });
    timers.advance(1000);
    await send(conn, { topic: "T" });
    await flushMicrotasks();
    assert.equal(
      (await call(conn, createRequest(30, { topic: "T", queueId: 0 }))).extFields.offset,
      "2",
    );
    assert.equal(
      (await call(conn, createRequest(31, { topic: "T", queueId: 0 }))).extFields.offset,
      "0",
    );
    const search = (timestamp: number, boundaryType?: string) =>
      call(
        conn,
        createRequest(29, {
          topic: "T",
          queueId: 0,
          timestamp,
          ...(boundaryType ? { boundaryType } : {}),
        }),
      );
    assert.equal((await search(1_000_500)).extFields.offset, "1");
    assert.equal((await search(1_000_500, "UPPER")).extFields.offset, "0");
    assert.equal(
      (await call(conn, createRequest(32, { topic: "T", queueId: 0 }))).extFields.timestamp,
      "1000000",
    );
    const bad = await call(conn, createRequest(30, { topic: "T", queueId: "x" }));
    assert.equal(bad.code, 29);
    assert.match(bad.remark!, /queueId/);
    await conn.close();
    await broker.close();
  });

  it("GET_CONSUME_STATS: per queue, max offset, committed offset and the last consumed message's store time", async () => {
    const timers = new ManualTimers(1_700_000_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    for (let i = 0; i < 3; i++) await send(conn, { topic: "T", queueId: 1 });
    timers.advance(5_000);
    await send(conn, { topic: "T", queueId: 1 });
    await send(conn, { topic: "Other" });
    await call(
      conn,
      createRequest(15, { consumerGroup: "G", topic: "T", queueId: 1, commitOffset: 3 }),
    );
    const stats = async (header: Record<string, string>) => {
      const res = await call(conn, createRequest(208, header));
      assert.equal(res.code, 0, res.remark);
      return decodeConsumeStats(res.body);
    };
    // Without a topic: the topics the group has offsets for (not "Other").
    const all = await stats({ consumerGroup: "G" });
    const q1 = all.offsetTable.find((e) => e.queue.queueId === 1);
    assert.deepEqual(new Set(all.offsetTable.map((e) => e.queue.topic)), new Set(["T"]));
    assert.equal(all.offsetTable.length, broker.topics.get("T")!.readQueueNums);
    assert.deepEqual(q1?.offsets, {
      brokerOffset: 4,
      consumerOffset: 3,
      pullOffset: 3,
      lastTimestamp: 1_700_000_000_000, // the third message, stored before the clock moved
    });
    assert.equal(all.offsetTable.find((e) => e.queue.queueId === 0)?.offsets.lastTimestamp, 0);
    // One topic asked for by name; a group that never committed reads 0.
    const other = await stats({ consumerGroup: "G", topic: "Other" });
    assert.ok(
      other.offsetTable.every((e) => e.queue.topic === "Other" && e.offsets.consumerOffset === 0),
    );
    // An online group shows the topics it subscribes to, committed or not.
    await call(conn, consumerHeartbeat("c1", "G2", [subscription("T")]));
    const online = await stats({ consumerGroup: "G2" });
    assert.deepEqual(new Set(online.offsetTable.map((e) => e.queue.topic)), new Set(["T"]));
    const bad = await call(conn, createRequest(208, { topic: "T" }));
    assert.equal(bad.code, 29); // INVALID_PARAMETER
    assert.match(bad.remark!, /consumerGroup/);
    await conn.close();
    await broker.close();
  });
});
