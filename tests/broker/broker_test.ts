import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeTopicRouteData } from "../../src/codec/bodies.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { ConnectionError, InvalidArgumentError } from "../../src/errors.ts";
import { RemotingClient } from "../../src/remoting/remoting_client.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";
import { defaultConnect } from "../../src/transport/default.ts";
import { memoryPair } from "../../src/transport/memory.ts";
import { Broker, startBroker } from "../../src/broker/mod.ts";
import { parseBrokerArgs } from "../../src/broker/cli.ts";
import {
  attach,
  call,
  consumerHeartbeat,
  emptyTopic,
  flushMicrotasks,
  messagesOf,
  newBroker,
  pullRequest,
  RecordingLogger,
  sendRequest,
  subscription,
  text,
  until,
} from "./_helpers.ts";

describe("startBroker()", () => {
  it("serves name server and broker requests on one TCP port and routes to itself", async () => {
    const logger = new RecordingLogger();
    const broker = await startBroker({ port: 0, logger });
    assert.equal(broker.address, `127.0.0.1:${broker.port}`);
    const client = new RemotingClient();
    const route = await client.invoke(broker.address, createRequest(105, { topic: "TBW102" }), {
      timeout: 3000,
    });
    assert.equal(decodeTopicRouteData(route.body).brokerDatas[0]!.brokerAddrs["0"], broker.address);
    const sent = await client.invoke(broker.address, sendRequest({ topic: "T", body: "tcp" }), {
      timeout: 3000,
    });
    assert.equal(sent.code, 0);
    await client.invoke(broker.address, consumerHeartbeat("c", "G", [subscription("T")]), {
      timeout: 3000,
    });
    const got = await client.invoke(broker.address, pullRequest({ group: "G", topic: "T" }), {
      timeout: 3000,
    });
    assert.deepEqual(messagesOf(got).map((m) => text(m.body)), ["tcp"]);
    assert.equal(messagesOf(got)[0]!.bornHost.address, "127.0.0.1");
    assert.equal(broker.stats.connections, 1);
    await client.close();
    await until(() => broker.stats.connections === 0);
    assert.deepEqual(logger.messages("info").filter((m) => m.startsWith("connection")), [
      "connection opened",
      "connection closed",
    ]);
    await broker.close();
    await assert.rejects(
      defaultConnect({ hostname: "127.0.0.1", port: broker.port }),
      ConnectionError,
    );
  });

  it("closes open connections and held pulls on close", async () => {
    const broker = await startBroker({ port: 0, logger: new RecordingLogger() });
    emptyTopic(broker.broker, "E");
    const client = new RemotingClient();
    const held = client.invoke(
      broker.address,
      pullRequest({ group: "G", topic: "E", subscription: "*", suspendMillis: 60_000 }),
      { timeout: 10_000 },
    );
    const outcome = held.then(() => undefined, (err: unknown) => err);
    await until(() => broker.stats.heldPulls === 1);
    await broker.close();
    assert.ok((await outcome) instanceof ConnectionError);
    await client.close();
  });

  it("validates its options", async () => {
    await assert.rejects(startBroker({ port: 70000 }), InvalidArgumentError);
    await assert.rejects(startBroker({ port: 0, flush: "never" as "sync" }), InvalidArgumentError);
    assert.throws(() => new Broker({ address: "nohost" }), InvalidArgumentError);
    assert.throws(() => new Broker({ replyPushTimeout: -1 }), InvalidArgumentError);
  });

  it("advertises 127.0.0.1 when listening on a wildcard address, or the advertised host", async () => {
    const a = await startBroker({ hostname: "0.0.0.0", port: 0, logger: new RecordingLogger() });
    assert.equal(a.address, `127.0.0.1:${a.port}`);
    await a.close();
    const b = await startBroker({
      port: 0,
      advertisedHost: "10.9.8.7",
      logger: new RecordingLogger(),
    });
    assert.equal(b.address, `10.9.8.7:${b.port}`);
    await b.close();
  });
});

describe("Broker", () => {
  it("closes connections idle for channelIdleTimeout", async () => {
    const timers = new ManualTimers(Date.now());
    const { broker, logger } = newBroker({ timers, channelIdleTimeout: 30_000 });
    const conn = attach(broker);
    await call(conn, createRequest(106));
    timers.advance(30_000);
    await flushMicrotasks();
    assert.equal(broker.stats.connections, 1);
    timers.advance(10_000);
    await conn.closed;
    await until(() => broker.stats.connections === 0);
    assert.ok(logger.messages("info").includes("closing an idle connection"));
    await broker.close();
  });

  it("drops the oldest messages beyond memoryLimitBytes; a consumer behind is moved forward", async () => {
    const { broker } = newBroker({ memoryLimitBytes: 4000 });
    const conn = attach(broker);
    for (let i = 0; i < 50; i++) {
      await call(conn, sendRequest({ topic: "T", body: new Uint8Array(200) }));
    }
    const min = broker.store.minOffset("T", 0);
    assert.ok(min > 0);
    const res = await call(conn, pullRequest({ group: "G", topic: "T", subscription: "*" }));
    assert.deepEqual([res.code, res.extFields.nextBeginOffset], [21, String(min)]);
    const next = await call(
      conn,
      pullRequest({ group: "G", topic: "T", subscription: "*", offset: min }),
    );
    assert.equal(next.code, 0);
    assert.equal(messagesOf(next)[0]!.queueOffset, min);
    await conn.close();
    await broker.close();
  });

  it("refuses transports handed to it after close", async () => {
    const { broker } = newBroker();
    await broker.close();
    const [a, b] = memoryPair();
    broker.handle(b);
    await a.closed;
    assert.equal(broker.stats.connections, 0);
  });

  it("keeps serving other connections while one is mid-request when it vanishes", async () => {
    const { broker } = newBroker({ replyWaitMillis: 500 });
    const a = attach(broker), b = attach(broker);
    const pending = call(
      a,
      sendRequest({
        topic: "DefaultCluster_REPLY_TOPIC",
        code: 325,
        properties: { REPLY_TO_CLIENT: "nobody@1", CORRELATION_ID: "c" },
      }),
    );
    pending.catch(() => {});
    await until(() => broker.stats.requests === 1);
    await a.close();
    const res = await call(b, createRequest(106));
    assert.equal(res.code, 0);
    await until(() => broker.stats.connections === 1);
    await b.close();
    await broker.close();
  });
});

describe("broker CLI arguments", () => {
  it("parses every flag and refuses unknown ones", () => {
    assert.deepEqual(
      parseBrokerArgs([
        "--port=9877",
        "--host",
        "0.0.0.0",
        "--advertised-host",
        "10.0.0.1",
        "--cluster",
        "C",
        "--broker-name",
        "b",
        "--flush",
        "sync",
        "--memory-limit",
        "1048576",
        "--log-level",
        "debug",
        "--max-connections",
        "500",
        "--frame-timeout=2000",
        "--idle-timeout",
        "60000",
        "--partial-frame-budget=1048576",
        "--help",
      ]),
      {
        port: 9877,
        hostname: "0.0.0.0",
        advertisedHost: "10.0.0.1",
        clusterName: "C",
        brokerName: "b",
        flush: "sync",
        memoryLimitBytes: 1048576,
        logLevel: "debug",
        maxConnections: 500,
        frameTimeout: 2000,
        channelIdleTimeout: 60000,
        partialFrameBudget: 1048576,
        help: true,
      },
    );
    assert.throws(() => parseBrokerArgs(["--bogus", "1"]), InvalidArgumentError);
    assert.throws(() => parseBrokerArgs(["--port", "99999"]), InvalidArgumentError);
    assert.throws(() => parseBrokerArgs(["--port"]), InvalidArgumentError);
    assert.throws(() => parseBrokerArgs(["stray"]), InvalidArgumentError);
  });
});
