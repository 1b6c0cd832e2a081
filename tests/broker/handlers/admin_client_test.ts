import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeConsumerConnection,
  decodeProducerConnection,
} from "../../../src/codec/admin_bodies.ts";
import { decodeStoredMessages } from "../../../src/codec/message_ext.ts";
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
  newBroker,
  producerHeartbeat,
  send,
  subscription,
  text,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";

describe("admin calls about clients", () => {
  it("GET_CONSUMER_CONNECTION_LIST lists the group's connections and subscriptions", async () => {
    const { broker } = newBroker();
    const a = attach(broker, { ip: "10.0.0.7" });
    const admin = attach(broker);
    await call(a, consumerHeartbeat("a@1", "calc", [subscription("add"), subscription("mul")]));
    const res = await call(admin, createRequest(203, { consumerGroup: "calc" }));
    assert.equal(res.code, 0, res.remark);
    const cc = decodeConsumerConnection(res.body);
    assert.equal(cc.connectionSet.length, 1);
    assert.equal(cc.connectionSet[0]!.clientId, "a@1");
    assert.match(cc.connectionSet[0]!.clientAddr, /^10\.0\.0\.7:\d+$/);
    assert.equal(cc.connectionSet[0]!.language, "JAVA");
    assert.deepEqual(Object.keys(cc.subscriptionTable).sort(), ["add", "mul"]);
    assert.deepEqual([cc.consumeType, cc.messageModel], ["CONSUME_PASSIVELY", "CLUSTERING"]);
    const none = await call(admin, createRequest(203, { consumerGroup: "nobody" }));
    assert.deepEqual([none.code, none.remark], [206, "the consumer group[nobody] not online"]);
    await a.close();
    await admin.close();
    await broker.close();
  });

  it("GET_PRODUCER_CONNECTION_LIST lists the group's connections", async () => {
    const { broker } = newBroker();
    const p = attach(broker);
    await call(p, producerHeartbeat("p@1", "PG"));
    const res = await call(p, createRequest(204, { producerGroup: "PG" }));
    assert.deepEqual(decodeProducerConnection(res.body).connectionSet.map((c) => c.clientId), [
      "p@1",
    ]);
    const none = await call(p, createRequest(204, { producerGroup: "XG" }));
    assert.deepEqual([none.code, none.remark], [1, "the producer group[XG] not exist"]);
    await p.close();
    await broker.close();
  });

  it("relays GET_CONSUMER_RUNNING_INFO to the named client and its answer back", async () => {
    const { broker } = newBroker();
    const seen: RemotingCommand[] = [];
    const consumer = attach(broker, {
      onRequest: (req) => {
        if (req.code !== 307) return undefined; // NOTIFY_CONSUMER_IDS_CHANGED, …
        seen.push(req);
        return createResponse(req, 0, undefined, { body: new TextEncoder().encode('{"x":1}') });
      },
    });
    const other = attach(broker, {
      onRequest: (req) => {
        assert.notEqual(req.code, 307, "the other client must not be asked");
        return undefined;
      },
    });
    const admin = attach(broker);
    await call(consumer, consumerHeartbeat("c@1", "calc", [subscription("add")]));
    await call(other, consumerHeartbeat("c@2", "calc", [subscription("add")]));
    const res = await call(
      admin,
      createRequest(307, { consumerGroup: "calc", clientId: "c@1", jstackEnable: "false" }),
    );
    assert.equal(res.code, 0, res.remark);
    assert.equal(text(res.body), '{"x":1}');
    assert.deepEqual(seen[0]!.extFields, {
      consumerGroup: "calc",
      clientId: "c@1",
      jstackEnable: "false",
    });
    const gone = await call(admin, createRequest(307, { consumerGroup: "calc", clientId: "c@9" }));
    assert.deepEqual([gone.code, gone.remark], [1, "The Consumer <calc> <c@9> not online"]);
    assert.equal(broker.stats.adminCallsRelayed, 1);
    for (const c of [consumer, other, admin]) await c.close();
    await broker.close();
  });

  it("relays CONSUME_MESSAGE_DIRECTLY with the stored message, broker name and topic flag attached", async () => {
    const { broker } = newBroker({ brokerName: "broker-x" });
    const seen: RemotingCommand[] = [];
    const consumer = attach(broker, {
      onRequest: (req) => {
        if (req.code !== 309) return undefined;
        seen.push(req);
        return createResponse(req, 0, undefined, { body: new TextEncoder().encode("{}") });
      },
    });
    await call(consumer, consumerHeartbeat("c@1", "calc", [subscription("add")]));
    const stored = await send(consumer, { topic: "add", body: "1+2" });
    const res = await call(
      consumer,
      createRequest(309, {
        consumerGroup: "calc",
        clientId: "c@1",
        msgId: stored.extFields.msgId!,
        topic: "add",
      }),
    );
    assert.equal(res.code, 0, res.remark);
    const relayed = seen[0]!;
    assert.equal(relayed.extFields.brokerName, "broker-x");
    assert.equal(relayed.extFields.topicSysFlag, "0");
    assert.equal(relayed.extFields.groupSysFlag, "0");
    const [message] = decodeStoredMessages(relayed.body);
    assert.equal(text(message!.body), "1+2");
    await consumer.close();
    await broker.close();
  });

  it("answers CONSUME_MSG_TIMEOUT when the client does not answer in 10 s", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker } = newBroker({ timers });
    const consumer = attach(broker, { onRequest: () => new Promise(() => {}) });
    const admin = attach(broker);
    await call(consumer, consumerHeartbeat("c@1", "calc", [subscription("add")]));
    const pending = call(admin, createRequest(307, { consumerGroup: "calc", clientId: "c@1" }));
    await until(() => broker.stats.requests >= 2, "the request forwarded to the consumer");
    await flushMicrotasks();
    timers.advance(10_000);
    const res = await pending;
    assert.equal(res.code, 207);
    assert.match(res.remark!, /^consumer <calc> <c@1> Timeout: /);
    await consumer.close();
    await admin.close();
    await broker.close();
  });
});
