// Golden vectors of JSON bodies written by RocketMQ's RemotingSerializable: 5.5.0
// (fastjson2) and 5.3.3 (fastjson 1.2.83, as all 4.x-5.3.x), including fastjson's
// non-standard unquoted numeric keys and object keys. Regenerate with
// tests/fixtures/java/generate.sh.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
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
} from "../../src/codec/bodies.ts";
import { parseFastJson } from "../../src/codec/fastjson.ts";
import { JAVA_VERSIONS, loadVector, vectorNames } from "./_golden.ts";

const decoder = new TextDecoder();

interface BodyDescription {
  text: string;
  expected: Record<string, unknown>;
}

/** Java's map keys of a MessageQueue-keyed table, as the generator wrote them. */
interface MessageQueueKey {
  brokerName: string;
  queueId: number;
  topic: string;
}

/** Our decoder and encoder of each body, and how its decoded value compares to Java's. */
const CODECS: Record<
  string,
  {
    decode: (b: Uint8Array) => unknown;
    encode?: (value: never) => Uint8Array;
    project?: (decoded: never) => unknown;
  }
> = {
  heartbeat_data: { decode: decodeHeartbeatData, encode: encodeHeartbeatData },
  topic_route_standard: {
    decode: decodeTopicRouteData,
    encode: encodeTopicRouteData,
    project: (r: { queueDatas: unknown; brokerDatas: unknown }) => ({
      queueDatas: r.queueDatas,
      brokerDatas: r.brokerDatas,
    }),
  },
  topic_route_default: {
    decode: decodeTopicRouteData,
    encode: encodeTopicRouteData,
    project: (r: { queueDatas: unknown; brokerDatas: unknown }) => ({
      queueDatas: r.queueDatas,
      brokerDatas: r.brokerDatas,
    }),
  },
  cluster_info: { decode: decodeClusterInfo, encode: encodeClusterInfo },
  consumer_list: { decode: decodeConsumerListBody, encode: encodeConsumerListBody },
  lock_batch_request: { decode: decodeLockBatchRequestBody, encode: encodeLockBatchRequestBody },
  lock_batch_response: { decode: decodeLockBatchResponseBody, encode: encodeLockBatchResponseBody },
  reset_offset: {
    decode: decodeResetOffsetBody,
    // Java's table is a map keyed by MessageQueue; ours a list of {messageQueue, offset}.
    project: (r: { offsetTable: { messageQueue: MessageQueueKey; offset: number }[] }) => ({
      offsetTable: Object.fromEntries(
        r.offsetTable.map((e) => [
          JSON.stringify({
            brokerName: e.messageQueue.brokerName,
            queueId: e.messageQueue.queueId,
            topic: e.messageQueue.topic,
          }),
          e.offset,
        ]),
      ),
    }),
  },
};

for (const version of JAVA_VERSIONS) {
  describe(`golden bodies from ${version}`, () => {
    const names = vectorNames(version, "bodies");

    it("has the vectors", () => {
      for (const name of ["heartbeat_data", "topic_route_standard", "topic_route_default"]) {
        assert.ok(names.includes(name), name);
      }
      for (const name of names) assert.ok(name in CODECS, `no codec for ${name}`);
    });

    for (const name of names) {
      const v = loadVector<BodyDescription>(version, "bodies", name);
      const codec = CODECS[name]!;

      it(`${name}: decoded as Java's object`, () => {
        assert.equal(decoder.decode(v.bytes), v.description.text);
        const decoded = codec.decode(v.bytes);
        const projected = codec.project ? codec.project(decoded as never) : decoded;
        assert.deepEqual(projected, v.description.expected);
      });

      it(`${name}: parseFastJson reads the text`, () => {
        const parsed = parseFastJson(v.description.text);
        let standard: unknown;
        try {
          standard = JSON.parse(v.description.text);
        } catch {
          standard = undefined; // fastjson's unquoted numeric or object keys
        }
        if (standard !== undefined) assert.deepEqual(parsed, standard);
        else assert.ok(/[{,](\d+|\{[^}]*\}):/.test(v.description.text));
      });

      if (codec.encode) {
        it(`${name}: our standard JSON decodes back to the same value`, () => {
          const decoded = codec.decode(v.bytes);
          const ours = codec.encode!(decoded as never);
          const text = decoder.decode(ours);
          JSON.parse(text); // standard JSON, always
          assert.deepEqual(codec.decode(ours), decoded);
        });
      }
    }
  });
}

describe("golden bodies: byte-identical standard JSON", () => {
  // Java's standard route JSON (BrowserCompatible + MapSortField) and its bodies without
  // non-string map keys are plain JSON with alphabetical keys, which our encoders write too.
  const cases: [typeof JAVA_VERSIONS[number], string][] = [
    ["rocketmq-5.3.3", "topic_route_standard"],
    ["rocketmq-5.5.0", "topic_route_standard"],
    ["rocketmq-5.3.3", "heartbeat_data"],
    ["rocketmq-5.5.0", "heartbeat_data"],
    ["rocketmq-5.5.0", "consumer_list"],
    ["rocketmq-5.5.0", "lock_batch_request"],
    ["rocketmq-5.5.0", "lock_batch_response"],
  ];
  for (const [version, name] of cases) {
    it(`${version}/${name}`, () => {
      const v = loadVector<BodyDescription>(version, "bodies", name);
      const codec = CODECS[name]!;
      const ours = codec.encode!(codec.decode(v.bytes) as never);
      assert.equal(decoder.decode(ours), v.description.text);
    });
  }
});
