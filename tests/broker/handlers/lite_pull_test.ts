// LITE_PULL_MESSAGE (361): what the official 5.x DefaultLitePullConsumer
// sends instead of PULL_MESSAGE (11), and the offset requests around it
// (QUERY/UPDATE_CONSUMER_OFFSET for commitSync and a restart,
// GET_MIN/MAX_OFFSET for seekToBegin/seekToEnd), in the order the client
// sends them. The interop test tests/interop/lite_pull_test.ts runs the
// Java client itself.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequest, type RemotingCommand } from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import {
  attach,
  call,
  emptyTopic,
  flushMicrotasks,
  heartbeatRequest,
  messagesOf,
  newBroker,
  pull,
  send,
  subscription,
  text,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";

/** PullSysFlag.buildSysFlag(false, block, true, false, true): subscription + lite (+ suspend). */
const SUBSCRIPTION = 0x4;
const SUSPEND = 0x2;
const LITE = 0x10;

/** A pull request header as `PullAPIWrapper.pullKernelImpl` of the 5.x client fills it. */
function litePullRequest(o: {
  group: string;
  topic: string;
  queueId?: number;
  offset?: number;
  subscription?: string;
  suspendMillis?: number;
  maxMsgNums?: number;
}): RemotingCommand {
  return createRequest(361, {
    consumerGroup: o.group,
    topic: o.topic,
    queueId: o.queueId ?? 0,
    queueOffset: o.offset ?? 0,
    maxMsgNums: o.maxMsgNums ?? 10,
    sysFlag: SUBSCRIPTION | LITE | (o.suspendMillis !== undefined ? SUSPEND : 0),
    commitOffset: 0,
    suspendTimeoutMillis: o.suspendMillis ?? 0,
    subscription: o.subscription ?? "*",
    subVersion: Date.now(),
    maxMsgBytes: 2147483647,
    expressionType: "TAG",
    bname: "broker-a",
  });
}

/** The heartbeat of a lite pull consumer (CONSUME_ACTIVELY, as RebalanceLitePullImpl says). */
function litePullHeartbeat(clientID: string, group: string, topic: string): RemotingCommand {
  return heartbeatRequest({
    clientID,
    consumerDataSet: [{
      groupName: group,
      consumeType: "CONSUME_ACTIVELY",
      messageModel: "CLUSTERING",
      consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
      subscriptionDataSet: [subscription(topic)],
      unitMode: false,
    }],
  });
}

describe("LITE_PULL_MESSAGE (361)", () => {
  it("answers like PULL_MESSAGE: same records, header fields and tag filter", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    await call(conn, litePullHeartbeat("lite@1", "LG", "T"));
    await send(conn, { topic: "T", properties: { TAGS: "A" }, body: "a" });
    await send(conn, { topic: "T", properties: { TAGS: "B" }, body: "b" });
    await send(conn, { topic: "T", properties: { TAGS: "A" }, body: "c" });
    const lite = await call(conn, litePullRequest({ group: "LG", topic: "T" }));
    assert.equal(lite.code, 0, lite.remark);
    assert.deepEqual(messagesOf(lite).map((m) => [m.queueOffset, text(m.body)]), [
      [0, "a"],
      [1, "b"],
      [2, "c"],
    ]);
    const plain = await pull(conn, { group: "LG", topic: "T", subscription: "*" });
    assert.deepEqual(lite.extFields, plain.extFields);
    assert.deepEqual(lite.body, plain.body);
    const tagged = await call(
      conn,
      litePullRequest({ group: "LG", topic: "T", subscription: "A", offset: 1 }),
    );
    assert.deepEqual(messagesOf(tagged).map((m) => text(m.body)), ["c"]);
    assert.equal(tagged.extFields.nextBeginOffset, "3");
    assert.equal(broker.stats.messagesPulled, 7);
    await conn.close();
    await broker.close();
  });

  it("holds a lite pull with the suspend flag until a message arrives", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker } = newBroker({ timers });
    emptyTopic(broker, "E");
    const consumer = attach(broker);
    const producer = attach(broker);
    const held = call(
      consumer,
      litePullRequest({ group: "LG", topic: "E", queueId: 3, suspendMillis: 20_000 }),
    );
    await until(() => broker.stats.heldPulls === 1, "the lite pull to be held");
    let answered = false;
    void held.then(() => answered = true);
    await flushMicrotasks();
    assert.equal(answered, false);
    await send(producer, { topic: "E", queueId: 3, body: "late" });
    const res = await held;
    assert.equal(res.code, 0);
    assert.deepEqual(messagesOf(res).map((m) => text(m.body)), ["late"]);
    await consumer.close();
    await producer.close();
    await broker.close();
  });

  it("answers PULL_NOT_FOUND (19) when a held lite pull times out", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker } = newBroker({ timers });
    emptyTopic(broker, "E");
    const conn = attach(broker);
    const held = call(conn, litePullRequest({ group: "LG", topic: "E", suspendMillis: 20_000 }));
    await until(() => broker.stats.heldPulls === 1, "the lite pull to be held");
    timers.advance(20_000);
    const res = await held;
    assert.deepEqual([res.code, res.extFields.nextBeginOffset], [19, "0"]);
    await conn.close();
    await broker.close();
  });

  it("refuses what PULL_MESSAGE refuses: unknown topic, bad queue, system topic", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    await send(conn, { topic: "T" });
    assert.equal((await call(conn, litePullRequest({ group: "LG", topic: "U" }))).code, 17);
    const bad = await call(conn, litePullRequest({ group: "LG", topic: "T", queueId: 99 }));
    assert.equal(bad.code, 29);
    assert.match(bad.remark ?? "", /queueId\[99\] is illegal/);
    assert.equal((await call(conn, litePullRequest({ group: "LG", topic: "TBW102" }))).code, 16);
    await conn.close();
    await broker.close();
  });

  it("serves the consumer's offset flow: first start, commitSync, restart, seekToBegin/End", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    for (const body of ["0", "1", "2", "3"]) await send(conn, { topic: "T", queueId: 1, body });
    await call(conn, litePullHeartbeat("lite@1", "LG", "T"));
    const q = { consumerGroup: "LG", topic: "T", queueId: 1 };
    // First start: no offset yet; the queue still holds offset 0, so 0 (as 4.x and our push path).
    const first = await call(conn, createRequest(14, { ...q, setZeroIfNotFound: true }));
    assert.deepEqual([first.code, first.extFields.offset], [0, "0"]);
    const polled = await call(conn, litePullRequest({ group: "LG", topic: "T", queueId: 1 }));
    assert.equal(messagesOf(polled).length, 4);
    // commitSync: UPDATE_CONSUMER_OFFSET with the next offset to consume.
    assert.equal((await call(conn, createRequest(15, { ...q, commitOffset: 3 }))).code, 0);
    // A restarted consumer reads it back and pulls from there.
    const resumed = await call(conn, createRequest(14, { ...q, setZeroIfNotFound: false }));
    assert.deepEqual([resumed.code, resumed.extFields.offset], [0, "3"]);
    const rest = await call(
      conn,
      litePullRequest({ group: "LG", topic: "T", queueId: 1, offset: 3 }),
    );
    assert.deepEqual(messagesOf(rest).map((m) => text(m.body)), ["3"]);
    // seekToBegin / seekToEnd ask for the queue's min and max offsets.
    const min = await call(conn, createRequest(31, { topic: "T", queueId: 1 }));
    const max = await call(conn, createRequest(30, { topic: "T", queueId: 1, committed: true }));
    assert.deepEqual([min.code, min.extFields.offset], [0, "0"]);
    assert.deepEqual([max.code, max.extFields.offset], [0, "4"]);
    const atEnd = await call(
      conn,
      litePullRequest({ group: "LG", topic: "T", queueId: 1, offset: 4 }),
    );
    assert.deepEqual([atEnd.code, atEnd.extFields.nextBeginOffset], [19, "4"]);
    await conn.close();
    await broker.close();
  });
});
