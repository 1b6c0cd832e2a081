import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFileStore } from "../../../src/broker/store/file_store.ts";
import { createRequest } from "../../../src/codec/remoting_command.ts";
import { buildSubscriptionData } from "../../../src/codec/bodies.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  emptyTopic,
  flushMicrotasks,
  messagesOf,
  newBroker,
  pull,
  pullRequest,
  send,
  subscription,
  text,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";

describe("PULL_MESSAGE (11)", () => {
  it("returns stored records in commit-log format with the four header fields", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    for (const body of ["a", "b", "c"]) await send(conn, { topic: "T", body });
    const res = await pull(conn, { group: "G", topic: "T", subscription: "*", offset: 1 });
    assert.equal(res.code, 0);
    assert.equal(res.remark, "FOUND");
    assert.deepEqual(
      [
        res.extFields.suggestWhichBrokerId,
        res.extFields.nextBeginOffset,
        res.extFields.minOffset,
        res.extFields.maxOffset,
      ],
      ["0", "3", "0", "3"],
    );
    const msgs = messagesOf(res);
    assert.deepEqual(msgs.map((m) => [m.queueOffset, text(m.body)]), [[1, "b"], [2, "c"]]);
    assert.equal(broker.stats.messagesPulled, 2);
    await conn.close();
    await broker.close();
  });

  it("uses the heartbeat's subscription and filters by tag hash on the broker", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    assert.equal(
      (await call(conn, consumerHeartbeat("c1", "G", [subscription("T", "A")]))).code,
      0,
    );
    await send(conn, { topic: "T", properties: { TAGS: "A" }, body: "1" });
    await send(conn, { topic: "T", properties: { TAGS: "B" }, body: "2" });
    await send(conn, { topic: "T", body: "no tag" });
    await send(conn, { topic: "T", properties: { TAGS: "A" }, body: "4" });
    const res = await pull(conn, { group: "G", topic: "T" });
    assert.equal(res.code, 0);
    assert.deepEqual(messagesOf(res).map((m) => text(m.body)), ["1", "4"]);
    const none = await pull(conn, {
      group: "G",
      topic: "T",
      offset: 1,
      maxMsgNums: 1,
      subscription: "C",
    });
    assert.equal(none.code, 20);
    assert.equal(none.remark, "NO_MATCHED_MESSAGE");
    assert.equal(none.extFields.nextBeginOffset, "4");
    await conn.close();
    await broker.close();
  });

  it("answers the subscription and topic checks with Java's codes", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    await send(conn, { topic: "T" });
    assert.equal((await pull(conn, { group: "G", topic: "T" })).code, 24);
    await call(conn, consumerHeartbeat("c1", "G", [subscription("T", "*", 5)]));
    assert.equal((await pull(conn, { group: "G", topic: "U" })).code, 17);
    assert.equal((await pull(conn, { group: "G", topic: "T", subVersion: 6 })).code, 25);
    assert.equal((await pull(conn, { group: "G", topic: "T", subVersion: 5 })).code, 0);
    const other = await pull(conn, { group: "G2", topic: "T" });
    assert.equal(other.code, 24);
    assert.equal((await pull(conn, { group: "G", topic: "T", queueId: 9 })).code, 29);
    const other_type = createRequest(11, {
      ...pullRequest({ group: "G", topic: "T", subscription: "a > 1" }).extFields,
      expressionType: "JAVA",
    });
    const refused = await call(conn, other_type);
    assert.equal(refused.code, 1);
    assert.match(refused.remark!, /does not support consumer to filter message by JAVA/);
    await conn.close();
    await broker.close();
  });

  describe("SQL92 subscriptions", () => {
    const sqlPull = (o: Parameters<typeof pullRequest>[0] & { subscription: string }) =>
      createRequest(11, { ...pullRequest(o).extFields, expressionType: "SQL92" });

    async function sendNumbered(conn: ReturnType<typeof attach>, count: number): Promise<void> {
      for (let n = 0; n < count; n++) {
        await send(conn, {
          topic: "T",
          properties: { n: String(n), region: n % 3 === 0 ? "eu" : "asia", TAGS: `t${n % 2}` },
          body: String(n),
        });
      }
    }

    it("filters on the properties, user and system (TAGS), from the request's expression", async () => {
      const { broker } = newBroker();
      const conn = attach(broker);
      await sendNumbered(conn, 12);
      const res = await call(
        conn,
        sqlPull({ group: "G", topic: "T", subscription: "n > 5 AND region IN ('eu', 'us')" }),
      );
      assert.equal(res.code, 0);
      assert.deepEqual(messagesOf(res).map((m) => text(m.body)), ["6", "9"]);
      assert.equal(res.extFields.nextBeginOffset, "12");
      const tags = await call(
        conn,
        sqlPull({ group: "G", topic: "T", subscription: "TAGS = 't1'" }),
      );
      assert.deepEqual(messagesOf(tags).map((m) => text(m.body)), ["1", "3", "5", "7", "9", "11"]);
      // Messages whose property is not a number, or missing, do not match.
      await send(conn, { topic: "T", properties: { n: "many", region: "eu" }, body: "x" });
      await send(conn, { topic: "T", properties: { region: "eu" }, body: "y" });
      const rest = await call(
        conn,
        sqlPull({ group: "G", topic: "T", subscription: "n > 5 OR region = 'eu'", offset: 12 }),
      );
      assert.deepEqual(messagesOf(rest).map((m) => text(m.body)), ["y"]);
      await conn.close();
      await broker.close();
    });

    it("uses the heartbeat's SQL92 subscription and reads on past non-matching messages", async () => {
      const { broker } = newBroker();
      const conn = attach(broker);
      const sub = buildSubscriptionData("T", "n >= 70", 1, "SQL92");
      assert.equal((await call(conn, consumerHeartbeat("c1", "G", [sub]))).code, 0);
      await sendNumbered(conn, 75);
      const res = await pull(conn, { group: "G", topic: "T", maxMsgNums: 32 });
      assert.equal(res.code, 0);
      assert.deepEqual(messagesOf(res).map((m) => text(m.body)), ["70", "71", "72", "73", "74"]);
      const two = await pull(conn, { group: "G", topic: "T", offset: 10, maxMsgNums: 2 });
      assert.deepEqual(messagesOf(two).map((m) => text(m.body)), ["70", "71"]);
      assert.equal(two.extFields.nextBeginOffset, "72");
      // Nothing left that matches: "go on from the end" (PULL_RETRY_IMMEDIATELY).
      const nothing = await call(
        conn,
        sqlPull({ group: "G", topic: "T", subscription: "n > 1000", offset: 10 }),
      );
      assert.deepEqual([nothing.code, nothing.extFields.nextBeginOffset], [20, "75"]);
      await conn.close();
      await broker.close();
    });

    it("refuses an expression that does not parse with Java's codes", async () => {
      const { broker } = newBroker();
      const conn = attach(broker);
      await send(conn, { topic: "T", properties: { n: "1" } });
      const bad = await call(conn, sqlPull({ group: "G", topic: "T", subscription: "n >" }));
      assert.deepEqual([bad.code, bad.remark], [23, "parse the consumer's subscription failed"]);
      const sub = buildSubscriptionData("T", "n > > 1", 1, "SQL92");
      await call(conn, consumerHeartbeat("c1", "G", [sub]));
      const fromHeartbeat = await pull(conn, { group: "G", topic: "T" });
      assert.equal(fromHeartbeat.code, 27); // FILTER_DATA_NOT_EXIST
      await conn.close();
      await broker.close();
    });

    for (const storeKind of ["memory", "file"] as const) {
      it(`wakes a held pull for a matching message only (${storeKind} store)`, async () => {
        const timers = new ManualTimers(Date.now());
        const dataDir = storeKind === "file"
          ? await mkdtemp(join(tmpdir(), "rocketmq-rpc-sql-wake-"))
          : undefined;
        const store = dataDir ? await openFileStore({ dataDir, timers }) : undefined;
        const { broker } = newBroker({ timers, ...(store ? { store } : {}) });
        const conn = attach(broker);
        try {
          await send(conn, { topic: "T", properties: { n: "1" }, body: "old" });
          const held = call(
            conn,
            createRequest(11, {
              ...pullRequest({
                group: "G",
                topic: "T",
                subscription: "n > 5",
                offset: 1,
                suspendMillis: 60_000,
              }).extFields,
              expressionType: "SQL92",
            }),
          );
          await until(() => broker.stats.heldPulls === 1, "the pull to be held");
          // Messages the expression filters out leave the pull held: no
          // answer, no round trip per message.
          await send(conn, { topic: "T", properties: { n: "2" }, body: "small" });
          await send(conn, { topic: "T", properties: {}, body: "no n" });
          await flushMicrotasks();
          assert.equal(broker.stats.heldPulls, 1, "still held after non-matching arrivals");
          await send(conn, { topic: "T", properties: { n: "9" }, body: "new" });
          const res = await held;
          assert.equal(res.code, 0);
          assert.deepEqual(messagesOf(res).map((m) => text(m.body)), ["new"]);
          assert.equal(res.extFields.nextBeginOffset, "4");
        } finally {
          await conn.close();
          await broker.close();
          await store?.close();
          if (dataDir) await rm(dataDir, { recursive: true, force: true });
        }
      });
    }
  });

  it("answers PULL_OFFSET_MOVED with a corrected nextBeginOffset", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    await send(conn, { topic: "T" });
    const beyond = await pull(conn, { group: "G", topic: "T", subscription: "*", offset: 7 });
    // Past the end of a queue that starts at 0 (a store that lost its tail):
    // read it again from 0, as Java's DefaultMessageStore does.
    assert.deepEqual([beyond.code, beyond.extFields.nextBeginOffset], [21, "0"]);
    const empty = await pull(conn, {
      group: "G",
      topic: "T",
      queueId: 2,
      subscription: "*",
      offset: 3,
    });
    assert.deepEqual([empty.code, empty.extFields.nextBeginOffset], [21, "0"]);
    const fresh = await pull(conn, { group: "G", topic: "T", queueId: 2, subscription: "*" });
    assert.deepEqual([fresh.code, fresh.extFields.nextBeginOffset], [19, "0"]);
    await conn.close();
    await broker.close();
  });

  it("stores the commit offset carried by a pull (sysFlag bit 0)", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    await send(conn, { topic: "T" });
    await pull(conn, { group: "G", topic: "T", subscription: "*", commitOffset: 1, offset: 1 });
    assert.equal(broker.store.queryOffset("G", "T", 0), 1);
    await conn.close();
    await broker.close();
  });

  describe("long polling", () => {
    it("holds a pull that finds nothing and answers it as soon as a message arrives", async () => {
      const timers = new ManualTimers(Date.now());
      const { broker } = newBroker({ timers });
      const consumer = attach(broker);
      const producer = attach(broker);
      await send(producer, { topic: "T" });
      const held = pull(consumer, {
        group: "G",
        topic: "T",
        subscription: "*",
        offset: 1,
        suspendMillis: 15_000,
      });
      await until(() => broker.stats.heldPulls === 1, "the pull to be held");
      let answered = false;
      void held.then(() => answered = true);
      await flushMicrotasks();
      assert.equal(answered, false);
      await send(producer, { topic: "T", body: "late" });
      const res = await held; // no timer was advanced: the arrival alone answered it
      assert.equal(res.code, 0);
      assert.deepEqual(messagesOf(res).map((m) => text(m.body)), ["late"]);
      assert.equal(broker.stats.heldPulls, 0);
      await consumer.close();
      await producer.close();
      await broker.close();
    });

    it("is not woken by a message its subscription filters out", async () => {
      const timers = new ManualTimers(Date.now());
      const { broker } = newBroker({ timers });
      const conn = attach(broker);
      await call(conn, consumerHeartbeat("c1", "G", [subscription("T", "A")]));
      await send(conn, { topic: "T", properties: { TAGS: "A" } });
      const held = pull(conn, { group: "G", topic: "T", offset: 1, suspendMillis: 15_000 });
      await until(() => broker.stats.heldPulls === 1, "the pull to be held");
      await send(conn, { topic: "T", properties: { TAGS: "B" } });
      await flushMicrotasks();
      assert.equal(broker.stats.heldPulls, 1);
      await send(conn, { topic: "T", properties: { TAGS: "A" }, body: "match" });
      const res = await held;
      assert.equal(res.code, 0);
      assert.deepEqual(messagesOf(res).map((m) => text(m.body)), ["match"]);
      await conn.close();
      await broker.close();
    });

    it("answers PULL_NOT_FOUND when suspendTimeoutMillis is up", async () => {
      const timers = new ManualTimers(Date.now());
      const { broker } = newBroker({ timers });
      emptyTopic(broker, "E");
      const conn = attach(broker);
      const held = pull(conn, {
        group: "G",
        topic: "E",
        subscription: "*",
        suspendMillis: 15_000,
      });
      await until(() => broker.stats.heldPulls === 1, "the pull to be held");
      timers.advance(14_999);
      await flushMicrotasks();
      assert.equal(broker.stats.heldPulls, 1);
      timers.advance(1);
      const res = await held;
      assert.deepEqual([res.code, res.extFields.nextBeginOffset], [19, "0"]);
      await conn.close();
      await broker.close();
    });

    it("does not hold a pull without the suspend flag", async () => {
      const { broker } = newBroker();
      emptyTopic(broker, "E");
      const conn = attach(broker);
      const res = await pull(conn, { group: "G", topic: "E", subscription: "*" });
      assert.equal(res.code, 19);
      assert.equal(broker.stats.heldPulls, 0);
      await conn.close();
      await broker.close();
    });

    it("drops the held pulls of a connection that goes away", async () => {
      const timers = new ManualTimers(Date.now());
      const { broker, logger } = newBroker({ timers });
      emptyTopic(broker, "E");
      const conn = attach(broker);
      const held = pull(conn, {
        group: "G",
        topic: "E",
        subscription: "*",
        suspendMillis: 15_000,
      });
      held.catch(() => {});
      await until(() => broker.stats.heldPulls === 1, "the pull to be held");
      await conn.close();
      await until(() => broker.stats.connections === 0, "the connection to close");
      assert.equal(broker.stats.heldPulls, 0);
      assert.ok(
        logger.lines.some((l) => l.message === "connection closed" && l.fields?.heldPulls === 1),
      );
      await broker.close();
    });

    it("answers at once when the pull cap is reached", async () => {
      const timers = new ManualTimers(Date.now());
      const { broker } = newBroker({ timers, maxHeldPulls: 1 });
      emptyTopic(broker, "E");
      const conn = attach(broker);
      const first = pull(conn, {
        group: "G",
        topic: "E",
        subscription: "*",
        suspendMillis: 15_000,
      });
      first.catch(() => {});
      await until(() => broker.stats.heldPulls === 1, "the pull to be held");
      const second = await pull(conn, {
        group: "G",
        topic: "E",
        queueId: 1,
        subscription: "*",
        suspendMillis: 15_000,
      });
      assert.equal(second.code, 19);
      await conn.close();
      await broker.close();
    });
  });
});
