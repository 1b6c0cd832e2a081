// Codec micro-benchmarks (not tests; numbers depend on the machine):
//
//   deno bench tests/bench/codec_bench.ts
//
// - frame encode and decode of a SEND_MESSAGE_V2-like command (small header,
//   1 KiB body), in both header serializations (JSON and ROCKETMQ binary);
// - pull-body decode: decodeStoredMessages over 32 stored 1-KiB messages
//   (one pull response's body). `deno task bench` converts the time per call
//   into MB/s for its report.

import { SerializeType } from "../../src/codec/codes.ts";
import { decodeCommand, encodeCommand } from "../../src/codec/frame.ts";
import { decodeStoredMessages, encodeStoredMessage } from "../../src/codec/message_ext.ts";
import { encodeSendHeaderV2 } from "../../src/codec/message.ts";
import { encodeProperties } from "../../src/codec/properties.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { concat } from "../../src/bytes.ts";

const body = new Uint8Array(1024).map((_, i) => (i * 31) & 0xff);
const properties = {
  UNIQ_KEY: "7F0000010D4C18B4AAC2748A1F9F0000",
  WAIT: "true",
  TAGS: "TagA",
  CORRELATION_ID: "1b4e28ba-2fa1-4d2e-883f-0016d3cca427",
  REPLY_TO_CLIENT: "127.0.0.1@4242#1234567890",
  TTL: "3000",
};
const header = encodeSendHeaderV2({
  producerGroup: "bench_producer",
  topic: "BenchTopic",
  defaultTopic: "TBW102",
  defaultTopicQueueNums: 4,
  queueId: 1,
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_000,
  flag: 0,
  properties: encodeProperties(properties),
  reconsumeTimes: 0,
  unitMode: false,
  batch: false,
  brokerName: "broker-a",
});

for (
  const [name, serializeType] of [
    ["JSON", SerializeType.JSON],
    ["ROCKETMQ", SerializeType.ROCKETMQ],
  ] as const
) {
  const command = createRequest(310, header, { opaque: 42, body, serializeType });
  const frame = encodeCommand(command);
  Deno.bench({
    name: `frame encode, ${name} header, 1 KiB body (${frame.length} B)`,
    group: `frame ${name}`,
    baseline: true,
    fn() {
      encodeCommand(command);
    },
  });
  Deno.bench({
    name: `frame decode, ${name} header, 1 KiB body (${frame.length} B)`,
    group: `frame ${name}`,
    fn() {
      decodeCommand(frame);
    },
  });
}

const records = Array.from({ length: 32 }, (_, i) =>
  encodeStoredMessage({
    topic: "BenchTopic",
    queueId: 1,
    flag: 0,
    queueOffset: i,
    commitLogOffset: i * 1300,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { address: "127.0.0.1", port: 50000 },
    storeTimestamp: 1_700_000_000_001,
    storeHost: { address: "127.0.0.1", port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body,
    properties,
  }));
const pullBody = concat(records);

Deno.bench({
  name: `pull body decode, 32 x 1 KiB messages (${pullBody.length} B)`,
  group: "pull",
  fn() {
    decodeStoredMessages(pullBody);
  },
});
