import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseOffsetMessageId } from "../../../src/codec/message_id.ts";
import { createRequest } from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  flushMicrotasks,
  messagesOf,
  newBroker,
  pull,
  send,
  subscription,
  text,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";
import type { Broker } from "../../../src/broker/broker.ts";

async function delivered(broker: Broker, topic: string, count: number): Promise<void> {
  await until(
    () => broker.store.maxOffset(topic, 0) >= count,
    `${count} message(s) in ${topic}`,
  );
}

describe("CONSUMER_SEND_MSG_BACK (36) and delay levels", () => {
  it("redelivers to %RETRY%<group> after level 3 + reconsumeTimes, with Java's properties", async () => {
    const timers = new ManualTimers(1_700_000_000_000);
    const { broker } = newBroker({ timers, address: "10.0.0.1:9876" });
    const conn = attach(broker);
    const sent = await send(conn, {
      topic: "T",
      properties: { TAGS: "A", UNIQ_KEY: "U" },
      body: "work",
    });
    const offset = parseOffsetMessageId(sent.extFields.msgId!).commitLogOffset;

    const res = await call(
      conn,
      createRequest(36, {
        offset,
        group: "G",
        delayLevel: 0,
        originMsgId: "U",
        maxReconsumeTimes: 16,
      }),
    );
    assert.equal(res.code, 0, res.remark);
    assert.equal(broker.store.maxOffset("%RETRY%G", 0), 0, "parked, not delivered yet");
    assert.equal(broker.store.maxOffset("SCHEDULE_TOPIC_XXXX", 2), 1, "level 3 = queue 2");
    timers.advance(9_999);
    await flushMicrotasks();
    assert.equal(broker.store.maxOffset("%RETRY%G", 0), 0);
    timers.advance(1);
    await delivered(broker, "%RETRY%G", 1);

    await call(conn, consumerHeartbeat("c1", "G", [subscription("%RETRY%G")]));
    const got = messagesOf(await pull(conn, { group: "G", topic: "%RETRY%G" }));
    assert.equal(got.length, 1);
    const retry = got[0]!;
    assert.equal(text(retry.body), "work");
    assert.equal(retry.reconsumeTimes, 1);
    assert.equal(retry.properties.RETRY_TOPIC, "T");
    assert.equal(retry.properties.ORIGIN_MESSAGE_ID, sent.extFields.msgId);
    assert.equal(retry.properties.UNIQ_KEY, "U");
    assert.equal(retry.properties.TAGS, "A");
    assert.equal(retry.properties.DELAY, undefined);
    assert.equal(retry.properties.REAL_TOPIC, "%RETRY%G");
    assert.equal(broker.stats.delayedDelivered, 1);

    // The second failure waits level 4 (30 s) and keeps the first ORIGIN_MESSAGE_ID.
    const again = await call(
      conn,
      createRequest(36, { offset: retry.commitLogOffset, group: "G", delayLevel: 0 }),
    );
    assert.equal(again.code, 0);
    timers.advance(29_999);
    await flushMicrotasks();
    assert.equal(broker.store.maxOffset("%RETRY%G", 0), 1);
    timers.advance(1);
    await delivered(broker, "%RETRY%G", 2);
    const second = messagesOf(await pull(conn, { group: "G", topic: "%RETRY%G", offset: 1 }))[0]!;
    assert.equal(second.reconsumeTimes, 2);
    assert.equal(second.properties.ORIGIN_MESSAGE_ID, sent.extFields.msgId);
    await conn.close();
    await broker.close();
  });

  it("moves a message to %DLQ%<group> once it was reconsumed maxReconsumeTimes times", async () => {
    const timers = new ManualTimers(1_700_000_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    const sent = await send(conn, { topic: "%RETRY%G", reconsumeTimes: 2, maxReconsumeTimes: 16 });
    const offset = parseOffsetMessageId(sent.extFields.msgId!).commitLogOffset;
    const res = await call(
      conn,
      createRequest(36, { offset, group: "G", delayLevel: 0, maxReconsumeTimes: 2 }),
    );
    assert.equal(res.code, 0);
    assert.equal(broker.store.maxOffset("%DLQ%G", 0), 1, "stored at once, no delay");
    assert.deepEqual(broker.topics.get("%DLQ%G")?.perm, 6);
    const dlq = messagesOf(
      await pull(conn, { group: "G", topic: "%DLQ%G", subscription: "*" }),
    )[0]!;
    assert.equal(dlq.reconsumeTimes, 3);
    // Another group may not read G's dead letters.
    const other = await pull(conn, { group: "X", topic: "%DLQ%G", subscription: "*" });
    assert.deepEqual([other.code, other.remark], [
      16,
      "the topic[%DLQ%G] belongs to group G; group X may not read it",
    ]);
    await conn.close();
    await broker.close();
  });

  it("sends straight to the DLQ for a negative level", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const sent = await send(conn, { topic: "T" });
    const offset = parseOffsetMessageId(sent.extFields.msgId!).commitLogOffset;
    assert.equal(
      (await call(conn, createRequest(36, { offset, group: "G", delayLevel: -1 }))).code,
      0,
    );
    assert.equal(broker.store.maxOffset("%DLQ%G", 0), 1);
    await conn.close();
    await broker.close();
  });

  it("honours an explicit level and delivers producer-delayed messages to their topic", async () => {
    const timers = new ManualTimers(1_700_000_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    await send(conn, { topic: "T", queueId: 1, properties: { DELAY: "1" }, body: "later" });
    await send(conn, { topic: "T", queueId: 1, properties: { DELAY: "99" }, body: "clamped" });
    assert.equal(broker.store.maxOffset("SCHEDULE_TOPIC_XXXX", 17), 1, "level 99 is clamped to 18");
    timers.advance(1000);
    await until(() => broker.store.maxOffset("T", 1) === 1, "the level-1 message to be delivered");
    const m = messagesOf(
      await pull(conn, { group: "G", topic: "T", queueId: 1, subscription: "*" }),
    )[0]!;
    assert.equal(text(m.body), "later");
    assert.equal(m.queueId, 1);
    timers.advance(7_200_000);
    await until(() => broker.store.maxOffset("T", 1) === 2, "the clamped message to be delivered");
    assert.equal(broker.stats.scheduledMessages, 0);
    await conn.close();
    await broker.close();
  });

  it("answers SYSTEM_ERROR for an offset it does not hold", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const res = await call(conn, createRequest(36, { offset: 999, group: "G", delayLevel: 0 }));
    assert.deepEqual([res.code, res.remark], [1, "look message by offset failed, 999"]);
    await conn.close();
    await broker.close();
  });
});
