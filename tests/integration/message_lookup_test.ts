// Message lookup over loopback TCP on our broker with a data directory: our
// producer sends messages with keys; QUERY_MESSAGE (by key and by unique key)
// and VIEW_MESSAGE_BY_ID (by the offset message id the send returned) find
// them, and still do after a broker restart (the file store rebuilds its key
// index from the log).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Producer, type SendResult } from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { RequestCode } from "../../src/codec/codes.ts";
import {
  encodeQueryMessageRequestHeader,
  encodeViewMessageRequestHeader,
  UNIQUE_KEY_QUERY_FIELD,
} from "../../src/codec/admin_headers.ts";
import { decodeStoredMessages } from "../../src/codec/message_ext.ts";
import { parseOffsetMessageId } from "../../src/codec/message_id.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { RemotingConnection } from "../../src/remoting/connection.ts";
import { defaultConnect } from "../../src/transport/default.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function lookups(broker: BrokerHandle, sent: SendResult[], topic: string) {
  const conn = new RemotingConnection(
    await defaultConnect({ hostname: "127.0.0.1", port: broker.port }),
  );
  try {
    const query = async (key: string, unique = false) => {
      const header = encodeQueryMessageRequestHeader({
        topic,
        key,
        maxNum: 32,
        beginTimestamp: 0,
        endTimestamp: Number.MAX_SAFE_INTEGER,
      });
      if (unique) header[UNIQUE_KEY_QUERY_FIELD] = "true";
      const res = await conn.invoke(createRequest(RequestCode.QUERY_MESSAGE, header), {
        timeout: 10_000,
      });
      return res.code === 0 ? decodeStoredMessages(res.body).map((m) => text(m.body)) : res.code;
    };
    const view = async (result: SendResult) => {
      const { commitLogOffset } = parseOffsetMessageId(result.offsetMsgId);
      const res = await conn.invoke(
        createRequest(
          RequestCode.VIEW_MESSAGE_BY_ID,
          encodeViewMessageRequestHeader({ topic, offset: commitLogOffset }),
        ),
        { timeout: 10_000 },
      );
      return res.code === 0 ? text(decodeStoredMessages(res.body)[0]!.body) : res.code;
    };
    return {
      byKey: await query("acct-0"),
      byOtherKey: await query("order-1"),
      byUnique: await query(sent[1]!.msgId, true),
      missing: await query("nobody"),
      viewed: await Promise.all(sent.map(view)),
    };
  } finally {
    await conn.close();
  }
}

test("QUERY_MESSAGE and VIEW_MESSAGE_BY_ID over TCP, before and after a restart of a broker with a data directory", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "rmq-lookup-"));
  let broker = await startBroker({ port: 0, dataDir });
  try {
    const topic = `lookup_${Date.now().toString(36)}`;
    const producer = new Producer({ nameServer: broker.address });
    const sent: SendResult[] = [];
    try {
      await producer.start();
      for (let i = 0; i < 3; i++) {
        sent.push(await producer.send({ topic, body: `m${i}`, keys: `order-${i} acct-${i % 2}` }));
      }
    } finally {
      await producer.close();
    }
    const expected = {
      byKey: ["m0", "m2"],
      byOtherKey: ["m1"],
      byUnique: ["m1"],
      missing: 22, // QUERY_NOT_FOUND
      viewed: ["m0", "m1", "m2"],
    };
    assert.deepEqual(await lookups(broker, sent, topic), expected);
    await broker.close();
    broker = await startBroker({ port: 0, dataDir });
    assert.deepEqual(await lookups(broker, sent, topic), expected);
  } finally {
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
