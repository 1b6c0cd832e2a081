// Our TypeScript client against real RocketMQ (5.x and 4.9.x) and the official
// Java client: our requester ↔ Java responder, Java requester ↔ our responder
// (automatic and manual replies), ours ↔ ours on Deno, Bun and Node, the
// request-reply behaviour suite, and a broker restart mid-run.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  type MessageExt,
  type MessageHandler,
  Producer,
  PushConsumer,
  RocketMQError,
} from "../../mod.ts";
import { requestReplySuite } from "../integration/_request_reply_suite.ts";
import {
  expectedReply,
  REQUEST_FORMS,
  ROCKETMQ_LINES,
  ROCKETMQ_VERSIONS,
  type RocketMQCluster,
  runJavaRequester,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "./harness.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const reverse = (bytes: Uint8Array) => bytes.slice().reverse();

async function until(condition: () => boolean, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Our responder on `topic` (created first), owning all its queues. */
async function ourResponder(
  cluster: RocketMQCluster,
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
  const root = new URL("../../", import.meta.url).pathname;
  const tools = `${root}.tools/node_modules`;
  const script = `${root}tests/interop/_ours_pair.ts`;
  const args = runtime === "node"
    ? ["--import", `file://${tools}/tsx/dist/loader.mjs`, script]
    : [script];
  const command = new Deno.Command(runtime === "node" ? "node" : `${tools}/.bin/bun`, {
    args,
    cwd: root,
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

for (const line of ROCKETMQ_LINES) {
  describe(`our client against RocketMQ ${ROCKETMQ_VERSIONS[line]}`, () => {
    let cluster: RocketMQCluster;

    before(async () => {
      cluster = await startRocketMQ({ line });
      process.stderr.write(
        `[interop] RocketMQ ${cluster.version} ready in ${cluster.timings.totalMs} ms\n`,
      );
    });

    after(async () => {
      await cluster?.stop();
    });

    it("our requester ↔ official Java responder, in all four forms", async () => {
      const topic = uniqueName("ts2java");
      await cluster.createTopic(topic, { queues: 4 });
      await using _responder = await startJavaResponder({ cluster, topic, mode: "reverse" });
      await using requester = new Producer({
        nameServer: cluster.nameServer,
        group: `${topic}_req`,
      });
      await requester.start();
      const route = await cluster.route(topic);
      assert.ok(route);
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

    it("official Java requester ↔ our responder, automatic reply, all six Java forms", async () => {
      const topic = uniqueName("java2ts");
      await cluster.createTopic(topic, { queues: 4 });
      await using responder = await ourResponder(cluster, topic, (m) => reverse(m.body));
      const run = await runJavaRequester({
        cluster,
        topic,
        count: 5,
        concurrency: 2,
        bodySize: 200,
      });
      assert.equal(run.exitCode, 0, run.logTail);
      assert.equal(run.summary.allOk, true, run.logTail);
      assert.equal(run.summary.sent, 5 * REQUEST_FORMS.length);
      assert.equal(run.summary.duplicateCompletions, 0, run.logTail);
      for (const reply of run.replies) {
        assert.ok(reply.bodyMatches && reply.correlationMatches, JSON.stringify(reply));
        assert.equal(reply.replyTopic, cluster.replyTopic);
      }
      assert.equal(responder.stats.replied, run.summary.sent);
    });

    it("official Java requester ↔ our responder, manual replies (inside and later)", async () => {
      const topic = uniqueName("java2ts_manual");
      await cluster.createTopic(topic, { queues: 4 });
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
        cluster,
        topic,
        forms: ["plain", "callback"],
        count: 8,
      });
      assert.equal(run.exitCode, 0, run.logTail);
      assert.equal(run.summary.allOk, true, run.logTail);
      assert.ok(inside > 0 && inside < run.summary.sent, `inside=${inside}`);
    });

    requestReplySuite(
      "request-reply behaviour, ours ↔ ours through the real broker",
      () => Promise.resolve({ nameServer: cluster.nameServer, close: () => Promise.resolve() }),
    );

    it("ours ↔ ours through the real broker under Node and Bun", async () => {
      for (const runtime of ["node", "bun"] as const) {
        const topic = uniqueName(`pair_${runtime}`);
        await cluster.createTopic(topic, { queues: 4 });
        const result = await oursOn(runtime, cluster.nameServer, topic);
        assert.equal(result.failed, 0, JSON.stringify(result));
        assert.equal(result.runtime, runtime);
        for (const form of ["promise", "callback", "selector", "queue"]) {
          assert.ok((result.forms[form] ?? 0) > 0, `${runtime}: no ${form} replies`);
        }
      }
    });

    it("a broker restart mid-run: in-flight requests settle, then requests succeed again", async () => {
      const topic = uniqueName("restart");
      await cluster.createTopic(topic, { queues: 4 });
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
      const restartMs = await cluster.restartBroker();
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
