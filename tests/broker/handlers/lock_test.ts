import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeLockBatchResponseBody,
  encodeLockBatchRequestBody,
  type MessageQueue,
} from "../../../src/codec/bodies.ts";
import { createOneway, createRequest } from "../../../src/codec/remoting_command.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import type { RemotingConnection } from "../../../src/remoting/connection.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  flushMicrotasks,
  newBroker,
  send,
  subscription,
} from "../_helpers.ts";
import { until } from "../../_wait.ts";

const mqs: MessageQueue[] = [0, 1].map((queueId) => ({
  topic: "T",
  brokerName: "broker-a",
  queueId,
}));

async function lock(conn: RemotingConnection, clientId: string, set = mqs): Promise<number[]> {
  const res = await call(
    conn,
    createRequest(41, {}, {
      body: encodeLockBatchRequestBody({ consumerGroup: "G", clientId, mqSet: set }),
    }),
  );
  assert.equal(res.code, 0);
  return decodeLockBatchResponseBody(res.body).lockOKMQSet.map((mq) => mq.queueId).sort();
}

describe("LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42)", () => {
  it("locks queues for one client at a time; renewals keep them; unlock frees them", async () => {
    const timers = new ManualTimers(1_000_000);
    const { broker } = newBroker({ timers });
    const a = attach(broker), b = attach(broker);
    assert.deepEqual(await lock(a, "ca"), [0, 1]);
    assert.deepEqual(await lock(b, "cb"), []);
    timers.advance(50_000);
    assert.deepEqual(await lock(a, "ca"), [0, 1], "renewed");
    timers.advance(50_000);
    assert.deepEqual(await lock(b, "cb"), [], "still within 60 s of the renewal");
    await a.invokeOneway(createOneway(42, {}, {
      body: encodeLockBatchRequestBody({ consumerGroup: "G", clientId: "ca", mqSet: [mqs[0]!] }),
    }));
    await until(() => broker.stats.queueLocks === 1, "the oneway unlock of one queue");
    assert.deepEqual(await lock(b, "cb"), [0]);
    timers.advance(60_001);
    assert.deepEqual(await lock(b, "cb"), [0, 1], "a's lock expired");
    await a.close();
    await b.close();
    await broker.close();
  });

  it("ends the locks of a client at once when its last connection closes", async () => {
    const timers = new ManualTimers(1_000_000);
    const { broker } = newBroker({ timers });
    const a = attach(broker), b = attach(broker);
    await call(a, consumerHeartbeat("ca", "G", [subscription("T")]));
    await call(b, consumerHeartbeat("cb", "G", [subscription("T")]));
    assert.deepEqual(await lock(a, "ca"), [0, 1]);
    assert.deepEqual(await lock(b, "cb"), []);
    await a.close();
    await until(() => broker.stats.connections === 1, "a's connection to close");
    await flushMicrotasks();
    assert.deepEqual(await lock(b, "cb"), [0, 1], "no wait for the 60 s expiry");
    await b.close();
    await broker.close();
  });

  it("ends a client's locks in a group it unregisters from", async () => {
    const timers = new ManualTimers(1_000_000);
    const { broker } = newBroker({ timers });
    const a = attach(broker), b = attach(broker);
    await call(a, consumerHeartbeat("ca", "G", [subscription("T")]));
    await call(b, consumerHeartbeat("cb", "G", [subscription("T")]));
    assert.deepEqual(await lock(a, "ca"), [0, 1]);
    await call(a, createRequest(35, { clientID: "ca", consumerGroup: "G" }));
    assert.deepEqual(await lock(b, "cb"), [0, 1]);
    await a.close();
    await b.close();
    await broker.close();
  });

  it("sends %RETRY% messages of a group holding locks straight to the DLQ (orderly groups)", async () => {
    const { broker } = newBroker();
    const a = attach(broker);
    await lock(a, "ca");
    const res = await send(a, { topic: "%RETRY%G", reconsumeTimes: 1 });
    assert.equal(res.code, 0);
    assert.equal(broker.store.maxOffset("%DLQ%G", 0), 1);
    await a.close();
    await broker.close();
  });

  it("refuses a malformed body", async () => {
    const { broker } = newBroker();
    const a = attach(broker);
    const res = await call(
      a,
      createRequest(41, {}, { body: new TextEncoder().encode('{"mqSet":7}') }),
    );
    assert.equal(res.code, 29);
    await a.close();
    await broker.close();
  });
});
