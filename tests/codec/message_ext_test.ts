import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "../../src/bytes.ts";
import { crc32 } from "../../src/codec/crc32.ts";
import { MessageSysFlag } from "../../src/codec/message.ts";
import {
  decodeStoredMessage,
  decodeStoredMessages,
  encodeStoredMessage,
  formatHostAddress,
  MessageMagic,
  parseHostAddress,
  type StoredMessage,
  type StoredMessageInput,
} from "../../src/codec/message_ext.ts";
import { CodecError, InvalidArgumentError } from "../../src/errors.ts";
import { hex, mutated, noSeparators, onlyCodecError } from "./_fuzz.ts";

// A V1 record written field by field from the layout in the protocol doc §4.5.
const V1_RECORD = hex(
  "00000071" + // TOTALSIZE 113
    "daa320a7" + // MAGICCODE V1
    "58932aac" + // BODYCRC = crc32("hi") & 0x7fffffff
    "00000001" + // QUEUEID
    "00000000" + // FLAG
    "0000000000000007" + // QUEUEOFFSET
    "0000000000001000" + // PHYSICALOFFSET 4096
    "00000000" + // SYSFLAG
    "0000018bcfe56800" + // BORNTIMESTAMP 1700000000000
    "0a000005 0000c350" + // BORNHOST 10.0.0.5:50000
    "0000018bcfe56801" + // STORETIMESTAMP
    "7f000001 00002a9f" + // STOREHOST 127.0.0.1:10911
    "00000000" + // RECONSUMETIMES
    "0000000000000000" + // PREPARED TRANSACTION OFFSET
    "00000002 6869" + // BODY "hi"
    "09 546f70696354657374" + // TOPIC "TopicTest"
    "000b 554e49515f4b4559 01 58 02", // PROPERTIES UNIQ_KEY=X
);

const V1_MESSAGE: StoredMessage = {
  storeSize: 113,
  magicCode: MessageMagic.V1,
  bodyCRC: 0x58932aac,
  queueId: 1,
  flag: 0,
  queueOffset: 7,
  commitLogOffset: 4096,
  sysFlag: 0,
  bornTimestamp: 1700000000000,
  bornHost: { address: "10.0.0.5", port: 50000 },
  storeTimestamp: 1700000000001,
  storeHost: { address: "127.0.0.1", port: 10911 },
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  body: new TextEncoder().encode("hi"),
  topic: "TopicTest",
  properties: { UNIQ_KEY: "X" },
};

function input(m: StoredMessage): StoredMessageInput {
  const { storeSize: _s, magicCode: _m, ...rest } = m;
  return rest;
}

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const port = fc.integer({ min: 0, max: 0xffff });
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => b.join("."));
// Any 16 bytes, written the way Java's getHostAddress() would (IPv4-mapped ones become dotted).
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return b.subarray(12).join(".");
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":");
});
const safeText = (maxLength: number) =>
  fc.string({ unit: "grapheme", maxLength }).filter(noSeparators);
const propsArb = fc.dictionary(
  safeText(12).filter((s) => s.length > 0),
  safeText(30).filter((s) => s.length > 0),
  { maxKeys: 5 },
);

const messageArb: fc.Arbitrary<StoredMessageInput> = fc.record({
  bornV6: fc.boolean(),
  storeV6: fc.boolean(),
  otherBits: int32,
}).chain(({ bornV6, storeV6, otherBits }) =>
  fc.record({
    queueId: int32,
    flag: int32,
    queueOffset: int64,
    commitLogOffset: int64,
    sysFlag: fc.constant(
      (otherBits & ~0x30) | (bornV6 ? MessageSysFlag.BORNHOST_V6 : 0) |
        (storeV6 ? MessageSysFlag.STOREHOST_V6 : 0),
    ),
    bornTimestamp: int64,
    bornHost: fc.record({ address: bornV6 ? ipv6 : ipv4, port }, { noNullPrototype: true }),
    storeTimestamp: int64,
    storeHost: fc.record({ address: storeV6 ? ipv6 : ipv4, port }, { noNullPrototype: true }),
    reconsumeTimes: int32,
    preparedTransactionOffset: int64,
    body: fc.uint8Array({ maxLength: 100 }),
    // Long topics exercise magic V2 (more than 127 characters).
    topic: fc.oneof(
      safeText(40),
      fc.string({ unit: "grapheme-ascii", minLength: 120, maxLength: 300 }),
    ),
    properties: propsArb,
  })
);

function expected(m: StoredMessageInput, bytes: Uint8Array): StoredMessage {
  return {
    storeSize: bytes.length,
    // V2 above 127 characters (Java's rule), or above 127 UTF-8 bytes (which V1 cannot hold).
    magicCode: m.topic.length > 127 || new TextEncoder().encode(m.topic).length > 127
      ? MessageMagic.V2
      : MessageMagic.V1,
    ...m,
    bodyCRC: m.bodyCRC ?? (crc32(m.body) & 0x7fffffff),
    properties: { ...m.properties },
  };
}

describe("decodeStoredMessage()", () => {
  it("decodes a V1 record laid out by hand from §4.5", () => {
    const m = decodeStoredMessage(V1_RECORD);
    assert.deepEqual(m, V1_MESSAGE);
    assert.equal(m.body.buffer, V1_RECORD.buffer, "the body is a view, not a copy");
  });

  it("decodes IPv6 hosts per sysFlag bits 0x10 and 0x20", () => {
    const sysFlag = MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6;
    const record = concat([
      hex("00000089 daa320a7 58932aac 00000001 00000000 0000000000000007 0000000000001000"),
      hex("00000030 0000018bcfe56800"),
      hex("00000000000000000000000000000001 00000001"), // ::1 port 1
      hex("0000018bcfe56801"),
      hex("fe800000000000000000000000000001 00002a9f"), // fe80::1 port 10911
      hex("00000000 0000000000000000 00000002 6869 09 546f70696354657374"),
      hex("000b 554e49515f4b4559 01 58 02"),
    ]);
    assert.equal(record.length, 137);
    const m = decodeStoredMessage(record);
    assert.equal(m.sysFlag, sysFlag);
    assert.deepEqual(m.bornHost, { address: "0:0:0:0:0:0:0:1", port: 1 });
    assert.deepEqual(m.storeHost, { address: "fe80:0:0:0:0:0:0:1", port: 10911 });
    assert.deepEqual(encodeStoredMessage(input(m)), record);
  });

  it("decodes magic V2 with a 2-byte topic length", () => {
    const topic = "%RETRY%" + "g".repeat(130);
    const bytes = encodeStoredMessage({ ...input(V1_MESSAGE), topic });
    const m = decodeStoredMessage(bytes);
    assert.equal(m.magicCode, MessageMagic.V2);
    assert.equal(m.topic, topic);
    const at = 113 - 2 - 11 - 10; // where V1 had its 1-byte topic length
    assert.deepEqual([...bytes.subarray(at, at + 2)], [0, 137]);
  });

  it("reads a record at an offset and ignores what follows it", () => {
    const bytes = concat([new Uint8Array(5), V1_RECORD, new Uint8Array([9, 9])]);
    assert.deepEqual(decodeStoredMessage(bytes, 5), V1_MESSAGE);
  });

  it("rejects inconsistent records with a precise CodecError", () => {
    const cases: [string, (b: Uint8Array) => void, RegExp][] = [
      ["unknown magic", (b) => b.set([1, 2, 3, 4], 4), /unknown magic code 0x1020304/],
      ["blank magic", (b) => new DataView(b.buffer).setInt32(4, MessageMagic.BLANK), /blank magic/],
      ["size beyond bytes", (b) => b.set([0, 0, 0, 114], 0), /TOTALSIZE 114 exceeds the 113 bytes/],
      ["negative size", (b) => b.set([0xff, 0xff, 0xff, 0xff], 0), /TOTALSIZE -1/],
      ["size too small", (b) => b.set([0, 0, 0, 39], 0), /too small/],
      [
        "negative body length",
        (b) => b.set([0xff, 0xff, 0xff, 0xfe], 84),
        /BODYLENGTH -2 at offset 84/,
      ],
      ["body beyond record", (b) => b.set([0, 0, 0, 99], 84), /BODYLENGTH 99/],
      ["negative V1 topic length", (b) => b.set([0x80], 90), /topic length -128 at offset 90/],
      ["properties disagree", (b) => b.set([0, 10], 100), /properties length 10 at offset 100/],
      ["born port out of range", (b) => b.set([0, 1, 0, 0], 52), /BORNHOST port 65536/],
      ["store port negative", (b) => b.set([0xff, 0xff, 0xff, 0xff], 68), /STOREHOST port -1/],
    ];
    for (const [name, mutate, message] of cases) {
      const bad = V1_RECORD.slice();
      mutate(bad);
      assert.throws(
        () => decodeStoredMessage(bad),
        (e) => e instanceof CodecError && e.reason === "message" && message.test(e.message),
        name,
      );
    }
    assert.throws(() => decodeStoredMessage(V1_RECORD.subarray(0, 112)), CodecError);
    assert.throws(() => decodeStoredMessage(V1_RECORD, 114), CodecError);
  });
});

describe("decodeStoredMessages()", () => {
  it("decodes a concatenation and throws on the first bad record", () => {
    const second = encodeStoredMessage({ ...input(V1_MESSAGE), queueOffset: 8 });
    const body = concat([V1_RECORD, second]);
    assert.deepEqual(decodeStoredMessages(body).map((m) => m.queueOffset), [7, 8]);
    assert.deepEqual(decodeStoredMessages(new Uint8Array(0)), []);
    assert.throws(() => decodeStoredMessages(concat([V1_RECORD, new Uint8Array(3)])), /offset 113/);
  });
});

describe("encodeStoredMessage()", () => {
  it("writes MessageExtEncoder's layout, computing the body CRC", () => {
    assert.deepEqual(
      encodeStoredMessage(input({ ...V1_MESSAGE, bodyCRC: undefined as never })),
      V1_RECORD,
    );
    const { bodyCRC: _, ...withoutCrc } = input(V1_MESSAGE);
    assert.deepEqual(encodeStoredMessage(withoutCrc), V1_RECORD);
  });

  it("uses magic V1 up to 127 topic characters and V2 above", () => {
    const at = (topic: string) =>
      decodeStoredMessage(encodeStoredMessage({ ...input(V1_MESSAGE), topic }));
    assert.equal(at("t".repeat(127)).magicCode, MessageMagic.V1);
    assert.equal(at("t".repeat(128)).magicCode, MessageMagic.V2);
    // 64 characters, 128 UTF-8 bytes: V1's signed byte cannot hold it.
    assert.equal(at("é".repeat(64)).magicCode, MessageMagic.V2);
  });

  it("writes an IPv4 text in an IPv6 slot as IPv4-mapped", () => {
    const bytes = encodeStoredMessage({
      ...input(V1_MESSAGE),
      sysFlag: MessageSysFlag.BORNHOST_V6,
      bornHost: { address: "10.0.0.5", port: 1 },
    });
    assert.deepEqual([...bytes.subarray(48, 64)], [
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      255,
      255,
      10,
      0,
      0,
      5,
    ]);
    assert.deepEqual(decodeStoredMessage(bytes).bornHost, { address: "10.0.0.5", port: 1 });
  });

  it("rejects values that do not fit the layout", () => {
    const base = input(V1_MESSAGE);
    assert.throws(
      () => encodeStoredMessage({ ...base, storeHost: { address: "::1", port: 1 } }),
      InvalidArgumentError,
    );
    assert.throws(
      () => encodeStoredMessage({ ...base, bornHost: { address: "1.2.3", port: 1 } }),
      InvalidArgumentError,
    );
    assert.throws(
      () => encodeStoredMessage({ ...base, bornHost: { address: "1.2.3.4", port: 70000 } }),
      InvalidArgumentError,
    );
    assert.throws(() => encodeStoredMessage({ ...base, queueOffset: 0.5 }), InvalidArgumentError);
    assert.throws(() => encodeStoredMessage({ ...base, queueId: 2 ** 31 }), InvalidArgumentError);
    assert.throws(
      () => encodeStoredMessage({ ...base, properties: { K: "x".repeat(40000) } }),
      InvalidArgumentError,
    );
  });

  it("decode(encode(m)) = m for IPv4/IPv6 hosts and both magic codes", () => {
    let v2 = 0;
    let v6 = 0;
    fc.assert(
      fc.property(messageArb, (m) => {
        const bytes = encodeStoredMessage(m);
        const decoded = decodeStoredMessage(bytes);
        if (decoded.magicCode === MessageMagic.V2) v2++;
        if (decoded.sysFlag & 0x30) v6++;
        assert.deepEqual({ ...decoded, body: [...decoded.body] }, {
          ...expected(m, bytes),
          body: [...m.body],
        });
      }),
      { numRuns: 400 },
    );
    assert.ok(v2 > 0 && v6 > 0, "both magic codes and IPv6 hosts were generated");
  });

  it("decodeStoredMessages(concat(records)) decodes each record", () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 4 }), (ms) => {
        const decoded = decodeStoredMessages(concat(ms.map(encodeStoredMessage)));
        assert.deepEqual(decoded.map((d) => d.queueOffset), ms.map((m) => m.queueOffset));
        assert.deepEqual(decoded.map((d) => d.topic), ms.map((m) => m.topic));
      }),
      { numRuns: 200 },
    );
  });

  it("random and mutated bytes produce only CodecError", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat({ max: 10 }),
        (bytes, offset) => onlyCodecError(() => decodeStoredMessage(bytes, offset)),
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        mutated(
          fc.array(messageArb, { minLength: 1, maxLength: 3 }).map((ms) =>
            concat(ms.map(encodeStoredMessage))
          ),
        ),
        (bytes) => onlyCodecError(() => decodeStoredMessages(bytes)),
      ),
      { numRuns: 500 },
    );
  });
});

describe("host addresses", () => {
  it("parseHostAddress() splits at the last colon like NetworkUtil.string2SocketAddress", () => {
    assert.deepEqual(parseHostAddress("0:0:0:0:0:0:0:1:10911"), {
      address: "0:0:0:0:0:0:0:1",
      port: 10911,
    });
    assert.deepEqual(parseHostAddress("::1:10911"), { address: "0:0:0:0:0:0:0:1", port: 10911 });
    assert.deepEqual(parseHostAddress("[::ffff:10.0.0.1]:80"), { address: "10.0.0.1", port: 80 });
    for (const bad of ["10.0.0.1", "10.0.0.1:", ":80", "10.0.0.1:65536", "host:80", "1.2.3.4:8a"]) {
      assert.throws(() => parseHostAddress(bad), CodecError, bad);
    }
  });

  it("formatHostAddress() is its inverse", () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), port, (address, p) => {
        assert.deepEqual(parseHostAddress(formatHostAddress({ address, port: p })), {
          address,
          port: p,
        });
      }),
      { numRuns: 300 },
    );
  });
});
