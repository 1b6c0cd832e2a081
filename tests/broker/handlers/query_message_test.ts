import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequest } from "../../../src/codec/remoting_command.ts";
import { decodeStoredMessages } from "../../../src/codec/message_ext.ts";
import { parseOffsetMessageId } from "../../../src/codec/message_id.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import { attach, call, newBroker, send, text } from "../_helpers.ts";
import { viewMessageById } from "../../../src/broker/handlers/query_message.ts";
import { MemoryStore } from "../../../src/broker/store/memory_store.ts";
import type { BrokerContext } from "../../../src/broker/context.ts";
import type { PutMessageInput } from "../../../src/broker/store/types.ts";

function storedMessage(topic: string): PutMessageInput {
  const host = { address: "127.0.0.1", port: 10911 };
  return {
    topic,
    queueId: 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: host,
    storeHost: host,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: new Uint8Array([1]),
    properties: {},
    tagsCode: 0,
  };
}

const ALL = { beginTimestamp: 0, endTimestamp: "9223372036854775807" };

describe("message lookup (12 QUERY_MESSAGE, 33 VIEW_MESSAGE_BY_ID)", () => {
  it("QUERY_MESSAGE by a KEYS word: stored records of the topic, oldest first, index reach in the header", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const sent = [];
    for (let i = 0; i < 5; i++) {
      sent.push(
        await send(conn, {
          topic: i === 4 ? "Other" : "T",
          queueId: i % 2,
          body: `m${i}`,
          properties: { KEYS: `order-${i} acct-${i % 2}`, UNIQ_KEY: `U${i}` },
        }),
      );
    }
    const query = (key: string, extra: Record<string, string | number> = {}) =>
      call(conn, createRequest(12, { topic: "T", key, maxNum: 32, ...ALL, ...extra }));
    const res = await query("acct-0");
    assert.equal(res.code, 0);
    const found = decodeStoredMessages(res.body);
    assert.deepEqual(found.map((m) => text(m.body)), ["m0", "m2"]);
    assert.deepEqual(found.map((m) => m.queueId), [0, 0]);
    const last = parseOffsetMessageId(sent[4]!.extFields.msgId!).commitLogOffset;
    assert.equal(res.extFields.indexLastUpdatePhyoffset, String(last));
    assert.ok(Number(res.extFields.indexLastUpdateTimestamp) > 0);
    // The topic scopes the key; the Other topic's acct-0 message is not returned.
    assert.deepEqual(
      decodeStoredMessages((await query("acct-0", { topic: "Other" })).body).map((m) =>
        text(m.body)
      ),
      ["m4"],
    );
    const none = await query("order-9");
    assert.equal(none.code, 22);
    assert.equal(none.remark, "can not find message, maybe time range not correct");
    await conn.close();
    await broker.close();
  });

  it("QUERY_MESSAGE by unique key with _UNIQUE_KEY_QUERY, and maxNum capped at 64 (32 by unique key)", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    for (let i = 0; i < 70; i++) {
      await send(conn, {
        topic: "T",
        body: `m${i}`,
        properties: { KEYS: "same", UNIQ_KEY: "dup" },
      });
    }
    const query = (key: string, maxNum: number, unique?: boolean) =>
      call(
        conn,
        createRequest(12, {
          topic: "T",
          key,
          maxNum,
          ...ALL,
          ...(unique === undefined ? {} : { _UNIQUE_KEY_QUERY: String(unique) }),
        }),
      );
    const bodies = async (key: string, maxNum: number, unique?: boolean) =>
      decodeStoredMessages((await query(key, maxNum, unique)).body).map((m) => text(m.body));
    const newest = (n: number) => Array.from({ length: n }, (_, i) => `m${70 - n + i}`);
    assert.deepEqual(await bodies("same", 3), newest(3));
    assert.deepEqual(await bodies("same", 1000), newest(64));
    assert.deepEqual(await bodies("dup", 1, true), newest(32));
    assert.deepEqual(await bodies("dup", 1, false), newest(1));
    await conn.close();
    await broker.close();
  });

  it("QUERY_MESSAGE keeps to the time range", async () => {
    const timers = new ManualTimers(1_800_000_000_000);
    const { broker } = newBroker({ timers });
    const conn = attach(broker);
    for (let i = 0; i < 3; i++) {
      await send(conn, { topic: "T", body: `m${i}`, properties: { KEYS: "k" } });
      timers.advance(10_000);
    }
    const t0 = 1_800_000_000_000;
    const res = await call(
      conn,
      createRequest(12, {
        topic: "T",
        key: "k",
        maxNum: 32,
        beginTimestamp: t0 + 5_000,
        endTimestamp: t0 + 25_000,
      }),
    );
    assert.deepEqual(decodeStoredMessages(res.body).map((m) => text(m.body)), ["m1", "m2"]);
    const early = await call(
      conn,
      createRequest(12, {
        topic: "T",
        key: "k",
        maxNum: 32,
        beginTimestamp: 0,
        endTimestamp: t0 - 1,
      }),
    );
    assert.equal(early.code, 22);
    await conn.close();
    await broker.close();
  });

  it("VIEW_MESSAGE_BY_ID: the record at the offset of the offset message id a send returned", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const sent = [];
    for (let i = 0; i < 3; i++) {
      sent.push(await send(conn, { topic: "T", body: `m${i}`, properties: { UNIQ_KEY: `U${i}` } }));
    }
    const offset = parseOffsetMessageId(sent[1]!.extFields.msgId!).commitLogOffset;
    const res = await call(conn, createRequest(33, { topic: "T", offset }));
    assert.equal(res.code, 0);
    const [m, ...rest] = decodeStoredMessages(res.body);
    assert.equal(rest.length, 0);
    assert.equal(text(m!.body), "m1");
    assert.equal(m!.properties["UNIQ_KEY"], "U1");
    assert.equal(m!.commitLogOffset, offset);
    // A 4.x client sends no topic.
    assert.equal((await call(conn, createRequest(33, { offset }))).code, 0);
    for (const bad of [offset + 1, -1, 1e15]) {
      const miss = await call(conn, createRequest(33, { offset: bad }));
      assert.equal(miss.code, 1);
      assert.equal(miss.remark, `can not find message by the offset, ${bad}`);
    }
    await conn.close();
    await broker.close();
  });

  it("VIEW_MESSAGE_BY_ID with access control: only a message of the topic the request names", async () => {
    const store = new MemoryStore();
    const put = await store.put(storedMessage("T"));
    const other = await store.put(storedMessage("Secret"));
    // The ACL let the request through for its topic: the handler must not serve another topic's message.
    const ctx = { store, acl: {} } as unknown as BrokerContext;
    const view = (offset: number) =>
      viewMessageById(ctx, createRequest(33, { topic: "T", offset }));
    assert.equal((await view(put.commitLogOffset)).code, 0);
    const refused = await view(other.commitLogOffset);
    assert.equal(refused.code, 1);
    assert.equal(refused.remark, `can not find message by the offset, ${other.commitLogOffset}`);
    await store.close();
  });

  it("malformed headers get INVALID_PARAMETER naming the field", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const q = await call(conn, createRequest(12, { topic: "T", key: "k", maxNum: "x", ...ALL }));
    assert.equal(q.code, 29);
    assert.match(q.remark!, /maxNum/);
    const v = await call(conn, createRequest(33, { topic: "T" }));
    assert.equal(v.code, 29);
    assert.match(v.remark!, /offset/);
    await conn.close();
    await broker.close();
  });
});
