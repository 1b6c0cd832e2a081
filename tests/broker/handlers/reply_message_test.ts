import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeReplyMessageRequestHeader } from "../../../src/codec/ext_fields.ts";
import { decodeProperties } from "../../../src/codec/properties.ts";
import { createResponse, type RemotingCommand } from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import type { Broker } from "../../../src/broker/broker.ts";
import type { RemotingConnection } from "../../../src/remoting/connection.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  messagesOf,
  newBroker,
  producerHeartbeat,
  pull,
  send,
  subscription,
  text,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";

const REPLY_TOPIC = "DefaultCluster_REPLY_TOPIC";

function replyProps(clientId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MSG_TYPE: "reply",
    CORRELATION_ID: "corr-1",
    REPLY_TO_CLIENT: clientId,
    TTL: "3000",
    ...extra,
  };
}

function requester(
  answer: (req: RemotingCommand) => RemotingCommand | undefined = (req) => createResponse(req, 0),
) {
  const pushes: RemotingCommand[] = [];
  return {
    pushes,
    onRequest: (req: RemotingCommand) => {
      if (req.code === 326) pushes.push(req);
      return answer(req);
    },
  };
}

/**
 * A requester (client id `req@1`, IP 10.0.0.7) that sent request `corr-1` to
 * topic `rpc`, and a responder (consumer group RG subscribed to `rpc`, IP
 * 10.0.0.8, client id `10.0.0.8@77#1`) that may answer it.
 */
async function rpcPair(
  broker: Broker,
  options: {
    answer?: (req: RemotingCommand) => RemotingCommand | undefined;
    ttl?: string;
    timers?: ManualTimers;
  } = {},
): Promise<{
  r: ReturnType<typeof requester>;
  req: RemotingConnection;
  replier: RemotingConnection;
}> {
  const r = requester(options.answer);
  const req = attach(broker, { onRequest: r.onRequest, ip: "10.0.0.7" });
  const replier = attach(broker, { ip: "10.0.0.8" });
  await call(req, producerHeartbeat("req@1"));
  await call(replier, consumerHeartbeat("10.0.0.8@77#1", "RG", [subscription("rpc")]));
  const sent = await send(req, {
    topic: "rpc",
    body: "question",
    properties: { CORRELATION_ID: "corr-1", REPLY_TO_CLIENT: "req@1", TTL: options.ttl ?? "3000" },
  });
  assert.equal(sent.code, 0, sent.remark);
  return { r, req, replier };
}

describe("SEND_REPLY_MESSAGE (324/325) → PUSH_REPLY_MESSAGE_TO_CLIENT (326)", () => {
  it("pushes the reply to the requester's channel with Java's 326 header and answers 0", async () => {
    const { broker } = newBroker({ address: "10.0.0.1:9876" });
    const { r, req, replier } = await rpcPair(broker);
    assert.equal(broker.stats.pendingRequests, 1);
    const res = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      body: "answer",
      properties: replyProps("req@1"),
      sysFlag: 0,
    });
    assert.equal(res.code, 0, res.remark);
    assert.equal(res.extFields.MSG_REGION, "DefaultRegion");
    assert.equal(r.pushes.length, 1);
    const push = r.pushes[0]!;
    assert.equal(text(push.body), "answer");
    const h = decodeReplyMessageRequestHeader(push.extFields);
    assert.equal(h.topic, REPLY_TOPIC);
    assert.equal(h.producerGroup, "PG");
    assert.equal(broker.stats.pendingRequests, 0, "answered: nothing waits any more");
    assert.equal(h.storeHost, "10.0.0.1:9876");
    assert.match(h.bornHost, /^10\.0\.0\.8:\d+$/);
    assert.ok(h.storeTimestamp > 0);
    assert.equal(h.unitMode, false);
    const props = decodeProperties(h.properties!);
    assert.equal(props.CORRELATION_ID, "corr-1");
    assert.equal(props.REPLY_TO_CLIENT, "req@1");
    assert.match(props.PUSH_REPLY_TIME!, /^\d+$/);
    // Stored as well (storeReplyMessage defaults to true), without PUSH_REPLY_TIME.
    assert.equal(broker.store.maxOffset(REPLY_TOPIC, 0), 1);
    assert.notEqual(res.extFields.msgId, "0");
    // Stored replies are for administrators only: no client can pull them.
    const read = await pull(replier, { group: "RG", topic: REPLY_TOPIC, subscription: "*" });
    assert.deepEqual([read.code, messagesOf(read).length], [16, 0]);
    assert.match(read.remark!, /system topic: only administrators may read it/);
    assert.equal(broker.stats.repliesPushed, 1);
    await req.close();
    await replier.close();
    await broker.close();
  });

  it("also serves the V1 header (324) and does not store when told not to", async () => {
    const { broker } = newBroker({ storeReplyMessage: false });
    const { r, req, replier } = await rpcPair(broker);
    const res = await send(replier, {
      topic: REPLY_TOPIC,
      code: 324,
      properties: replyProps("req@1"),
    });
    assert.equal(res.code, 0, res.remark);
    assert.deepEqual([res.extFields.msgId, res.extFields.queueOffset], ["0", "0"]);
    assert.equal(broker.store.maxOffset(REPLY_TOPIC, 0), 0);
    assert.equal(r.pushes.length, 1);
    await req.close();
    await replier.close();
    await broker.close();
  });

  it("fails with Java's remarks: no REPLY_TO_CLIENT, requester refuses; a retry may go through", async () => {
    let refuse = true;
    const { broker } = newBroker();
    const { r, req, replier } = await rpcPair(broker, {
      answer: (push) =>
        refuse
          ? createResponse(push, 1, undefined, { remark: "process reply message fail" })
          : createResponse(push, 0),
    });
    const missing = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: { MSG_TYPE: "reply", CORRELATION_ID: "corr-1" },
    });
    assert.deepEqual([missing.code, missing.remark], [
      1,
      "reply message properties[REPLY_TO_CLIENT] is null",
    ]);
    const refused = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.deepEqual([refused.code, refused.remark], [1, "push reply message to req@1fail."]);
    assert.equal(broker.stats.repliesFailed, 1);
    // A failed push is stored anyway (as in Java), and the request still waits.
    assert.equal(broker.store.maxOffset(REPLY_TOPIC, 0), 1);
    assert.match(refused.extFields.msgId!, /^[0-9A-F]{32}$/);
    refuse = false;
    const retried = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.equal(retried.code, 0, retried.remark);
    assert.equal(r.pushes.length, 2);
    await req.close();
    await replier.close();
    await broker.close();
  });

  it("fails the push when the requester's connection dies before answering", async () => {
    const { broker } = newBroker();
    let closeRequester: () => void = () => {};
    const { req, replier } = await rpcPair(broker, {
      answer: () => {
        closeRequester();
        return undefined;
      },
    });
    closeRequester = () => void req.close();
    const res = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.deepEqual([res.code, res.remark], [1, "push reply message to req@1fail."]);
    await replier.close();
    await broker.close();
  });

  it("refuses a reply nobody waits for: unknown, answered, expired, or whose requester left", async () => {
    const timers = new ManualTimers(1_700_000_000_000);
    const { broker } = newBroker({ timers });
    const { r, req, replier } = await rpcPair(broker, { ttl: "1000" });
    const unknown = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1", { CORRELATION_ID: "never-sent" }),
    });
    assert.equal(unknown.code, 1);
    assert.match(unknown.remark!, /^no request waits for a reply with CORRELATION_ID never-sent/);
    const first = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.equal(first.code, 0, first.remark);
    const again = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.equal(again.code, 1, "a second reply to one request is refused");
    assert.equal(r.pushes.length, 1);
    // A request whose TTL passed takes no reply.
    const late = await send(req, {
      topic: "rpc",
      properties: { CORRELATION_ID: "corr-2", REPLY_TO_CLIENT: "req@1", TTL: "1000" },
    });
    assert.equal(late.code, 0);
    timers.advance(1000);
    const expired = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1", { CORRELATION_ID: "corr-2" }),
    });
    assert.equal(expired.code, 1);
    // Nor does one whose requester's connection closed.
    await send(req, {
      topic: "rpc",
      properties: { CORRELATION_ID: "corr-3", REPLY_TO_CLIENT: "req@1", TTL: "1000" },
    });
    await req.close();
    await until(() => broker.stats.connections === 1, "the requester's connection to close");
    assert.equal(broker.stats.pendingRequests, 0);
    const gone = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1", { CORRELATION_ID: "corr-3" }),
    });
    assert.equal(gone.code, 1);
    assert.equal(broker.stats.repliesRefused, 4);
    assert.equal(r.pushes.length, 1);
    assert.equal(broker.store.maxOffset(REPLY_TOPIC, 0), 1, "refused replies are not stored");
    await replier.close();
    await broker.close();
  });

  it("accepts a reply only from the responder's process, naming the request's requester", async () => {
    const { broker } = newBroker();
    const { r, req, replier } = await rpcPair(broker);
    // Another host, not in any group subscribed to rpc (it knows the correlation id).
    const stranger = attach(broker, { ip: "10.0.0.9" });
    const spoof = await send(stranger, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.equal(spoof.code, 16);
    assert.match(spoof.remark!, /is not in a consumer group subscribed to topic rpc/);
    // A consumer of another topic, on the responder's host but another process.
    const neighbour = attach(broker, { ip: "10.0.0.8" });
    await call(neighbour, consumerHeartbeat("10.0.0.8@99#5", "OG", [subscription("other")]));
    const fromNeighbour = await send(neighbour, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.equal(fromNeighbour.code, 16);
    // The right replier naming another requester.
    const wrongTarget = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("someone@2"),
    });
    assert.deepEqual([wrongTarget.code, wrongTarget.remark], [
      16,
      "the request corr-1 was sent by req@1, not someone@2",
    ]);
    // A reply to another topic than the reply topic.
    const elsewhere = await send(replier, {
      topic: "rpc",
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.equal(elsewhere.code, 16);
    assert.equal(r.pushes.length, 0);
    // The responder's separate reply producer (Java's pattern): same host and
    // process (ip@pid prefix), or no heartbeat yet.
    const replyProducer = attach(broker, { ip: "10.0.0.8" });
    await call(replyProducer, producerHeartbeat("10.0.0.8@77#2", "RG-reply"));
    const ok = await send(replyProducer, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.equal(ok.code, 0, ok.remark);
    await send(req, {
      topic: "rpc",
      properties: { CORRELATION_ID: "corr-2", REPLY_TO_CLIENT: "req@1", TTL: "3000" },
    });
    const fresh = attach(broker, { ip: "10.0.0.8" });
    const ok2 = await send(fresh, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1", { CORRELATION_ID: "corr-2" }),
    });
    assert.equal(ok2.code, 0, ok2.remark);
    assert.equal(r.pushes.length, 2);
    for (const c of [req, replier, stranger, neighbour, replyProducer, fresh]) await c.close();
    await broker.close();
  });

  it("refuses a request whose REPLY_TO_CLIENT or CORRELATION_ID belongs to another connection", async () => {
    const { broker } = newBroker();
    const { req, replier } = await rpcPair(broker);
    const thief = attach(broker, { ip: "10.0.0.9" });
    const stolenId = await send(thief, {
      topic: "rpc",
      properties: { CORRELATION_ID: "corr-9", REPLY_TO_CLIENT: "req@1", TTL: "3000" },
    });
    assert.equal(stolenId.code, 16);
    assert.match(stolenId.remark!, /^REPLY_TO_CLIENT req@1 is in use by connection 10\.0\.0\.7:/);
    await call(thief, producerHeartbeat("thief@1"));
    const stolenCorrelation = await send(thief, {
      topic: "rpc",
      properties: { CORRELATION_ID: "corr-1", REPLY_TO_CLIENT: "thief@1", TTL: "3000" },
    });
    assert.deepEqual([stolenCorrelation.code, stolenCorrelation.remark], [
      16,
      "CORRELATION_ID corr-1 belongs to a request of another connection",
    ]);
    assert.equal(broker.stats.clientIdRefused, 1);
    for (const c of [req, replier, thief]) await c.close();
    await broker.close();
  });

  it("refuses requests beyond maxPendingRequests as busy", async () => {
    const { broker } = newBroker({ maxPendingRequests: 1 });
    const { req, replier } = await rpcPair(broker);
    const busy = await send(req, {
      topic: "rpc",
      properties: { CORRELATION_ID: "corr-2", REPLY_TO_CLIENT: "req@1", TTL: "3000" },
    });
    assert.equal(busy.code, 2);
    await req.close();
    await replier.close();
    await broker.close();
  });
});
