// The Cloudflare Workers transport, off the platform: `cloudflare:sockets`'
// connect() is stood in for by sockets over the runtime's own TCP, with the
// same shape (a socket returned at once, `opened` settling later). The real
// platform is exercised by tests/edge/workerd_test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  cloudflareConnect,
  type CloudflareSocket,
  type CloudflareSocketConnect,
} from "../../src/transport/cloudflare.ts";
import { defaultConnect, defaultListen } from "../../src/transport/default.ts";
import type { Transport } from "../../src/transport/types.ts";
import { ConnectionError, InvalidArgumentError } from "../../src/errors.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push_consumer.ts";
import { bodyText } from "../../src/client/message.ts";
import { echo, serve } from "./_support.ts";

interface Call {
  address: { hostname: string; port: number };
  options: Parameters<CloudflareSocketConnect>[1];
  socket: CloudflareSocket;
  closes: number;
}

/** A stand-in for `connect` of `cloudflare:sockets`, over real loopback TCP. */
function loopbackSockets(
  info?: (address: { hostname: string; port: number }) => Record<string, string>,
): CloudflareSocketConnect & { calls: Call[] } {
  const calls: Call[] = [];
  const fake = (address: { hostname: string; port: number }, options?: Call["options"]) => {
    const inbound = new TransformStream<Uint8Array, Uint8Array>();
    const outbound = new TransformStream<Uint8Array, Uint8Array>();
    let transport: Transport | undefined;
    const connecting = defaultConnect({ ...address, timeout: 2000 });
    const opened = connecting.then((t) => {
      transport = t;
      t.readable.pipeTo(inbound.writable).catch(() => {});
      outbound.readable.pipeTo(t.writable).catch(() => {});
      return info?.(address) ??
        { remoteAddress: `${address.hostname}:${address.port}`, localAddress: "127.0.0.1:50000" };
    });
    const closed = opened.then((_) => transport!.closed, () => undefined);
    const call: Call = {
      address,
      options,
      closes: 0,
      socket: {
        readable: inbound.readable,
        writable: outbound.writable,
        opened,
        closed,
        close: async () => {
          call.closes++;
          await connecting.then((t) => t.close(), () => undefined);
        },
      },
    };
    calls.push(call);
    return call.socket;
  };
  return Object.assign(fake, { calls });
}

describe("cloudflareConnect()", () => {
  it("carries request-reply through the embedded broker", async () => {
    await using broker = await startBroker({ port: 0 });
    const sockets = loopbackSockets();
    const connect = cloudflareConnect(sockets);
    await using responder = new PushConsumer({
      nameServer: broker.address,
      group: "cf_responder",
      connect,
    });
    responder.subscribe("cf_topic", "*", (m) => `re:${bodyText(m)}`);
    await using requester = new Producer({ nameServer: broker.address, connect });
    await requester.start();
    await requester.send({ topic: "cf_topic", body: "create the topic" });
    await responder.start();
    while (responder.assignedQueues.filter((q) => q.topic === "cf_topic").length < 4) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const reply = await requester.request({ topic: "cf_topic", body: "hi" }, { timeout: 10_000 });
    assert.equal(bodyText(reply), "re:hi");
    assert.ok(sockets.calls.length >= 2, "both clients dialed through the stand-in");
    for (const call of sockets.calls) assert.equal(call.options?.secureTransport, "off");
  });

  it("echoes bytes and reports the addresses the platform gives", async () => {
    const server = await serve(defaultListen, {}, echo);
    try {
      const sockets = loopbackSockets(() => ({
        remoteAddress: `[::1]:${server.port}`,
        localAddress: "[::1]:40000",
      }));
      const transport = await cloudflareConnect(sockets)({
        hostname: "127.0.0.1",
        port: server.port,
      });
      assert.deepEqual(transport.remoteAddr, {
        hostname: "::1",
        port: server.port,
        family: "IPv6",
      });
      assert.deepEqual(transport.localAddr, { hostname: "::1", port: 40000, family: "IPv6" });
      await transport.writable.getWriter().write(new TextEncoder().encode("ping"));
      const { value } = await transport.readable.getReader().read();
      assert.equal(new TextDecoder().decode(value), "ping");
      await transport.close();
      await transport.closed;
      assert.equal(sockets.calls[0]!.closes, 1, "closing the transport closes the socket");
    } finally {
      await server.close();
    }
  });

  it("a refused connection is a ConnectionError naming host:port", async () => {
    const server = await serve(defaultListen, {}, echo);
    const port = server.port;
    await server.close();
    const connect = cloudflareConnect(loopbackSockets());
    await assert.rejects(connect({ hostname: "127.0.0.1", port }), (e) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.equal(e.address, `127.0.0.1:${port}`);
      return true;
    });
  });

  it("gives up at the connect timeout and closes the socket", async () => {
    let closes = 0;
    const never: CloudflareSocketConnect = () => {
      const pipe = new TransformStream<Uint8Array, Uint8Array>();
      return {
        readable: pipe.readable,
        writable: pipe.writable,
        opened: new Promise(() => {}),
        closed: new Promise(() => {}),
        close: () => {
          closes++;
          return Promise.resolve();
        },
      };
    };
    await assert.rejects(
      cloudflareConnect(never)({ hostname: "10.255.255.1", port: 9876, timeout: 50 }),
      /10\.255\.255\.1:9876: connect timed out after 50 ms/,
    );
    assert.equal(closes, 1);
  });

  it("TLS is the platform's: secureTransport on; other settings are refused before dialing", async () => {
    const seen: Array<string | undefined> = [];
    const spy: CloudflareSocketConnect = (_address, options) => {
      seen.push(options?.secureTransport);
      throw new Error("stop here");
    };
    const connect = cloudflareConnect(spy);
    await assert.rejects(connect({ hostname: "broker", port: 10911, tls: true }), ConnectionError);
    await assert.rejects(
      connect({ hostname: "broker", port: 10911, tls: { serverName: "broker" } }),
      ConnectionError,
    );
    assert.deepEqual(seen, ["on", "on"]);
    for (
      const tls of [
        { caCerts: ["PEM"] },
        { cert: "PEM", key: "PEM" },
        { insecure: true },
        { serverName: "other" },
      ]
    ) {
      await assert.rejects(connect({ hostname: "broker", port: 10911, tls }), InvalidArgumentError);
    }
    assert.equal(seen.length, 2, "refused options never reach the platform");
    assert.throws(
      () => cloudflareConnect(undefined as unknown as CloudflareSocketConnect),
      InvalidArgumentError,
    );
  });
});
