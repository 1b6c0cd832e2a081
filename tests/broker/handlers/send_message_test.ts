import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeBatch } from "../../../src/codec/message.ts";
import { parseOffsetMessageId } from "../../../src/codec/message_id.ts";
import { decodeStoredMessage } from "../../../src/codec/message_ext.ts";
import { createRequest } from "../../../src/codec/remoting_command.ts";
import fc from "fast-check";
import { decodeProperties } from "../../../src/codec/properties.ts";
import { storedProperties } from "../../../src/broker/handlers/send_message.ts";
import { attach, call, messagesOf, newBroker, pull, send, sendRequest, text } from "../_helpers.ts";

describe("storedProperties", () => {
  it("reads back as the client's properties with the broker's keys set, whatever the client's text", () => {
    const piece = fc.constantFrom("\u0001", "\u0002", "A", "B", "UNIQ_KEY", "TAGS", "x", "");
    const wire = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(""));
    const name = fc.constantFrom("A", "B", "UNIQ_KEY", "MSG_REGION", "CLUSTER");
    const added = fc.dictionary(
      name,
      fc.string({ unit: fc.constantFrom("a", "1", "é"), minLength: 1, maxLength: 3 }),
    );
    fc.assert(
      fc.property(wire, added, (text, keys) => {
        const stored = storedProperties(text, keys);
        assert.ok(stored !== undefined);
        assert.deepEqual(decodeProperties(stored), { ...decodeProperties(text), ...keys });
      }),
      { numRuns: 2000 },
    );
  });

  it("gives up on additions that cannot be written", () => {
    assert.equal(storedProperties("A\u00011\u0002", { B: "x\u0002y" }), undefined);
  });
});

describe("SEND_MESSAGE (10/310) and SEND_BATCH_MESSAGE (320)", () => {
  it("stores the client's properties text with the broker's keys, which win over the client's", async () => {
    const { broker } = newBroker({ address: "10.0.0.1:9876" });
    const conn = attach(broker);
    const request = sendRequest({ topic: "Orders", queueId: 0, properties: { TAGS: "A" } });
    // A text a Java client would not write: a duplicate key, an empty value, no final separator.
    request.extFields.i =
      "TAGS\u0001A\u0002MSG_REGION\u0001mine\u0002K\u0001\u0002TAGS\u0001B\u0002UNIQ_KEY\u0001U9";
    const res = await call(conn, request);
    assert.equal(res.code, 0, res.remark);
    const id = parseOffsetMessageId(res.extFields.msgId!);
    const m = decodeStoredMessage((await broker.store.lookup(id.commitLogOffset))!);
    assert.deepEqual(m.properties, {
      TAGS: "B",
      MSG_REGION: "DefaultRegion",
      UNIQ_KEY: "U9",
      TRACE_ON: "true",
      CLUSTER: "DefaultCluster",
    });
    await conn.close();
    await broker.close();
  });

  it("stores a V2 send, answers with Java's header and stamps CLUSTER, MSG_REGION, TRACE_ON", async () => {
    const { broker } = newBroker({ address: "10.0.0.1:9876" });
    const conn = attach(broker);
    const res = await send(conn, {
      topic: "Orders",
      queueId: 2,
      properties: { TAGS: "A", UNIQ_KEY: "U1" },
    });
    assert.equal(res.code, 0, res.remark);
    assert.equal(res.extFields.queueId, "2");
    assert.equal(res.extFields.queueOffset, "0");
    assert.equal(res.extFields.transactionId, "U1");
    assert.equal(res.extFields.MSG_REGION, "DefaultRegion");
    assert.equal(res.extFields.TRACE_ON, "true");
    const id = parseOffsetMessageId(res.extFields.msgId!);
    assert.deepEqual(id.storeHost, { address: "10.0.0.1", port: 9876 });

    const record = await broker.store.lookup(id.commitLogOffset);
    const m = decodeStoredMessage(record!);
    assert.equal(m.topic, "Orders");
    assert.equal(m.queueId, 2);
    assert.equal(m.properties.CLUSTER, "DefaultCluster");
    assert.equal(m.properties.MSG_REGION, "DefaultRegion");
    assert.equal(m.properties.TRACE_ON, "true");
    assert.equal(m.properties.UNIQ_KEY, "U1");
    assert.equal(m.bornHost.address, "10.0.0.5");
    assert.equal(text(m.body), "hello");
    await conn.close();
    await broker.close();
  });

  it("auto-creates a topic from TBW102 with min(4, 8) queues, once", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    assert.equal((await send(conn, { topic: "New" })).code, 0);
    const t = broker.topics.get("New")!;
    assert.deepEqual([t.readQueueNums, t.writeQueueNums, t.perm], [4, 4, 6]);
    assert.equal((await send(conn, { topic: "New", queueId: 3 })).code, 0);
    await conn.close();
    await broker.close();
  });

  it("answers TOPIC_NOT_EXIST without auto-creation, with Java's remark", async () => {
    const { broker } = newBroker({ autoCreateTopics: false });
    const conn = attach(broker);
    const res = await send(conn, { topic: "New" });
    assert.equal(res.code, 17);
    assert.match(res.remark!, /^topic\[New\] not exist, apply first please!/);
    assert.equal(res.extFields.MSG_REGION, "DefaultRegion");
    await conn.close();
    await broker.close();
  });

  it("refuses invalid names, system topics, bad queue ids and malformed headers", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const bad = await send(conn, { topic: "a b" });
    assert.equal(bad.code, 29);
    assert.match(bad.remark!, /illegal characters/);
    const sched = await send(conn, { topic: "SCHEDULE_TOPIC_XXXX" });
    assert.equal(sched.code, 16);
    await send(conn, { topic: "Q" });
    const q = await send(conn, { topic: "Q", queueId: 4 });
    assert.equal(q.code, 29);
    assert.match(q.remark!, /request queueId\[4\] is illegal/);
    const malformed = await call(conn, createRequest(310, { a: "PG", b: "T" }));
    assert.equal(malformed.code, 29);
    assert.match(malformed.remark!, /field c/);
    await conn.close();
    await broker.close();
  });

  it("accepts the V1 header (code 10) and picks a queue when queueId is negative", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const res = await send(conn, { topic: "V1", code: 10, queueId: -1 });
    assert.equal(res.code, 0, res.remark);
    assert.ok(Number(res.extFields.queueId) >= 0 && Number(res.extFields.queueId) < 4);
    await conn.close();
    await broker.close();
  });

  it("generates UNIQ_KEY when the send has none", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const res = await send(conn, { topic: "T" });
    assert.match(res.extFields.transactionId!, /^[0-9A-F]{32}$/);
    const got = await pull(conn, { group: "G", topic: "T", subscription: "*" });
    assert.equal(messagesOf(got)[0]!.properties.UNIQ_KEY, res.extFields.transactionId);
    await conn.close();
    await broker.close();
  });

  it("refuses bodies over maxMessageSize and transactional half messages", async () => {
    const { broker } = newBroker({ maxMessageSize: 10 });
    const conn = attach(broker);
    const big = await send(conn, { topic: "T", body: new Uint8Array(11) });
    assert.equal(big.code, 13);
    const half = await send(conn, { topic: "T", properties: { TRAN_MSG: "true", PGROUP: "PG" } });
    assert.equal(half.code, 16);
    assert.match(half.remark!, /sending transaction message is forbidden/);
    await conn.close();
    await broker.close();
  });

  it("stores a batch as separate messages with their own UNIQ_KEY plus CLUSTER", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const body = encodeBatch([
      { flag: 0, body: new TextEncoder().encode("one"), properties: { UNIQ_KEY: "K1", TAGS: "A" } },
      { flag: 3, body: new TextEncoder().encode("two"), properties: { UNIQ_KEY: "K2" } },
    ]);
    const req = sendRequest({ topic: "B", code: 320, body, properties: { UNIQ_KEY: "BATCH" } });
    const res = await call(conn, req);
    assert.equal(res.code, 0, res.remark);
    assert.equal(res.extFields.msgId!.split(",").length, 2);
    assert.equal(res.extFields.queueOffset, "0");
    assert.equal(res.extFields.transactionId, "BATCH");
    const got = messagesOf(await pull(conn, { group: "G", topic: "B", subscription: "*" }));
    assert.deepEqual(got.map((m) => text(m.body)), ["one", "two"]);
    assert.deepEqual(got.map((m) => m.properties.UNIQ_KEY), ["K1", "K2"]);
    assert.deepEqual(got.map((m) => m.properties.CLUSTER), ["DefaultCluster", "DefaultCluster"]);
    assert.equal(got[1]!.flag, 3);
    const retry = await call(conn, sendRequest({ topic: "%RETRY%G", code: 320, body }));
    assert.equal(retry.code, 13);
    const broken = await call(
      conn,
      sendRequest({ topic: "B", code: 320, body: new Uint8Array([0, 0, 0, 9]) }),
    );
    assert.equal(broken.code, 13);
    await conn.close();
    await broker.close();
  });

  it("moves a %RETRY% send past maxReconsumeTimes to the DLQ", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const res = await send(conn, { topic: "%RETRY%G", reconsumeTimes: 3, maxReconsumeTimes: 2 });
    assert.equal(res.code, 0, res.remark);
    assert.equal(broker.store.maxOffset("%DLQ%G", 0), 1);
    assert.equal(broker.topics.get("%DLQ%G")?.perm, 6);
    await conn.close();
    await broker.close();
  });

  it("parks a message with a DELAY level in the schedule topic", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const res = await send(conn, { topic: "T", properties: { DELAY: "2" } });
    assert.equal(res.code, 0);
    assert.equal(broker.store.maxOffset("T", 0), 0);
    assert.equal(broker.store.maxOffset("SCHEDULE_TOPIC_XXXX", 1), 1);
    assert.equal(broker.stats.scheduledMessages, 1);
    await conn.close();
    await broker.close();
  });
});
