// Options a user gets right the first time: name server addresses checked at
// construction, unknown option names refused with the closest known one,
// problems in words, and a consumer that cannot reach any name server
// failing start() instead of starting silently.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Producer, type ProducerOptions, type RequestOptions } from "../../src/client/producer.ts";
import { PushConsumer, type PushConsumerOptions } from "../../src/client/push_consumer.ts";
import {
  closestName,
  parseConsumerOptions,
  parseProducerOptions,
  parseRequestOptions,
} from "../../src/client/options.ts";
import {
  ClientClosedError,
  ConnectionError,
  InvalidArgumentError,
  RemotingTimeoutError,
} from "../../src/errors.ts";
import { SerializeType } from "../../src/codec/codes.ts";
import { silentLogger } from "../../src/logger.ts";
import { jsonSerializer } from "../../src/client/message.ts";
import { systemTimers } from "../../src/remoting/timers.ts";
import { createMemoryNetwork } from "../../src/transport/memory.ts";

/** Asserts `fn` throws an InvalidArgumentError at `path` whose message matches `message`. */
function refused(fn: () => unknown, path: string, message: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof InvalidArgumentError, `not an InvalidArgumentError: ${e}`);
    assert.equal(e.path, path, e.message);
    assert.match(e.message, message);
    // Words, not schema text.
    assert.doesNotMatch(e.message, /Invalid (type|length|value|key)|Expected /);
    return true;
  });
}

describe("nameServer is checked at construction", () => {
  for (
    const [nameServer, message] of [
      ["localhost", /"localhost" has no port: expected host:port/],
      ["127.0.0.1:0", /port of "127\.0\.0\.1:0" must be 1 to 65535/],
      ["127.0.0.1:65536", /must be 1 to 65535/],
      ["127.0.0.1:98x6", /must be 1 to 65535/],
      [":9876", /is not host:port/],
      ["http://127.0.0.1:9876", /is not host:port/],
      ["a:9876;b", /"b" has no port/],
      ["", /at least one name server/],
      [" ; ", /at least one name server/],
      [[], /at least one name server/],
      [["a:1", "b:99999"], /"b:99999" must be 1 to 65535/],
      [9876, /must be host:port, several separated by ;, or an array/],
    ] as const
  ) {
    it(`refuses ${JSON.stringify(nameServer)}`, () => {
      const options = { nameServer } as unknown as ProducerOptions;
      refused(() => new Producer(options), "nameServer", message);
      refused(() => new PushConsumer({ ...options, group: "g" }), "nameServer", message);
    });
  }

  it("accepts host:port, IPv6, lists and arrays", () => {
    for (
      const nameServer of [
        "127.0.0.1:9876",
        "namesrv.example.com:9876",
        "[::1]:9876",
        "10.0.0.1:9876;10.0.0.2:9876",
        "10.0.0.1:9876; 10.0.0.2:9876;",
        ["10.0.0.1:9876", "10.0.0.2:9876"],
      ]
    ) {
      assert.doesNotThrow(() => new Producer({ nameServer }), JSON.stringify(nameServer));
    }
  });

  it("says the name server is required when it is missing", () => {
    refused(() => new Producer({} as ProducerOptions), "nameServer", /is required/);
  });
});

describe("unknown option names are refused with the closest known one", () => {
  it("nameserver → nameServer", () => {
    refused(
      () => new Producer({ nameserver: "127.0.0.1:9876" } as unknown as ProducerOptions),
      "nameserver",
      /invalid nameserver: unknown option \(did you mean nameServer\?\)/,
    );
  });

  it("a typo in a consumer option", () => {
    refused(
      () => parseConsumerOptions({ nameServer: "a:1", group: "g", concurency: 4 }),
      "concurency",
      /did you mean concurrency\?/,
    );
  });

  it("a typo in request options (which would otherwise fall back to the default timeout)", () => {
    refused(
      () => parseRequestOptions({ timout: 10_000 }, 3000),
      "timout",
      /did you mean timeout\?/,
    );
  });

  it("inside nested options, with the known names when none is close", () => {
    refused(
      () => parseProducerOptions({ nameServer: "a:1", tls: { ca: "PEM" } }),
      "tls.ca",
      /unknown option; known options: caCerts, serverName, insecure, cert, key/,
    );
    refused(
      () =>
        parseProducerOptions({ nameServer: "a:1", credentials: { accesKey: "a", secretKey: "b" } }),
      "credentials.accesKey",
      /did you mean accessKey\?/,
    );
  });

  it("nested option objects are checked; data such as a queue is not", () => {
    refused(
      () => parseRequestOptions({ failFast: { grop: "g" } }, 3000),
      "failFast.grop",
      /did you mean group\?/,
    );
    const queue = { topic: "T", brokerName: "broker-a", queueId: 1, label: "from elsewhere" };
    assert.equal(parseRequestOptions({ queue }, 3000).queue?.queueId, 1);
  });

  it("closestName() suggests by case and by small edits only", () => {
    const known = ["nameServer", "group", "rpcTimeout", "sendTimeout"];
    assert.equal(closestName("NAMESERVER", known), "nameServer");
    assert.equal(closestName("nameSever", known), "nameServer");
    assert.equal(closestName("gruop", known), "group");
    assert.equal(closestName("rpcTimeuot", known), "rpcTimeout");
    assert.equal(closestName("colour", known), undefined);
  });

  it("every documented option is known: a producer and a consumer with all of them set", () => {
    const network = createMemoryNetwork();
    const client = {
      nameServer: "127.0.0.1:9876",
      instanceName: "options-test",
      clientIP: "10.0.0.5",
      connect: network.connect,
      tls: { caCerts: ["PEM"], serverName: "broker", cert: "PEM", key: "PEM", insecure: false },
      addressMap: { "10.0.0.7:10911": "127.0.0.1:10911" },
      credentials: { accessKey: "ak", secretKey: "sk", securityToken: "t" },
      logger: silentLogger,
      timers: systemTimers,
      spanHooks: { startSpan: () => undefined },
      rpcTimeout: 3000,
      heartbeatInterval: 30_000,
      routeRefreshInterval: 30_000,
      serializeType: SerializeType.JSON,
    };
    // `Required<...>`: the type checker fails this file when an option is
    // added to the interface and not here, and the constructor fails it when
    // the option is missing from the schema.
    const producer: Required<ProducerOptions> = {
      ...client,
      group: "P",
      sendTimeout: 3000,
      retryTimes: 2,
      compressThreshold: 4096,
      compressType: "lz4",
      compressLevel: 5,
      maxBodySize: 1024,
      defaultTopicQueueNums: 4,
      requestTimeout: 3000,
      maxInFlightRequests: 100,
      propagateCancel: true,
      serializer: jsonSerializer,
    };
    assert.doesNotThrow(() => new Producer(producer));
    assert.doesNotThrow(() => new Producer({ ...producer, addressMap: (a: string) => a }));
    const consumer: Required<PushConsumerOptions> = {
      ...client,
      group: "C",
      consumeFrom: "timestamp",
      consumeTimestamp: 0,
      concurrency: 4,
      pullBatchSize: 32,
      pollTimeout: 15_000,
      maxCachedMessagesPerQueue: 1000,
      maxReconsumeTimes: 16,
      offsetPersistInterval: 5000,
      rebalanceInterval: 20_000,
      maxBodySize: 1024,
      skipExpiredRequests: true,
      replyTimeout: 3000,
      maxReplySize: 4 * 1024 * 1024,
      replyCompression: { type: "lz4", threshold: 1024, level: 3 },
      serializer: jsonSerializer,
      idempotency: { maxEntries: 100, maxBytes: 1024 },
      consumeTimeout: 60_000,
      drainTimeout: 1000,
      queueHandover: "lock",
      handoverTimeout: 5000,
      orderly: false,
      orderlyRetryDelay: 1000,
      messageModel: "BROADCASTING",
      offsetFile: "offsets.json", // only read or written once the consumer runs
    };
    assert.doesNotThrow(() => new PushConsumer(consumer));
    assert.doesNotThrow(() => new PushConsumer({ ...consumer, orderly: true }));
    assert.throws(
      () => {
        const { offsetFile: _file, ...clustering } = consumer;
        new PushConsumer({
          ...clustering,
          messageModel: "CLUSTERING",
          orderly: true,
          queueHandover: "none",
        });
      },
      /invalid queueHandover: orderly consumption holds queue locks/,
    );
    assert.throws(
      () => new PushConsumer({ ...consumer, orderlyRetryDelay: 30_001 }),
      /orderlyRetryDelay/,
    );
    assert.throws(
      () => new PushConsumer({ ...consumer, messageModel: "CLUSTERING" }),
      /offsetFile: only a messageModel "BROADCASTING" consumer/,
    );
    assert.throws(
      () => new PushConsumer({ ...consumer, messageModel: "BROADCAST" as never }),
      /messageModel/,
    );
    assert.doesNotThrow(() => new PushConsumer({ ...consumer, queueHandover: "none" }));
    assert.throws(
      () => new PushConsumer({ ...consumer, queueHandover: "locks" as never }),
      /queueHandover/,
    );
    assert.throws(() => new PushConsumer({ ...consumer, handoverTimeout: -1 }), /handoverTimeout/);
    assert.throws(
      () => new PushConsumer({ ...consumer, handoverTimeout: Number.NaN }),
      /handoverTimeout/,
    );
    assert.doesNotThrow(() => new PushConsumer({ ...consumer, idempotency: false }));
    assert.throws(
      () => new PushConsumer({ ...consumer, idempotency: { maxEntrys: 1 } as never }),
      /unknown option \(did you mean maxEntries\?\)/,
    );
    assert.throws(
      () => new PushConsumer({ ...consumer, serializer: { contentType: "x" } as never }),
      /invalid serializer: must be a serializer/,
    );
    const request: Required<RequestOptions> = {
      timeout: 1000,
      queue: { topic: "T", brokerName: "b", queueId: 0 },
      selector: (queues) => queues[0]!,
      arg: 1,
      signal: new AbortController().signal,
      failFast: true,
      parent: { deadline: Date.now() + 1000 },
      trace: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    };
    const { selector: _, ...withQueue } = request;
    assert.equal(parseRequestOptions(withQueue, 3000).timeout, 1000);
  });
});

describe("problems are said in words", () => {
  for (
    const [options, path, message] of [
      [{ group: "" }, "group", /^invalid group: must not be empty$/],
      [{ group: "a b" }, "group", /must contain only letters, digits and %\|_-/],
      [{ sendTimeout: -1 }, "sendTimeout", /^invalid sendTimeout: must be at least 1, got -1$/],
      [{ sendTimeout: "3000" }, "sendTimeout", /must be a number, got "3000"/],
      [{ retryTimes: 1.5 }, "retryTimes", /must be a whole number, got 1\.5/],
      [{ retryTimes: 17 }, "retryTimes", /must be at most 16, got 17/],
      [{ tls: "yes" }, "tls", /must be true, false or TLS settings/],
      [{ connect: "tcp" }, "connect", /must be a function/],
      [
        { logger: () => {} },
        "logger",
        /must be a Logger \(an object with debug, info, warn, error\)/,
      ],
      [{ addressMap: { "10.0.0.7": "x:1" } }, "addressMap", /"10\.0\.0\.7" has no port/],
      [
        { credentials: { accessKey: "", secretKey: "s" } },
        "credentials.accessKey",
        /must not be empty/,
      ],
    ] as const
  ) {
    it(`${path}: ${message.source}`, () => {
      refused(() => parseProducerOptions({ nameServer: "a:1", ...options }), path, message);
    });
  }

  it("picklists name their choices", () => {
    refused(
      () => parseConsumerOptions({ nameServer: "a:1", group: "g", consumeFrom: "lats" }),
      "consumeFrom",
      /must be one of "last", "first", "timestamp", got "lats"/,
    );
  });

  it("a missing group", () => {
    refused(
      () => parseConsumerOptions({ nameServer: "a:1" }),
      "group",
      /^invalid group: is required/,
    );
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("a consumer that cannot reach any name server fails start()", () => {
  it("rejects at once when every name server refuses the connection, and is closed", async () => {
    const a = await closedPort();
    const b = await closedPort();
    const consumer = new PushConsumer({
      nameServer: `127.0.0.1:${a};127.0.0.1:${b}`,
      group: "unreachable",
    });
    consumer.subscribe("T", "*", () => {});
    await assert.rejects(consumer.start(), (e) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.equal(e.address, `127.0.0.1:${a};127.0.0.1:${b}`);
      assert.match(e.message, /no name server answered, so the consumer did not start/);
      assert.ok(e.cause instanceof ConnectionError);
      return true;
    });
    await assert.rejects(consumer.start(), ClientClosedError);
  });

  it("rejects after rpcTimeout when the name server accepts but never answers", async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.resume(); // read and never answer
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const consumer = new PushConsumer({
        nameServer: `127.0.0.1:${port}`,
        group: "silent",
        rpcTimeout: 200,
      });
      consumer.subscribe("T", "*", () => {});
      await assert.rejects(consumer.start(), (e) => {
        assert.ok(e instanceof ConnectionError, String(e));
        assert.ok(e.cause instanceof RemotingTimeoutError, String(e.cause));
        return true;
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
