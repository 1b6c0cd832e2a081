// Golden vectors of the message-level codec, written by RocketMQ 5.5.0's own classes
// (MessageExtEncoder, MessageDecoder, MessageBatch, MessageClientIDSetter): stored
// records, batches, properties strings, offset ids, UNIQ_KEYs, send/pull headers.
// Regenerate with tests/fixtures/java/generate.sh.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "../../src/codec/crc32.ts";
import { compressBody, decompressBody } from "../../src/codec/compression.ts";
import {
  decodeBatch,
  decodeSendHeader,
  encodeBatch,
  encodeSendHeaderV2,
} from "../../src/codec/message.ts";
import { MessageMagic } from "../../src/codec/message_ext.ts";
import {
  decodeStoredMessage,
  decodeStoredMessages,
  encodeStoredMessage,
  type HostAddress,
  type StoredMessage,
} from "../../src/codec/message_ext.ts";
import {
  offsetMessageId,
  parseOffsetMessageId,
  parseUniqueKey,
  UniqueKeyGenerator,
} from "../../src/codec/message_id.ts";
import { decodeProperties, encodeProperties } from "../../src/codec/properties.ts";
import {
  decodePullMessageRequestHeader,
  decodePullMessageResponseHeader,
  decodeSendMessageResponseHeader,
  decodeUpdateConsumerOffsetRequestHeader,
} from "../../src/codec/ext_fields.ts";
import { setField } from "../../src/codec/remoting_command.ts";
import { type FrameDescription, fromHex, loadVector, toHex } from "./_golden.ts";

const V = "rocketmq-5.5.0";

type Pairs = [string, string][];

/** A record from pairs, in their order (our encoders write insertion order). */
function record(pairs: Pairs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) setField(out, k, v);
  return out;
}

interface RecordDescription {
  offsetInBody: number;
  storeSize: number;
  magicCode: number;
  bodyCRC: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: string;
  topic: string;
  properties: Pairs;
  propertiesString: string;
  offsetMsgId: string;
  decompressedBody?: string;
}

function expectedStored(r: RecordDescription): Record<string, unknown> {
  return {
    storeSize: r.storeSize,
    magicCode: r.magicCode,
    bodyCRC: r.bodyCRC,
    queueId: r.queueId,
    flag: r.flag,
    queueOffset: r.queueOffset,
    commitLogOffset: r.commitLogOffset,
    sysFlag: r.sysFlag,
    bornTimestamp: r.bornTimestamp,
    bornHost: r.bornHost,
    storeTimestamp: r.storeTimestamp,
    storeHost: r.storeHost,
    reconsumeTimes: r.reconsumeTimes,
    preparedTransactionOffset: r.preparedTransactionOffset,
    body: r.body,
    topic: r.topic,
    properties: record(r.properties),
  };
}

function comparableStored(m: StoredMessage): Record<string, unknown> {
  return { ...m, body: toHex(m.body) };
}

for (const name of ["pull_body", "stored_retry_v2"]) {
  describe(`golden stored messages: ${name}`, () => {
    const v = loadVector<{ records: RecordDescription[] }>(V, "messages", name);
    const records = v.description.records;

    it("decodeStoredMessages reads every record as Java does", () => {
      const decoded = decodeStoredMessages(v.bytes);
      assert.equal(decoded.length, records.length);
      decoded.forEach((m, i) => assert.deepEqual(comparableStored(m), expectedStored(records[i]!)));
    });

    for (const r of records) {
      const label =
        `record at ${r.offsetInBody} (sysFlag ${r.sysFlag}, topic length ${r.topic.length})`;

      it(`${label}: decodeStoredMessage at its offset`, () => {
        const m = decodeStoredMessage(v.bytes, r.offsetInBody);
        assert.deepEqual(comparableStored(m), expectedStored(r));
      });

      it(`${label}: encodeStoredMessage writes MessageExtEncoder's bytes`, () => {
        const ours = encodeStoredMessage({
          queueId: r.queueId,
          flag: r.flag,
          queueOffset: r.queueOffset,
          commitLogOffset: r.commitLogOffset,
          sysFlag: r.sysFlag,
          bornTimestamp: r.bornTimestamp,
          bornHost: r.bornHost,
          storeTimestamp: r.storeTimestamp,
          storeHost: r.storeHost,
          reconsumeTimes: r.reconsumeTimes,
          preparedTransactionOffset: r.preparedTransactionOffset,
          body: fromHex(r.body),
          topic: r.topic,
          properties: record(r.properties),
        });
        assert.equal(
          toHex(ours),
          toHex(v.bytes.subarray(r.offsetInBody, r.offsetInBody + r.storeSize)),
        );
      });

      it(`${label}: body CRC, properties string and offset message id`, () => {
        assert.equal(crc32(fromHex(r.body)) & 0x7fffffff, r.bodyCRC);
        assert.equal(encodeProperties(record(r.properties)), r.propertiesString);
        assert.deepEqual(decodeProperties(r.propertiesString), record(r.properties));
        assert.equal(offsetMessageId(r.storeHost, r.commitLogOffset), r.offsetMsgId);
        assert.deepEqual(parseOffsetMessageId(r.offsetMsgId), {
          storeHost: r.storeHost,
          commitLogOffset: r.commitLogOffset,
        });
      });

      if (r.decompressedBody !== undefined) {
        it(`${label}: decompressBody inflates the Java producer's zlib body`, async () => {
          assert.equal(r.sysFlag, 769);
          const plain = await decompressBody(fromHex(r.body), r.sysFlag);
          assert.equal(toHex(plain), r.decompressedBody);
        });
      }
    }

    if (name === "stored_retry_v2") {
      it("a topic longer than 127 chars is written with magic V2", () => {
        assert.ok(records[0]!.topic.length > 127);
        assert.equal(records[0]!.magicCode, MessageMagic.V2);
      });
    } else {
      it("covers compression, IPv6 born host and a transaction offset", () => {
        assert.ok(records.some((r) => r.sysFlag === 769));
        assert.ok(
          records.some((r) => (r.sysFlag & 0x10) !== 0 && r.bornHost.address.includes(":")),
        );
        assert.ok(records.some((r) => r.preparedTransactionOffset > 0));
        assert.ok(records.every((r) => r.magicCode === MessageMagic.V1));
      });
    }
  });
}

describe("golden batch body (MessageBatch.encode)", () => {
  const v = loadVector<{
    entries: { flag: number; body: string; properties: Pairs; propertiesString: string }[];
  }>(V, "messages", "batch_body");
  const entries = v.description.entries;

  it("decodeBatch reads Java's entries", () => {
    const decoded = decodeBatch(v.bytes);
    assert.deepEqual(
      decoded.map((e) => ({ flag: e.flag, body: toHex(e.body), properties: e.properties })),
      entries.map((e) => ({ flag: e.flag, body: e.body, properties: record(e.properties) })),
    );
  });

  it("encodeBatch writes Java's bytes", () => {
    const ours = encodeBatch(entries.map((e) => ({
      flag: e.flag,
      body: fromHex(e.body),
      properties: record(e.properties),
    })));
    assert.equal(toHex(ours), toHex(v.bytes));
  });
});

describe("golden LZ4 and zstd bodies (CompressorFactory: lz4-java, zstd-jni)", () => {
  for (const [name, type] of [["compressed_lz4", "lz4"], ["compressed_zstd", "zstd"]] as const) {
    const v = loadVector<{ sysFlag: number; level: number; decompressedBody: string }>(
      V,
      "messages",
      name,
    );
    it(`${type}: decompressBody reads Java's body (sysFlag ${v.description.sysFlag})`, async () => {
      const body = await decompressBody(v.bytes, v.description.sysFlag);
      assert.equal(toHex(body), v.description.decompressedBody);
    });

    it(`${type}: a body cut short or with a flipped byte is refused`, async () => {
      await assert.rejects(
        decompressBody(v.bytes.subarray(0, v.bytes.length - 7), v.description.sysFlag),
      );
      const flipped = v.bytes.slice();
      flipped[Math.floor(flipped.length / 2)]! ^= 0x5a;
      // LZ4 from Java carries no content checksum, so a flipped literal byte may
      // decode to other bytes; it must never decode to the original silently
      // without an error or a difference.
      try {
        const out = await decompressBody(flipped, v.description.sysFlag);
        assert.notEqual(toHex(out), v.description.decompressedBody);
      } catch (err) {
        assert.equal((err as { reason?: string }).reason, "compression");
      }
    });

    it(`${type}: our frame has the layout lz4-java / zstd-jni read`, async () => {
      const original = fromHex(v.description.decompressedBody);
      const ours = await compressBody(original, { type, level: v.description.level });
      // Same magic number as Java's; LZ4: version 1 with independent blocks
      // (lz4-java refuses dependent ones) and 4 MiB blocks, as Java writes.
      assert.equal(toHex(ours.subarray(0, 4)), toHex(v.bytes.subarray(0, 4)));
      if (type === "lz4") {
        assert.equal(ours[4]! & 0xe0, v.bytes[4]! & 0xe0);
        assert.equal(ours[5], v.bytes[5]);
      }
      assert.equal(toHex(await decompressBody(ours, v.description.sysFlag)), toHex(original));
    });
  }
});

describe("golden properties strings (messageProperties2String / string2messageProperties)", () => {
  const v = loadVector<{
    encode: { properties: Pairs; string: string; utf8: string }[];
    decode: { string: string; properties: Pairs }[];
  }>(V, "messages", "properties");

  for (const [i, c] of v.description.encode.entries()) {
    it(`encodeProperties case ${i} writes Java's string`, () => {
      const ours = encodeProperties(record(c.properties));
      assert.equal(ours, c.string);
      assert.equal(toHex(new TextEncoder().encode(ours)), c.utf8);
    });
  }

  for (const c of v.description.decode) {
    it(`decodeProperties(${JSON.stringify(c.string)}) reads what Java reads`, () => {
      const ours = decodeProperties(c.string);
      assert.deepEqual(ours, record(c.properties));
      for (const [k, value] of c.properties) {
        assert.equal(Object.getOwnPropertyDescriptor(ours, k)?.value, value);
      }
    });
  }
});

describe("golden offset message ids (createMessageId / decodeMessageId)", () => {
  const v = loadVector<{
    ids: {
      storeHost: HostAddress;
      commitLogOffset: number;
      id: string;
      decoded: { storeHost: HostAddress; commitLogOffset: number };
    }[];
  }>(V, "messages", "message_ids");

  for (const c of v.description.ids) {
    it(`${c.storeHost.address}:${c.storeHost.port} @ ${c.commitLogOffset}`, () => {
      assert.equal(offsetMessageId(c.storeHost, c.commitLogOffset), c.id);
      assert.deepEqual(parseOffsetMessageId(c.id), c.decoded);
    });
  }
});

describe("golden UNIQ_KEYs (MessageClientIDSetter)", () => {
  interface Decoded {
    ip: string;
    pid: number;
    spanMs: number;
    counter: number;
  }
  const v = loadVector<{
    generated: {
      key: string;
      ip: string;
      pid: number;
      seed: number;
      counterBefore: number;
      spanMs: number;
      counter: number;
      decoded: Decoded;
    }[];
    parsed: { key: string; decoded: Decoded }[];
  }>(V, "messages", "unique_keys");

  // The span counts from the start of the month in the local calendar, for Java and for
  // us; any month works, so feed our generator a clock at the same span into January 2024.
  const january = new Date(2024, 0, 1).getTime();

  for (const g of v.description.generated) {
    it(`UniqueKeyGenerator reproduces ${g.key} (counter ${g.counterBefore})`, () => {
      const gen = new UniqueKeyGenerator({
        ip: fromHex(g.ip),
        pid: g.pid,
        seed: g.seed,
        now: () => january + g.spanMs,
      });
      let key = "";
      for (let i = 0; i <= g.counterBefore; i++) key = gen.next();
      assert.equal(key, g.key);
    });
  }

  for (const c of [...v.description.generated, ...v.description.parsed]) {
    it(`parseUniqueKey(${c.key}) agrees with Java's getters`, () => {
      const now = Date.now();
      const info = parseUniqueKey(c.key, now);
      assert.equal(info.ip, c.decoded.ip);
      assert.equal(info.pid, c.decoded.pid);
      assert.equal(info.counter, c.decoded.counter);
      // Java's getNearlyTimeFromID: span + start of this month, or of the previous one.
      const start = new Date(info.timestamp - c.decoded.spanMs);
      assert.deepEqual(
        [start.getDate(), start.getHours(), start.getMinutes(), start.getSeconds()],
        [1, 0, 0, 0],
      );
      assert.equal(start.getMilliseconds(), 0);
      assert.ok(info.timestamp < now || info.timestamp - c.decoded.spanMs <= now);
    });
  }
});

describe("golden custom headers in real frames", () => {
  const frame = (name: string) =>
    loadVector<FrameDescription>(V, "frames", name).description.command.extFields ?? [];

  it("SendMessageRequestHeaderV2: decodeSendHeader and encodeSendHeaderV2 agree with Java", () => {
    for (const name of ["send_v2_json", "send_v2_rocketmq"]) {
      const ext = record(frame(name));
      const h = decodeSendHeader(ext, { v2: true });
      assert.deepEqual(
        { ...h },
        {
          producerGroup: "PG",
          topic: "TopicTest",
          defaultTopic: "TBW102",
          defaultTopicQueueNums: 4,
          queueId: 1,
          sysFlag: 0,
          bornTimestamp: 1700000000000,
          flag: 0,
          properties: ext.i,
          reconsumeTimes: 0,
          unitMode: false,
          batch: false,
          brokerName: "broker-a",
        },
      );
      const ours = encodeSendHeaderV2(h);
      assert.deepEqual(ours, ext);
      // ROCKETMQ order is the field order of SendMessageRequestHeaderV2.encode (a..n).
      if (name.endsWith("rocketmq")) {
        assert.deepEqual(
          Object.keys(ours),
          frame(name).map(([k]) => k),
        );
      }
    }
  });

  it("PullMessageRequestHeader", () => {
    const h = decodePullMessageRequestHeader(record(frame("pull_rocketmq")));
    assert.equal(h.consumerGroup, "CG");
    assert.equal(h.topic, "TopicTest");
    assert.equal(h.queueId, 1);
    assert.equal(h.queueOffset, 100);
    assert.equal(h.maxMsgNums, 32);
    assert.equal(h.sysFlag, 2);
    assert.equal(h.commitOffset, 0);
    assert.equal(h.suspendTimeoutMillis, 15000);
    assert.equal(h.subVersion, 1700000000001);
    assert.equal(h.expressionType, "TAG");
  });

  it("PullMessageResponseHeader", () => {
    const h = decodePullMessageResponseHeader(record(frame("pull_found_json")));
    assert.equal(h.suggestWhichBrokerId, 0);
    assert.equal(h.nextBeginOffset, 104);
    assert.equal(h.minOffset, 0);
    assert.equal(h.maxOffset, 104);
  });

  it("SendMessageResponseHeader (with MSG_REGION and TRACE_ON)", () => {
    const h = decodeSendMessageResponseHeader(record(frame("send_response_rocketmq")));
    assert.equal(h.msgId, offsetMessageId({ address: "192.168.1.10", port: 10911 }, 123456));
    assert.equal(h.queueId, 1);
    assert.equal(h.queueOffset, 100);
    assert.equal(h.transactionId, "0A00000530391B6D35860A3B1C2D0000");
    assert.equal(h.MSG_REGION, "DefaultRegion");
    assert.equal(h.TRACE_ON, "true");
  });

  it("UpdateConsumerOffsetRequestHeader", () => {
    const h = decodeUpdateConsumerOffsetRequestHeader(record(frame("update_offset_oneway_json")));
    assert.equal(h.consumerGroup, "CG");
    assert.equal(h.topic, "TopicTest");
    assert.equal(h.queueId, 3);
    assert.equal(h.commitOffset, 1234567890123);
  });
});
