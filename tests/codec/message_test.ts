import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BatchEntry,
  decodeBatch,
  decodeSendHeader,
  encodeBatch,
  encodeSendHeaderV1,
  encodeSendHeaderV2,
  MessageSysFlag,
  type SendMessageRequestHeader,
} from "../../src/codec/message.ts";
import { CodecError, InvalidArgumentError } from "../../src/errors.ts";
import { hex, mutated, noSeparators, onlyCodecError } from "./_fuzz.ts";

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const str = fc.string({ unit: "grapheme", maxLength: 30 });

const sendHeaderArb: fc.Arbitrary<SendMessageRequestHeader> = fc.record({
  producerGroup: str,
  topic: str,
  defaultTopic: str,
  defaultTopicQueueNums: int32,
  queueId: int32,
  sysFlag: int32,
  bornTimestamp: int64,
  flag: int32,
  properties: str,
  reconsumeTimes: int32,
  unitMode: fc.boolean(),
  maxReconsumeTimes: int32,
  batch: fc.boolean(),
  brokerName: str,
}, {
  requiredKeys: [
    "producerGroup",
    "topic",
    "defaultTopic",
    "defaultTopicQueueNums",
    "queueId",
    "sysFlag",
    "bornTimestamp",
    "flag",
  ],
});

/** What a header decodes to after encoding: Java's defaults written for j, k, m. */
function withDefaults(h: SendMessageRequestHeader): SendMessageRequestHeader {
  return {
    ...h,
    reconsumeTimes: h.reconsumeTimes ?? 0,
    unitMode: h.unitMode ?? false,
    batch: h.batch ?? false,
  };
}

const header: SendMessageRequestHeader = {
  producerGroup: "PG",
  topic: "TopicTest",
  defaultTopic: "TBW102",
  defaultTopicQueueNums: 4,
  queueId: 3,
  sysFlag: 0,
  bornTimestamp: 1700000000000,
  flag: 0,
  properties: "UNIQ_KEY\u0001AC11000100002A9F0000000000000000\u0002WAIT\u0001true\u0002",
};

describe("MessageSysFlag", () => {
  it("has MessageSysFlag.java's bits", () => {
    assert.equal(MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB, 769);
    assert.equal(MessageSysFlag.TRANSACTION_PREPARED, 4);
    assert.equal(MessageSysFlag.TRANSACTION_ROLLBACK, 12);
    assert.equal(MessageSysFlag.BORNHOST_V6, 16);
    assert.equal(MessageSysFlag.STOREHOST_V6, 32);
    assert.equal(MessageSysFlag.COMPRESSION_TYPE_MASK, 0x700);
  });
});

describe("send headers", () => {
  it("encodeSendHeaderV2() writes a..n as Java's SendMessageRequestHeaderV2", () => {
    const ext = encodeSendHeaderV2({ ...header, maxReconsumeTimes: 16, brokerName: "broker-a" });
    assert.deepEqual(Object.entries(ext), [
      ["a", "PG"],
      ["b", "TopicTest"],
      ["c", "TBW102"],
      ["d", "4"],
      ["e", "3"],
      ["f", "0"],
      ["g", "1700000000000"],
      ["h", "0"],
      ["i", header.properties],
      ["j", "0"],
      ["k", "false"],
      ["l", "16"],
      ["m", "false"],
      ["n", "broker-a"],
    ]);
  });

  it("encodeSendHeaderV1() writes the long names and bname", () => {
    assert.deepEqual(encodeSendHeaderV1({ ...header, brokerName: "broker-a", batch: true }), {
      producerGroup: "PG",
      topic: "TopicTest",
      defaultTopic: "TBW102",
      defaultTopicQueueNums: "4",
      queueId: "3",
      sysFlag: "0",
      bornTimestamp: "1700000000000",
      flag: "0",
      properties: header.properties,
      reconsumeTimes: "0",
      unitMode: "false",
      batch: "true",
      bname: "broker-a",
    });
  });

  it("decodeSendHeader() reads what Java sends and names the bad field", () => {
    const ext = {
      a: "PG",
      b: "T",
      c: "TBW102",
      d: "4",
      e: "-1",
      f: "769",
      g: "1700000000000",
      h: "0",
    };
    assert.deepEqual(
      decodeSendHeader({ ...ext, k: "False", m: "TRUE", x: "ignored" }, { v2: true }),
      {
        producerGroup: "PG",
        topic: "T",
        defaultTopic: "TBW102",
        defaultTopicQueueNums: 4,
        queueId: -1,
        sysFlag: 769,
        bornTimestamp: 1700000000000,
        flag: 0,
        unitMode: false,
        batch: true,
      },
    );
    for (
      const [bad, field] of [
        [{ ...ext, d: "4.0" }, "d"],
        [{ ...ext, e: "2147483648" }, "e"],
        [{ ...ext, g: "" }, "g"],
        [{ ...ext, j: "x" }, "j"],
        [{ a: "PG" }, "b"],
      ] as const
    ) {
      assert.throws(
        () => decodeSendHeader(bad, { v2: true }),
        (e) =>
          e instanceof CodecError && e.reason === "schema" &&
          e.message.startsWith(`SendMessageRequestHeaderV2: field ${field}:`),
      );
    }
    assert.throws(
      () =>
        decodeSendHeader({ ...encodeSendHeaderV1(header), bornTimestamp: "9223372036854775808" }, {
          v2: false,
        }),
      (e) => e instanceof CodecError && e.message.includes("field bornTimestamp"),
    );
  });

  it("encoders reject values that do not fit the wire types", () => {
    assert.throws(() => encodeSendHeaderV2({ ...header, queueId: 1.5 }), InvalidArgumentError);
    assert.throws(() => encodeSendHeaderV2({ ...header, flag: 2 ** 31 }), InvalidArgumentError);
    assert.throws(
      () => encodeSendHeaderV1({ ...header, bornTimestamp: Number.NaN }),
      InvalidArgumentError,
    );
  });

  it("V2: decode(encode(h)) = h with Java's defaults", () => {
    fc.assert(
      fc.property(sendHeaderArb, (h) => {
        assert.deepEqual(decodeSendHeader(encodeSendHeaderV2(h), { v2: true }), withDefaults(h));
      }),
      { numRuns: 400 },
    );
  });

  it("V1: decode(encode(h)) = h with Java's defaults", () => {
    fc.assert(
      fc.property(sendHeaderArb, (h) => {
        assert.deepEqual(decodeSendHeader(encodeSendHeaderV1(h), { v2: false }), withDefaults(h));
      }),
      { numRuns: 400 },
    );
  });

  it("random extFields produce only CodecError", () => {
    const ext = fc.dictionary(
      fc.constantFrom(
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
        "g",
        "h",
        "i",
        "j",
        "k",
        "l",
        "m",
        "n",
        "topic",
        "__proto__",
      ),
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.bigInt().map(String)),
    );
    fc.assert(
      fc.property(
        ext,
        fc.boolean(),
        (fields, v2) => onlyCodecError(() => decodeSendHeader(fields, { v2 })),
      ),
      { numRuns: 500 },
    );
  });
});

const bodyArb = fc.uint8Array({ maxLength: 64 });
const propsArb = fc.dictionary(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }).filter(noSeparators),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).filter(noSeparators),
  { maxKeys: 5 },
);
const entryArb: fc.Arbitrary<BatchEntry> = fc.record({
  flag: int32,
  body: bodyArb,
  properties: propsArb,
});

describe("batch bodies", () => {
  it("encodeBatch() writes MessageDecoder.encodeMessages' layout", () => {
    const bytes = encodeBatch([
      { flag: 7, body: new Uint8Array([0xaa, 0xbb]), properties: { WAIT: "true" } },
      { flag: -1, body: new Uint8Array(0), properties: {} },
    ]);
    assert.deepEqual(
      bytes,
      hex(
        "00000022 00000000 00000000 00000007 00000002 aabb 000a 5741495401747275 6502" +
          "00000016 00000000 00000000 ffffffff 00000000 0000",
      ),
    );
  });

  it("decodeBatch() returns views into the body", () => {
    const bytes = encodeBatch([{
      flag: 0,
      body: new Uint8Array([1, 2, 3]),
      properties: { A: "b" },
    }]);
    const [entry] = decodeBatch(bytes);
    assert.equal(entry?.body.buffer, bytes.buffer);
    assert.equal(entry?.body.byteOffset, 20);
  });

  it("decodeBatch() ignores magic and CRC but checks every length", () => {
    const good = encodeBatch([{ flag: 0, body: new Uint8Array([1]), properties: { A: "b" } }]);
    const withMagic = good.slice();
    withMagic.set([0xda, 0xa3, 0x20, 0xa7, 1, 2, 3, 4], 4);
    assert.equal(decodeBatch(withMagic).length, 1);
    const cases: [string, (b: Uint8Array) => void, RegExp][] = [
      ["totalSize too big", (b) => b.set([0, 0, 0, 28], 0), /exceeds the 27 bytes left/],
      ["totalSize too small", (b) => b.set([0, 0, 0, 21], 0), /below the minimum 22/],
      ["totalSize disagrees", (b) => b.set([0, 0, 0, 26], 0), /disagrees/],
      ["negative body length", (b) => b.set([0xff, 0xff, 0xff, 0xff], 16), /bodyLength -1/],
      ["negative properties length", (b) => b.set([0x80, 0x00], 21), /negative propertiesLength/],
    ];
    for (const [name, mutate, message] of cases) {
      const bad = good.slice();
      mutate(bad);
      assert.throws(
        () => decodeBatch(bad),
        (e) => e instanceof CodecError && message.test(e.message),
        name,
      );
    }
    assert.throws(() => decodeBatch(good.subarray(0, 26)), CodecError);
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    assert.throws(() => decodeBatch(trailing), /3 trailing bytes/);
  });

  it("encodeBatch() rejects properties beyond 32767 bytes", () => {
    assert.throws(
      () =>
        encodeBatch([{ flag: 0, body: new Uint8Array(0), properties: { K: "x".repeat(32765) } }]),
      InvalidArgumentError,
    );
    assert.equal(
      encodeBatch([{ flag: 0, body: new Uint8Array(0), properties: { K: "x".repeat(32764) } }])
        .length,
      22 + 32767,
    );
  });

  it("decode(encode(entries)) = entries", () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 6 }), (entries) => {
        const decoded = decodeBatch(encodeBatch(entries));
        assert.deepEqual(
          decoded.map((e) => ({ ...e, body: Array.from(e.body) })),
          entries.map((e) => ({ ...e, body: Array.from(e.body), properties: { ...e.properties } })),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("random and mutated bytes produce only CodecError", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        (bytes) => onlyCodecError(() => decodeBatch(bytes)),
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        mutated(fc.array(entryArb, { minLength: 1, maxLength: 4 }).map(encodeBatch)),
        (bytes) => onlyCodecError(() => decodeBatch(bytes)),
      ),
      { numRuns: 500 },
    );
  });
});
