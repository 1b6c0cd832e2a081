// The header serialization on the wire between our client and our broker:
// the client writes ROCKETMQ unless told JSON, and the broker answers and
// pushes in the client's own serialization. Frames are read off real loopback
// TCP by a tap on each side.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Producer, PushConsumer, SerializeType, silentLogger } from "../../mod.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { RequestCode } from "../../src/codec/codes.ts";
import type { RemotingCommand } from "../../src/codec/remoting_command.ts";
import { isResponse } from "../../src/codec/remoting_command.ts";
import { RemotingDecoderStream } from "../../src/codec/remoting_decoder_stream.ts";
import { defaultConnect, defaultListen } from "../../src/transport/default.ts";
import type { Listener, Transport } from "../../src/transport/types.ts";

/** The transport, with every frame it reads also decoded into `seen`. */
function tapped(transport: Transport, seen: RemotingCommand[], taps: Promise<void>[]): Transport {
  const [main, tap] = transport.readable.tee();
  taps.push(
    tap.pipeThrough(new RemotingDecoderStream())
      .pipeTo(new WritableStream({ write: (command) => void seen.push(command) }))
      .catch(() => {}),
  );
  return {
    readable: main,
    writable: transport.writable,
    localAddr: transport.localAddr,
    remoteAddr: transport.remoteAddr,
    close: () => transport.close(),
    closed: transport.closed,
  };
}

const name = (type: number) => type === SerializeType.ROCKETMQ ? "ROCKETMQ" : "JSON";

async function run(serializeType: SerializeType | undefined) {
  const toBroker: RemotingCommand[] = [];
  const toClients: RemotingCommand[] = [];
  const taps: Promise<void>[] = [];
  const broker = await startBroker({
    port: 0,
    logger: silentLogger,
    listen: async (options): Promise<Listener> => {
      const listener = await defaultListen(options);
      return {
        addr: listener.addr,
        close: () => listener.close(),
        async *[Symbol.asyncIterator]() {
          for await (const transport of listener) yield tapped(transport, toBroker, taps);
        },
      };
    },
  });
  const connect = async (options: Parameters<typeof defaultConnect>[0]) =>
    tapped(await defaultConnect(options), toClients, taps);
  const common = {
    nameServer: broker.address,
    connect,
    ...(serializeType !== undefined ? { serializeType } : {}),
  };
  const consumer = new PushConsumer({ ...common, group: "serialize_responder" });
  consumer.subscribe("SerializeRpc", "*", (m) => m.body.slice().reverse());
  const producer = new Producer({ ...common, group: "serialize_requester" });
  try {
    await consumer.start();
    await producer.start();
    for (let i = 0; i < 3; i++) {
      const reply = await producer.request({ topic: "SerializeRpc", body: "abc" }, {
        timeout: 10_000,
      });
      assert.equal(new TextDecoder().decode(reply.body), "cba");
    }
  } finally {
    await producer.close();
    await consumer.close();
    await broker.close();
    await Promise.all(taps);
  }
  const kinds = (commands: RemotingCommand[], code: number, response: boolean) =>
    new Set(
      commands.filter((c) => c.code === code && isResponse(c) === response)
        .map((c) => name(c.serializeType)),
    );
  return { toBroker, toClients, kinds };
}

describe("header serialization between our client and our broker", () => {
  it("the client sends ROCKETMQ by default; the broker answers and pushes in ROCKETMQ", async () => {
    const { toBroker, toClients, kinds } = await run(undefined);
    const requests = toBroker.filter((c) => !isResponse(c));
    assert.ok(requests.length > 5);
    assert.deepEqual(new Set(requests.map((c) => name(c.serializeType))), new Set(["ROCKETMQ"]));
    assert.deepEqual(
      kinds(toBroker, RequestCode.SEND_REPLY_MESSAGE_V2, false),
      new Set(["ROCKETMQ"]),
    );
    // The reply pushed to the requester, and the requester's answer to the push.
    assert.deepEqual(
      kinds(toClients, RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, false),
      new Set(["ROCKETMQ"]),
    );
    assert.deepEqual(new Set(toClients.map((c) => name(c.serializeType))), new Set(["ROCKETMQ"]));
  });

  it("serializeType JSON: JSON both ways, as before", async () => {
    const { toBroker, toClients } = await run(SerializeType.JSON);
    assert.deepEqual(new Set(toBroker.map((c) => name(c.serializeType))), new Set(["JSON"]));
    assert.deepEqual(new Set(toClients.map((c) => name(c.serializeType))), new Set(["JSON"]));
    assert.ok(toClients.some((c) => c.code === RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT));
  });
});
