import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeClusterInfo, decodeTopicRouteData } from "../../../src/codec/bodies.ts";
import { createOneway, createRequest } from "../../../src/codec/remoting_command.ts";
import { SerializeType } from "../../../src/codec/codes.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  flushMicrotasks,
  newBroker,
  send,
  subscription,
  text,
} from "../_helpers.ts";

describe("name server requests (105, 106, 206) and administration (17, 300)", () => {
  it("routes TBW102 (perm 7), the reply topic and created topics to the broker's own address", async () => {
    const { broker } = newBroker({ address: "10.1.2.3:9877", clusterName: "C1", brokerName: "b1" });
    const conn = attach(broker);
    const route = async (topic: string) => {
      const res = await call(conn, createRequest(105, { topic }));
      return res.code === 0 ? decodeTopicRouteData(res.body) : res.code;
    };
    const tbw = await route("TBW102");
    assert.notEqual(typeof tbw, "number");
    if (typeof tbw === "number") return;
    assert.deepEqual(tbw.brokerDatas, [{
      brokerAddrs: { "0": "10.1.2.3:9877" },
      brokerName: "b1",
      cluster: "C1",
      enableActingMaster: false,
    }]);
    assert.deepEqual(tbw.queueDatas, [{
      brokerName: "b1",
      perm: 7,
      readQueueNums: 8,
      writeQueueNums: 8,
      topicSysFlag: 0,
    }]);
    const reply = await route("C1_REPLY_TOPIC");
    assert.ok(typeof reply !== "number" && reply.queueDatas[0]!.readQueueNums === 1);
    const missing = await call(conn, createRequest(105, { topic: "Nope" }));
    assert.equal(missing.code, 17);
    assert.match(
      missing.remark!,
      /^No topic route info in name server for the topic: Nope\nSee https:/,
    );
    assert.equal(await route("%RETRY%G"), 17);
    await call(conn, consumerHeartbeat("c", "G", [subscription("T")]));
    assert.notEqual(typeof (await route("%RETRY%G")), "number");
    await send(conn, { topic: "Fresh" });
    const fresh = await route("Fresh");
    assert.ok(typeof fresh !== "number" && fresh.queueDatas[0]!.writeQueueNums === 4);
    await conn.close();
    await broker.close();
  });

  it("answers a route request with a ROCKETMQ binary header too", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const res = await call(
      conn,
      createRequest(105, { topic: "TBW102" }, { serializeType: SerializeType.ROCKETMQ }),
    );
    assert.equal(res.code, 0);
    await conn.close();
    await broker.close();
  });

  it("describes the cluster (106) and lists topics (206)", async () => {
    const { broker } = newBroker({ address: "10.1.2.3:9877" });
    const conn = attach(broker);
    const info = decodeClusterInfo((await call(conn, createRequest(106))).body);
    assert.deepEqual(info.clusterAddrTable, { DefaultCluster: ["broker-a"] });
    assert.equal(info.brokerAddrTable["broker-a"]?.brokerAddrs["0"], "10.1.2.3:9877");
    const list = JSON.parse(text((await call(conn, createRequest(206))).body));
    assert.ok(list.topicList.includes("TBW102"));
    await conn.close();
    await broker.close();
  });

  it("creates and updates topics (17), refusing system topics and bad names", async () => {
    const changes: string[][] = [];
    const { broker } = newBroker({
      onTopicsChanged: (t) => changes.push(t.map((x) => x.topicName)),
    });
    const conn = attach(broker);
    const create = (topic: string, queues = 2) =>
      call(
        conn,
        createRequest(17, {
          topic,
          defaultTopic: "TBW102",
          readQueueNums: queues,
          writeQueueNums: queues,
          perm: 6,
          topicFilterType: "SINGLE_TAG",
          topicSysFlag: 0,
          order: false,
        }),
      );
    assert.equal((await create("Orders")).code, 0);
    assert.equal(broker.topics.get("Orders")?.readQueueNums, 2);
    assert.equal((await create("Orders", 6)).code, 0);
    assert.equal(broker.topics.get("Orders")?.readQueueNums, 6);
    assert.deepEqual(changes.at(-1), ["Orders"]);
    assert.equal((await create("TBW102")).code, 29);
    assert.equal((await create("DefaultCluster_REPLY_TOPIC")).code, 29);
    assert.equal((await create("bad name")).code, 29);
    const malformed = await call(conn, createRequest(17, { topic: "X" }));
    assert.equal(malformed.code, 29);
    assert.match(malformed.remark!, /field defaultTopic/);
    await conn.close();
    await broker.close();
  });

  it("answers QUERY_TOPIC_CONSUME_BY_WHO (300) with live and committed groups", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    await send(conn, { topic: "T" });
    await call(conn, consumerHeartbeat("c", "Live", [subscription("T")]));
    broker.store.commitOffset("Past", "T", 0, 1);
    const res = await call(conn, createRequest(300, { topic: "T" }));
    assert.deepEqual(JSON.parse(text(res.body)).groupList.sort(), ["Live", "Past"]);
    assert.equal((await call(conn, createRequest(300, {}))).code, 29);
    await conn.close();
    await broker.close();
  });

  it("answers unknown request codes with REQUEST_CODE_NOT_SUPPORTED, and oneway ones not at all", async () => {
    const { broker } = newBroker();
    const conn = attach(broker);
    const res = await call(conn, createRequest(13, { topic: "T" }));
    assert.deepEqual([res.code, res.remark], [3, " request type 13 not supported"]);
    const before = conn.stats.framesIn;
    await conn.invokeOneway(createOneway(37, { producerGroup: "PG" }));
    await flushMicrotasks();
    await call(conn, createRequest(106));
    assert.equal(conn.stats.framesIn, before + 1);
    await conn.close();
    await broker.close();
  });
});
