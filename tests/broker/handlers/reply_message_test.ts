import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeReplyMessageRequestHeader } from "../../../src/codec/ext_fields.ts";
import { decodeProperties } from "../../../src/codec/properties.ts";
import { createResponse, type RemotingCommand } from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import {
  attach,
  call,
  flushMicrotasks,
  messagesOf,
  newBroker,
  producerHeartbeat,
  pull,
  send,
  text,
  until,
} from "../_helpers.ts";

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

describe("SEND_REPLY_MESSAGE (324/325) → PUSH_REPLY_MESSAGE_TO_CLIENT (326)", () => {
  it("pushes the reply to the requester's channel with Java's 326 header and answers 0", async () => {
    const { broker } = newBroker({ address: "10.0.0.1:9876" });
    const r = requester();
    const req = attach(broker, { onRequest: r.onRequest, ip: "10.0.0.7" });
    const replier = attach(broker, { ip: "10.0.0.8" });
    await call(req, producerHeartbeat("req@1"));
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
    const stored = messagesOf(
      await pull(replier, { group: "X", topic: REPLY_TOPIC, subscription: "*" }),
    )[0]!;
    assert.equal(stored.properties.CORRELATION_ID, "corr-1");
    assert.equal(stored.properties.PUSH_REPLY_TIME, undefined);
    assert.equal(broker.stats.repliesPushed, 1);
    await req.close();
    await replier.close();
    await broker.close();
  });

  it("also serves the V1 header (324) and does not store when told not to", async () => {
    const { broker } = newBroker({ storeReplyMessage: false });
    const r = requester();
    const req = attach(broker, { onRequest: r.onRequest });
    const replier = attach(broker);
    await call(req, producerHeartbeat("req@1"));
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

  it("fails with Java's remarks: no REPLY_TO_CLIENT, unknown client, requester refuses", async () => {
    const { broker } = newBroker({ replyWaitMillis: 0 });
    const r = requester((req) =>
      createResponse(req, 1, undefined, { remark: "process reply message fail" })
    );
    const req = attach(broker, { onRequest: r.onRequest });
    const replier = attach(broker);
    await call(req, producerHeartbeat("req@1"));
    const missing = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: { MSG_TYPE: "reply" },
    });
    assert.deepEqual([missing.code, missing.remark], [
      1,
      "reply message properties[REPLY_TO_CLIENT] is null",
    ]);
    const unknown = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("gone@2"),
    });
    assert.deepEqual([unknown.code, unknown.remark], [
      1,
      "push reply message fail, channel of <gone@2> not found.",
    ]);
    const refused = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.deepEqual([refused.code, refused.remark], [1, "push reply message to req@1fail."]);
    assert.equal(broker.stats.repliesFailed, 3);
    // Failed pushes are stored anyway (as in Java), and the response names them.
    assert.equal(broker.store.maxOffset(REPLY_TOPIC, 0), 3);
    assert.match(refused.extFields.msgId!, /^[0-9A-F]{32}$/);
    await req.close();
    await replier.close();
    await broker.close();
  });

  it("waits for a requester that registers late, within replyWaitMillis", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker } = newBroker({ timers, replyWaitMillis: 1000 });
    const r = requester();
    const req = attach(broker, { onRequest: r.onRequest });
    const replier = attach(broker);
    const pending = send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("late@1"),
    });
    await until(() => broker.stats.requests >= 1);
    await flushMicrotasks();
    timers.advance(500);
    await call(req, producerHeartbeat("late@1"));
    const res = await pending;
    assert.equal(res.code, 0, res.remark);
    assert.equal(r.pushes.length, 1);
    await req.close();
    await replier.close();
    await broker.close();
  });

  it("gives up waiting after replyWaitMillis, or the request's TTL when shorter", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker } = newBroker({ timers, replyWaitMillis: 1000 });
    const replier = attach(broker);
    const pending = send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("never@1", { TTL: "200" }),
    });
    await until(() => broker.stats.requests >= 1);
    await flushMicrotasks();
    timers.advance(199);
    await flushMicrotasks();
    assert.equal(broker.stats.repliesFailed, 0);
    timers.advance(1);
    const res = await pending;
    assert.deepEqual([res.code, res.remark], [
      1,
      "push reply message fail, channel of <never@1> not found.",
    ]);
    await replier.close();
    await broker.close();
  });

  it("fails the push when the requester's connection dies before answering", async () => {
    const { broker } = newBroker();
    let closeRequester: () => void = () => {};
    const r = requester(() => {
      closeRequester();
      return undefined;
    });
    const req = attach(broker, { onRequest: r.onRequest });
    closeRequester = () => void req.close();
    const replier = attach(broker);
    await call(req, producerHeartbeat("req@1"));
    const res = await send(replier, {
      topic: REPLY_TOPIC,
      code: 325,
      properties: replyProps("req@1"),
    });
    assert.deepEqual([res.code, res.remark], [1, "push reply message to req@1fail."]);
    await replier.close();
    await broker.close();
  });
});
