import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RpcRequestCode } from "../../../src/codec/codes.ts";
import { createRequest, type RemotingCommand } from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  newBroker,
  producerHeartbeat,
  pull,
  send,
  subscription,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";

const TOPIC = "rpc";

function requestProps(correlationId: string, requester: string, ttl = "3000") {
  return { CORRELATION_ID: correlationId, REPLY_TO_CLIENT: requester, TTL: ttl };
}

function cancel(correlationId: string): RemotingCommand {
  return createRequest(RpcRequestCode.CANCEL_REQUEST, { correlationId, topic: TOPIC });
}

/** A consumer connection that records the cancels pushed to it. */
function consumer(broker: Parameters<typeof attach>[0]) {
  const cancels: RemotingCommand[] = [];
  const conn = attach(broker, {
    onRequest: (req) => {
      if (req.code === RpcRequestCode.PUSH_CANCEL_TO_CLIENT) cancels.push(req);
      return undefined;
    },
  });
  return { conn, cancels };
}

describe("CANCEL_REQUEST → PUSH_CANCEL_TO_CLIENT", () => {
  it("goes only from the requester, only to the consumers that pulled the request's queue", async () => {
    const { broker } = newBroker();
    const requester = attach(broker);
    const stranger = attach(broker);
    const a = consumer(broker); // group calc, pulls queue 0 (where the request is)
    const b = consumer(broker); // group calc, pulls queue 1
    const c = consumer(broker); // group audit, pulls queue 0 too
    await call(requester, producerHeartbeat("req@1"));
    await call(stranger, producerHeartbeat("other@1"));
    await call(a.conn, consumerHeartbeat("a@1", "calc", [subscription(TOPIC)]));
    await call(b.conn, consumerHeartbeat("b@1", "calc", [subscription(TOPIC)]));
    await call(c.conn, consumerHeartbeat("c@1", "audit", [subscription(TOPIC)]));
    const stored = await send(requester, {
      topic: TOPIC,
      queueId: 0,
      properties: requestProps("corr-1", "req@1"),
    });
    assert.equal(stored.code, 0, stored.remark);
    await pull(a.conn, { group: "calc", topic: TOPIC, queueId: 0 });
    await pull(b.conn, { group: "calc", topic: TOPIC, queueId: 1 });
    await pull(c.conn, { group: "audit", topic: TOPIC, queueId: 0 });

    const refused = await call(stranger, cancel("corr-1"));
    assert.equal(refused.code, 16, refused.remark); // NO_PERMISSION
    assert.match(refused.remark!, /only the requester req@1/);

    const res = await call(requester, cancel("corr-1"));
    assert.equal(res.code, 0, res.remark);
    assert.equal(res.extFields.forwarded, "2");
    await until(() => a.cancels.length === 1 && c.cancels.length === 1, "the cancel at a and c");
    assert.deepEqual(a.cancels[0]!.extFields, {
      correlationId: "corr-1",
      topic: TOPIC,
      consumerGroup: "calc",
    });
    assert.equal(c.cancels[0]!.extFields.consumerGroup, "audit");
    assert.equal(b.cancels.length, 0);
    assert.equal(broker.stats.cancelsForwarded, 1);
    // Forgotten once cancelled: a second cancel finds nothing.
    assert.equal((await call(requester, cancel("corr-1"))).code, 22);
    for (const conn of [requester, stranger, a.conn, b.conn, c.conn]) await conn.close();
    await broker.close();
  });

  it("before anyone pulled the queue, tells every consumer of the groups subscribed to the topic", async () => {
    const { broker } = newBroker();
    const requester = attach(broker);
    const a = consumer(broker);
    const b = consumer(broker);
    const other = consumer(broker);
    await call(requester, producerHeartbeat("req@1"));
    await call(a.conn, consumerHeartbeat("a@1", "calc", [subscription(TOPIC)]));
    await call(b.conn, consumerHeartbeat("b@1", "calc", [subscription(TOPIC)]));
    await call(other.conn, consumerHeartbeat("o@1", "elsewhere", [subscription("other")]));
    await send(requester, { topic: TOPIC, properties: requestProps("corr-2", "req@1") });
    const res = await call(requester, cancel("corr-2"));
    assert.equal(res.extFields.forwarded, "2");
    await until(() => a.cancels.length === 1 && b.cancels.length === 1, "the cancel at a and b");
    assert.equal(other.cancels.length, 0);
    for (const conn of [requester, a.conn, b.conn, other.conn]) await conn.close();
    await broker.close();
  });

  it("knows a request for its TTL and a grace, and never a plain message", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker } = newBroker({ timers });
    const requester = attach(broker);
    await call(requester, producerHeartbeat("req@1"));
    await send(requester, { topic: TOPIC, properties: requestProps("short", "req@1", "100") });
    await send(requester, { topic: TOPIC, properties: { CORRELATION_ID: "plain" } });
    assert.equal((await call(requester, cancel("plain"))).code, 22);
    assert.equal((await call(requester, cancel("never-sent"))).code, 22);
    timers.advance(100 + 10_001); // the TTL, and the grace for cancels sent on timeout
    const expired = await call(requester, cancel("short"));
    assert.equal(expired.code, 22);
    assert.match(expired.remark!, /unknown or expired/);
    await requester.close();
    await broker.close();
  });

  it("forgets a consumer channel when it closes", async () => {
    const { broker } = newBroker();
    const requester = attach(broker);
    const a = consumer(broker);
    const b = consumer(broker);
    await call(requester, producerHeartbeat("req@1"));
    await call(a.conn, consumerHeartbeat("a@1", "calc", [subscription(TOPIC)]));
    await call(b.conn, consumerHeartbeat("b@1", "calc", [subscription(TOPIC)]));
    await send(requester, { topic: TOPIC, queueId: 0, properties: requestProps("c3", "req@1") });
    await pull(a.conn, { group: "calc", topic: TOPIC, queueId: 0 });
    await a.conn.close();
    await until(() => broker.stats.connections === 2, "a's connection to close");
    await pull(b.conn, { group: "calc", topic: TOPIC, queueId: 0 }); // b took the queue over
    const res = await call(requester, cancel("c3"));
    assert.equal(res.extFields.forwarded, "1");
    await until(() => b.cancels.length === 1, "the cancel at b");
    await requester.close();
    await b.conn.close();
    await broker.close();
  });
});
