// A broker restart under a running requester and responder: requests in flight
// settle (with a reply or a typed error, never a hang), and the clients
// reconnect and re-register without the user doing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bodyText, Producer, PushConsumer, RocketMQError } from "../../mod.ts";
import { startBroker } from "../../src/broker/mod.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("clients ride out a broker restart: in-flight requests settle, later ones succeed", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "rmq-restart-"));
  let broker = await startBroker({ port: 0, dataDir });
  const port = broker.port;
  const nameServer = broker.address;
  const topic = `restart_${Date.now().toString(36)}`;
  const responder = new PushConsumer({ nameServer, group: `${topic}_g`, consumeFrom: "first" });
  responder.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
  const requester = new Producer({ nameServer, group: `${topic}_p` });
  try {
    await requester.start();
    await requester.send({ topic, body: "create" });
    await responder.start();
    while (!responder.assignedQueues.some((q) => q.topic === topic)) await sleep(20);
    assert.equal(
      bodyText(await requester.request({ topic, body: "before" }, { timeout: 5000 })),
      "re:before",
    );

    // Keep requests flowing while the broker goes away and comes back.
    const outcomes: Array<{ ok: boolean; error?: unknown; ms: number }> = [];
    let running = true;
    const loop = (async () => {
      let i = 0;
      while (running) {
        const started = Date.now();
        try {
          const reply = await requester.request({ topic, body: `r${i}` }, { timeout: 2000 });
          assert.equal(bodyText(reply), `re:r${i}`);
          outcomes.push({ ok: true, ms: Date.now() - started });
        } catch (error) {
          outcomes.push({ ok: false, error, ms: Date.now() - started });
          await sleep(50);
        }
        i++;
      }
    })();
    await sleep(300);
    await broker.close();
    await sleep(1000);
    broker = await startBroker({ port, dataDir });
    // After the restart, requests succeed again without any action from us.
    const deadline = Date.now() + 20_000;
    let recovered = false;
    while (Date.now() < deadline) {
      const last = outcomes.slice(-5);
      if (last.length === 5 && last.every((o) => o.ok)) {
        recovered = true;
        break;
      }
      await sleep(100);
    }
    running = false;
    await loop;
    assert.ok(
      recovered,
      `no recovery: last outcomes ${JSON.stringify(outcomes.slice(-5).map((o) => o.ok))}`,
    );
    for (const outcome of outcomes) {
      // Every request settled within its timeout (plus scheduling slack): none hung.
      assert.ok(outcome.ms < 2000 + 1000, `a request took ${outcome.ms} ms`);
      if (!outcome.ok) {
        assert.ok(outcome.error instanceof RocketMQError, `untyped failure: ${outcome.error}`);
      }
    }
    assert.ok(outcomes.some((o) => !o.ok), "the outage was not noticed at all");
  } finally {
    await requester.close();
    await responder.close();
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
