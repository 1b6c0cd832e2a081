// A requester that gives up while its request's send is still in flight
// (written, its send response not back yet) still tells the responder: the
// send is awaited for where the request was stored, then the cancel goes
// there. Over loopback TCP: the requester reaches the broker through a proxy
// that holds the broker's answers back until the test lets them through.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { bodyText, Producer, PushConsumer, RequestAbortedError } from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { RequestCancelledError } from "../../src/errors.ts";
import { tcpProxy, until } from "./_tcp_proxy.ts";

/** A proxy to the broker that can hold the broker's bytes back. */
async function holdingProxy(upstream: string) {
  const held: Array<{ client: net.Socket; chunk: Buffer }> = [];
  let holding = false;
  const proxy = await tcpProxy(upstream, ({ client }) => ({
    fromBroker(chunk) {
      if (holding) held.push({ client, chunk });
      else client.write(chunk);
    },
  }));
  return {
    ...proxy,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const { client, chunk } of held.splice(0)) client.write(chunk);
    },
  };
}

describe("cancellation of a request whose send is in flight", () => {
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker({ port: 0 });
  });

  after(async () => {
    await broker?.close();
  });

  test("aborted before its send response came back: the responder's signal still aborts", async () => {
    const topic = `sending_${Date.now().toString(36)}`;
    const reasons: unknown[] = [];
    let started!: () => void;
    const running = new Promise<void>((resolve) => started = resolve);
    const responder = new PushConsumer({ nameServer: broker.address, group: `${topic}_g` });
    responder.subscribe(topic, "*", (m, ctx) => {
      if (bodyText(m) === "warm") return "warm";
      started();
      return new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          reasons.push(ctx.signal.reason);
          resolve(undefined);
        }, { once: true });
      });
    });
    await responder.start();

    const proxy = await holdingProxy(broker.address);
    const requester = new Producer({
      nameServer: proxy.address,
      group: `${topic}_req`,
      addressMap: { [broker.address]: proxy.address },
    });
    await requester.start();
    try {
      // Route, registration and the responder's queues, before the hold.
      assert.equal(
        bodyText(await requester.request({ topic, body: "warm" }, { timeout: 10_000 })),
        "warm",
      );
      const sent = requester.stats.sent;
      proxy.hold();
      const controller = new AbortController();
      const pending = requester.request({ topic, body: "long job" }, {
        timeout: 30_000,
        signal: controller.signal,
      });
      // The handler runs: the broker stored the request, and its answer to
      // the send is held in the proxy, so the requester is still sending.
      await running;
      assert.equal(requester.stats.sent, sent, "the send response has not arrived");
      controller.abort("changed my mind");
      await assert.rejects(pending, RequestAbortedError);
      proxy.release();
      await until(() => reasons.length === 1, "the handler's signal aborted");
      assert.ok(reasons[0] instanceof RequestCancelledError, String(reasons[0]));
      await until(() => responder.stats.cancelled === 1, "the responder counted the cancel");
      // The broker pushes the cancel to the responder before it answers the
      // requester's CANCEL_REQUEST, which is when the requester counts it.
      await until(() => requester.stats.cancelsSent === 1, "the requester counted the cancel");
      assert.equal(requester.stats.cancelsFailed, 0);
      assert.equal(responder.stats.replied, 1, "only the warm-up was answered");
    } finally {
      await requester.close();
      await responder.close();
      await proxy.close();
    }
  });
});
