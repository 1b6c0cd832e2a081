// Bad input on the wire: the broker answers what it can identify, closes what
// it cannot, writes one log line, and keeps serving every other connection.
// Each case runs over an in-memory pair and over real loopback TCP.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { memoryPair } from "../../src/transport/memory.ts";
import { defaultConnect } from "../../src/transport/default.ts";
import type { Transport } from "../../src/transport/types.ts";
import { Broker } from "../../src/broker/broker.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { RecordingLogger } from "./_helpers.ts";
import { until } from "../_wait.ts";
import { frame, rawClient } from "./_raw.ts";

interface Setup {
  name: string;
  open(options: { maxFrameSize?: number }): Promise<{
    connect(): Promise<Transport>;
    logger: RecordingLogger;
    stats(): { connections: number; malformed: number };
    close(): Promise<void>;
  }>;
}

const setups: Setup[] = [
  {
    name: "memory pair",
    open(options) {
      const logger = new RecordingLogger();
      const broker = new Broker({ logger, ...options });
      return Promise.resolve({
        connect() {
          const [client, server] = memoryPair({ localAddr: { hostname: "10.0.0.9", port: 40000 } });
          broker.handle(server);
          return Promise.resolve(client);
        },
        logger,
        stats: () => broker.stats,
        close: () => broker.close(),
      });
    },
  },
  {
    name: "loopback TCP",
    async open(options) {
      const logger = new RecordingLogger();
      const handle = await startBroker({ port: 0, logger, ...options });
      return {
        connect: () => defaultConnect({ hostname: "127.0.0.1", port: handle.port }),
        logger,
        stats: () => handle.stats,
        close: () => handle.close(),
      };
    },
  },
];

const enc = new TextEncoder();

for (const setup of setups) {
  describe(`malformed input (${setup.name})`, () => {
    it("answers a request whose header is broken but whose opaque is readable, and keeps the connection", async () => {
      const env = await setup.open({});
      const bad = rawClient(await env.connect());
      const good = rawClient(await env.connect());
      await bad.write(frame(enc.encode('{"code":310,"opaque":77,"flag":0,"extFields":{"a":')));
      const res = await bad.response(77);
      assert.equal(res.code, 29);
      assert.equal(res.flag & 1, 1);
      assert.match(res.remark!, /^malformed request: /);
      await bad.writeCommand(createRequest(106, undefined, { opaque: 78 }));
      assert.equal((await bad.response(78)).code, 0);
      await good.writeCommand(createRequest(106, undefined, { opaque: 1 }));
      assert.equal((await good.response(1)).code, 0);
      assert.equal(
        env.logger.messages("warn").filter((m) => m === "malformed request answered").length,
        1,
      );
      await bad.close();
      await good.close();
      await env.close();
    });

    it("closes a connection whose frame cannot be attributed, and serves the others", async () => {
      const env = await setup.open({});
      const good = rawClient(await env.connect());
      for (
        const bytes of [
          frame(enc.encode("{not json at all")), // no opaque to answer
          frame(new Uint8Array(3), new Uint8Array(0), 7), // unknown serialize type
          new Uint8Array([0, 0, 0, 8, 0, 0, 0, 99, 1, 2, 3, 4]), // header longer than the frame
          new Uint8Array([0, 0, 0, 1, 9]), // frame length below the minimum
        ]
      ) {
        const bad = rawClient(await env.connect());
        await bad.write(bytes).catch(() => {});
        await bad.ended;
        await bad.close();
      }
      await until(() => env.stats().connections === 1, "bad connections to close");
      await good.writeCommand(createRequest(106, undefined, { opaque: 5 }));
      assert.equal((await good.response(5)).code, 0);
      assert.ok(env.stats().malformed >= 2);
      const closes = env.logger.lines.filter((l) => l.message === "connection closed");
      assert.equal(closes.length, 4, "one line per closed connection");
      assert.ok(closes.every((l) => l.level === "info" && l.fields?.error instanceof Error));
      await good.close();
      await env.close();
    });

    it("refuses a frame over the maximum before reading it, and closes that connection", async () => {
      const env = await setup.open({ maxFrameSize: 64 * 1024 });
      const good = rawClient(await env.connect());
      const bad = rawClient(await env.connect());
      const huge = new Uint8Array(8);
      new DataView(huge.buffer).setInt32(0, 200 * 1024 * 1024);
      await bad.write(huge);
      await bad.ended;
      await until(() => env.stats().connections === 1, "the connection to close");
      assert.ok(
        env.logger.lines.some((l) =>
          l.message === "connection closed" &&
          /exceeds the maximum/.test(String((l.fields?.error as Error)?.message))
        ),
      );
      await good.writeCommand(createRequest(106, undefined, { opaque: 9 }));
      assert.equal((await good.response(9)).code, 0);
      await bad.close();
      await good.close();
      await env.close();
    });

    it("answers a bad custom header with INVALID_PARAMETER naming the field", async () => {
      const env = await setup.open({});
      const c = rawClient(await env.connect());
      await c.writeCommand(
        createRequest(11, { consumerGroup: "G", topic: "T", queueId: "zero" }, { opaque: 3 }),
      );
      const res = await c.response(3);
      assert.equal(res.code, 29);
      assert.match(res.remark!, /queueId/);
      await c.close();
      await env.close();
    });
  });
}
