// Limits of the broker over real loopback TCP: a cap on connections, and a
// deadline for a frame once begun (slowloris). Memory held for partial frames
// is tested on the decoder (tests/codec/remoting_decoder_stream_test.ts) and,
// as RSS, in tests/resource/.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeCommand } from "../../src/codec/frame.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { defaultConnect } from "../../src/transport/default.ts";
import { Broker, startBroker } from "../../src/broker/mod.ts";
import { RecordingLogger } from "./_helpers.ts";
import { until } from "../_wait.ts";
import { rawClient } from "./_raw.ts";

/** Rejects if `promise` has not settled after `ms`: a guard against hanging, not a clock. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

describe("broker limits (loopback TCP)", () => {
  it("closes connections beyond maxConnections with one warning, and serves again when one leaves", async () => {
    const logger = new RecordingLogger();
    const broker = await startBroker({ port: 0, logger, maxConnections: 3 });
    const connect = async () =>
      rawClient(await defaultConnect({ hostname: "127.0.0.1", port: broker.port }));
    const open = [await connect(), await connect(), await connect()];
    for (const [i, client] of open.entries()) {
      await client.writeCommand(createRequest(106, undefined, { opaque: i + 1 }));
      assert.equal((await client.response(i + 1)).code, 0);
    }
    assert.equal(broker.stats.connections, 3);

    const fourth = await connect();
    const fifth = await connect();
    await within(Promise.all([fourth.ended, fifth.ended]), 10_000, "refused connections closed");
    assert.deepEqual(fourth.received, []);
    assert.equal(broker.stats.connectionsRefused, 2);
    assert.equal(broker.stats.connections, 3);
    const refusals = logger.lines.filter((l) =>
      l.message === "connection refused: maxConnections reached"
    );
    assert.equal(refusals.length, 1); // rate-limited: one line per 10 s, counting the rest
    assert.equal(refusals[0]!.level, "warn");
    assert.equal(refusals[0]!.fields?.maxConnections, 3);

    // The three keep being served; once one leaves, a newcomer is.
    await open[0]!.writeCommand(createRequest(106, undefined, { opaque: 10 }));
    assert.equal((await open[0]!.response(10)).code, 0);
    await open[2]!.close();
    await until(() => broker.stats.connections === 2, "a connection to leave");
    const sixth = await connect();
    await sixth.writeCommand(createRequest(106, undefined, { opaque: 11 }));
    assert.equal((await sixth.response(11, 10_000)).code, 0);

    for (const c of [open[0]!, open[1]!, fourth, fifth, sixth]) await c.close();
    await broker.close();
  });

  it("closes a connection whose frame does not complete within frameTimeout, however steadily it trickles", async () => {
    const logger = new RecordingLogger();
    const frameTimeout = 1000;
    const broker = await startBroker({ port: 0, logger, frameTimeout });
    const slow = rawClient(await defaultConnect({ hostname: "127.0.0.1", port: broker.port }));
    const good = rawClient(await defaultConnect({ hostname: "127.0.0.1", port: broker.port }));

    // A frame of 1,000 bytes, sent a byte every 50 ms: every read refreshes the
    // idle clock, so only a deadline for the frame as a whole closes it.
    const frame = encodeCommand(
      createRequest(106, undefined, { opaque: 1, body: new Uint8Array(1000 - 4 - 50) }),
    );
    let stopped = false;
    const trickle = (async () => {
      for (let i = 0; i < frame.length && !stopped; i++) {
        await slow.write(frame.subarray(i, i + 1)).catch(() => stopped = true);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    // Meanwhile a well-behaved client sends whole frames, until the slow one is closed.
    let opaque = 100;
    const polite = (async () => {
      let ended = false;
      void slow.ended.then(() => ended = true);
      while (!ended) {
        const n = ++opaque;
        await good.writeCommand(createRequest(106, undefined, { opaque: n }));
        assert.equal((await good.response(n, 10_000)).code, 0);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    await within(slow.ended, 30 * frameTimeout, "the trickling connection closed");
    stopped = true;
    await Promise.all([trickle, polite]);
    assert.ok(opaque > 101, "the polite client was served meanwhile");
    assert.deepEqual(slow.received, []);
    const late = logger.lines.filter((l) =>
      l.message === "closing a connection whose frame is late"
    );
    assert.equal(late.length, 1);
    assert.equal(late[0]!.level, "warn");
    // The polite connection is still served.
    await good.writeCommand(createRequest(106, undefined, { opaque: 1 }));
    assert.equal((await good.response(1, 10_000)).code, 0);
    assert.equal(broker.stats.connections, 1);

    await slow.close();
    await good.close();
    await broker.close();
  });

  it("holds at most partialFrameBudget (beyond 64 KiB per connection) for frames still arriving", async () => {
    const logger = new RecordingLogger();
    const broker = await startBroker({
      port: 0,
      logger,
      partialFrameBudget: 1024 * 1024,
      frameTimeout: 60_000,
    });
    // Four connections start a frame of ~1 MiB and send 700 KiB of it: each
    // would take ~636 KiB of the 1 MiB budget, so only one can keep going.
    const frames = [1, 2, 3, 4].map((opaque) =>
      encodeCommand(
        createRequest(106, undefined, { opaque, body: new Uint8Array(1000 * 1024).fill(opaque) }),
      )
    );
    const clients = await Promise.all(
      frames.map(async () =>
        rawClient(await defaultConnect({ hostname: "127.0.0.1", port: broker.port }))
      ),
    );
    const ended = clients.map(() => false);
    clients.forEach((c, i) => void c.ended.then(() => ended[i] = true));
    await Promise.all(clients.map(async (c, i) => {
      for (let at = 0; at < 700 * 1024; at += 50 * 1024) {
        await c.write(frames[i]!.subarray(at, at + 50 * 1024)).catch(() => {});
      }
    }));
    await within(
      until(() => ended.filter(Boolean).length === 3, "three connections to close", 60_000),
      60_000,
      "three connections closed",
    );
    const survivor = ended.indexOf(false);
    await clients[survivor]!.write(frames[survivor]!.subarray(700 * 1024));
    const res = await clients[survivor]!.response(survivor + 1, 10_000);
    assert.equal(res.code, 0);
    const warnings = logger.lines.filter((l) =>
      l.message === "closing a connection: frames still arriving exceed partialFrameBudget"
    );
    assert.equal(warnings.length, 1); // one line per 10 s, counting the rest
    assert.equal(warnings[0]!.level, "warn");
    // What the closed connections held was given back: a new one can take it all.
    const next = rawClient(await defaultConnect({ hostname: "127.0.0.1", port: broker.port }));
    const big = encodeCommand(
      createRequest(106, undefined, { opaque: 9, body: new Uint8Array(1000 * 1024) }),
    );
    for (let at = 0; at < big.length; at += 50 * 1024) {
      await next.write(big.subarray(at, at + 50 * 1024));
    }
    assert.equal((await next.response(9, 10_000)).code, 0);
    for (const c of [...clients, next]) await c.close();
    await broker.close();
  });

  it("validates maxConnections, frameTimeout and partialFrameBudget", async () => {
    assert.throws(() => new Broker({ maxConnections: 0 }), InvalidArgumentError);
    assert.throws(() => new Broker({ frameTimeout: -5 }), InvalidArgumentError);
    assert.throws(() => new Broker({ partialFrameBudget: Number.NaN }), InvalidArgumentError);
    const broker = new Broker({ maxConnections: 1, frameTimeout: 1 });
    await broker.close();
  });
});
