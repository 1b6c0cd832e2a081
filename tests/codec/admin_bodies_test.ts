import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ConsumeMessageDirectlyResult,
  type ConsumerConnection,
  type ConsumerRunningInfo,
  type ConsumeStats,
  decodeConsumeMessageDirectlyResult,
  decodeConsumerConnection,
  decodeConsumerRunningInfo,
  decodeConsumeStats,
  decodeKVTable,
  decodeProducerConnection,
  decodeTopicStatsTable,
  encodeConsumeMessageDirectlyResult,
  encodeConsumerConnection,
  encodeConsumerRunningInfo,
  encodeConsumeStats,
  encodeKVTable,
  encodeProducerConnection,
  encodeTopicStatsTable,
  type ProcessQueueInfo,
  type ProducerConnection,
  type TopicStatsTable,
} from "../../src/codec/admin_bodies.ts";
import {
  type CancelRequestHeader,
  type ConsumeMessageDirectlyResultRequestHeader,
  decodeCancelRequestHeader,
  decodeConsumeMessageDirectlyResultRequestHeader,
  decodeGetConsumerRunningInfoRequestHeader,
  decodeGetConsumeStatsRequestHeader,
  decodeQueryMessageRequestHeader,
  decodeQueryMessageResponseHeader,
  decodeViewMessageRequestHeader,
  encodeCancelRequestHeader,
  encodeConsumeMessageDirectlyResultRequestHeader,
  encodeGetConsumerRunningInfoRequestHeader,
  encodeGetConsumeStatsRequestHeader,
  encodeQueryMessageRequestHeader,
  encodeQueryMessageResponseHeader,
  encodeViewMessageRequestHeader,
  type GetConsumerRunningInfoRequestHeader,
  type GetConsumeStatsRequestHeader,
  type QueryMessageRequestHeader,
  type QueryMessageResponseHeader,
  type ViewMessageRequestHeader,
} from "../../src/codec/admin_headers.ts";
import type { MessageQueue, SubscriptionData } from "../../src/codec/bodies.ts";
import { parseFastJson } from "../../src/codec/fastjson.ts";
import { CodecError } from "../../src/errors.ts";
import { mutated, onlyCodecError } from "./_fuzz.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const str = fc.string({ unit: "grapheme", maxLength: 12 });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const double = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) =>
  Object.is(d, -0) ? 0 : d
);
const mapKey = str.filter((k) => !["__proto__", "constructor", "prototype"].includes(k));
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(model, { noNullPrototype: true });
const dict = <T>(value: fc.Arbitrary<T>) =>
  fc.dictionary(mapKey, value, { maxKeys: 3, noNullPrototype: true });

const queueArb: fc.Arbitrary<MessageQueue> = rec({ topic: str, brokerName: str, queueId: int32 });
const subscriptionArb: fc.Arbitrary<SubscriptionData> = rec({
  topic: str,
  subString: str,
  tagsSet: fc.array(str, { maxLength: 3 }),
  codeSet: fc.array(int32, { maxLength: 3 }),
  subVersion: int64,
  expressionType: fc.constantFrom("TAG", "SQL92"),
  classFilterMode: fc.boolean(),
});
const pqArb: fc.Arbitrary<ProcessQueueInfo> = rec({
  commitOffset: int64,
  cachedMsgMinOffset: int64,
  cachedMsgMaxOffset: int64,
  cachedMsgCount: int32,
  cachedMsgSizeInMiB: int32,
  transactionMsgMinOffset: int64,
  transactionMsgMaxOffset: int64,
  transactionMsgCount: int32,
  locked: fc.boolean(),
  tryUnlockTimes: int64,
  lastLockTimestamp: int64,
  droped: fc.boolean(),
  lastPullTimestamp: int64,
  lastConsumeTimestamp: int64,
});
const compare = (a: MessageQueue, b: MessageQueue) =>
  a.topic !== b.topic
    ? (a.topic < b.topic ? -1 : 1)
    : a.brokerName !== b.brokerName
    ? (a.brokerName < b.brokerName ? -1 : 1)
    : a.queueId - b.queueId;
// A TreeMap/TreeSet on the Java side: unique keys, written in order.
const runningInfoArb: fc.Arbitrary<ConsumerRunningInfo> = fc.record({
  properties: dict(str),
  subscriptionSet: fc.uniqueArray(subscriptionArb, { maxLength: 3, selector: (s) => s.topic })
    .map((l) => l.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))),
  mqTable: fc.uniqueArray(rec({ queue: queueArb, info: pqArb }), {
    maxLength: 3,
    selector: (e) => JSON.stringify([e.queue.topic, e.queue.brokerName, e.queue.queueId]),
  }).map((l) => l.sort((a, b) => compare(a.queue, b.queue))),
  statusTable: dict(rec({
    pullRT: double,
    pullTPS: double,
    consumeRT: double,
    consumeOKTPS: double,
    consumeFailedTPS: double,
    consumeFailedMsgs: int64,
  })),
  userConsumerInfo: dict(str),
  jstack: str,
}, {
  requiredKeys: ["properties", "subscriptionSet", "mqTable", "statusTable", "userConsumerInfo"],
  noNullPrototype: true,
});
const connectionArb = rec({
  clientId: str,
  clientAddr: str,
  language: fc.constantFrom("JAVA", "GO", "NODE_JS", "OTHER"),
  version: int32,
});
const consumerConnectionArb: fc.Arbitrary<ConsumerConnection> = rec({
  connectionSet: fc.array(connectionArb, { maxLength: 3 }),
  subscriptionTable: dict(subscriptionArb),
  consumeType: fc.constantFrom("CONSUME_PASSIVELY", "CONSUME_ACTIVELY"),
  messageModel: fc.constantFrom("CLUSTERING", "BROADCASTING"),
  consumeFromWhere: fc.constantFrom("CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_FIRST_OFFSET"),
});
const producerConnectionArb: fc.Arbitrary<ProducerConnection> = rec({
  connectionSet: fc.array(connectionArb, { maxLength: 3 }),
});
const directResultArb: fc.Arbitrary<ConsumeMessageDirectlyResult> = fc.record({
  order: fc.boolean(),
  autoCommit: fc.boolean(),
  consumeResult: fc.constantFrom("CR_SUCCESS", "CR_LATER", "CR_THROW_EXCEPTION", "CR_RETURN_NULL"),
  remark: str,
  spentTimeMills: int64,
}, {
  requiredKeys: ["order", "autoCommit", "consumeResult", "spentTimeMills"],
  noNullPrototype: true,
});

// A HashMap on the Java side, written by us in MessageQueue order.
const consumeStatsArb: fc.Arbitrary<ConsumeStats> = fc.record({
  consumeTps: double,
  offsetTable: fc.uniqueArray(
    rec({
      queue: queueArb,
      offsets: rec({
        brokerOffset: int64,
        consumerOffset: int64,
        pullOffset: int64,
        lastTimestamp: int64,
      }),
    }),
    {
      maxLength: 4,
      selector: (e) => JSON.stringify([e.queue.topic, e.queue.brokerName, e.queue.queueId]),
    },
  ).map((l) => l.sort((a, b) => compare(a.queue, b.queue))),
}, { noNullPrototype: true });

// A ConcurrentHashMap on the Java side, written by us in MessageQueue order.
const topicStatsArb: fc.Arbitrary<TopicStatsTable> = fc.record({
  topicPutTps: double,
  offsetTable: fc.uniqueArray(
    rec({
      queue: queueArb,
      offsets: rec({ minOffset: int64, maxOffset: int64, lastUpdateTimestamp: int64 }),
    }),
    {
      maxLength: 4,
      selector: (e) => JSON.stringify([e.queue.topic, e.queue.brokerName, e.queue.queueId]),
    },
  ).map((l) => l.sort((a, b) => compare(a.queue, b.queue))),
}, { noNullPrototype: true });

// deno-lint-ignore no-explicit-any
type Codec = [string, fc.Arbitrary<any>, (v: any) => Uint8Array, (b: Uint8Array) => unknown];
const CODECS: Codec[] = [
  ["ConsumerRunningInfo", runningInfoArb, encodeConsumerRunningInfo, decodeConsumerRunningInfo],
  ["ConsumerConnection", consumerConnectionArb, encodeConsumerConnection, decodeConsumerConnection],
  ["ProducerConnection", producerConnectionArb, encodeProducerConnection, decodeProducerConnection],
  ["ConsumeStats", consumeStatsArb, encodeConsumeStats, decodeConsumeStats],
  ["TopicStatsTable", topicStatsArb, encodeTopicStatsTable, decodeTopicStatsTable],
  ["KVTable", dict(str), encodeKVTable, decodeKVTable],
  [
    "ConsumeMessageDirectlyResult",
    directResultArb,
    encodeConsumeMessageDirectlyResult,
    decodeConsumeMessageDirectlyResult,
  ],
];

describe("admin bodies", () => {
  for (const [name, arb, encode, decode] of CODECS) {
    it(`${name}: decode(encode(x)) = x`, () => {
      fc.assert(fc.property(arb, (value) => assert.deepEqual(decode(encode(value)), value)), {
        numRuns: 300,
      });
    });
    it(`${name}: random and mutated bytes produce only CodecError`, () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.uint8Array({ maxLength: 100 }), mutated(arb.map(encode))),
          (bytes) => onlyCodecError(() => decode(bytes)),
        ),
        { numRuns: 300 },
      );
    });
  }

  it("ConsumerRunningInfo: mqTable keys are MessageQueue objects, in MessageQueue order, as fastjson writes them", () => {
    const info: ProcessQueueInfo = {
      commitOffset: 5,
      cachedMsgMinOffset: 0,
      cachedMsgMaxOffset: 0,
      cachedMsgCount: 0,
      cachedMsgSizeInMiB: 0,
      transactionMsgMinOffset: 0,
      transactionMsgMaxOffset: 0,
      transactionMsgCount: 0,
      locked: false,
      tryUnlockTimes: 0,
      lastLockTimestamp: 0,
      droped: false,
      lastPullTimestamp: 0,
      lastConsumeTimestamp: 0,
    };
    const body = text(encodeConsumerRunningInfo({
      properties: { PROP_CONSUME_TYPE: "CONSUME_PASSIVELY" },
      subscriptionSet: [],
      statusTable: {},
      userConsumerInfo: {},
      mqTable: [
        { queue: { topic: "T", brokerName: "b", queueId: 1 }, info },
        { queue: { topic: "T", brokerName: "a", queueId: 3 }, info },
      ],
    }));
    assert.match(
      body,
      /"mqTable":\{\{"brokerName":"a","queueId":3,"topic":"T"\}:\{[^}]*\},\{"brokerName":"b","queueId":1,"topic":"T"\}:/,
    );
    // Not JSON (object keys), but the tolerant parser reads it, as fastjson does.
    assert.throws(() => JSON.parse(body));
    assert.ok(parseFastJson(body));
    assert.throws(
      () => decodeConsumerRunningInfo(utf8('{"mqTable":{"not a queue":{}}}')),
      (e) => e instanceof CodecError && /not a MessageQueue object/.test(e.message),
    );
  });

  it("ConsumerRunningInfo: a Java client's body decodes (doubles, Properties, missing fields)", () => {
    const java = '{"jstack":null,"mqPopTable":{},"mqTable":{{"brokerName":"broker-a","queueId":0,' +
      '"topic":"TopicTest"}:{"cachedMsgCount":0,"cachedMsgMaxOffset":0,"cachedMsgMinOffset":0,' +
      '"cachedMsgSizeInMiB":0,"commitOffset":12,"droped":false,"lastConsumeTimestamp":1700000000000,' +
      '"lastLockTimestamp":0,"lastPullTimestamp":1700000000001,"locked":false,"transactionMsgCount":0,' +
      '"transactionMsgMaxOffset":0,"transactionMsgMinOffset":0,"tryUnlockTimes":0}},' +
      '"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY","consumeThreadMax":"20"},' +
      '"statusTable":{"TopicTest":{"consumeFailedMsgs":0,"consumeFailedTPS":0.0,"consumeOKTPS":1.5,' +
      '"consumeRT":0.25,"pullRT":12.0,"pullTPS":0.3}},"subscriptionSet":[{"classFilterMode":false,' +
      '"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1700000000000,"tagsSet":[],' +
      '"topic":"TopicTest"}],"userConsumerInfo":{}}';
    const info = decodeConsumerRunningInfo(utf8(java));
    assert.equal(info.mqTable[0]!.info.commitOffset, 12);
    assert.equal(info.statusTable.TopicTest!.consumeOKTPS, 1.5);
    assert.equal(info.properties.consumeThreadMax, "20");
    assert.equal(info.jstack, undefined);
  });
});

describe("admin headers", () => {
  const runningArb: fc.Arbitrary<GetConsumerRunningInfoRequestHeader> = fc.record({
    consumerGroup: str,
    clientId: str,
    jstackEnable: fc.boolean(),
  }, { requiredKeys: ["consumerGroup", "clientId"], noNullPrototype: true });
  const directArb: fc.Arbitrary<ConsumeMessageDirectlyResultRequestHeader> = fc.record({
    consumerGroup: str,
    clientId: str,
    msgId: str,
    brokerName: str,
    topic: str,
    topicSysFlag: int32,
    groupSysFlag: int32,
  }, { requiredKeys: ["consumerGroup"], noNullPrototype: true });
  const consumeStatsArb: fc.Arbitrary<GetConsumeStatsRequestHeader> = fc.record({
    consumerGroup: str,
    topic: str,
  }, { requiredKeys: ["consumerGroup"], noNullPrototype: true });
  const cancelArb: fc.Arbitrary<CancelRequestHeader> = fc.record({
    correlationId: str,
    topic: str,
    queueId: int32,
    consumerGroup: str,
  }, { requiredKeys: ["correlationId"], noNullPrototype: true });
  const queryArb: fc.Arbitrary<QueryMessageRequestHeader> = rec({
    topic: str,
    key: str,
    maxNum: int32,
    beginTimestamp: int64,
    endTimestamp: int64,
  });
  const queryResponseArb: fc.Arbitrary<QueryMessageResponseHeader> = rec({
    indexLastUpdateTimestamp: int64,
    indexLastUpdatePhyoffset: int64,
  });
  const viewArb: fc.Arbitrary<ViewMessageRequestHeader> = fc.record({
    topic: str,
    offset: int64,
  }, { requiredKeys: ["offset"], noNullPrototype: true });
  const cases: Array<
    // deno-lint-ignore no-explicit-any
    [string, fc.Arbitrary<any>, (h: any) => Record<string, string>, (e: any) => unknown]
  > = [
    [
      "GetConsumerRunningInfoRequestHeader",
      runningArb,
      encodeGetConsumerRunningInfoRequestHeader,
      decodeGetConsumerRunningInfoRequestHeader,
    ],
    [
      "ConsumeMessageDirectlyResultRequestHeader",
      directArb,
      encodeConsumeMessageDirectlyResultRequestHeader,
      decodeConsumeMessageDirectlyResultRequestHeader,
    ],
    ["CancelRequestHeader", cancelArb, encodeCancelRequestHeader, decodeCancelRequestHeader],
    [
      "GetConsumeStatsRequestHeader",
      consumeStatsArb,
      encodeGetConsumeStatsRequestHeader,
      decodeGetConsumeStatsRequestHeader,
    ],
    [
      "QueryMessageRequestHeader",
      queryArb,
      encodeQueryMessageRequestHeader,
      decodeQueryMessageRequestHeader,
    ],
    [
      "QueryMessageResponseHeader",
      queryResponseArb,
      encodeQueryMessageResponseHeader,
      decodeQueryMessageResponseHeader,
    ],
    [
      "ViewMessageRequestHeader",
      viewArb,
      encodeViewMessageRequestHeader,
      decodeViewMessageRequestHeader,
    ],
  ];
  for (const [name, arb, encode, decode] of cases) {
    it(`${name}: decode(encode(x)) = x, and any string map gives the header or a CodecError`, () => {
      fc.assert(fc.property(arb, (h) => assert.deepEqual(decode(encode(h)), h)), { numRuns: 300 });
      fc.assert(
        fc.property(
          fc.dictionary(str, str, { noNullPrototype: true }),
          (fields) => onlyCodecError(() => decode(fields)),
        ),
        { numRuns: 300 },
      );
    });
  }
});
