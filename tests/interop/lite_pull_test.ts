// The official Java DefaultLitePullConsumer against OUR broker (5.x and 4.9.7
// clients) and, as the reference, against RocketMQ 5.5.0: subscribe mode
// polls every message; commitSync and auto commit persist offsets, so a
// restarted consumer (in subscribe or assign mode) resumes after them;
// assign mode with seek(mq, n), seekToBegin and seekToEnd. The 5.x client
// pulls with LITE_PULL_MESSAGE (361), which our broker once did not serve:
// it polled 0 of 13.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { isDeepStrictEqual } from "node:util";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { silentLogger } from "../../src/logger.ts";
import {
  type LitePullRun,
  type PeerEvent,
  remotingCall,
  ROCKETMQ_VERSIONS,
  type RocketMQCluster,
  type RocketMQLine,
  runJavaLitePull,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";

/** Where the Java consumer runs against. */
interface Target {
  line: RocketMQLine;
  nameServer: string;
  brokerAddress: string;
  brokerName: string;
  createTopic(topic: string): Promise<void>;
}

const QUEUES = 4;
/** How long a run keeps polling after its expected count, to catch extra messages. */
const idleMs = 1000;

/** Offsets the broker holds for a group, by `brokerName:queueId` (QUERY_CONSUMER_OFFSET, 14). */
async function brokerOffsets(t: Target, group: string, topic: string) {
  const out: Record<string, number> = {};
  for (let queueId = 0; queueId < QUEUES; queueId++) {
    const r = await remotingCall(t.brokerAddress, 14, {
      consumerGroup: group,
      topic,
      queueId: String(queueId),
      setZeroIfNotFound: "false",
    });
    out[`${t.brokerName}:${queueId}`] = r.code === 0 ? Number(r.extFields.offset) : -1;
  }
  return out;
}

/**
 * Asserts the broker's offsets for a group become `expected`. The consumer
 * persists them with oneway UPDATE_CONSUMER_OFFSET requests just before its
 * JVM exits, so the broker may still be reading them: asked again until they
 * match or 15 s have passed.
 */
async function assertBrokerOffsets(
  t: Target,
  group: string,
  topic: string,
  expected: Record<string, number>,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  let actual = await brokerOffsets(t, group, topic);
  while (!isDeepStrictEqual(actual, expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    actual = await brokerOffsets(t, group, topic);
  }
  assert.deepEqual(actual, expected, what);
}

/** Per queue, one past the highest offset sent so far: what a group that consumed everything commits. */
function endOffsets(t: Target, sent: PeerEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let queueId = 0; queueId < QUEUES; queueId++) out[`${t.brokerName}:${queueId}`] = 0;
  for (const s of sent) {
    out[s.queue as string] = Math.max(out[s.queue as string]!, (s.queueOffset as number) + 1);
  }
  return out;
}

const bodies = (events: PeerEvent[]): string[] => events.map((e) => e.body as string).sort();

function assertPolled(run: LitePullRun, expected: PeerEvent[], phase = 1): void {
  const got = run.messages.filter((m) => m.phase === phase);
  assert.deepEqual(bodies(got), bodies(expected), `phase ${phase}\n${run.logTail}`);
}

/**
 * One group, three consumer processes one after another: subscribe mode polls
 * all 13 with commitSync; a restart (auto commit) polls only the 5 sent since;
 * a restart in assign mode polls only the 2 sent since, then seek(mq, 1),
 * seekToBegin and seekToEnd on every queue.
 */
async function scenario(t: Target): Promise<void> {
  const topic = uniqueName("lite");
  const group = uniqueName("lg");
  await t.createTopic(topic);
  const base = { line: t.line, nameServer: t.nameServer, topic, group, timeoutMs: 30_000, idleMs };

  const first = await runJavaLitePull({
    ...base,
    mode: "subscribe",
    send: 13,
    phases: [{ expect: 13 }],
  });
  assert.equal(first.sent.length, 13);
  assert.equal(first.exitCode, 0, `polled ${first.messages.length} of 13\n${first.logTail}`);
  assertPolled(first, first.sent);
  const afterFirst = endOffsets(t, first.sent);
  assert.deepEqual(first.committed, afterFirst, "committed(mq) after commitSync");
  await assertBrokerOffsets(t, group, topic, afterFirst, "offsets on the broker after commitSync");

  // A restart (auto commit this time) polls only what came after the commit.
  const second = await runJavaLitePull({
    ...base,
    mode: "subscribe",
    commit: "auto",
    send: 5,
    phases: [{ expect: 5 }],
  });
  assert.equal(second.exitCode, 0, second.logTail);
  assertPolled(second, second.sent);
  const afterSecond = endOffsets(t, [...first.sent, ...second.sent]);
  await assertBrokerOffsets(t, group, topic, afterSecond, "auto commit persisted");

  // Assign mode without a seek starts from the committed offsets too; then
  // the seeks. 20 messages over 4 queues: each queue has offset 0.
  const third = await runJavaLitePull({
    ...base,
    mode: "assign",
    phases: [
      { send: 2, expect: 2 },
      { seek: 1, expect: 20 - QUEUES },
      { seek: "begin", expect: 20 },
      { seek: "end", send: 3, expect: 3 },
    ],
  });
  assert.equal(third.exitCode, 0, third.logTail);
  assert.equal(third.sent.length, 5);
  const [resumed, late] = [third.sent.slice(0, 2), third.sent.slice(2)];
  const all20 = [...first.sent, ...second.sent, ...resumed];
  assertPolled(third, resumed, 1);
  assertPolled(third, all20.filter((s) => (s.queueOffset as number) >= 1), 2);
  assertPolled(third, all20, 3);
  assertPolled(third, late, 4);
  await assertBrokerOffsets(t, group, topic, endOffsets(t, [...all20, ...late]), "after the seeks");
}

// The reference cluster boots while the embedded broker's tests run; it is
// thrown away afterwards, so it gets 2 s to stop, not 30.
let clusterStart: Promise<RocketMQCluster> | undefined;
function reference(): Promise<RocketMQCluster> {
  clusterStart ??= startRocketMQ({ line: "5", stopGraceMs: 2000 });
  return clusterStart;
}

describe("Java DefaultLitePullConsumer on the embedded broker", () => {
  let broker: BrokerHandle;
  before(async () => {
    void reference().catch(() => {}); // awaited (and its failure reported) below
    broker = await startBroker({ port: 0, logger: silentLogger });
  });
  after(async () => {
    await broker?.close();
  });
  const target = (line: RocketMQLine): Target => ({
    line,
    nameServer: broker.address,
    brokerAddress: broker.address,
    brokerName: "broker-a",
    createTopic: async (topic) => {
      const r = await remotingCall(broker.address, 17, {
        topic,
        defaultTopic: "TBW102",
        readQueueNums: String(QUEUES),
        writeQueueNums: String(QUEUES),
        perm: "6",
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: "0",
        order: "false",
      });
      assert.equal(r.code, 0, r.remark);
    },
  });
  it(`clients ${ROCKETMQ_VERSIONS["5"]} and ${ROCKETMQ_VERSIONS["4"]} (at once): subscribe, commits, restarts, assign + seeks`, async () => {
    const results = await Promise.allSettled([scenario(target("5")), scenario(target("4"))]);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  });
});

describe(`Java DefaultLitePullConsumer on RocketMQ ${ROCKETMQ_VERSIONS["5"]} (the reference)`, () => {
  let cluster: RocketMQCluster | undefined;
  before(async () => {
    cluster = await reference();
    process.stderr.write(
      `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
    );
  });
  after(async () => {
    await (cluster ?? await reference().catch(() => undefined))?.stop();
  });
  it(`client ${ROCKETMQ_VERSIONS["5"]}: subscribe, commits, restarts, assign + seeks`, async () => {
    const c = cluster!;
    await scenario({
      line: "5",
      nameServer: c.nameServer,
      brokerAddress: c.brokerAddress,
      brokerName: c.brokerName,
      createTopic: async (topic) => {
        await c.createTopic(topic, { queues: QUEUES });
      },
    });
  });
});
