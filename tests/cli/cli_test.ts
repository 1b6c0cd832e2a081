// The rocketmq-rpc command line, in-process against the embedded broker over
// loopback: request / reply / bench, their help, exit codes and messages.
// tests/cli/bin_test.ts runs the executable itself.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { main } from "../../src/cli/main.ts";
import { fakeIO } from "./_fake_io.ts";
import { startBroker } from "../../src/broker/mod.ts";
import type { BrokerHandle } from "../../src/broker/mod.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push_consumer.ts";
import { javaStringHashCode } from "../../src/codec/bodies.ts";

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

describe("rocketmq-rpc", () => {
  let broker: BrokerHandle;
  let namesrv: string;

  before(async () => {
    broker = await startBroker({ port: 0 });
    namesrv = broker.address;
  });
  after(async () => {
    await broker?.close();
  });

  /** Creates `topic` (4 queues) so responders own its queues at start. */
  async function createTopic(topic: string): Promise<void> {
    const producer = new Producer({ nameServer: namesrv });
    await producer.start();
    await producer.send({ topic, body: "create the topic" });
    await producer.close();
  }

  /** Runs `rocketmq-rpc reply ...` until the returned stop() is called. */
  async function replying(args: string[]) {
    const p = fakeIO({ NAMESRV_ADDR: namesrv });
    const exit = main(["reply", ...args], p.io);
    await Promise.race([
      p.waitForErr(/^ready: /m),
      exit.then((code) => {
        throw new Error(`reply exited with ${code}: ${p.err}`);
      }),
    ]);
    return {
      io: p,
      async stop(): Promise<number> {
        p.interrupt();
        return await exit;
      },
    };
  }

  describe("--help", () => {
    for (const command of ["request", "reply", "bench"]) {
      it(`${command} --help prints its usage and exits 0`, async () => {
        const p = fakeIO();
        assert.equal(await main([command, "--help"], p.io), 0);
        assert.match(p.out, new RegExp(`^Usage: rocketmq-rpc ${command}`));
        assert.match(p.out, /--namesrv <addrs>/);
        assert.match(p.out, /Exit codes: 0 ok, 1 a request failed, 2 bad usage, 3 /);
      });
    }

    it("without a command: the usage, exit 2", async () => {
      const p = fakeIO();
      assert.equal(await main([], p.io), 2);
      assert.match(p.out, /Commands:\n {2}request <topic> <body>/);
    });
  });

  describe("request and reply", () => {
    it("reply --echo answers; request prints the body on stdout and the timing on stderr", async () => {
      const topic = unique("echo");
      await createTopic(topic);
      const responder = await replying([topic, "--echo"]);
      try {
        const p = fakeIO({ NAMESRV_ADDR: namesrv });
        assert.equal(await main(["request", topic, "hello"], p.io), 0, p.err);
        assert.equal(p.out, "hello\n");
        assert.match(p.err, /^reply 1 in [\d.]+ ms \(stored \+[\d.]+, consumed \+[\d.]+, replied/);
      } finally {
        assert.equal(await responder.stop(), 0);
      }
      assert.match(responder.io.err, /5 bytes in, 5 bytes out/);
    });

    it("reply --exec answers from a shell command's stdout, with the request on stdin", async () => {
      const topic = unique("exec");
      await createTopic(topic);
      const responder = await replying([
        topic,
        "--namesrv",
        namesrv,
        "--exec",
        `tr a-z A-Z; printf ' %s' "$RMQ_TOPIC"`,
      ]);
      try {
        const p = fakeIO();
        assert.equal(await main(["request", topic, "abc", "--namesrv", namesrv], p.io), 0, p.err);
        assert.equal(p.out, `ABC ${topic}\n`);
        // The body from stdin.
        const q = fakeIO({ NAMESRV_ADDR: namesrv }, "from stdin");
        assert.equal(await main(["request", topic, "-", "--quiet"], q.io), 0, q.err);
        assert.equal(q.out, `FROM STDIN ${topic}\n`);
        assert.equal(q.err, "");
      } finally {
        await responder.stop();
      }
    });

    it("a failing command fails the request: exit 1 and the command's stderr", async () => {
      const topic = unique("fail");
      await createTopic(topic);
      const responder = await replying([topic, "--exec", "echo 'no such symbol' >&2; exit 3"]);
      try {
        const p = fakeIO({ NAMESRV_ADDR: namesrv });
        assert.equal(await main(["request", topic, "x"], p.io), 1);
        assert.match(p.err, /command exited with 3: no such symbol \[ERR_REMOTE\]/);
        assert.match(p.err, /hint: the responder's handler failed/);
        assert.equal(p.out, "");
      } finally {
        await responder.stop();
      }
    });

    it("--count with --parallel: every reply, then percentiles", async () => {
      const topic = unique("parallel");
      await createTopic(topic);
      const responder = await replying([topic, "--echo", "--quiet"]);
      try {
        const p = fakeIO({ NAMESRV_ADDR: namesrv });
        assert.equal(
          await main(["request", topic, "x", "--count", "20", "--parallel"], p.io),
          0,
          p.err,
        );
        assert.equal(p.out, "x\n".repeat(20));
        assert.match(
          p.err,
          /20 requests in flight together: 20 ok, 0 failed; round trip p50 [\d.]+ ms, p90 [\d.]+, p99 [\d.]+, max [\d.]+; \d+ req\/s/,
        );
      } finally {
        await responder.stop();
      }
    });

    it("--many: every reply to one request, from every responder group (requestMany)", async () => {
      const topic = unique("many");
      await createTopic(topic);
      const a = await replying([topic, "--echo", "--quiet", "--group", `${topic}_a`]);
      const b = await replying([topic, "--exec", "tr a-z A-Z", "--quiet", "--group", `${topic}_b`]);
      try {
        const p = fakeIO({ NAMESRV_ADDR: namesrv });
        assert.equal(
          await main(
            ["request", topic, "x", "--many", "--responders", "2", "--timeout", "10000"],
            p.io,
          ),
          0,
          p.err,
        );
        assert.deepEqual(p.out.split("\n").filter(Boolean).sort(), ["X", "x"]);
        assert.match(p.err, new RegExp(`reply \\d in [\\d.]+ ms.* from ${topic}_a\n`));
        assert.match(p.err, new RegExp(`reply \\d in [\\d.]+ ms.* from ${topic}_b\n`));
        assert.match(p.err, /^2 replies in [\d.]+ ms; ended by responders$/m);
        const usage = fakeIO({ NAMESRV_ADDR: namesrv });
        assert.equal(await main(["request", topic, "x", "--many", "--count", "2"], usage.io), 2);
        assert.match(usage.err, /--many takes the replies to one request/);
      } finally {
        await a.stop();
        await b.stop();
      }
    });

    it("reply --sql answers only what its SQL92 filter matches, read from request --property", async () => {
      const topic = unique("sql");
      await createTopic(topic);
      const eu = await replying([
        topic,
        "--exec",
        "printf EU",
        "--group",
        `${topic}_eu`,
        "--sql",
        "region = 'eu' AND amount > 100",
      ]);
      const us = await replying([
        topic,
        "--exec",
        "printf US",
        "--group",
        `${topic}_us`,
        "--sql",
        "region = 'us'",
      ]);
      try {
        // Each request reaches both groups' filters; only the matching group's responder runs.
        for (
          const [props, want] of [
            [["region=eu", "amount=250"], "EU"],
            [["region=us", "amount=5"], "US"],
            [["region=us", "amount=250"], "US"],
          ] as const
        ) {
          const p = fakeIO({ NAMESRV_ADDR: namesrv });
          const args = ["request", topic, "x", "--timeout", "10000"];
          for (const prop of props) args.push("--property", prop);
          assert.equal(await main(args, p.io), 0, p.err);
          assert.equal(p.out, `${want}\n`, props.join(" "));
        }
      } finally {
        assert.equal(await eu.stop(), 0);
        assert.equal(await us.stop(), 0);
      }
      assert.equal(eu.io.err.match(/bytes in/g)?.length, 1, eu.io.err);
      assert.equal(us.io.err.match(/bytes in/g)?.length, 2, us.io.err);
    });

    it("--selector-arg picks the queue as Java's SelectMessageQueueByHash; --queue picks one", async () => {
      const topic = unique("queues");
      await createTopic(topic);
      await using responder = new PushConsumer({ nameServer: namesrv, group: `${topic}_g` });
      responder.subscribe(topic, "*", (m) => `${m.queueId}`);
      await responder.start();
      const p = fakeIO({ NAMESRV_ADDR: namesrv });
      assert.equal(
        await main(
          ["request", topic, "x", "--selector-arg", "ACME", "--count", "3", "--quiet"],
          p.io,
        ),
        0,
        p.err,
      );
      const expected = Math.abs(javaStringHashCode("ACME") % 4);
      assert.equal(p.out, `${expected}\n`.repeat(3));
      const q = fakeIO({ NAMESRV_ADDR: namesrv });
      assert.equal(
        await main(["request", topic, "x", "--queue", "broker-a:2", "--quiet"], q.io),
        0,
      );
      assert.equal(q.out, "2\n");
      const r = fakeIO({ NAMESRV_ADDR: namesrv });
      assert.equal(await main(["request", topic, "x", "--queue", "9"], r.io), 2);
      assert.match(r.err, /invalid --queue: the topic has no queue 9; its queues: broker-a:0, /);
    });
  });

  describe("exit codes and messages a shell user can act on", () => {
    it("no reply in time: 1, the stage, and what to check", async () => {
      const topic = unique("silent");
      await createTopic(topic);
      const p = fakeIO({ NAMESRV_ADDR: namesrv });
      assert.equal(await main(["request", topic, "x", "--timeout", "200"], p.io), 1);
      assert.match(p.err, /stored by the broker, but no reply .*\[ERR_REQUEST_TIMEOUT\]/);
      assert.match(
        p.err,
        new RegExp(
          `hint: is a responder consuming ${topic}\\? \\(try: rocketmq-rpc reply ${topic} --echo\\)`,
        ),
      );
    });

    it("name server unreachable: 3 for request and for reply (the consumer does not start)", async () => {
      const port = await closedPort();
      const p = fakeIO();
      assert.equal(await main(["request", "t", "x", "--namesrv", `127.0.0.1:${port}`], p.io), 3);
      assert.match(p.err, new RegExp(`127\\.0\\.0\\.1:${port}: .*\\[ERR_CONNECTION\\]`));
      assert.match(
        p.err,
        /hint: is a name server .* listening there\? Set --namesrv or NAMESRV_ADDR/,
      );
      const q = fakeIO();
      assert.equal(await main(["reply", "t", "--echo", "--namesrv", `127.0.0.1:${port}`], q.io), 3);
      assert.match(q.err, /no name server answered, so the consumer did not start/);
    });

    for (
      const [args, message] of [
        [["request", "t"], /expected <topic> <body>, got 1 argument/],
        [
          ["request", "t", "b", "--timout", "5"],
          /unknown option --timout \(did you mean --timeout\?\)/,
        ],
        [["request", "t", "b", "--count", "0"], /--count must be a whole number from 1/],
        [
          ["request", "t", "b", "--namesrv", "localhost"],
          /invalid nameServer: "localhost" has no port/,
        ],
        [
          ["request", "t", "b", "--queue", "1", "--selector-arg", "a"],
          /--selector-arg or --queue, not both/,
        ],
        [
          ["request", "bad topic", "b", "--namesrv", "127.0.0.1:1"],
          /invalid message\.topic: "bad topic" has characters outside/,
        ],
        [["reply", "t"], /give one of --echo or --exec <command>/],
        [["reply", "t", "--echo", "--exec", "cat"], /give one of --echo or --exec <command>/],
        [["request", "t", "b", "--access-key", "ak"], /both --access-key and --secret-key/],
        [["bench", "extra"], /unexpected argument "extra"/],
        [["reply", "t", "--echo", "--sql", "amount >"], /--sql: .*amount >/],
        [["reply", "t", "--echo", "--sql", "a = 1", "--tags", "x"], /--tags or --sql, not both/],
        [["request", "t", "b", "--property", "novalue"], /--property must be <key>=<value>/],
      ] as const
    ) {
      it(`${args.join(" ")}: exit 2`, async () => {
        const p = fakeIO();
        assert.equal(await main(args, p.io), 2, p.err);
        assert.match(p.err, message);
        assert.match(p.err, /see: rocketmq-rpc \w+ --help|Usage: rocketmq-rpc/);
      });
    }
  });

  describe("bench", () => {
    it("against the embedded broker in-process: throughput and percentiles", async () => {
      const p = fakeIO();
      assert.equal(await main(["bench", "--count", "50", "--warmup", "5"], p.io), 0, p.err);
      assert.match(p.out, /^50 requests, 1 in flight, 128-byte bodies, via the embedded broker/);
      assert.match(
        p.out,
        /\d+ req\/s; round trip p50 [\d.]+ ms, p90 [\d.]+, p99 [\d.]+, max [\d.]+; 0 errors/,
      );
    });

    it("against a name server, answered by a `reply` elsewhere, as JSON", async () => {
      const topic = unique("bench");
      await createTopic(topic);
      const responder = await replying([topic, "--echo", "--quiet"]);
      try {
        const p = fakeIO({ NAMESRV_ADDR: namesrv });
        assert.equal(
          await main(
            [
              "bench",
              "--topic",
              topic,
              "--no-responder",
              "--count",
              "40",
              "--concurrency",
              "4",
              "--json",
            ],
            p.io,
          ),
          0,
          p.err,
        );
        const result = JSON.parse(p.out);
        assert.equal(result.ok, 40);
        assert.equal(result.errors, 0);
        assert.equal(result.concurrency, 4);
        assert.equal(result.embedded, false);
        assert.ok(result.p50 > 0 && result.p50 <= result.p99);
      } finally {
        await responder.stop();
      }
    });
  });
});
