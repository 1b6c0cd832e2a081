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
import { parseBrokerArgs, securityOptions } from "../../src/broker/cli.ts";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { openFileStore } from "../../src/broker/store/file_store.ts";
import { Producer } from "../../src/client/producer.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
} from "./_helpers.ts";
import { until } from "../_wait.ts";

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
    await until(() => broker.stats.connections === 0, "the connection to close");
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
    await until(() => broker.stats.heldPulls === 1, "the pull to be held");
    await broker.close();
    assert.ok((await outcome) instanceof ConnectionError);
    await client.close();
  });

  it("validates its options", async () => {
    await assert.rejects(startBroker({ port: 70000 }), InvalidArgumentError);
    await assert.rejects(startBroker({ port: 0, flush: "never" as "sync" }), InvalidArgumentError);
    for (const option of [{ retentionBytes: 1 }, { retentionMs: 1 }, { keyIndexEntries: 1 }]) {
      await assert.rejects(startBroker({ port: 0, ...option }), /give dataDir too/);
    }
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
    await until(() => broker.stats.connections === 0, "the connection to close");
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
    const { broker } = newBroker();
    emptyTopic(broker, "E");
    const a = attach(broker), b = attach(broker);
    const pending = call(
      a,
      pullRequest({ group: "G", topic: "E", subscription: "*", suspendMillis: 60_000 }),
    );
    pending.catch(() => {});
    await until(() => broker.stats.requests === 1, "the pull to reach the broker");
    await a.close();
    const res = await call(b, createRequest(106));
    assert.equal(res.code, 0);
    await until(() => broker.stats.connections === 1, "the closed connection to leave");
    await b.close();
    await broker.close();
  });
});

describe("startBroker() with dataDir", () => {
  it("keeps the commit log within retentionBytes and the key index within keyIndexEntries", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "rmq-retention-"));
    const seen: Array<Record<string, unknown>> = [];
    const broker = await startBroker({
      port: 0,
      dataDir,
      retentionBytes: 20_000,
      retentionMs: 3_600_000,
      keyIndexEntries: 64,
      // The default store, with 4 KiB segments so that a few messages fill some.
      openStore: (dir, options) => {
        seen.push({ ...options });
        return openFileStore({ dataDir: dir, ...options, segmentSize: 4096 });
      },
    });
    const producer = new Producer({ nameServer: broker.address });
    try {
      await producer.start();
      for (let i = 0; i < 120; i++) {
        await producer.send({ topic: "Kept", body: "x".repeat(700), keys: `order-${i}` });
      }
      assert.equal(seen[0]?.["retentionBytes"], 20_000);
      assert.equal(seen[0]?.["keyIndexEntries"], 64);
      assert.equal(seen[0]?.["retentionMs"], 3_600_000);
      const store = broker.broker.store;
      await store.flush(); // retention runs after the sends are answered
      const files = await readdir(join(dataDir, "commitlog"));
      const bytes = (await Promise.all(files.map((f) => stat(join(dataDir, "commitlog", f)))))
        .reduce((n, s) => n + s.size, 0);
      assert.ok(bytes <= 20_000 + 4096, `${bytes} bytes in ${files.length} segments`);
      const queues = store.queues().filter((q) => q.topic === "Kept");
      assert.ok(queues.length > 0);
      for (const q of queues) assert.ok(store.minOffset("Kept", q.queueId) > 0, "oldest deleted");
      const find = async (key: string) =>
        (await store.queryMessage("Kept", key, 32, 0, Number.MAX_SAFE_INTEGER)).records.length;
      assert.equal(await find("order-119"), 1);
      assert.equal(await find("order-0"), 0);
    } finally {
      await producer.close();
      await broker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
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
    assert.deepEqual(
      parseBrokerArgs([
        "--data-dir",
        "/d",
        "--retention-bytes",
        "1000000",
        "--retention-hours=72",
        "--key-index-entries=1000",
      ]),
      { dataDir: "/d", retentionBytes: 1_000_000, retentionHours: 72, keyIndexEntries: 1000 },
    );
    assert.throws(() => parseBrokerArgs(["--retention-bytes", "1000"]), /needs --data-dir/);
    assert.throws(() => parseBrokerArgs(["--key-index-entries", "10"]), /needs --data-dir/);
    assert.throws(() => parseBrokerArgs(["--retention-hours", "1"]), /needs --data-dir/);
    assert.deepEqual(parseBrokerArgs(["--enable-property-filter=false"]), {
      enablePropertyFilter: false,
    });
    assert.throws(() => parseBrokerArgs(["--enable-property-filter", "no"]), /true or false/);
    assert.throws(
      () => parseBrokerArgs(["--data-dir", "/d", "--retention-bytes", "0"]),
      /--retention-bytes/,
    );
    assert.throws(() => parseBrokerArgs(["--bogus", "1"]), InvalidArgumentError);
    assert.throws(() => parseBrokerArgs(["--port", "99999"]), InvalidArgumentError);
    assert.throws(() => parseBrokerArgs(["--port"]), InvalidArgumentError);
    assert.throws(() => parseBrokerArgs(["stray"]), InvalidArgumentError);
  });

  it("parses the security flags and reads their files", async () => {
    const fixture = (name: string) =>
      fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));
    const dir = await mkdtemp(join(tmpdir(), "rmq-cli-"));
    const aclFile = join(dir, "plain_acl.yml");
    await writeFile(
      aclFile,
      "accounts:\n  - accessKey: ops\n    secretKey: ops-secret\n    admin: true\n",
    );
    try {
      const args = parseBrokerArgs([
        "--acl",
        aclFile,
        "--tls-cert",
        fixture("server.pem"),
        "--tls-key",
        fixture("server.key"),
        "--tls-mode=permissive",
      ]);
      assert.deepEqual(args, {
        aclFile,
        tlsCertFile: fixture("server.pem"),
        tlsKeyFile: fixture("server.key"),
        tlsMode: "permissive",
      });
      const options = await securityOptions(args);
      assert.deepEqual(options.acl, {
        accounts: [{ accessKey: "ops", secretKey: "ops-secret", admin: true }],
      });
      assert.equal(options.tls?.mode, "permissive");
      assert.match(options.tls?.cert ?? "", /BEGIN CERTIFICATE/);
      assert.throws(() => parseBrokerArgs(["--tls-cert", "x"]), /go together/);
      assert.throws(() => parseBrokerArgs(["--tls-mode", "permissive"]), /needs --tls-cert/);
      assert.throws(() => parseBrokerArgs(["--tls-mode", "disabled"]), InvalidArgumentError);
      await assert.rejects(
        securityOptions({ aclFile: join(dir, "missing.yml") }),
        (e) => e instanceof InvalidArgumentError && /no such file/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("startBroker() with TLS", () => {
  const read = (name: string) =>
    readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), "utf8");
  const cert = read("server.pem"), key = read("server.key"), ca = read("ca.pem");

  async function route(client: RemotingClient, address: string): Promise<number> {
    const res = await client.invoke(address, createRequest(105, { topic: "TBW102" }), {
      timeout: 3000,
    });
    return res.code;
  }

  it("permissive: TLS and plain clients on one port", async () => {
    await using broker = await startBroker({
      port: 0,
      logger: new RecordingLogger(),
      tls: { cert, key, mode: "permissive" },
    });
    const plain = new RemotingClient(), secure = new RemotingClient({ tls: { caCerts: [ca] } });
    try {
      assert.equal(await route(plain, broker.address), 0);
      assert.equal(await route(secure, broker.address), 0);
      assert.equal(broker.stats.connections, 2);
    } finally {
      await plain.close();
      await secure.close();
    }
  });

  it("enforcing (the default): plain clients are not served", async () => {
    await using broker = await startBroker({
      port: 0,
      logger: new RecordingLogger(),
      tls: { cert, key },
    });
    const plain = new RemotingClient(), secure = new RemotingClient({ tls: { caCerts: [ca] } });
    try {
      assert.equal(await route(secure, broker.address), 0);
      await assert.rejects(route(plain, broker.address));
      assert.equal(broker.stats.connectionsAccepted, 1, "the plain client never got in");
    } finally {
      await plain.close();
      await secure.close();
    }
  });
});
