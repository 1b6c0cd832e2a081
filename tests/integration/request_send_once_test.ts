// A request is sent at most once. When the connection that carried it closes
// after the request was written, the broker may have stored it; a retry would
// store a second copy with the same correlation id, which another consumer
// (or the same one, once its idempotency window has passed) would run again.
// Over loopback TCP: the requester reaches the broker through a proxy that
// cuts the requester's connection right after forwarding its first request.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bodyText, ConnectionClosedError, Producer, PushConsumer } from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { RemotingDecoder } from "../../src/codec/remoting_decoder_stream.ts";
import { RequestCode } from "../../src/codec/codes.ts";
import { MessageProperty } from "../../src/codec/properties.ts";
import { tcpProxy, until } from "./_tcp_proxy.ts";

/**
 * A proxy to the broker that, once armed, forwards the first SEND_MESSAGE_V2
 * frame that carries a CORRELATION_ID, waits for the broker's answer to it,
 * then drops that answer and closes the client's connection: the request is
 * stored, and its sender cannot know.
 */
async function cuttingProxy(upstream: string) {
  const state = { armed: true, cut: 0, storedAnswers: 0 };
  const proxy = await tcpProxy(upstream, ({ client, broker }) => {
    const decoder = new RemotingDecoder();
    let cutting = false;
    return {
      fromClient(chunk) {
        if (cutting) return;
        let requestFrame = false;
        decoder.push(new Uint8Array(chunk), (command) => {
          if (
            state.armed && command.code === RequestCode.SEND_MESSAGE_V2 &&
            (command.extFields.i ?? command.extFields.properties ?? "").includes(
              MessageProperty.CORRELATION_ID,
            )
          ) requestFrame = true;
        });
        broker.write(chunk);
        if (requestFrame) {
          state.armed = false;
          cutting = true;
        }
      },
      fromBroker(chunk) {
        if (!cutting) {
          client.write(chunk);
          return;
        }
        // The broker answered the request: it is stored. The requester never
        // sees the answer; its connection just closes.
        state.storedAnswers++;
        state.cut++;
        client.destroy();
        broker.destroy();
      },
    };
  });
  return { ...proxy, state };
}

describe("a request is sent at most once", () => {
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker({ port: 0 });
  });

  after(async () => {
    await broker?.close();
  });

  test("a connection lost after the request was written fails it; no second copy is stored or run", async () => {
    const topic = `once_${Date.now().toString(36)}`;
    const handled: string[] = [];
    // Idempotency off: this test is about the requester not sending twice,
    // not about the responder recognising a copy.
    const responder = new PushConsumer({
      nameServer: broker.address,
      group: `${topic}_g`,
      idempotency: false,
    });
    responder.subscribe(topic, "*", (m) => {
      handled.push(m.properties[MessageProperty.CORRELATION_ID]!);
      return `re:${bodyText(m)}`;
    });
    await responder.start();
    // Create the topic and let the responder own its queues before the cut.
    const warm = new Producer({ nameServer: broker.address, group: `${topic}_warm` });
    await warm.start();
    try {
      assert.equal(
        bodyText(await warm.request({ topic, body: "warm" }, { timeout: 10_000 })),
        "re:warm",
      );
    } finally {
      await warm.close();
    }
    handled.length = 0;

    const proxy = await cuttingProxy(broker.address);
    const requester = new Producer({
      nameServer: proxy.address,
      group: `${topic}_req`,
      addressMap: { [broker.address]: proxy.address },
    });
    await requester.start();
    try {
      await assert.rejects(
        requester.request({ topic, body: "once" }, { timeout: 10_000 }),
        (e) => e instanceof ConnectionClosedError,
      );
      assert.equal(proxy.state.cut, 1, "the proxy cut the connection after the broker stored it");
      // The stored copy is delivered and run once.
      await until(() => handled.length >= 1, "the stored request is handled");
      const stored = broker.broker.store.queues()
        .filter((q) => q.topic === topic)
        .reduce((n, q) => n + q.maxOffset, 0);
      assert.equal(stored, 2, "the warm-up request and one copy of the cut one");
      assert.equal(handled.length, 1);
      assert.equal(requester.stats.sendRetries, 0);
    } finally {
      await requester.close();
      await responder.close({ drainTimeout: 0 });
      await proxy.close();
    }
  });
});
