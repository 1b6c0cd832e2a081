import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeConsumerListBody, encodeHeartbeatData } from "../../../src/codec/bodies.ts";
import {
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  flushMicrotasks,
  heartbeatRequest,
  newBroker,
  producerHeartbeat,
  subscription,
  text,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";

function recorder(): {
  seen: RemotingCommand[];
  onRequest: (req: RemotingCommand) => RemotingCommand;
} {
  const seen: RemotingCommand[] = [];
  return { seen, onRequest: (req) => (seen.push(req), createResponse(req, 0)) };
}

const notifies = (seen: RemotingCommand[]): string[] =>
  seen.filter((r) => r.code === 40).map((r) => r.extFields.consumerGroup!);

describe("HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38)", () => {
  it("registers consumers, creates %RETRY%<group> and lists the group's client ids", async () => {
    const { broker } = newBroker();
    const a = attach(broker), b = attach(broker);
    const res = await call(a, consumerHeartbeat("cid-a", "G", [subscription("T")]));
    assert.equal(res.code, 0);
    assert.equal(res.extFields.IS_SUPPORT_HEART_BEAT_V2, "true");
    assert.equal(res.extFields.IS_SUB_CHANGE, "true");
    assert.deepEqual(broker.topics.get("%RETRY%G")?.readQueueNums, 1);
    await call(b, consumerHeartbeat("cid-b", "G", [subscription("T")]));
    const list = await call(a, createRequest(38, { consumerGroup: "G" }));
    assert.equal(list.code, 0);
    assert.deepEqual(decodeConsumerListBody(list.body).consumerIdList.sort(), ["cid-a", "cid-b"]);
    const none = await call(a, createRequest(38, { consumerGroup: "nobody" }));
    assert.deepEqual([none.code, none.remark], [1, "no consumer for this group, nobody"]);
    await a.close();
    await b.close();
    await broker.close();
  });

  it("tells the group's members to rebalance (40) when one joins and when one leaves", async () => {
    const { broker } = newBroker();
    const ra = recorder(), rb = recorder();
    const a = attach(broker, { onRequest: ra.onRequest });
    const b = attach(broker, { onRequest: rb.onRequest });
    await call(a, consumerHeartbeat("cid-a", "G", [subscription("T")]));
    await until(() => notifies(ra.seen).length === 1, "notify on first join");
    await call(b, consumerHeartbeat("cid-b", "G", [subscription("T")]));
    await until(
      () => notifies(ra.seen).length === 2 && notifies(rb.seen).length === 1,
      "notify on join",
    );
    // A repeated heartbeat changes nothing and notifies nobody.
    await call(b, consumerHeartbeat("cid-b", "G", [subscription("T", "*", 2)]));
    await flushMicrotasks();
    assert.equal(notifies(ra.seen).length, 2);
    await b.close();
    await until(() => notifies(ra.seen).length === 3, "notify on leave");
    assert.ok(ra.seen.every((r) => (r.flag & 2) === 2), "notifications are oneway");
    const list = await call(a, createRequest(38, { consumerGroup: "G" }));
    assert.deepEqual(decodeConsumerListBody(list.body).consumerIdList, ["cid-a"]);
    await a.close();
    await broker.close();
  });

  it("does not notify broadcasting groups", async () => {
    const { broker } = newBroker();
    const r = recorder();
    const a = attach(broker, { onRequest: r.onRequest });
    await call(a, consumerHeartbeat("cid-a", "G", [subscription("T")], "BROADCASTING"));
    await flushMicrotasks();
    assert.deepEqual(notifies(r.seen), []);
    await a.close();
    await broker.close();
  });

  it("unregisters a consumer group (35) and notifies the rest", async () => {
    const { broker } = newBroker();
    const r = recorder();
    const a = attach(broker, { onRequest: r.onRequest }), b = attach(broker);
    await call(a, consumerHeartbeat("cid-a", "G", [subscription("T")]));
    await call(b, consumerHeartbeat("cid-b", "G", [subscription("T")]));
    await until(() => notifies(r.seen).length === 2, "notify on join");
    const res = await call(b, createRequest(35, { clientID: "cid-b", consumerGroup: "G" }));
    assert.equal(res.code, 0);
    await until(() => notifies(r.seen).length === 3, "notify on unregister");
    assert.deepEqual(broker.stats.consumerGroups, 1);
    await a.close();
    await b.close();
    await broker.close();
  });

  it("forgets everything a connection registered once it closes", async () => {
    const { broker } = newBroker();
    const a = attach(broker);
    await call(
      a,
      heartbeatRequest({
        clientID: "cid-a",
        producerDataSet: [{ groupName: "PG" }],
        consumerDataSet: [{
          groupName: "G",
          consumeType: "CONSUME_PASSIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [subscription("T")],
          unitMode: false,
        }],
      }),
    );
    assert.deepEqual([broker.stats.producerGroups, broker.stats.consumerGroups], [1, 1]);
    await a.close();
    await until(() => broker.stats.connections === 0, "the connection to close");
    assert.deepEqual([broker.stats.producerGroups, broker.stats.consumerGroups], [0, 0]);
    const who = attach(broker);
    const res = await call(who, createRequest(300, { topic: "T" }));
    assert.deepEqual(JSON.parse(text(res.body)), { groupList: [] });
    await who.close();
    await broker.close();
  });

  it("closes a channel whose registrations got no heartbeat for 120 s", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker, logger } = newBroker({ timers });
    const a = attach(broker);
    await call(a, producerHeartbeat("cid-a"));
    timers.advance(110_000);
    await flushMicrotasks();
    assert.equal(broker.stats.connections, 1);
    timers.advance(20_000);
    await a.closed;
    await until(() => broker.stats.connections === 0, "the connection to close");
    assert.equal(broker.stats.producerGroups, 0);
    assert.ok(logger.messages("info").includes("closing a channel without heartbeat"));
    await broker.close();
  });

  it("keeps subscriptions on a heartbeat v2 without them, and asks for them when unknown", async () => {
    const { broker } = newBroker();
    const a = attach(broker);
    const consumer = (withSubs: boolean) => ({
      groupName: "G",
      consumeType: "CONSUME_PASSIVELY",
      messageModel: "CLUSTERING",
      consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
      subscriptionDataSet: withSubs ? [subscription("T")] : [],
      unitMode: false,
    });
    const v2 = (withSubs: boolean) =>
      createRequest(34, {}, {
        body: encodeHeartbeatData({
          clientID: "cid-a",
          producerDataSet: [],
          consumerDataSet: [consumer(withSubs)],
          heartbeatFingerprint: 77,
          withoutSub: !withSubs,
        }),
      });
    const unknown = await call(a, v2(false));
    assert.equal(unknown.extFields.IS_SUB_CHANGE, "true");
    const full = await call(a, v2(true));
    assert.equal(full.code, 0);
    const same = await call(a, v2(false));
    assert.equal(same.extFields.IS_SUB_CHANGE, "false");
    const who = await call(a, createRequest(300, { topic: "T" }));
    assert.deepEqual(JSON.parse(text(who.body)), { groupList: ["G"] });
    await a.close();
    await broker.close();
  });

  it("answers CHECK_CLIENT_CONFIG (46): TAG is fine, SQL92 when it compiles", async () => {
    const { broker } = newBroker();
    const a = attach(broker);
    const body = (type: string, subString = "a > 1") =>
      new TextEncoder().encode(
        JSON.stringify({
          clientId: "c",
          group: "G",
          subscriptionData: { topic: "T", subString, expressionType: type },
        }),
      );
    assert.equal((await call(a, createRequest(46, {}, { body: body("TAG") }))).code, 0);
    assert.equal((await call(a, createRequest(46, {}, { body: body("SQL92") }))).code, 0);
    const bad = await call(a, createRequest(46, {}, { body: body("SQL92", "a BETWEEN 5 AND 1") }));
    assert.equal(bad.code, 23); // SUBSCRIPTION_PARSE_FAILED, the parse error as remark
    assert.match(bad.remark!, /BETWEEN/);
    assert.equal((await call(a, createRequest(46, {}, { body: body("JAVA") }))).code, 23);
    assert.equal(
      (await call(a, createRequest(46, {}, { body: new TextEncoder().encode("[1") }))).code,
      29,
    );
    await a.close();
    await broker.close();
  });

  it("refuses a malformed heartbeat body with INVALID_PARAMETER and keeps serving", async () => {
    const { broker } = newBroker();
    const a = attach(broker);
    const bad = await call(
      a,
      createRequest(34, {}, { body: new TextEncoder().encode('{"clientID":') }),
    );
    assert.equal(bad.code, 29);
    assert.equal((await call(a, producerHeartbeat("cid"))).code, 0);
    await a.close();
    await broker.close();
  });

  it("refuses a heartbeat that claims another live connection's client id, and logs it", async () => {
    const { broker, logger } = newBroker();
    const victim = attach(broker, { ip: "10.0.0.7" });
    const attacker = attach(broker, { ip: "10.0.0.9" });
    assert.equal((await call(victim, producerHeartbeat("10.0.0.7@victim"))).code, 0);
    const res = await call(
      attacker,
      consumerHeartbeat("10.0.0.7@victim", "G", [subscription("T")]),
    );
    assert.equal(res.code, 16);
    assert.equal(res.extFields.CLIENT_ID_IN_USE, "true");
    assert.match(
      res.remark!,
      /^client id 10\.0\.0\.7@victim is in use by connection 10\.0\.0\.7:\d+/,
    );
    assert.equal(broker.stats.clientIdRefused, 1);
    assert.equal(broker.stats.consumerGroups, 0, "nothing of the refused heartbeat was registered");
    assert.ok(logger.messages("warn").includes("heartbeat refused: client id in use"));
    // The victim keeps its id: a repeated heartbeat is fine.
    assert.equal((await call(victim, producerHeartbeat("10.0.0.7@victim"))).code, 0);
    await victim.close();
    await until(() => broker.stats.connections === 1, "the victim's connection to close");
    // Once the holder is gone, the id is free again.
    assert.equal((await call(attacker, producerHeartbeat("10.0.0.7@victim"))).code, 0);
    await attacker.close();
    await broker.close();
  });

  it("hands the id to a newcomer when the holder does not answer a liveness probe", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker } = newBroker({ timers });
    const stuck = attach(broker, {
      onRequest: (req) => req.code === 34 ? createResponse(req, 0) : new Promise(() => {}),
    });
    const fresh = attach(broker);
    assert.equal((await call(stuck, producerHeartbeat("cid-1"))).code, 0);
    const claim = call(fresh, producerHeartbeat("cid-1"), 10_000);
    await until(() => broker.stats.requests === 2, "the claiming heartbeat to arrive");
    await flushMicrotasks();
    timers.advance(3000); // the probe's timeout
    const res = await claim;
    assert.equal(res.code, 0, res.remark);
    await until(() => broker.stats.connections === 1, "the silent holder closed");
    await stuck.close();
    await fresh.close();
    await broker.close();
  });
});
