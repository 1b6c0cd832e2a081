// Our TypeScript client with the official Java client, through real RocketMQ
// brokers (5.x and 4.9.x) and through our embedded broker: our requester ↔
// Java responder, Java requester ↔ our responder (automatic and manual
// replies), ours ↔ ours on Deno, Bun and Node, the request-reply behaviour
// suite, the rocketmq-rpc CLI, and a broker restart mid-run.
import { after, before, describe, it } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import process from "node:process";
import {
  bodyText,
  type MessageExt,
  type MessageHandler,
  Producer,
  PushConsumer,
  RocketMQError,
} from "../../mod.ts";
import { requestReplySuite } from "../integration/_request_reply_suite.ts";
import { startBroker } from "../../src/broker/mod.ts";
import {
  expectedReply,
  remotingCall,
  REQUEST_FORMS,
  ROCKETMQ_LINES,
  ROCKETMQ_VERSIONS,
  type RocketMQLine,
  runJavaRequester,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";
import { npmTool, npmToolBin, ROOT } from "../tools/npm_tools.ts";
import { main } from "../../src/cli/main.ts";
import { fakeIO } from "../cli/_fake_io.ts";
import { sleep, until } from "../_wait.ts";
import { byAccount, Journal } from "./_orderly.ts";

/** A broker to test through: a real RocketMQ cluster or our embedded broker. */
interface Target {
  /** Java client line for the Java peers. */
  line: RocketMQLine;
  nameServer: string;
  brokerName: string;
  replyTopic: string;
  /** Create a topic with 4 queues, routable when this resolves. */
  createTopic(topic: string): Promise<void>;
  /** Stop and start the broker (same port, same store); resolves with the ms it took. */
  restart(): Promise<number>;
  stop(): Promise<void>;
}

async function realTarget(line: RocketMQLine): Promise<Target> {
  // SQL92 subscriptions need the property filter, off by default in RocketMQ.
  const cluster = await startRocketMQ({ line, brokerConfig: { enablePropertyFilter: "true" } });
  process.stderr.write(
    `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
  );
  return {
    line,
    nameServer: cluster.nameServer,
    brokerName: cluster.brokerName,
    replyTopic: cluster.replyTopic,
    createTopic: async (topic) => {
      await cluster.createTopic(topic, { queues: 4 });
    },
    restart: () => cluster.restartBroker(),
    stop: () => cluster.stop(),
  };
}

async function embeddedTarget(line: RocketMQLine): Promise<Target> {
  const dataDir = await mkdtemp(join(tmpdir(), "rmq-interop-"));
  let broker = await startBroker({ port: 0, dataDir });
  const port = broker.port;
  return {
    line,
    nameServer: broker.address,
    brokerName: "broker-a",
    replyTopic: "DefaultCluster_REPLY_TOPIC",
    createTopic: async (topic) => {
      const reply = await remotingCall(broker.address, 17, {
        topic,
        defaultTopic: "TBW102",
        readQueueNums: "4",
        writeQueueNums: "4",
        perm: "6",
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: "0",
        order: "false",
      });
      assert.equal(reply.code, 0, reply.remark);
    },
    restart: async () => {
      const started = Date.now();
      await broker.close();
      broker = await startBroker({ port, dataDir });
      return Date.now() - started;
    },
    stop: async () => {
      await broker.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const reverse = (bytes: Uint8Array) => bytes.slice().reverse();

/**
 * Check a Java requester run: every request got its own correct reply, none
 * was lost, and our responder answered each exactly once.
 *
 * The official client's `request(msg, callback, timeout)` (4.9.4+) reports a
 * successful send as `onSuccess(null)` and, when the reply arrives before its
 * own send callback runs, calls `onSuccess(reply)` twice (the "callbacks
 * fired twice" bug). A fast broker makes that race likely, so the Java
 * requester counts such duplicates instead of failing on them; we check that
 * they come from the Java client, not from us: our responder sent exactly
 * one reply per request.
 */
function assertJavaRun(
  run: Awaited<ReturnType<typeof runJavaRequester>>,
  responder: PushConsumer,
): void {
  const s = run.summary;
  assert.ok(s.sent > 0, run.logTail);
  assert.equal(s.ok, s.sent, run.logTail);
  assert.equal(s.errors, 0, run.logTail);
  assert.equal(s.mismatches, 0, run.logTail);
  assert.equal(s.lost, 0, run.logTail);
  for (const reply of run.replies) {
    assert.ok(reply.bodyMatches && reply.correlationMatches, JSON.stringify(reply));
  }
  assert.equal(responder.stats.replied, s.sent, "one reply per request from our responder");
  if (s.duplicateCompletions > 0) {
    process.stderr.write(
      `[interop] the Java client completed ${s.duplicateCompletions} callback(s) twice (its known race)\n`,
    );
  }
}

/** Our responder on `topic` (created first), owning all its queues. */
async function ourResponder(
  cluster: Target,
  topic: string,
  handler: MessageHandler,
): Promise<PushConsumer> {
  const consumer = new PushConsumer({ nameServer: cluster.nameServer, group: `${topic}_ts` });
  consumer.subscribe(topic, "*", handler);
  await consumer.start();
  await until(
    () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
    "queue assignment",
  );
  return consumer;
}

/** Run `tests/interop/_ours_pair.ts` under another runtime against the cluster. */
async function oursOn(runtime: "node" | "bun", nameServer: string, topic: string) {
  // tsx and Bun come from .tools, installed there with npm when missing.
  const script = `${ROOT}tests/interop/_ours_pair.ts`;
  const args = runtime === "node"
    ? ["--import", `file://${await npmTool("tsx")}/dist/loader.mjs`, script]
    : [script];
  const command = new Deno.Command(runtime === "node" ? "node" : await npmToolBin("bun"), {
    args,
    cwd: ROOT,
    env: { NAMESRV_ADDR: nameServer, PAIR_TOPIC: topic },
    stdout: "piped",
    stderr: "piped",
  });
  const output = await command.output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let result:
    | { ok: number; failed: number; forms: Record<string, number>; runtime: string }
    | undefined;
  try {
    result = JSON.parse(line);
  } catch {
    // reported below
  }
  assert.equal(output.code, 0, `${runtime} pair failed:\n${stdout}\n${stderr}`);
  assert.ok(result, `${runtime} pair printed no result:\n${stdout}\n${stderr}`);
  return result;
}

function clientSuite(name: string, startTarget: () => Promise<Target>): void {
  describe(name, () => {
    let cluster: Target;

    before(async () => {
      cluster = await startTarget();
    });

    after(async () => {
      await cluster?.stop();
    });

    it("our requester ↔ official Java responder, in all four forms", async () => {
      const topic = uniqueName("ts2java");
      await cluster.createTopic(topic);
      await using _responder = await startJavaResponder({
        line: cluster.line,
        nameServer: cluster.nameServer,
        topic,
        mode: "reverse",
      });
      await using requester = new Producer({
        nameServer: cluster.nameServer,
        group: `${topic}_req`,
      });
      await requester.start();
      const body = (i: number) => new TextEncoder().encode(`request ${i} from TypeScript`);
      const check = (
        i: number,
        reply: { body: Uint8Array; properties: Record<string, string> },
      ) => {
        assert.deepEqual(reply.body, expectedReply("reverse", body(i)));
        assert.equal(reply.properties.MSG_TYPE, "reply");
        assert.match(reply.properties.PUSH_REPLY_TIME ?? "", /^\d+$/);
      };
      for (let i = 0; i < 5; i++) {
        check(i, await requester.request({ topic, body: body(i) }, { timeout: 10_000 }));
      }
      for (let i = 5; i < 10; i++) {
        const reply = await new Promise<{ body: Uint8Array; properties: Record<string, string> }>(
          (resolve, reject) => {
            requester.request({ topic, body: body(i) }, { timeout: 10_000 }, {
              onSuccess: resolve,
              onException: reject,
            }).catch(reject);
          },
        );
        check(i, reply);
      }
      for (let i = 10; i < 15; i++) {
        const reply = await requester.request({ topic, body: body(i) }, {
          timeout: 10_000,
          arg: i,
          selector: (queues, _m, arg) => queues[(arg as number) % queues.length]!,
        });
        check(i, reply);
      }
      for (let i = 15; i < 20; i++) {
        const queue = { topic, brokerName: cluster.brokerName, queueId: i % 4 };
        check(i, await requester.request({ topic, body: body(i) }, { timeout: 10_000, queue }));
      }
      assert.equal(requester.stats.timedOut, 0);
      assert.equal(requester.stats.lateReplies, 0);
    });

    it("SQL92 filters pick the responder; an orderly responder answers each queue in order", async () => {
      // Issue 15 on every line (tests/interop/sql92_test.ts and orderly_test.ts cover 5.5.0
      // with the Java client in depth).
      const topic = uniqueName("sql");
      await cluster.createTopic(topic);
      const start = async (group: string, sql: string, tag: string) => {
        const c = new PushConsumer({ nameServer: cluster.nameServer, group: `${topic}_${group}` });
        c.subscribe(topic, { sql }, (m) => `${tag}:${bodyText(m)}`);
        await c.start();
        await until(
          () => c.assignedQueues.filter((q) => q.topic === topic).length === 4,
          `${group}'s queues`,
        );
        return c;
      };
      await using _eu = await start("eu", "region = 'eu' AND amount > 100", "eu");
      await using _rest = await start("rest", "region <> 'eu' OR amount <= 100", "rest");
      await using requester = new Producer({ nameServer: cluster.nameServer });
      await requester.start();
      for (
        const [region, amount, want] of [
          ["eu", "250", "eu"],
          ["eu", "5", "rest"],
          ["us", "250", "rest"],
          ["eu", "101", "eu"],
        ] as const
      ) {
        const reply = await requester.request(
          { topic, body: `${region}/${amount}`, properties: { region, amount } },
          { timeout: 15_000 },
        );
        assert.equal(bodyText(reply), `${want}:${region}/${amount}`);
      }

      const ordered = uniqueName("orderly");
      await cluster.createTopic(ordered);
      const journal = new Journal();
      await using responder = new PushConsumer({
        nameServer: cluster.nameServer,
        group: `${ordered}_ts`,
        orderly: true,
      });
      responder.subscribe(ordered, "*", async (m) => {
        await journal.run(m);
        return `${bodyText(m)} done`;
      });
      await responder.start();
      await until(
        () => responder.assignedQueues.filter((q) => q.topic === ordered).length === 4,
        "the orderly responder's queues",
      );
      const replies = await Promise.all(
        Array.from(
          { length: 32 },
          (_, i) =>
            requester.request({ topic: ordered, body: `${i % 4}/${i}` }, {
              timeout: 30_000,
              selector: byAccount,
              arg: i % 4,
            }),
        ),
      );
      assert.deepEqual(
        replies.map(bodyText),
        Array.from({ length: 32 }, (_, i) => `${i % 4}/${i} done`),
      );
      assert.deepEqual([...journal.overlap.values()], [1, 1, 1, 1], "one handler per queue");
      assert.deepEqual(journal.outOfOrder(), [], "each queue in offset order");
      for (let q = 0; q < 4; q++) {
        assert.equal(journal.handled.filter((h) => h.queueId === q).length, 8);
      }
      assert.equal(responder.stats.lockRefused, 0);
    });

    it("official Java requester ↔ our responder, automatic reply, all six Java forms", async () => {
      const topic = uniqueName("java2ts");
      await cluster.createTopic(topic);
      await using responder = await ourResponder(cluster, topic, (m) => reverse(m.body));
      const run = await runJavaRequester({
        line: cluster.line,
        nameServer: cluster.nameServer,
        topic,
        count: 5,
        concurrency: 2,
        bodySize: 200,
      });
      assert.equal(run.summary.sent, 5 * REQUEST_FORMS.length);
      assertJavaRun(run, responder);
      for (const reply of run.replies) assert.equal(reply.replyTopic, cluster.replyTopic);
    });

    it("official Java requester ↔ our responder, manual replies (inside and later)", async () => {
      const topic = uniqueName("java2ts_manual");
      await cluster.createTopic(topic);
      let inside = 0;
      const consumerRef: { current?: PushConsumer } = {};
      await using responder = await ourResponder(cluster, topic, async (m: MessageExt, ctx) => {
        if (m.queueOffset % 2 === 0) {
          inside++;
          await ctx.reply(reverse(m.body));
        } else {
          setTimeout(() => consumerRef.current!.reply(m, reverse(m.body)).catch(() => {}), 20);
        }
      });
      consumerRef.current = responder;
      const run = await runJavaRequester({
        line: cluster.line,
        nameServer: cluster.nameServer,
        topic,
        forms: ["plain", "callback"],
        count: 8,
      });
      assertJavaRun(run, responder);
      assert.ok(inside > 0 && inside < run.summary.sent, `inside=${inside}`);
    });

    requestReplySuite(
      "request-reply behaviour, ours ↔ ours through this broker",
      () => Promise.resolve({ nameServer: cluster.nameServer, close: () => Promise.resolve() }),
    );

    it("ours ↔ ours through this broker under Node and Bun", async () => {
      for (const runtime of ["node", "bun"] as const) {
        const topic = uniqueName(`pair_${runtime}`);
        await cluster.createTopic(topic);
        const result = await oursOn(runtime, cluster.nameServer, topic);
        assert.equal(result.failed, 0, JSON.stringify(result));
        assert.equal(result.runtime, runtime);
        for (const form of ["promise", "callback", "selector", "queue"]) {
          assert.ok((result.forms[form] ?? 0) > 0, `${runtime}: no ${form} replies`);
        }
      }
    });

    it("the rocketmq-rpc CLI through this broker: reply --exec, request, bench", async () => {
      const topic = uniqueName("cli");
      await cluster.createTopic(topic);
      const env = { NAMESRV_ADDR: cluster.nameServer };
      const responder = fakeIO(env);
      const replying = main(["reply", topic, "--exec", "tr a-z A-Z", "--quiet"], responder.io);
      await Promise.race([
        responder.waitForErr(/^ready: replying to \S+ as group \S+ \(4 queues\)/m),
        replying.then((code) => {
          throw new Error(`reply exited with ${code}: ${responder.err}`);
        }),
      ]);
      try {
        const request = fakeIO(env);
        const args = ["request", topic, "abc", "--count", "3", "--timeout", "10000"];
        assert.equal(await main(args, request.io), 0, request.err);
        assert.equal(request.out, "ABC\n".repeat(3));
        assert.match(request.err, /3 requests: 3 ok, 0 failed; round trip p50 /);
        const selected = fakeIO(env);
        assert.equal(
          await main(["request", topic, "xyz", "--selector-arg", "42", "--quiet"], selected.io),
          0,
          selected.err,
        );
        assert.equal(selected.out, "XYZ\n");
        const bench = fakeIO(env);
        assert.equal(
          await main(
            [
              "bench",
              "--topic",
              topic,
              "--no-responder",
              "--count",
              "30",
              "--warmup",
              "3",
              "--json",
            ],
            bench.io,
          ),
          0,
          bench.err,
        );
        assert.equal(JSON.parse(bench.out).ok, 30);
      } finally {
        responder.interrupt();
        assert.equal(await replying, 0, responder.err);
      }
    });

    it("a broker restart mid-run: in-flight requests settle, then requests succeed again", async () => {
      const topic = uniqueName("restart");
      await cluster.createTopic(topic);
      await using responder = await ourResponder(cluster, topic, (m) => reverse(m.body));
      await using requester = new Producer({
        nameServer: cluster.nameServer,
        group: `${topic}_req`,
      });
      await requester.start();
      const outcomes: Array<{ ok: boolean; error?: unknown; ms: number }> = [];
      let running = true;
      const loop = (async () => {
        for (let i = 0; running; i++) {
          const started = Date.now();
          const body = new TextEncoder().encode(`r${i}`);
          try {
            const reply = await requester.request({ topic, body }, { timeout: 3000 });
            assert.deepEqual(reply.body, reverse(body));
            outcomes.push({ ok: true, ms: Date.now() - started });
          } catch (error) {
            outcomes.push({ ok: false, error, ms: Date.now() - started });
            await sleep(100);
          }
        }
      })();
      await until(() => outcomes.filter((o) => o.ok).length >= 5, "requests before the restart");
      const restartMs = await cluster.restart();
      const afterRestart = outcomes.length;
      await until(
        () => outcomes.slice(afterRestart).filter((o) => o.ok).length >= 5,
        "requests succeeding after the restart",
        60_000,
      );
      running = false;
      await loop;
      process.stderr.write(
        `[interop] restart took ${restartMs} ms; ${
          outcomes.filter((o) => !o.ok).length
        } of ${outcomes.length} requests failed meanwhile\n`,
      );
      for (const outcome of outcomes) {
        assert.ok(outcome.ms < 3000 + 2000, `a request hung for ${outcome.ms} ms`);
        if (!outcome.ok) {
          assert.ok(outcome.error instanceof RocketMQError, `untyped: ${outcome.error}`);
        }
      }
      assert.ok(outcomes.some((o) => !o.ok), "the restart went unnoticed");
      assert.ok(responder.stats.queues > 0);
    });
  });
}

for (const line of ROCKETMQ_LINES) {
  clientSuite(
    `our client and Java ${line}.x through RocketMQ ${ROCKETMQ_VERSIONS[line]}`,
    () => realTarget(line),
  );
}
for (const line of ROCKETMQ_LINES) {
  clientSuite(
    `our client and Java ${line}.x through the embedded broker`,
    () => embeddedTarget(line),
  );
}
