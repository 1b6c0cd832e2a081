import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BrokerData,
  buildSubscriptionData,
  type ClusterInfo,
  type ConsumerListBody,
  decodeClusterInfo,
  decodeConsumerListBody,
  decodeHeartbeatData,
  decodeLockBatchRequestBody,
  decodeLockBatchResponseBody,
  decodeResetOffsetBody,
  decodeTopicRouteData,
  encodeClusterInfo,
  encodeConsumerListBody,
  encodeHeartbeatData,
  encodeLockBatchRequestBody,
  encodeLockBatchResponseBody,
  encodeTopicRouteData,
  type HeartbeatData,
  javaStringHashCode,
  type LockBatchRequestBody,
  type LockBatchResponseBody,
  type MessageQueue,
  type SubscriptionData,
  type TopicRouteData,
} from "../../src/codec/bodies.ts";
import { CodecError, InvalidArgumentError } from "../../src/errors.ts";
import { mutated, onlyCodecError } from "./_fuzz.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

// §3.5: a CLUSTERING push consumer subscribed to TopicTest with "TagA || TagB" (one line on the wire).
const HEARTBEAT_JSON = '{"clientID":"10.0.0.5@12345#987654321",' +
  '"consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY",' +
  '"groupName":"CG","messageModel":"CLUSTERING",' +
  '"subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919,2598920],"expressionType":"TAG",' +
  '"subString":"TagA || TagB","subVersion":1700000000001,"tagsSet":["TagA","TagB"],"topic":"TopicTest"},' +
  '{"classFilterMode":false,"codeSet":[],"expressionType":"TAG",' +
  '"subString":"*","subVersion":1700000000002,"tagsSet":[],"topic":"%RETRY%CG"}],' +
  '"unitMode":false}],' +
  '"heartbeatFingerprint":0,' +
  '"producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}],' +
  '"withoutSub":false}';

const HEARTBEAT: HeartbeatData = {
  clientID: "10.0.0.5@12345#987654321",
  producerDataSet: [{ groupName: "CLIENT_INNER_PRODUCER" }],
  consumerDataSet: [{
    groupName: "CG",
    consumeType: "CONSUME_PASSIVELY",
    messageModel: "CLUSTERING",
    consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
    subscriptionDataSet: [
      buildSubscriptionData("TopicTest", "TagA || TagB", 1700000000001),
      buildSubscriptionData("%RETRY%CG", "*", 1700000000002),
    ],
    unitMode: false,
  }],
  heartbeatFingerprint: 0,
  withoutSub: false,
};

// §7.1: the name server's standard-JSON route.
const ROUTE_JSON =
  '{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],' +
  '"filterServerTable":{},' +
  '"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}';

const ROUTE: TopicRouteData = {
  queueDatas: [{
    brokerName: "broker-a",
    readQueueNums: 4,
    writeQueueNums: 4,
    perm: 6,
    topicSysFlag: 0,
  }],
  brokerDatas: [{
    cluster: "DefaultCluster",
    brokerName: "broker-a",
    brokerAddrs: { "0": "127.0.0.1:10911" },
    enableActingMaster: false,
  }],
  filterServerTable: {},
};

describe("HeartbeatData", () => {
  it("decodes the §3.5 example", () => {
    assert.deepEqual(decodeHeartbeatData(utf8(HEARTBEAT_JSON)), HEARTBEAT);
  });

  it("encodes byte for byte as the Java client writes it", () => {
    assert.equal(text(encodeHeartbeatData(HEARTBEAT)), HEARTBEAT_JSON);
  });

  it("fills Java defaults and tolerates fastjson's conversions", () => {
    const hb = decodeHeartbeatData(utf8(
      '{"clientID":42,"consumerDataSet":[{"groupName":"CG","consumeType":"CONSUME_ACTIVELY","messageModel":"BROADCASTING",' +
        '"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","subscriptionDataSet":[{"topic":"T","subString":"*",' +
        '"subVersion":"17","codeSet":["5"],"tagsSet":null}],"unitMode":"true"}],"producerDataSet":null,' +
        '"unknownKey":{"x":[1]},"heartbeatFingerprint":"-3","withoutSub":1}',
    ));
    assert.deepEqual(hb, {
      clientID: "42",
      producerDataSet: [],
      consumerDataSet: [{
        groupName: "CG",
        consumeType: "CONSUME_ACTIVELY",
        messageModel: "BROADCASTING",
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
        subscriptionDataSet: [{
          topic: "T",
          subString: "*",
          tagsSet: [],
          codeSet: [5],
          subVersion: 17,
          expressionType: "TAG",
          classFilterMode: false,
        }],
        unitMode: true,
      }],
      heartbeatFingerprint: -3,
      withoutSub: true,
    });
  });

  it("names the path of a bad field", () => {
    const bad = HEARTBEAT_JSON.replace('"codeSet":[2598919,2598920]', '"codeSet":[2598919,"x"]');
    assert.throws(
      () => decodeHeartbeatData(utf8(bad)),
      (e) =>
        e instanceof CodecError && e.reason === "schema" &&
        e.message ===
          'HeartbeatData: field consumerDataSet.0.subscriptionDataSet.0.codeSet.1: expected a 32-bit integer, got "x"',
    );
    assert.throws(
      () => decodeHeartbeatData(utf8('{"producerDataSet":[]}')),
      (e) =>
        e instanceof CodecError &&
        e.message === "HeartbeatData: field clientID: is required but missing",
    );
    assert.throws(
      () => decodeHeartbeatData(utf8("[]")),
      /HeartbeatData: value: expected an object, got an array/,
    );
    assert.throws(
      () => decodeHeartbeatData(utf8("{")),
      (e) => e instanceof CodecError && e.reason === "json",
    );
  });
});

describe("TopicRouteData", () => {
  it("decodes and encodes the §7.1 standard-JSON route", () => {
    assert.deepEqual(decodeTopicRouteData(utf8(ROUTE_JSON)), ROUTE);
    assert.equal(text(encodeTopicRouteData(ROUTE)), ROUTE_JSON);
  });

  it("decodes fastjson's unquoted broker ids and the legacy topicSynFlag", () => {
    const legacy =
      '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a",' +
      '"cluster":"DefaultCluster"}],"orderTopicConf":"broker-a:4","queueDatas":[{"brokerName":"broker-a","perm":6,' +
      '"readQueueNums":4,"topicSynFlag":1,"writeQueueNums":4}]}';
    assert.deepEqual(decodeTopicRouteData(utf8(legacy)), {
      orderTopicConf: "broker-a:4",
      queueDatas: [{
        brokerName: "broker-a",
        readQueueNums: 4,
        writeQueueNums: 4,
        perm: 6,
        topicSysFlag: 1,
      }],
      brokerDatas: [{
        cluster: "DefaultCluster",
        brokerName: "broker-a",
        brokerAddrs: { "0": "127.0.0.1:10911", "1": "127.0.0.1:10921" },
        enableActingMaster: false,
      }],
    });
  });

  it("writes broker ids in numeric order, as fastjson sorts Long keys", () => {
    const route: TopicRouteData = {
      ...ROUTE,
      brokerDatas: [{ ...ROUTE.brokerDatas[0]!, brokerAddrs: { "10": "c", "2": "b", "0": "a" } }],
    };
    assert.match(text(encodeTopicRouteData(route)), /"brokerAddrs":\{"0":"a","2":"b","10":"c"\}/);
  });

  it("rejects non-numeric broker ids and missing queue counts", () => {
    assert.throws(
      () => decodeTopicRouteData(utf8(ROUTE_JSON.replace('{"0":', '{"master":'))),
      (e) =>
        e instanceof CodecError && e.message.includes("field brokerDatas.0.brokerAddrs.master"),
    );
    assert.throws(
      () => decodeTopicRouteData(utf8(ROUTE_JSON.replace('"readQueueNums":4,', ""))),
      /field queueDatas\.0\.readQueueNums: is required but missing/,
    );
    assert.throws(
      () => decodeTopicRouteData(utf8(ROUTE_JSON.replace('"perm":6', '"perm":6.5'))),
      /field queueDatas\.0\.perm: expected a 32-bit integer, got 6.5/,
    );
  });
});

describe("ClusterInfo", () => {
  const JSON_7_3 =
    '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a",' +
    '"cluster":"DefaultCluster","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}';

  it("decodes the §7.3 example and encodes it as standard JSON", () => {
    const info = decodeClusterInfo(utf8(JSON_7_3));
    assert.deepEqual(info, {
      brokerAddrTable: {
        "broker-a": {
          cluster: "DefaultCluster",
          brokerName: "broker-a",
          brokerAddrs: { "0": "127.0.0.1:10911" },
          enableActingMaster: false,
        },
      },
      clusterAddrTable: { DefaultCluster: ["broker-a"] },
    });
    assert.equal(text(encodeClusterInfo(info)), JSON_7_3.replace("{0:", '{"0":'));
  });
});

describe("small bodies", () => {
  it("ConsumerListBody (§3.7)", () => {
    const body = utf8('{"consumerIdList":["10.0.0.5@123#456","10.0.0.6@7#8"]}');
    assert.deepEqual(decodeConsumerListBody(body), {
      consumerIdList: ["10.0.0.5@123#456", "10.0.0.6@7#8"],
    });
    assert.deepEqual(encodeConsumerListBody(decodeConsumerListBody(body)), body);
    assert.deepEqual(decodeConsumerListBody(utf8("{}")), { consumerIdList: [] });
  });

  it("LockBatchRequestBody and LockBatchResponseBody (§3.9)", () => {
    const request = '{"clientId":"10.0.0.5@x","consumerGroup":"CG",' +
      '"mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}],"onlyThisBroker":false}';
    const decoded = decodeLockBatchRequestBody(utf8(request));
    assert.deepEqual(decoded, {
      consumerGroup: "CG",
      clientId: "10.0.0.5@x",
      mqSet: [{ topic: "TopicTest", brokerName: "broker-a", queueId: 0 }],
      onlyThisBroker: false,
    });
    assert.equal(text(encodeLockBatchRequestBody(decoded)), request);
    const response = '{"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}]}';
    assert.equal(
      text(encodeLockBatchResponseBody(decodeLockBatchResponseBody(utf8(response)))),
      response,
    );
  });

  it("ResetOffsetBody with MessageQueue object keys (§3.15)", () => {
    const body = utf8(
      '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:42,' +
        '{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:"43"}}',
    );
    assert.deepEqual(decodeResetOffsetBody(body), {
      offsetTable: [
        { messageQueue: { topic: "TopicTest", brokerName: "broker-a", queueId: 0 }, offset: 42 },
        { messageQueue: { topic: "TopicTest", brokerName: "broker-a", queueId: 1 }, offset: 43 },
      ],
    });
    assert.deepEqual(decodeResetOffsetBody(utf8("{}")), { offsetTable: [] });
    assert.throws(
      () => decodeResetOffsetBody(utf8('{"offsetTable":{"notAQueue":1}}')),
      (e) =>
        e instanceof CodecError &&
        /field offsetTable: key "notAQueue" is not a MessageQueue/.test(e.message),
    );
  });
});

describe("subscriptions", () => {
  it("javaStringHashCode() is Java's String.hashCode()", () => {
    assert.equal(javaStringHashCode("TagA"), 2598919);
    assert.equal(javaStringHashCode("TagB"), 2598920);
    assert.equal(javaStringHashCode("hello"), 99162322);
    assert.equal(javaStringHashCode("😀"), 1772899); // surrogate pair: two code units
    assert.equal(javaStringHashCode("a".repeat(100)), -323643840); // values checked with Java 17
  });

  it("buildSubscriptionData() follows FilterAPI", () => {
    assert.deepEqual(buildSubscriptionData("T", "", 5), {
      topic: "T",
      subString: "*",
      tagsSet: [],
      codeSet: [],
      subVersion: 5,
      expressionType: "TAG",
      classFilterMode: false,
    });
    const s = buildSubscriptionData("T", " A ||B|| ||A||\u00a0C", 1);
    assert.equal(s.subString, " A ||B|| ||A||\u00a0C");
    // Java's trim() strips only code units <= U+0020, so the no-break space stays.
    assert.deepEqual(s.tagsSet, ["A", "B", "\u00a0C"]);
    assert.deepEqual(s.codeSet, ["A", "B", "\u00a0C"].map(javaStringHashCode));
    assert.deepEqual(buildSubscriptionData("T", "a||", 1).tagsSet, ["a"]);
    assert.throws(() => buildSubscriptionData("T", "||", 1), InvalidArgumentError);
    assert.throws(() => buildSubscriptionData("T", "||||", 1), InvalidArgumentError);
    assert.deepEqual(buildSubscriptionData("T", " || ", 1).tagsSet, []);
    const sql = buildSubscriptionData("T", "a > 5", 1, "SQL92");
    assert.deepEqual([sql.subString, sql.expressionType, sql.tagsSet], ["a > 5", "SQL92", []]);
    assert.throws(() => buildSubscriptionData("T", "", 1, "SQL92"), InvalidArgumentError);
  });
});

// ---------------------------------------------------------------------------
// Properties: decode(encode(x)) = x for every body, and only CodecError on bad bytes.

const str = fc.string({ unit: "grapheme", maxLength: 12 });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
// valibot's record guard skips these keys; keep them out of generated maps.
const mapKey = str.filter((k) => !["__proto__", "constructor", "prototype"].includes(k));
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(model, { noNullPrototype: true });
const dict = <T>(key: fc.Arbitrary<string>, value: fc.Arbitrary<T>) =>
  fc.dictionary(key, value, { maxKeys: 3, noNullPrototype: true });

const queueArb: fc.Arbitrary<MessageQueue> = rec({ topic: str, brokerName: str, queueId: int32 });
const brokerArb: fc.Arbitrary<BrokerData> = fc.record({
  cluster: str,
  brokerName: str,
  brokerAddrs: dict(fc.integer({ min: 0, max: 20 }).map(String), str),
  zoneName: str,
  enableActingMaster: fc.boolean(),
}, {
  requiredKeys: ["cluster", "brokerName", "brokerAddrs", "enableActingMaster"],
  noNullPrototype: true,
});
const routeArb: fc.Arbitrary<TopicRouteData> = fc.record({
  orderTopicConf: str,
  queueDatas: fc.array(
    rec({
      brokerName: str,
      readQueueNums: int32,
      writeQueueNums: int32,
      perm: int32,
      topicSysFlag: int32,
    }),
    { maxLength: 3 },
  ),
  brokerDatas: fc.array(brokerArb, { maxLength: 3 }),
  filterServerTable: dict(mapKey, fc.array(str, { maxLength: 2 })),
}, { requiredKeys: ["queueDatas", "brokerDatas"], noNullPrototype: true });
const subscriptionArb: fc.Arbitrary<SubscriptionData> = rec({
  topic: str,
  subString: str,
  tagsSet: fc.array(str, { maxLength: 3 }),
  codeSet: fc.array(int32, { maxLength: 3 }),
  subVersion: int64,
  expressionType: fc.constantFrom("TAG", "SQL92"),
  classFilterMode: fc.boolean(),
});
const heartbeatArb: fc.Arbitrary<HeartbeatData> = rec({
  clientID: str,
  producerDataSet: fc.array(rec({ groupName: str }), { maxLength: 2 }),
  consumerDataSet: fc.array(
    rec({
      groupName: str,
      consumeType: fc.constantFrom("CONSUME_ACTIVELY", "CONSUME_PASSIVELY", "CONSUME_POP"),
      messageModel: fc.constantFrom("CLUSTERING", "BROADCASTING"),
      consumeFromWhere: fc.constantFrom("CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_FIRST_OFFSET"),
      subscriptionDataSet: fc.array(subscriptionArb, { maxLength: 3 }),
      unitMode: fc.boolean(),
    }),
    { maxLength: 2 },
  ),
  heartbeatFingerprint: int32,
  withoutSub: fc.boolean(),
});
const consumerListArb: fc.Arbitrary<ConsumerListBody> = rec({
  consumerIdList: fc.array(str, { maxLength: 4 }),
});
const lockRequestArb: fc.Arbitrary<LockBatchRequestBody> = rec({
  consumerGroup: str,
  clientId: str,
  mqSet: fc.array(queueArb, { maxLength: 3 }),
  onlyThisBroker: fc.boolean(),
});
const lockResponseArb: fc.Arbitrary<LockBatchResponseBody> = rec({
  lockOKMQSet: fc.array(queueArb, { maxLength: 3 }),
});
const clusterArb: fc.Arbitrary<ClusterInfo> = rec({
  brokerAddrTable: dict(mapKey, brokerArb),
  clusterAddrTable: dict(mapKey, fc.array(str, { maxLength: 3 })),
});

// deno-lint-ignore no-explicit-any
type Codec = [string, fc.Arbitrary<any>, (v: any) => Uint8Array, (b: Uint8Array) => unknown];
const CODECS: Codec[] = [
  ["TopicRouteData", routeArb, encodeTopicRouteData, decodeTopicRouteData],
  ["HeartbeatData", heartbeatArb, encodeHeartbeatData, decodeHeartbeatData],
  ["ConsumerListBody", consumerListArb, encodeConsumerListBody, decodeConsumerListBody],
  ["LockBatchRequestBody", lockRequestArb, encodeLockBatchRequestBody, decodeLockBatchRequestBody],
  [
    "LockBatchResponseBody",
    lockResponseArb,
    encodeLockBatchResponseBody,
    decodeLockBatchResponseBody,
  ],
  ["ClusterInfo", clusterArb, encodeClusterInfo, decodeClusterInfo],
];

describe("body round trips and robustness", () => {
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
        { numRuns: 400 },
      );
    });
  }

  it("ResetOffsetBody: mutated bytes produce only CodecError", () => {
    const valid = fc.array(fc.tuple(queueArb, int64), { maxLength: 3 }).map((entries) =>
      utf8(`{"offsetTable":{${entries.map(([q, o]) => `${JSON.stringify(q)}:${o}`).join(",")}}}`)
    );
    fc.assert(
      fc.property(mutated(valid), (bytes) => onlyCodecError(() => decodeResetOffsetBody(bytes))),
      { numRuns: 400 },
    );
  });
});
