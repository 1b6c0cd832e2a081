// The official tooling against OUR broker (issue 15): `mqadmin` from
// rocketmq-tools 5.5.0 (clusterList, topicList, updateTopic, topicRoute,
// topicStatus, consumerProgress, brokerStatus, queryMsgById,
// queryMsgByKey, queryMsgByUniqueKey), all in one JVM
// (tests/interop/java/peers/.../MqAdminBatch.java: mqadmin starts a JVM per
// command, seconds each on a busy machine), and message lookup
// (`viewMessage` by offset message id and by message id, `queryMessage` by
// key) from the official Java client, 5.5.0 and 4.9.7.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { rm } from "node:fs/promises";
import { Producer, PushConsumer, type SendResult } from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import {
  type MqAdminBatchResult,
  ROCKETMQ_LINES,
  ROCKETMQ_VERSIONS,
  runJavaLookup,
  runMqAdminBatch,
  uniqueName,
} from "./harness.ts";
import { until } from "../_wait.ts";

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("mqadmin and the official Java client's message lookup against our broker", () => {
  let broker: BrokerHandle;
  let producer: Producer;
  const topic = uniqueName("lookup");
  const group = `${topic}_g`;
  const sent: SendResult[] = [];

  before(async () => {
    broker = await startBroker({ port: 0 });
    producer = new Producer({ nameServer: broker.address });
    await producer.start();
    for (let i = 0; i < 3; i++) {
      sent.push(
        await producer.send({ topic, body: `order ${i}`, keys: `order-${i} acct-${i % 2}` }),
      );
    }
    // A group that consumed everything, for consumerProgress.
    await using consumer = new PushConsumer({ nameServer: broker.address, group });
    consumer.subscribe(topic, "*", () => undefined);
    await consumer.start();
    await until(
      () =>
        [0, 1, 2, 3].every((q) =>
          (broker.broker.store.queryOffset(group, topic, q) ?? 0) ===
            broker.broker.store.maxOffset(topic, q)
        ),
      "the consumer to commit every queue's last offset",
    );
  });

  after(async () => {
    await producer?.close();
    await broker?.close();
    // queryMsgById writes each body it shows to /tmp/rocketmq/msgbodys/<msgId> (a fixed path).
    for (const s of sent) await rm(`/tmp/rocketmq/msgbodys/${s.msgId}`, { force: true });
  });

  it("mqadmin: cluster, topics, routes, status, progress and message lookup", async () => {
    const created = uniqueName("created");
    const [first, second] = sent;
    const commands = [
      ["clusterList"],
      ["topicList"],
      ["updateTopic", "-b", broker.address, "-t", created, "-r", "3", "-w", "3"],
      ["topicRoute", "-t", created],
      ["topicStatus", "-t", topic],
      ["consumerProgress", "-g", group],
      ["brokerStatus", "-b", broker.address],
      ["queryMsgById", "-t", topic, "-i", first!.offsetMsgId],
      ["queryMsgById", "-t", topic, "-i", second!.msgId],
      ["queryMsgByKey", "-t", topic, "-k", "acct-0"],
      ["queryMsgByUniqueKey", "-t", topic, "-i", second!.msgId],
    ];
    const run = await runMqAdminBatch({ line: "5", nameServer: broker.address, commands });
    process.stderr.write(
      `[interop] mqadmin: ${commands.length} commands in one JVM in ${run.totalMs} ms (${
        run.results.map((r) => `${r.args[0]} ${r.ms}`).join(", ")
      } ms)\n`,
    );
    const out = (i: number): string => {
      const r: MqAdminBatchResult = run.results[i]!;
      assert.equal(r.exit, 0, `${r.args.join(" ")}: ${r.error ?? ""}\n${run.logTail}`);
      return r.output;
    };
    // clusterList: our broker, its address and version (GET_BROKER_RUNTIME_INFO), active.
    assert.match(
      out(0),
      new RegExp(`DefaultCluster\\s+broker-a\\s+0\\s+${escape(broker.address)}\\s+V\\d+_\\d+_\\d+`),
      out(0),
    );
    assert.match(out(0), /true\s*$/m);
    // topicList: the topic our producer created.
    assert.ok(out(1).split("\n").includes(topic), out(1));
    // updateTopic, then topicRoute of the new topic.
    assert.match(out(2), new RegExp(`create topic to ${escape(broker.address)} success`), out(2));
    assert.match(out(2), new RegExp(`topicName=${created}, readQueueNums=3, writeQueueNums=3`));
    const route = JSON.parse(out(3).replace(/(\{|,)\s*(\d+):/g, '$1"$2":'));
    assert.deepEqual(
      route.queueDatas.map((q: { readQueueNums: number; writeQueueNums: number }) => [
        q.readQueueNums,
        q.writeQueueNums,
      ]),
      [[3, 3]],
    );
    assert.equal(route.brokerDatas[0].brokerAddrs["0"], broker.address);
    // topicStatus: 4 queues, 3 messages in all, last store times set where there are messages.
    const statusRows = out(4).split("\n").filter((l) => /^broker-a\s+\d/.test(l));
    assert.equal(statusRows.length, 4, out(4));
    const maxTotal = statusRows.reduce((n, l) => n + Number(l.trim().split(/\s+/)[3]), 0);
    assert.equal(maxTotal, 3, out(4));
    // consumerProgress: every queue of the topic, nothing left to consume.
    assert.equal(
      out(5).split("\n").filter((l) => l.startsWith(topic.slice(0, 32))).length,
      4,
      out(5),
    );
    assert.match(out(5), /Diff Total: 0/, out(5));
    // brokerStatus: the runtime table.
    assert.match(out(6), /msgPutTotalTodayNow\s*: 3\b/, out(6));
    assert.match(out(6), /brokerVersionDesc\s*: V\d/);
    // RocketMQ's rates, over 10 s, a minute and 10 minutes: the 3 sends count in the last.
    const putTps = out(6).match(/putTps\s*: ([\d.]+) ([\d.]+) ([\d.]+)/);
    assert.ok(putTps && Number(putTps[3]) > 0, out(6));
    assert.match(out(6), /getTransferedTps\s*: [\d.]+ [\d.]+ [\d.]+/);
    // queryMsgById by the offset message id (VIEW_MESSAGE_BY_ID) and by the
    // message id (an offset id that does not decode, then QUERY_MESSAGE by unique key).
    assert.match(out(7), new RegExp(`OffsetID:\\s+${first!.offsetMsgId}`), out(7));
    assert.match(out(7), /Keys:\s+\[order-0 acct-0\]/);
    assert.match(out(7), new RegExp(`Topic:\\s+${topic}`));
    assert.match(out(8), new RegExp(`UNIQ_KEY=${second!.msgId}`), out(8));
    assert.match(out(8), /Keys:\s+\[order-1 acct-1\]/);
    // queryMsgByKey: the two acct-0 messages, by message id.
    const keyed = out(9).split("\n").filter((l) => /^[0-9A-F]{32}\s/.test(l)).map((l) =>
      l.split(/\s+/)[0]
    );
    assert.deepEqual(keyed.sort(), [sent[0]!.msgId, sent[2]!.msgId].sort(), out(9));
    assert.match(out(10), new RegExp(`UNIQ_KEY=${second!.msgId}`), out(10));
  });

  for (const line of ROCKETMQ_LINES) {
    it(`official Java client ${ROCKETMQ_VERSIONS[line]}: viewMessage by offset and message id, queryMessage by key`, async () => {
      const [first, second] = sent;
      const run = await runJavaLookup({
        line,
        nameServer: broker.address,
        topic,
        offsetMsgId: first!.offsetMsgId,
        msgId: second!.msgId,
        key: "acct-0",
      });
      assert.deepEqual(run.errors, []);
      assert.equal(run.byOffset?.body, "order 0");
      assert.equal(run.byOffset?.topic, topic);
      assert.equal(run.byOffset?.keys, "order-0 acct-0");
      assert.equal(run.byOffset?.msgId, first!.msgId);
      assert.equal(run.byUnique?.body, "order 1");
      assert.equal(run.byUnique?.msgId, second!.msgId);
      assert.deepEqual(run.query?.bodies, ["order 0", "order 2"]);
      assert.deepEqual(run.query?.msgIds, [sent[0]!.msgId, sent[2]!.msgId]);
      assert.ok(Number(run.query?.indexLastUpdateTimestamp) > 0);
    });
  }
});
