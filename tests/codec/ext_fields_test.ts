import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as ext from "../../src/codec/ext_fields.ts";
import { CodecError, InvalidArgumentError } from "../../src/errors.ts";
import { onlyCodecError } from "./_fuzz.ts";

type Fields = Record<string, string>;
// deno-lint-ignore no-explicit-any
type AnyHeader = any;

interface Case {
  name: string;
  encode?: (h: AnyHeader) => Fields;
  decode: (f: Fields) => unknown;
  /** Every field set; numbers above 2^32 mark 64-bit fields. */
  full: Record<string, unknown>;
  /** The required fields only. */
  required: string[];
}

const L = 2 ** 40 + 7; // a value only a long holds

const CASES: Case[] = [
  {
    name: "SendMessageResponseHeader",
    encode: ext.encodeSendMessageResponseHeader,
    decode: ext.decodeSendMessageResponseHeader,
    full: {
      msgId: "7F00000100002A9F0000000000000000",
      queueId: 1,
      queueOffset: L,
      transactionId: "U",
      batchUniqId: "B",
      recallHandle: "R",
      MSG_REGION: "DefaultRegion",
      TRACE_ON: "true",
    },
    required: ["msgId", "queueId", "queueOffset"],
  },
  {
    name: "PullMessageRequestHeader",
    encode: ext.encodePullMessageRequestHeader,
    decode: ext.decodePullMessageRequestHeader,
    full: {
      consumerGroup: "CG",
      topic: "T",
      queueId: 1,
      queueOffset: L,
      maxMsgNums: 32,
      sysFlag: 3,
      commitOffset: L,
      suspendTimeoutMillis: L,
      subscription: "*",
      subVersion: L,
      expressionType: "TAG",
      maxMsgBytes: 262144,
      requestSource: 1,
      proxyFrowardClientId: "p",
      bname: "broker-a",
    },
    required: [
      "consumerGroup",
      "topic",
      "queueId",
      "queueOffset",
      "maxMsgNums",
      "sysFlag",
      "commitOffset",
      "suspendTimeoutMillis",
      "subVersion",
    ],
  },
  {
    name: "PullMessageResponseHeader",
    encode: ext.encodePullMessageResponseHeader,
    decode: ext.decodePullMessageResponseHeader,
    full: {
      suggestWhichBrokerId: L,
      nextBeginOffset: L,
      minOffset: L,
      maxOffset: L,
      offsetDelta: L,
      topicSysFlag: 1,
      groupSysFlag: 2,
      forbiddenType: 3,
    },
    required: ["suggestWhichBrokerId", "nextBeginOffset", "minOffset", "maxOffset"],
  },
  {
    name: "QueryConsumerOffsetRequestHeader",
    encode: ext.encodeQueryConsumerOffsetRequestHeader,
    decode: ext.decodeQueryConsumerOffsetRequestHeader,
    full: { consumerGroup: "CG", topic: "T", queueId: 1, setZeroIfNotFound: true, bname: "b" },
    required: ["consumerGroup", "topic", "queueId"],
  },
  {
    name: "QueryConsumerOffsetResponseHeader",
    encode: ext.encodeQueryConsumerOffsetResponseHeader,
    decode: ext.decodeQueryConsumerOffsetResponseHeader,
    full: { offset: L },
    required: ["offset"],
  },
  {
    name: "UpdateConsumerOffsetRequestHeader",
    encode: ext.encodeUpdateConsumerOffsetRequestHeader,
    decode: ext.decodeUpdateConsumerOffsetRequestHeader,
    full: { consumerGroup: "CG", topic: "T", queueId: 1, commitOffset: L, bname: "b" },
    required: ["consumerGroup", "topic", "queueId", "commitOffset"],
  },
  {
    name: "GetMaxOffsetRequestHeader",
    encode: ext.encodeGetMaxOffsetRequestHeader,
    decode: ext.decodeGetMaxOffsetRequestHeader,
    full: { topic: "T", queueId: 1, committed: true, bname: "b" },
    required: ["topic", "queueId"],
  },
  {
    name: "GetMaxOffsetResponseHeader",
    encode: ext.encodeGetMaxOffsetResponseHeader,
    decode: ext.decodeGetMaxOffsetResponseHeader,
    full: { offset: L },
    required: ["offset"],
  },
  {
    name: "GetMinOffsetRequestHeader",
    encode: ext.encodeGetMinOffsetRequestHeader,
    decode: ext.decodeGetMinOffsetRequestHeader,
    full: { topic: "T", queueId: 1, bname: "b" },
    required: ["topic", "queueId"],
  },
  {
    name: "GetMinOffsetResponseHeader",
    encode: ext.encodeGetMinOffsetResponseHeader,
    decode: ext.decodeGetMinOffsetResponseHeader,
    full: { offset: L },
    required: ["offset"],
  },
  {
    name: "SearchOffsetRequestHeader",
    encode: ext.encodeSearchOffsetRequestHeader,
    decode: ext.decodeSearchOffsetRequestHeader,
    full: { topic: "T", queueId: 1, timestamp: L, boundaryType: "UPPER", bname: "b" },
    required: ["topic", "queueId", "timestamp"],
  },
  {
    name: "SearchOffsetResponseHeader",
    encode: ext.encodeSearchOffsetResponseHeader,
    decode: ext.decodeSearchOffsetResponseHeader,
    full: { offset: L },
    required: ["offset"],
  },
  {
    name: "GetConsumerListByGroupRequestHeader",
    encode: ext.encodeGetConsumerListByGroupRequestHeader,
    decode: ext.decodeGetConsumerListByGroupRequestHeader,
    full: { consumerGroup: "CG", bname: "b" },
    required: ["consumerGroup"],
  },
  {
    name: "NotifyConsumerIdsChangedRequestHeader",
    encode: ext.encodeNotifyConsumerIdsChangedRequestHeader,
    decode: ext.decodeNotifyConsumerIdsChangedRequestHeader,
    full: { consumerGroup: "CG" },
    required: ["consumerGroup"],
  },
  {
    name: "ConsumerSendMsgBackRequestHeader",
    encode: ext.encodeConsumerSendMsgBackRequestHeader,
    decode: ext.decodeConsumerSendMsgBackRequestHeader,
    full: {
      offset: L,
      group: "CG",
      delayLevel: -1,
      originMsgId: "M",
      originTopic: "T",
      unitMode: false,
      maxReconsumeTimes: 16,
      bname: "b",
    },
    required: ["offset", "group", "delayLevel"],
  },
  {
    name: "UnregisterClientRequestHeader",
    encode: ext.encodeUnregisterClientRequestHeader,
    decode: ext.decodeUnregisterClientRequestHeader,
    full: { clientID: "c", producerGroup: "PG", consumerGroup: "CG" },
    required: ["clientID"],
  },
  {
    name: "GetRouteInfoRequestHeader",
    encode: ext.encodeGetRouteInfoRequestHeader,
    decode: ext.decodeGetRouteInfoRequestHeader,
    full: { topic: "T", acceptStandardJsonOnly: true },
    required: ["topic"],
  },
  {
    name: "ReplyMessageRequestHeader",
    encode: ext.encodeReplyMessageRequestHeader,
    decode: ext.decodeReplyMessageRequestHeader,
    full: {
      producerGroup: "PG",
      topic: "R",
      defaultTopic: "TBW102",
      defaultTopicQueueNums: 4,
      queueId: -1,
      sysFlag: 769,
      bornTimestamp: L,
      flag: 0,
      properties: "CORRELATION_ID\u0001c\u0002",
      reconsumeTimes: 0,
      unitMode: false,
      bornHost: "0:0:0:0:0:0:0:1:53000",
      storeHost: "127.0.0.1:10911",
      storeTimestamp: L,
    },
    required: [
      "producerGroup",
      "topic",
      "defaultTopic",
      "defaultTopicQueueNums",
      "queueId",
      "sysFlag",
      "bornTimestamp",
      "flag",
      "bornHost",
      "storeHost",
      "storeTimestamp",
    ],
  },
  {
    name: "EndTransactionRequestHeader",
    decode: ext.decodeEndTransactionRequestHeader,
    full: {
      topic: "T",
      producerGroup: "PG",
      tranStateTableOffset: L,
      commitLogOffset: L,
      commitOrRollback: 8,
      fromTransactionCheck: true,
      msgId: "U",
      transactionId: "X",
      bname: "b",
    },
    required: [
      "producerGroup",
      "tranStateTableOffset",
      "commitLogOffset",
      "commitOrRollback",
      "msgId",
    ],
  },
];

function flatten(h: Record<string, unknown>): Fields {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
}

describe("extFields headers: fixed vectors", () => {
  for (const c of CASES) {
    it(`${c.name}: every field survives encode and decode`, () => {
      const fields = flatten(c.full);
      if (c.encode) {
        const encoded = c.encode(c.full);
        assert.deepEqual(encoded, fields);
        assert.deepEqual(Object.keys(encoded), Object.keys(c.full), "Java declaration order");
      }
      assert.deepEqual(c.decode({ ...fields, unknownKey: "ignored" }), c.full);
      const minimal = Object.fromEntries(c.required.map((k) => [k, c.full[k]]));
      assert.deepEqual(c.decode(flatten(minimal)), minimal);
    });

    it(`${c.name}: a missing required field is named`, () => {
      for (const key of c.required) {
        const { [key]: _, ...rest } = flatten(c.full);
        assert.throws(
          () => c.decode(rest),
          (e) =>
            e instanceof CodecError && e.reason === "schema" &&
            e.message === `${c.name}: field ${key}: is required but missing`,
          key,
        );
        if (c.encode) {
          const { [key]: _h, ...header } = c.full;
          assert.throws(() => c.encode!(header), InvalidArgumentError, key);
        }
      }
    });
  }
});

describe("extFields number and boolean parsing (Java's parseInt/parseLong/parseBoolean)", () => {
  const offset = (value: string) =>
    ext.decodeQueryConsumerOffsetResponseHeader({ offset: value }).offset;
  const queueId = (value: string) =>
    ext.decodeGetMinOffsetRequestHeader({ topic: "T", queueId: value }).queueId;

  it("accepts a sign and leading zeros", () => {
    assert.equal(offset("+5"), 5);
    assert.equal(offset("-0"), 0);
    assert.equal(offset("0007"), 7);
    assert.equal(offset("0".repeat(10_000) + "9"), 9);
    assert.equal(queueId("2147483647"), 2147483647);
    assert.equal(queueId("-2147483648"), -2147483648);
    assert.equal(offset("9223372036854775807"), 9223372036854775807); // rounded to 2^63
    assert.equal(offset("-9223372036854775808"), -9223372036854775808);
  });

  it("rejects anything else, naming the field", () => {
    for (
      const bad of ["", " 5", "5 ", "1e3", "0x10", "1.0", "--1", "+", "٣", "9223372036854775808"]
    ) {
      assert.throws(
        () => offset(bad),
        (e) =>
          e instanceof CodecError &&
          e.message.startsWith(
            "QueryConsumerOffsetResponseHeader: field offset: expected a 64-bit",
          ),
        JSON.stringify(bad),
      );
    }
    assert.throws(
      () => queueId("2147483648"),
      /field queueId: expected a 32-bit decimal integer, got "2147483648"/,
    );
  });

  it("reads booleans as Boolean.parseBoolean", () => {
    const flag = (value: string) =>
      ext.decodeGetRouteInfoRequestHeader({ topic: "T", acceptStandardJsonOnly: value })
        .acceptStandardJsonOnly;
    assert.equal(flag("true"), true);
    assert.equal(flag("TrUe"), true);
    assert.equal(flag("false"), false);
    assert.equal(flag("1"), false);
    assert.equal(flag(""), false);
  });

  it("encoders reject values outside the wire types", () => {
    assert.throws(
      () => ext.encodeGetMinOffsetRequestHeader({ topic: "T", queueId: 2 ** 31 }),
      InvalidArgumentError,
    );
    assert.throws(
      () => ext.encodeGetMaxOffsetResponseHeader({ offset: 2 ** 63 }),
      InvalidArgumentError,
    );
    assert.throws(
      () => ext.encodeGetMaxOffsetResponseHeader({ offset: 1.5 }),
      InvalidArgumentError,
    );
    assert.throws(
      () =>
        ext.encodeGetRouteInfoRequestHeader({ topic: "T", acceptStandardJsonOnly: "yes" as never }),
      InvalidArgumentError,
    );
    assert.throws(
      () => ext.encodeGetRouteInfoRequestHeader({ topic: 5 as never }),
      InvalidArgumentError,
    );
  });
});

describe("extFields headers: properties", () => {
  const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
  const int64 = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

  function headerArb(c: Case): fc.Arbitrary<Record<string, unknown>> {
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, sample] of Object.entries(c.full)) {
      model[key] = typeof sample === "string"
        ? fc.string({ unit: "grapheme", maxLength: 20 })
        : typeof sample === "boolean"
        ? fc.boolean()
        : (sample as number) > 2 ** 32
        ? int64
        : int32;
    }
    return fc.record(model, { requiredKeys: c.required, noNullPrototype: true });
  }

  for (const c of CASES) {
    if (c.encode) {
      it(`${c.name}: decode(encode(h)) = h`, () => {
        fc.assert(
          fc.property(headerArb(c), (h) => assert.deepEqual(c.decode(c.encode!(h)), h)),
          { numRuns: 200 },
        );
      });
    }
  }

  it("random extFields produce only CodecError in every decoder", () => {
    const keys = [...new Set(CASES.flatMap((c) => Object.keys(c.full)))];
    const fields = fc.dictionary(
      fc.oneof(fc.constantFrom(...keys, "__proto__", "constructor"), fc.string({ maxLength: 5 })),
      fc.oneof(fc.string({ maxLength: 8 }), fc.integer().map(String), fc.bigInt().map(String)),
      { maxKeys: 20 },
    );
    fc.assert(
      fc.property(fields, (f) => {
        for (const c of CASES) onlyCodecError(() => c.decode(f));
      }),
      { numRuns: 300 },
    );
  });

  it("non-string values (from a careless caller) produce only CodecError", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("topic", "queueId", "offset"), fc.anything()),
        (f) => {
          for (const c of CASES) onlyCodecError(() => c.decode(f as Fields));
        },
      ),
      { numRuns: 200 },
    );
  });
});
