// Frames: the protocol reference's exact frames, round trips of arbitrary commands in
// both serializations, and robustness of decodeCommand against random and mutated bytes.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SerializeType } from "../../src/codec/codes.ts";
import {
  decodeCommand,
  decodePayload,
  DEFAULT_MAX_FRAME_SIZE,
  encodeCommand,
  FrameEncoder,
  readFrameLength,
} from "../../src/codec/frame.ts";
import { createRequest, type RemotingCommand } from "../../src/codec/remoting_command.ts";
import { CodecError, FrameTooLargeError, InvalidArgumentError } from "../../src/errors.ts";
import { commandArb, INTERESTING_INT32, mutated, normalised, onlyCodecError } from "./_commands.ts";

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const ascii = (text: string): string => hex(new TextEncoder().encode(text));

describe("frames of the protocol reference (section 1.3/1.4)", () => {
  it("GET_ROUTEINFO_BY_TOPIC, topic T, opaque 1: 131-byte JSON frame", () => {
    const frame = encodeCommand(createRequest(105, { topic: "T" }, { opaque: 1 }));
    assert.equal(frame.length, 131);
    assert.equal(
      hex(frame),
      "0000007f" + "0000007b" +
        ascii(
          '{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":1,' +
            '"serializeTypeCurrentRPC":"JSON","version":479}',
        ),
    );
  });

  it("the same request: 41-byte ROCKETMQ frame", () => {
    const frame = encodeCommand(
      createRequest(105, { topic: "T" }, { opaque: 1, serializeType: SerializeType.ROCKETMQ }),
    );
    assert.equal(
      hex(frame),
      ("00000025 01000021 0069 00 01df 00000001 00000000 00000000 0000000c 0005 " +
        ascii("topic") + " 00000001 54").replaceAll(" ", ""),
    );
  });

  it("a request without custom header has no extFields key", () => {
    const frame = encodeCommand(createRequest(106, undefined, { opaque: 4 }));
    assert.equal(
      new TextDecoder().decode(frame.subarray(8)),
      '{"code":106,"flag":0,"language":"JAVA","opaque":4,"serializeTypeCurrentRPC":"JSON","version":479}',
    );
  });
});

describe("decodeCommand(encodeCommand(x)) = x", () => {
  for (const type of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    it(`${type === SerializeType.JSON ? "JSON" : "ROCKETMQ"}, up to what the format carries`, () => {
      fc.assert(
        fc.property(commandArb(type), (command) => {
          const frame = encodeCommand(command);
          assert.equal(new DataView(frame.buffer).getInt32(0), frame.length - 4);
          assert.equal(frame[4], type);
          assert.deepEqual(normalised(decodeCommand(frame)), normalised(command));
        }),
        { numRuns: 400 },
      );
    });
  }

  it("re-encoding a decoded frame gives the same bytes (JSON: when nothing was normalised)", () => {
    fc.assert(
      fc.property(commandArb(), (command) => {
        const frame = encodeCommand(command);
        const again = encodeCommand(decodeCommand(frame));
        const lossless = command.remark !== "" &&
          (command.serializeType === SerializeType.JSON ||
            Object.entries(command.extFields).every(([k, v]) => k !== "" && v !== ""));
        if (lossless) assert.equal(hex(again), hex(frame));
      }),
      { numRuns: 300 },
    );
  });

  it("ROCKETMQ refuses what 16 bits cannot carry, instead of truncating", () => {
    for (const field of ["code", "version"] as const) {
      for (const value of [32768, -32769, 200001]) {
        const command = createRequest(105, {}, { serializeType: SerializeType.ROCKETMQ });
        command[field] = value;
        assert.throws(() => encodeCommand(command), InvalidArgumentError);
      }
    }
  });

  it("a code above 32767 travels in JSON", () => {
    const command = createRequest(200052, { a: "1" }, { opaque: 3 });
    assert.equal(decodeCommand(encodeCommand(command)).code, 200052);
  });
});

describe("FrameEncoder", () => {
  it("writes exactly the bytes of encodeCommand, frame after frame, in either serialization", () => {
    fc.assert(
      fc.property(fc.array(commandArb(), { minLength: 1, maxLength: 6 }), (commands) => {
        const encoder = new FrameEncoder();
        for (const command of commands) encoder.append(command);
        assert.equal(encoder.frameCount, commands.length);
        assert.equal(hex(encoder.take()), commands.map((c) => hex(encodeCommand(c))).join(""));
        assert.equal(encoder.byteLength, 0);
      }),
      { numRuns: 300 },
    );
  });

  it("appends nothing for a command it refuses, and goes on with the next", () => {
    fc.assert(
      fc.property(commandArb(), commandArb(), fc.integer({ min: 8, max: 600 }), (a, b, max) => {
        const encoder = new FrameEncoder({ maxFrameSize: max });
        const fits = (c: RemotingCommand) => encodeCommand(c).length <= max;
        const expected: string[] = [];
        for (const command of [a, b]) {
          if (fits(command)) {
            encoder.append(command);
            expected.push(hex(encodeCommand(command)));
          } else {
            assert.throws(() => encoder.append(command), FrameTooLargeError);
          }
        }
        assert.equal(hex(encoder.take()), expected.join(""));
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a ROCKETMQ code above 16 bits without appending", () => {
    const encoder = new FrameEncoder();
    const command = createRequest(200052, {}, { serializeType: SerializeType.ROCKETMQ });
    assert.throws(() => encoder.append(command), InvalidArgumentError);
    assert.equal(encoder.byteLength, 0);
  });

  it("grows past its initial buffer and hands out bodies intact", () => {
    const encoder = new FrameEncoder();
    const body = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    encoder.append(createRequest(310, { a: "1" }, { body }));
    encoder.append(createRequest(310, { a: "2" }, { body: body.subarray(0, 10) }));
    const chunk = encoder.take();
    const first = decodeCommand(chunk.subarray(0, readFrameLength(chunk, 0, 2 ** 30) + 4));
    assert.deepEqual(first.body, body);
  });

  it("encoders taking turns with shared scratch buffers never see each other's bytes", () => {
    // Idle encoders hold no buffer; a taken 16 KiB buffer goes to whichever
    // encoder appends next. Interleave many encoders and compare every chunk.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), commandArb(), fc.boolean()), {
          minLength: 1,
          maxLength: 30,
        }),
        (steps) => {
          const sides = [0, 1, 2, 3].map(() => ({
            encoder: new FrameEncoder(),
            expected: [] as string[],
          }));
          for (const [index, command, take] of steps) {
            const side = sides[index];
            if (side === undefined) throw new Error("no such encoder");
            side.encoder.append(command);
            side.expected.push(hex(encodeCommand(command)));
            if (take) {
              const chunk = side.encoder.take();
              assert.equal(hex(chunk), side.expected.join(""));
              chunk.fill(0xee); // the caller owns the chunk: scribbling on it harms no one
              side.expected = [];
            }
          }
          for (const side of sides) assert.equal(hex(side.encoder.take()), side.expected.join(""));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("decodeCommand on untrusted bytes throws only CodecError", () => {
  it("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        onlyCodecError(() => decodeCommand(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it("random bytes behind a consistent length field", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 96 }),
        (type, rest) => {
          const frame = new Uint8Array(8 + rest.length);
          const view = new DataView(frame.buffer);
          view.setInt32(0, 4 + rest.length);
          view.setUint32(4, ((type << 24) | Math.min(rest.length, 0xffffff)) >>> 0);
          frame.set(rest, 8);
          onlyCodecError(() => decodeCommand(frame));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("mutated valid frames (flip, insert, delete, truncate, length overwrite, append)", () => {
    fc.assert(
      fc.property(mutated(commandArb().map((c) => encodeCommand(c))), (bytes) => {
        const err = onlyCodecError(() => decodeCommand(bytes));
        if (err !== undefined) assert.ok(err.message.length > 0);
      }),
      { numRuns: 1500 },
    );
  });

  it("a JSON header that is valid JSON but not a command header", () => {
    const json = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.record({
        code: fc.jsonValue({ maxDepth: 1 }),
        opaque: fc.jsonValue({ maxDepth: 1 }),
        extFields: fc.jsonValue({ maxDepth: 2 }),
        remark: fc.jsonValue({ maxDepth: 1 }),
        language: fc.jsonValue({ maxDepth: 1 }),
      }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(json, (text) => {
        const header = new TextEncoder().encode(text);
        const payload = new Uint8Array(4 + header.length);
        new DataView(payload.buffer).setUint32(0, header.length);
        payload.set(header, 4);
        onlyCodecError(() => decodePayload(payload));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("length field", () => {
  it("declared lengths above maxFrameSize are refused with FrameTooLargeError from 4 bytes", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...INTERESTING_INT32),
          fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        ),
        fc.integer({ min: 8, max: 4096 }),
        (declared, max) => {
          const field = new Uint8Array(4);
          new DataView(field.buffer).setInt32(0, declared);
          const err = onlyCodecError(() => readFrameLength(field, 0, max));
          if (declared < 4) {
            assert.ok(err instanceof CodecError && !(err instanceof FrameTooLargeError));
          } else if (declared + 4 > max) {
            assert.ok(err instanceof FrameTooLargeError);
            assert.equal(err.size, declared + 4);
            assert.equal(err.maxFrameSize, max);
          } else {
            assert.equal(err, undefined);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("decodeCommand refuses a 2 GiB declaration before reading further", () => {
    const bytes = new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    assert.throws(() => decodeCommand(bytes), FrameTooLargeError);
    assert.throws(() => decodeCommand(bytes, 2 ** 32), /declares/); // allowed, but truncated
  });

  it("the default maximum is 16 MiB including the length field, as Java's NettyDecoder", () => {
    const field = new Uint8Array(4);
    new DataView(field.buffer).setInt32(0, DEFAULT_MAX_FRAME_SIZE - 4);
    assert.equal(readFrameLength(field, 0, DEFAULT_MAX_FRAME_SIZE), DEFAULT_MAX_FRAME_SIZE - 4);
    new DataView(field.buffer).setInt32(0, DEFAULT_MAX_FRAME_SIZE - 3);
    assert.throws(() => readFrameLength(field, 0, DEFAULT_MAX_FRAME_SIZE), FrameTooLargeError);
  });

  it("encodeCommand refuses to produce a frame above maxFrameSize", () => {
    const command = createRequest(34, {}, { body: new Uint8Array(200) });
    assert.throws(() => encodeCommand(command, { maxFrameSize: 100 }), FrameTooLargeError);
  });
});
