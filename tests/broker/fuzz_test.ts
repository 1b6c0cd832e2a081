// Random and mutated frames thrown at a running broker over TCP, each on a
// fresh connection, while a loop of correct request→reply exchanges (built
// from raw remoting commands) keeps running on its own connection and must
// keep succeeding. Afterwards no handler may have failed unexpectedly (an
// "error" log line means a bug: malformed input must map to an error code).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeHeartbeatData } from "../../src/codec/bodies.ts";
import { encodeCommand } from "../../src/codec/frame.ts";
import { encodeSendHeaderV2 } from "../../src/codec/message.ts";
import { createRequest, type RemotingCommand } from "../../src/codec/remoting_command.ts";
import { SerializeType } from "../../src/codec/codes.ts";
import { defaultConnect } from "../../src/transport/default.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { pullRequest, RecordingLogger, subscription } from "./_helpers.ts";
import { sleep, until } from "../_wait.ts";
import { rawClient } from "./_raw.ts";

const enc = new TextEncoder();

function seeds(): RemotingCommand[] {
  const send = createRequest(
    310,
    encodeSendHeaderV2({
      producerGroup: "PG",
      topic: "Fuzz",
      defaultTopic: "TBW102",
      defaultTopicQueueNums: 4,
      queueId: 0,
      sysFlag: 0,
      bornTimestamp: 1,
      flag: 0,
      properties: "TAGS\u0001A\u0002UNIQ_KEY\u0001X\u0002",
    }),
    { body: enc.encode("payload") },
  );
  return [
    createRequest(105, { topic: "Fuzz" }),
    createRequest(106),
    send,
    { ...send, serializeType: SerializeType.ROCKETMQ },
    createRequest(320, { ...send.extFields, m: "true" }, {
      body: enc.encode("\u0000\u0000\u0000\u0014garbage"),
    }),
    pullRequest({ group: "G", topic: "Fuzz", subscription: "A" }),
    createRequest(34, {}, {
      body: encodeHeartbeatData({
        clientID: "fuzz@1",
        producerDataSet: [{ groupName: "PG" }],
        consumerDataSet: [{
          groupName: "FG",
          consumeType: "CONSUME_PASSIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [subscription("Fuzz")],
          unitMode: false,
        }],
      }),
    }),
    createRequest(14, { consumerGroup: "G", topic: "Fuzz", queueId: 0 }),
    createRequest(36, { offset: 0, group: "G", delayLevel: 0 }),
    createRequest(325, {
      ...send.extFields,
      b: "DefaultCluster_REPLY_TOPIC",
      i: "REPLY_TO_CLIENT\u0001x\u0002",
    }),
    createRequest(41, {}, { body: enc.encode('{"consumerGroup":"G","clientId":"c","mqSet":[]}') }),
    createRequest(17, {
      topic: "F2",
      defaultTopic: "TBW102",
      readQueueNums: 1,
      writeQueueNums: 1,
      perm: 6,
    }),
  ];
}

type Mutation =
  | { kind: "flip"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "length"; value: number };

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : ("at" in m ? m.at % out.length : 0);
    if (m.kind === "flip") out[at] = m.value;
    else if (m.kind === "truncate") out = out.slice(0, at);
    else if (m.kind === "insert") {
      out = new Uint8Array([...out.slice(0, at), ...m.bytes, ...out.slice(at)]);
    } else if (out.length >= 4) new DataView(out.buffer, out.byteOffset).setInt32(0, m.value);
  }
  return out;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant("length" as const), value: fc.integer() }),
);

const CODES = [
  10,
  11,
  14,
  15,
  17,
  29,
  30,
  31,
  32,
  34,
  35,
  36,
  38,
  41,
  42,
  46,
  105,
  106,
  206,
  300,
  310,
  320,
  324,
  325,
];

const fieldValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer().map(String),
  fc.constantFrom(
    "-1",
    "0",
    "1",
    "2147483648",
    "9223372036854775807",
    "99999999999999999999",
    "",
    "true",
    "NaN",
    "1e3",
  ),
  fc.string({ unit: "binary", maxLength: 12 }),
);

type CommandEdit =
  | { kind: "set"; key: number; value: string }
  | { kind: "delete"; key: number }
  | { kind: "add"; key: string; value: string }
  | { kind: "code"; code: number }
  | { kind: "body"; body: Uint8Array }
  | { kind: "bodyByte"; at: number; value: number };

const edit: fc.Arbitrary<CommandEdit> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key: fc.nat(), value: fieldValue }),
  fc.record({ kind: fc.constant("delete" as const), key: fc.nat() }),
  fc.record({
    kind: fc.constant("add" as const),
    key: fc.string({ maxLength: 8 }),
    value: fieldValue,
  }),
  fc.record({ kind: fc.constant("code" as const), code: fc.constantFrom(...CODES) }),
  fc.record({ kind: fc.constant("body" as const), body: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({
    kind: fc.constant("bodyByte" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
);

/** A well-framed command with edited fields: exercises the handlers' validation. */
function editCommand(seed: RemotingCommand, edits: CommandEdit[], opaque: number): RemotingCommand {
  const extFields: Record<string, string> = { ...seed.extFields };
  let code = seed.code;
  let body = seed.body.slice();
  for (const e of edits) {
    const keys = Object.keys(extFields);
    if (e.kind === "set" && keys.length > 0) extFields[keys[e.key % keys.length]!] = e.value;
    else if (e.kind === "delete" && keys.length > 0) delete extFields[keys[e.key % keys.length]!];
    else if (e.kind === "add" && e.key !== "__proto__") extFields[e.key] = e.value;
    else if (e.kind === "code") code = e.code;
    else if (e.kind === "body") body = e.body.slice();
    else if (e.kind === "bodyByte" && body.length > 0) body[e.at % body.length] = e.value;
  }
  return { ...seed, code, extFields, body, opaque, flag: 0 };
}

describe("broker fuzz over TCP", () => {
  it(
    "keeps serving correct clients while random and mutated frames hit it",
    { timeout: 120_000 },
    async () => {
      const logger = new RecordingLogger();
      const broker = await startBroker({
        port: 0,
        logger,
        maxFrameSize: 1024 * 1024,
        replyWaitMillis: 0,
      });
      const connect = () => defaultConnect({ hostname: "127.0.0.1", port: broker.port });
      const encoded = seeds().map((c) => encodeCommand(c));

      // The healthy loop: a send, then a pull that must find it, again and again.
      const healthy = rawClient(await connect());
      let stop = false;
      let exchanges = 0;
      let opaque = 1_000_000;
      const loop = (async () => {
        let offset = 0;
        while (!stop) {
          const sendOpaque = ++opaque;
          await healthy.writeCommand(createRequest(
            310,
            encodeSendHeaderV2({
              producerGroup: "HG",
              topic: "Healthy",
              defaultTopic: "TBW102",
              defaultTopicQueueNums: 4,
              queueId: 0,
              sysFlag: 0,
              bornTimestamp: 1,
              flag: 0,
            }),
            { opaque: sendOpaque, body: enc.encode(`m${offset}`) },
          ));
          const sent = await healthy.response(sendOpaque, 5000);
          assert.equal(sent.code, 0, sent.remark);
          assert.equal(sent.extFields.queueOffset, String(offset));
          const pullOpaque = ++opaque;
          const req = pullRequest({ group: "HG", topic: "Healthy", subscription: "*", offset });
          req.opaque = pullOpaque;
          await healthy.writeCommand(req);
          const got = await healthy.response(pullOpaque, 5000);
          assert.equal(got.code, 0, got.remark);
          offset++;
          exchanges++;
        }
      })();

      try {
        const commands = seeds();
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: commands.length - 1 }),
            fc.array(edit, { minLength: 1, maxLength: 5 }),
            async (i, edits) => {
              const c = rawClient(await connect());
              const command = editCommand(commands[i]!, edits, 7);
              const suspended = command.code === 11 &&
                (Number(command.extFields.sysFlag) & 2) !== 0;
              await c.writeCommand(command);
              if (!suspended) {
                const res = await c.response(7, 3000);
                assert.equal(res.flag & 1, 1);
              }
              await c.close();
            },
          ),
          { numRuns: 300, interruptAfterTimeLimit: 20_000 },
        );
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.uint8Array({ maxLength: 512 }),
              fc.tuple(
                fc.integer({ min: 0, max: encoded.length - 1 }),
                fc.array(mutation, { minLength: 1, maxLength: 4 }),
              )
                .map(([i, ms]) => mutate(encoded[i]!, ms)),
            ),
            async (bytes) => {
              const c = rawClient(await connect());
              await c.write(bytes).catch(() => {});
              // A valid request after the garbage: answered if framing survived.
              await c.writeCommand(createRequest(106, undefined, { opaque: 424242 })).catch(
                () => {},
              );
              await Promise.race([c.ended, c.response(424242, 300).catch(() => {}), sleep(300)]);
              await c.close();
            },
          ),
          { numRuns: 150, interruptAfterTimeLimit: 20_000 },
        );
      } finally {
        stop = true;
      }
      await loop;
      assert.ok(exchanges > 0);
      await until(() => broker.stats.connections === 1, "fuzz connections to close");
      const errors = logger.lines.filter((l) => l.level === "error");
      assert.deepEqual(errors, [], "no handler may fail with an unexpected error");
      await healthy.close();
      await broker.close();
    },
  );
});
