// A requester facing a broker that, like RocketMQ, pushes replies to any
// connection announcing a client id: a reply to a request it never sent
// (another client shares its id), or naming another client, is dropped,
// counted and logged; its own reply is accepted once. The broker is a fake
// on the in-memory network, so it can misbehave as RocketMQ does.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bodyText, ClientIdConflictError, Producer } from "../../mod.ts";
import { encodeTopicRouteData } from "../../src/codec/bodies.ts";
import {
  encodeReplyMessageRequestHeader,
  encodeSendMessageResponseHeader,
} from "../../src/codec/ext_fields.ts";
import { decodeProperties, encodeProperties } from "../../src/codec/properties.ts";
import {
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../src/codec/remoting_command.ts";
import { decodeSendHeader } from "../../src/codec/message.ts";
import { RemotingConnection } from "../../src/remoting/connection.ts";
import { createMemoryNetwork } from "../../src/transport/memory.ts";
import type { LogFields, Logger } from "../../src/logger.ts";
import { until } from "../_wait.ts";

const ADDRESS = "127.0.0.1:9876";

class Errors implements Logger {
  readonly lines: { message: string; fields?: LogFields }[] = [];
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(message: string, fields?: LogFields): void {
    this.lines.push({ message, ...(fields ? { fields } : {}) });
  }
}

/** A name server + broker that answers routes, heartbeats and sends, and lets the test push. */
async function fakeBroker() {
  const net = createMemoryNetwork();
  const listener = await net.listen({ hostname: "127.0.0.1", port: 9876 });
  const requests: RemotingCommand[] = [];
  let client: RemotingConnection | undefined;
  const answer = (req: RemotingCommand): RemotingCommand | undefined => {
    switch (req.code) {
      case 105:
        return createResponse(req, 0, undefined, {
          body: encodeTopicRouteData({
            queueDatas: [{
              brokerName: "b",
              readQueueNums: 1,
              writeQueueNums: 1,
              perm: 6,
              topicSysFlag: 0,
            }],
            brokerDatas: [{
              cluster: "DefaultCluster",
              brokerName: "b",
              brokerAddrs: { "0": ADDRESS },
            }],
          }),
        });
      case 310:
        requests.push(req);
        return createResponse(
          req,
          0,
          encodeSendMessageResponseHeader({ msgId: "00".repeat(16), queueId: 0, queueOffset: 0 }),
        );
      default:
        return createResponse(req, 0);
    }
  };
  const serving = (async () => {
    for await (const t of listener) client = new RemotingConnection(t, { onRequest: answer });
  })();
  const push = (properties: Record<string, string>, body = "reply") =>
    client!.invoke(
      createRequest(
        326,
        encodeReplyMessageRequestHeader({
          producerGroup: "PG",
          topic: "DefaultCluster_REPLY_TOPIC",
          defaultTopic: "TBW102",
          defaultTopicQueueNums: 4,
          queueId: 0,
          sysFlag: 0,
          bornTimestamp: Date.now(),
          flag: 0,
          properties: encodeProperties({ MSG_TYPE: "reply", ...properties }),
          unitMode: false,
          bornHost: "127.0.0.1:1",
          storeHost: ADDRESS,
          storeTimestamp: Date.now(),
        }),
        { body: new TextEncoder().encode(body) },
      ),
      { timeout: 2000 },
    );
  return {
    connect: net.connect,
    requests,
    push,
    async close() {
      await client?.close();
      await listener.close();
      await serving;
    },
  };
}

describe("Producer and replies it did not ask for", () => {
  it("drops, counts and logs replies to requests it never sent; accepts its own once", async () => {
    const broker = await fakeBroker();
    const logger = new Errors();
    const producer = new Producer({ nameServer: ADDRESS, connect: broker.connect, logger });
    try {
      await producer.start();
      const pending = producer.request({ topic: "rpc", body: "q" }, { timeout: 5000 });
      await until(() => broker.requests.length === 1, "the request at the fake broker");
      const props = decodeProperties(
        decodeSendHeader(broker.requests[0]!.extFields, { v2: true }).properties!,
      );
      const mine = { CORRELATION_ID: props.CORRELATION_ID!, REPLY_TO_CLIENT: producer.clientId };
      // Another client's reply, pushed here because it shares our id.
      await broker.push(
        { CORRELATION_ID: "someone-elses", REPLY_TO_CLIENT: producer.clientId },
        "stolen",
      );
      // A reply naming another client with our correlation id.
      await broker.push({ ...mine, REPLY_TO_CLIENT: "10.9.9.9@other" }, "misdirected");
      assert.equal(producer.stats.foreignReplies, 2);
      assert.equal(logger.lines.length, 1, "logged once, not per reply");
      assert.match(logger.lines[0]!.message, /another client uses this client's id/);
      assert.equal(logger.lines[0]!.fields?.clientId, producer.clientId);
      // Our own reply, then the same again.
      await broker.push(mine, "answer");
      assert.equal(bodyText(await pending), "answer");
      await broker.push(mine, "again");
      // The same reply again is a duplicate (it had its reply), not a foreign one.
      assert.deepEqual(
        [
          producer.stats.replied,
          producer.stats.lateReplies,
          producer.stats.duplicateReplies,
          producer.stats.foreignReplies,
        ],
        [1, 0, 1, 2],
      );
    } finally {
      await producer.close();
      await broker.close();
    }
  });

  it("a second client of this process with the same instanceName fails start()", async () => {
    const a = new Producer({ nameServer: ADDRESS, instanceName: "twin", clientIP: "10.0.0.5" });
    const b = new Producer({ nameServer: ADDRESS, instanceName: "twin", clientIP: "10.0.0.5" });
    try {
      await a.start();
      const err = await b.start().catch((e) => e);
      assert.ok(err instanceof ClientIdConflictError, String(err));
      assert.equal(err.clientId, "10.0.0.5@twin");
      await a.close();
      await b.start(); // free again once the first one closed
    } finally {
      await a.close();
      await b.close();
    }
  });
});
