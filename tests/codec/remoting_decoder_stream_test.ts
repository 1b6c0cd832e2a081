// RemotingDecoderStream: same commands whatever the chunking, only CodecError on bad input
// (and never a hang), length checks before allocation, onInvalidFrame keeps going.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "../../src/bytes.ts";
import { SerializeType } from "../../src/codec/codes.ts";
import { decodeCommand, DEFAULT_MAX_FRAME_SIZE, encodeCommand } from "../../src/codec/frame.ts";
import type { RemotingCommand } from "../../src/codec/remoting_command.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { RemotingDecoder, RemotingDecoderStream } from "../../src/codec/remoting_decoder_stream.ts";
import { CodecError, FrameTooLargeError } from "../../src/errors.ts";
import { bytewise, commandArb, mutated, normalised, pipe, split } from "./_commands.ts";

const framesArb = fc.array(commandArb().map(encodeCommand), { minLength: 1, maxLength: 5 });

/** Cut points for a byte string: arbitrary ones, or every byte. */
const cutsArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 12 }).map((c) => ({ every: false, c })) },
  { weight: 1, arbitrary: fc.constant({ every: true, c: [] as number[] }) },
);

function chunked(bytes: Uint8Array, cuts: { every: boolean; c: number[] }): Uint8Array[] {
  return cuts.every ? bytewise(bytes) : split(bytes, cuts.c);
}

describe("RemotingDecoderStream yields the same commands whatever the chunking", () => {
  it("N frames, split at arbitrary points (including 1-byte chunks)", async () => {
    await fc.assert(
      fc.asyncProperty(framesArb, cutsArb, async (frames, cuts) => {
        const all = concat(frames);
        const { values, error } = await pipe(new RemotingDecoderStream(), chunked(all, cuts));
        assert.equal(error, undefined);
        assert.deepEqual(
          values.map(normalised),
          frames.map((f) => normalised(decodeCommand(f))),
        );
      }),
      { numRuns: 200, interruptAfterTimeLimit: 5000 },
    );
  });

  it("bodies are not shared between frames (later chunks do not overwrite earlier commands)", async () => {
    const a = encodeCommand(createRequest(34, {}, { opaque: 1, body: new Uint8Array([1, 2, 3]) }));
    const b = encodeCommand(createRequest(34, {}, { opaque: 2, body: new Uint8Array([4, 5, 6]) }));
    const { values } = await pipe(new RemotingDecoderStream(), bytewise(concat([a, b])));
    assert.deepEqual(values.map((c) => [...c.body]), [[1, 2, 3], [4, 5, 6]]);
  });

  it("an empty stream yields nothing and ends cleanly", async () => {
    assert.deepEqual(await pipe(new RemotingDecoderStream(), []), { values: [] });
    assert.deepEqual(await pipe(new RemotingDecoderStream(), [new Uint8Array(0)]), { values: [] });
  });
});

describe("RemotingDecoder (the synchronous engine the connection's read loop uses)", () => {
  it("decodes the same commands as the stream, whatever the chunking", async () => {
    await fc.assert(
      fc.asyncProperty(framesArb, cutsArb, async (frames, cuts) => {
        const chunks = chunked(concat(frames), cuts);
        const decoder = new RemotingDecoder();
        const values: RemotingCommand[] = [];
        for (const chunk of chunks) decoder.push(chunk, (c) => values.push(c));
        decoder.end();
        const streamed = await pipe(new RemotingDecoderStream(), chunks);
        assert.deepEqual(values.map(normalised), streamed.values.map(normalised));
        assert.equal(values.length, frames.length);
      }),
      { numRuns: 100, interruptAfterTimeLimit: 5000 },
    );
  });

  it("end() inside a frame and a length above the maximum throw CodecErrors", () => {
    const frame = encodeCommand(createRequest(34, {}, { opaque: 1 }));
    const partial = new RemotingDecoder();
    partial.push(frame.subarray(0, frame.length - 1), () => assert.fail("no command yet"));
    assert.equal(partial.buffered, frame.length - 1);
    assert.throws(() => partial.end(), CodecError);
    const small = new RemotingDecoder({ maxFrameSize: 16 });
    assert.throws(() => small.push(frame, () => {}), FrameTooLargeError);
  });
});

describe("RemotingDecoder holds memory for the bytes received, not for the length declared", () => {
  /** Runs `fn` with every `new Uint8Array(n)` recorded (n only). */
  function allocations(fn: () => void): number[] {
    const sizes: number[] = [];
    const original = globalThis.Uint8Array;
    globalThis.Uint8Array = new Proxy(original, {
      construct(target, args, newTarget) {
        if (typeof args[0] === "number") sizes.push(args[0]);
        return Reflect.construct(target, args, newTarget);
      },
    });
    try {
      fn();
    } finally {
      globalThis.Uint8Array = original;
    }
    return sizes;
  }

  it("a frame declared at the 16 MiB maximum with 1 KiB sent reserves a few KiB", () => {
    const decoder = new RemotingDecoder();
    const head = new Uint8Array(4 + 1024);
    new DataView(head.buffer).setInt32(0, DEFAULT_MAX_FRAME_SIZE - 4);
    const sizes = allocations(() => decoder.push(head, () => assert.fail("no command yet")));
    assert.equal(decoder.buffered, head.length);
    assert.ok(sizes.every((n) => n <= 4096), `allocated ${sizes.join(", ")}`);
  });

  it("a large frame arriving in pieces: each buffer at most twice what arrived, the command intact", () => {
    const body = new Uint8Array(3 * 1024 * 1024).map((_, i) => i * 7);
    const frame = encodeCommand(createRequest(34, { topic: "T" }, { opaque: 5, body }));
    const decoder = new RemotingDecoder();
    const got: RemotingCommand[] = [];
    let received = 0;
    for (
      const piece of split(frame, [
        1000,
        ...Array.from({ length: 60 }, (_, i) => 1000 + (i + 1) * 53_000),
      ])
    ) {
      received += piece.length;
      const sizes = allocations(() => decoder.push(piece, (c) => got.push(c)));
      for (const n of sizes) {
        assert.ok(n <= Math.max(2 * received, 4096), `${n} after ${received} bytes`);
      }
    }
    decoder.end();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.opaque, 5);
    assert.deepEqual(got[0]!.body, body);
  });

  it("whatever the chunking, what is reserved stays within twice what arrived", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (size, cuts) => {
          const frame = encodeCommand(
            createRequest(34, {}, { body: new Uint8Array(size).fill(9) }),
          );
          const decoder = new RemotingDecoder();
          const got: RemotingCommand[] = [];
          let received = 0;
          let reserved = 0;
          for (const piece of split(frame, cuts)) {
            received += piece.length;
            for (const n of allocations(() => decoder.push(piece, (c) => got.push(c)))) {
              reserved = n; // the buffer of the frame in progress replaces the previous one
              assert.ok(reserved <= Math.max(2 * received, 4096));
            }
          }
          assert.equal(got.length, 1);
          assert.equal(got[0]!.body.length, size);
        },
      ),
      { numRuns: 100, interruptAfterTimeLimit: 5000 },
    );
  });
});

describe("RemotingDecoderStream on untrusted bytes", () => {
  const isCodecError = (e: unknown) => e === undefined || e instanceof CodecError;

  it("random bytes, any chunking: ends with commands or a CodecError, never hangs", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 128 }), cutsArb, async (bytes, cuts) => {
        const { error } = await pipe(new RemotingDecoderStream(), chunked(bytes, cuts));
        assert.ok(isCodecError(error), String(error));
      }),
      { numRuns: 300, interruptAfterTimeLimit: 5000 },
    );
  });

  it("mutated valid streams: the same, and the same outcome for every chunking", async () => {
    // Fed byte by byte, every complete frame before a fatal error is delivered. A coarser
    // chunking delivers a prefix of those: commands decoded in the same transform() call
    // that then fails are discarded with the stream's queue (WHATWG streams semantics).
    const isPrefix = (short: unknown[], long: unknown[]) =>
      assert.deepEqual(short, long.slice(0, short.length));
    await fc.assert(
      fc.asyncProperty(mutated(framesArb.map(concat)), cutsArb, async (bytes, cuts) => {
        const reference = await pipe(new RemotingDecoderStream(), bytewise(bytes));
        const whole = await pipe(new RemotingDecoderStream(), [bytes]);
        const pieces = await pipe(new RemotingDecoderStream(), chunked(bytes, cuts));
        for (const outcome of [reference, whole, pieces]) {
          assert.ok(isCodecError(outcome.error), String(outcome.error));
          assert.equal(outcome.error === undefined, reference.error === undefined);
          isPrefix(outcome.values.map(normalised), reference.values.map(normalised));
          if (reference.error === undefined) {
            assert.equal(outcome.values.length, reference.values.length);
          }
        }
      }),
      { numRuns: 300, interruptAfterTimeLimit: 5000 },
    );
  });

  it("frames queued before a fatal error in the same chunk are not delivered", async () => {
    // Documents a difference from Java's NettyDecoder, which hands every complete frame
    // on before closing the channel: a TransformStream that errors discards its queue.
    const good = encodeCommand(createRequest(34, {}, { opaque: 1 }));
    const garbage = new Uint8Array([0, 0, 0, 0]);
    const separate = await pipe(new RemotingDecoderStream(), [good, good, good, garbage]);
    assert.equal(separate.values.length, 3);
    assert.ok(separate.error instanceof CodecError);
    const together = await pipe(new RemotingDecoderStream(), [concat([good, good, good, garbage])]);
    assert.ok(together.values.length < 3); // what pending reads took survives, the queue is lost
    assert.ok(together.error instanceof CodecError);
  });

  it("with onInvalidFrame: only CodecError reaches the callback or the stream", async () => {
    await fc.assert(
      fc.asyncProperty(mutated(framesArb.map(concat)), cutsArb, async (bytes, cuts) => {
        const reported: unknown[] = [];
        const stream = new RemotingDecoderStream({ onInvalidFrame: (e) => reported.push(e) });
        const { error } = await pipe(stream, chunked(bytes, cuts));
        assert.ok(isCodecError(error), String(error));
        assert.ok(reported.every((e) => e instanceof CodecError));
      }),
      { numRuns: 200, interruptAfterTimeLimit: 5000 },
    );
  });

  it("the stream ends with a CodecError when the input stops inside a frame", async () => {
    const frame = encodeCommand(createRequest(105, { topic: "T" }, { opaque: 1 }));
    for (const cut of [1, 3, 4, 5, 8, frame.length - 1]) {
      const { values, error } = await pipe(new RemotingDecoderStream(), [frame.subarray(0, cut)]);
      assert.deepEqual(values, []);
      assert.ok(
        error instanceof CodecError && !(error instanceof FrameTooLargeError),
        `cut ${cut}`,
      );
    }
  });
});

describe("RemotingDecoderStream refuses oversized frames from the length field alone", () => {
  /** Write chunks without closing; resolve with the first read (a value or the error). */
  async function firstRead(
    stream: RemotingDecoderStream,
    chunks: Uint8Array[],
  ): Promise<{ value?: RemotingCommand; error?: unknown }> {
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    for (const c of chunks) writer.write(c).catch(() => {});
    try {
      const { value } = await reader.read();
      return value === undefined ? {} : { value };
    } catch (error) {
      return { error };
    } finally {
      writer.abort().catch(() => {});
      reader.cancel().catch(() => {});
    }
  }

  it("4 bytes declaring 2 GiB error the stream at once, with no further input", async () => {
    const { error } = await firstRead(new RemotingDecoderStream(), [
      new Uint8Array([0x7f, 0xff, 0xff, 0xff]),
    ]);
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.size, 0x7fffffff + 4);
  });

  it("also when the length field arrives one byte at a time", async () => {
    const { error } = await firstRead(
      new RemotingDecoderStream({ maxFrameSize: 1024 }),
      bytewise(new Uint8Array([0, 0, 0x04, 0x00])), // 1024 + 4 > 1024
    );
    assert.ok(error instanceof FrameTooLargeError);
  });

  it("negative or too small lengths are CodecErrors, not allocations", async () => {
    for (const field of [[0x80, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [0, 0, 0, 3]]) {
      const { error } = await firstRead(new RemotingDecoderStream(), [new Uint8Array(field)]);
      assert.ok(error instanceof CodecError && !(error instanceof FrameTooLargeError));
    }
  });

  it("no buffer of the declared size is ever allocated", async () => {
    const allocations: number[] = [];
    const original = globalThis.Uint8Array;
    globalThis.Uint8Array = new Proxy(original, {
      construct(target, args, newTarget) {
        if (typeof args[0] === "number" && args[0] >= 1 << 20) allocations.push(args[0]);
        return Reflect.construct(target, args, newTarget);
      },
    });
    let error: unknown;
    try {
      ({ error } = await firstRead(new RemotingDecoderStream(), [
        new original([0x40, 0, 0, 0]), // 1 GiB
        new original([0, 0, 0, 0]),
      ]));
    } finally {
      globalThis.Uint8Array = original;
    }
    assert.ok(error instanceof FrameTooLargeError);
    assert.deepEqual(allocations, []);
  });

  it("a frame of exactly maxFrameSize is accepted", async () => {
    const frame = encodeCommand(createRequest(34, {}, { body: new Uint8Array(100) }));
    const { values, error } = await pipe(
      new RemotingDecoderStream({ maxFrameSize: frame.length }),
      bytewise(frame),
    );
    assert.equal(error, undefined);
    assert.equal(values.length, 1);
    const over = await pipe(new RemotingDecoderStream({ maxFrameSize: frame.length - 1 }), [frame]);
    assert.ok(over.error instanceof FrameTooLargeError);
  });
});

describe("RemotingDecoderStream with onInvalidFrame", () => {
  type Corruption = "serialize-type" | "rocketmq-remark-length" | "json-syntax";

  /** Break a valid frame's header without touching its framing. */
  function corrupt(frame: Uint8Array, how: Corruption, type: number): Uint8Array {
    const out = frame.slice();
    const view = new DataView(out.buffer);
    const headerLength = view.getUint32(4) & 0xffffff;
    switch (how) {
      case "serialize-type":
        out[4] = type;
        break;
      case "rocketmq-remark-length":
        view.setInt32(8 + 13, 0x7fffffff);
        break;
      case "json-syntax":
        out[8 + headerLength - 1] = 0x5d; // the closing "}" becomes "]"
        break;
    }
    return out;
  }

  const caseArb = fc.array(
    fc.tuple(
      commandArb(),
      fc.option(
        fc.constantFrom<Corruption>("serialize-type", "rocketmq-remark-length", "json-syntax"),
      ),
      fc.integer({ min: 2, max: 255 }),
    ),
    { minLength: 1, maxLength: 6 },
  );

  it("skips frames with bad headers, keeps decoding, salvages the opaque when readable", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, cutsArb, async (cases, cuts) => {
        const expectedGood: Record<string, unknown>[] = [];
        const expectedBad: (number | undefined)[] = [];
        const frames = cases.map(([command, how, type]) => {
          const frame = encodeCommand(command);
          const applicable = how === "serialize-type" ||
            (how === "rocketmq-remark-length" &&
              command.serializeType === SerializeType.ROCKETMQ) ||
            (how === "json-syntax" && command.serializeType === SerializeType.JSON);
          if (how === null || !applicable) {
            expectedGood.push(normalised(command));
            return frame;
          }
          // The opaque is readable from the fixed ROCKETMQ part, and from the JSON text
          // (unless an extFields key "opaque" comes first); never for an unknown type.
          expectedBad.push(
            how === "serialize-type"
              ? undefined
              : how === "json-syntax" && "opaque" in command.extFields
              ? -1 // not checked
              : command.opaque,
          );
          return corrupt(frame, how, type);
        });
        const reported: CodecError[] = [];
        const stream = new RemotingDecoderStream({ onInvalidFrame: (e) => reported.push(e) });
        const { values, error } = await pipe(stream, chunked(concat(frames), cuts));
        assert.equal(error, undefined);
        assert.deepEqual(values.map(normalised), expectedGood);
        assert.equal(reported.length, expectedBad.length);
        reported.forEach((e, i) => {
          assert.ok(e instanceof CodecError);
          if (expectedBad[i] !== -1) assert.equal(e.opaque, expectedBad[i]);
        });
      }),
      { numRuns: 200, interruptAfterTimeLimit: 5000 },
    );
  });

  it("without onInvalidFrame the first bad header errors the stream", async () => {
    const good = encodeCommand(createRequest(34, {}, { opaque: 1 }));
    const bad = corrupt(encodeCommand(createRequest(34, {}, { opaque: 2 })), "json-syntax", 0);
    const { values, error } = await pipe(new RemotingDecoderStream(), [concat([good, bad, good])]);
    assert.equal(values.length, 1);
    assert.ok(error instanceof CodecError);
    assert.equal(error.opaque, 2);
  });

  it("errors in the length field end the stream even with onInvalidFrame", async () => {
    const reported: CodecError[] = [];
    const good = encodeCommand(createRequest(34, {}, { opaque: 1 }));
    const { values, error } = await pipe(
      new RemotingDecoderStream({ onInvalidFrame: (e) => reported.push(e), maxFrameSize: 1024 }),
      [concat([good, new Uint8Array([0, 0, 0x10, 0]), good])],
    );
    assert.equal(values.length, 1);
    assert.ok(error instanceof FrameTooLargeError);
    assert.deepEqual(reported, []);
  });
});
