/**
 * A `TransformStream` from bytes, chunked in any way, to remoting commands.
 *
 * @example Decode frames from a byte stream
 * ```ts
 * import { RemotingDecoderStream } from "./remoting_decoder_stream.ts";
 * import { encodeCommand } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeCommand(createRequest(105, { topic: "T" }, { opaque: 1 }));
 * const chunks = [frame.subarray(0, 3), frame.subarray(3, 50), frame.subarray(50)];
 * const commands = await Array.fromAsync(
 *   ReadableStream.from(chunks).pipeThrough(new RemotingDecoderStream()),
 * );
 * assert.equal(commands.length, 1);
 * assert.equal(commands[0]!.extFields.topic, "T");
 * ```
 *
 * @module
 */

import { CodecError } from "../errors.ts";
import { decodePayload, DEFAULT_MAX_FRAME_SIZE, readFrameLength } from "./frame.ts";
import type { RemotingCommand } from "./remoting_command.ts";

/**
 * Options of {@linkcode RemotingDecoderStream}.
 *
 * @example Skip a frame with a bad header
 * ```ts
 * import { RemotingDecoderStream, type RemotingDecoderStreamOptions } from "./remoting_decoder_stream.ts";
 * import { encodeCommand } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import type { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const bad = encodeCommand(createRequest(105, {}, { opaque: 1 }));
 * bad[4] = 9; // serialize type 9 does not exist
 * const good = encodeCommand(createRequest(105, {}, { opaque: 2 }));
 * const skipped: CodecError[] = [];
 * const options: RemotingDecoderStreamOptions = { maxFrameSize: 4096, onInvalidFrame: (e) => skipped.push(e) };
 * const commands = await Array.fromAsync(ReadableStream.from([bad, good]).pipeThrough(new RemotingDecoderStream(options)));
 * assert.deepEqual(commands.map((c) => c.opaque), [2]);
 * assert.equal(skipped[0]?.reason, "frame");
 * ```
 */
export interface RemotingDecoderStreamOptions {
  /**
   * Largest frame accepted, length field included. A larger declared length
   * errors the stream before any memory is allocated for the frame.
   * @default {DEFAULT_MAX_FRAME_SIZE}
   */
  maxFrameSize?: number;
  /**
   * Called for a frame whose length was valid but whose content is not (bad
   * header, unknown serialize type). The frame is skipped and decoding goes
   * on, since framing is intact. Without this option such a frame errors the
   * stream. Errors in the length field itself always error the stream.
   */
  onInvalidFrame?: (error: CodecError) => void;
}

/**
 * Splits a byte stream into frame payloads (the bytes after each length
 * field). A payload that lies within one chunk is a view into that chunk;
 * otherwise it is assembled in a buffer of exactly its size, allocated only
 * after the length has been checked.
 */
class FrameSplitter {
  readonly #maxFrameSize: number;
  readonly #lengthBytes = new Uint8Array(4);
  #lengthHave = 0;
  #payload: Uint8Array | undefined;
  #payloadHave = 0;

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
  }

  /** Bytes buffered for an incomplete frame. */
  get buffered(): number {
    return this.#payload ? 4 + this.#payloadHave : this.#lengthHave;
  }

  push(chunk: Uint8Array, emit: (payload: Uint8Array) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      const payload = this.#payload;
      if (payload) {
        const n = Math.min(chunk.length - pos, payload.length - this.#payloadHave);
        payload.set(chunk.subarray(pos, pos + n), this.#payloadHave);
        this.#payloadHave += n;
        pos += n;
        if (this.#payloadHave === payload.length) {
          this.#payload = undefined;
          this.#payloadHave = 0;
          emit(payload);
        }
        continue;
      }
      let length: number;
      if (this.#lengthHave === 0 && chunk.length - pos >= 4) {
        length = readFrameLength(chunk, pos, this.#maxFrameSize);
        pos += 4;
        if (chunk.length - pos >= length) {
          const view = chunk.subarray(pos, pos + length);
          pos += length;
          emit(view);
          continue;
        }
      } else {
        const n = Math.min(4 - this.#lengthHave, chunk.length - pos);
        this.#lengthBytes.set(chunk.subarray(pos, pos + n), this.#lengthHave);
        this.#lengthHave += n;
        pos += n;
        if (this.#lengthHave < 4) continue;
        this.#lengthHave = 0;
        length = readFrameLength(this.#lengthBytes, 0, this.#maxFrameSize);
      }
      this.#payload = new Uint8Array(length);
      this.#payloadHave = 0;
    }
  }
}

/**
 * Decodes bytes, pushed in chunks cut anywhere, into
 * {@linkcode RemotingCommand}s, synchronously: the engine of
 * {@linkcode RemotingDecoderStream}, for read loops that take chunks from a
 * `ReadableStream` themselves and want no extra stream stage per frame.
 *
 * Same rules as the stream: a bad length field or a frame above
 * `maxFrameSize` throws a {@linkcode CodecError} before anything is allocated
 * for it (the decoder is then unusable); a malformed frame goes to
 * `onInvalidFrame` when given, and throws otherwise; bodies of frames that lie
 * within one chunk are views into that chunk.
 *
 * @example Feed chunks, collect commands
 * ```ts
 * import { RemotingDecoder } from "./remoting_decoder_stream.ts";
 * import { encodeCommand } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeCommand(createRequest(105, { topic: "T" }, { opaque: 7 }));
 * const decoder = new RemotingDecoder();
 * const opaques: number[] = [];
 * decoder.push(frame.subarray(0, 10), (c) => opaques.push(c.opaque));
 * assert.equal(decoder.buffered, 10);
 * decoder.push(frame.subarray(10), (c) => opaques.push(c.opaque));
 * decoder.end(); // throws if the input stopped inside a frame
 * assert.deepEqual(opaques, [7]);
 * ```
 */
export class RemotingDecoder {
  readonly #splitter: FrameSplitter;
  readonly #onInvalidFrame: ((error: CodecError) => void) | undefined;

  /**
   * Create the decoder.
   *
   * @param options Size limit and handling of malformed frames.
   */
  constructor(options: RemotingDecoderStreamOptions = {}) {
    this.#splitter = new FrameSplitter(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    this.#onInvalidFrame = options.onInvalidFrame;
  }

  /** Bytes held for a frame that has not arrived in full. */
  get buffered(): number {
    return this.#splitter.buffered;
  }

  /**
   * Decode a chunk; `onCommand` is called for every frame it completes, in
   * order, before `push` returns.
   *
   * @param chunk The next bytes of the stream; not copied, so not to be
   * reused by the caller.
   * @param onCommand Receives each decoded command.
   * @throws {CodecError} On a bad length field, an oversized frame, or a
   * malformed frame without `onInvalidFrame`.
   */
  push(chunk: Uint8Array, onCommand: (command: RemotingCommand) => void): void {
    const onInvalidFrame = this.#onInvalidFrame;
    this.#splitter.push(chunk, (payload) => {
      let command: RemotingCommand;
      try {
        command = decodePayload(payload);
      } catch (err) {
        if (onInvalidFrame && err instanceof CodecError) {
          onInvalidFrame(err);
          return;
        }
        throw err;
      }
      onCommand(command);
    });
  }

  /**
   * Declare the end of the input.
   *
   * @throws {CodecError} When the input ended inside a frame.
   */
  end(): void {
    const buffered = this.#splitter.buffered;
    if (buffered > 0) {
      throw new CodecError("frame", `stream ended inside a frame (${buffered} bytes buffered)`);
    }
  }
}

/**
 * Decodes a stream of bytes, chunked in any way (a frame split over many
 * chunks, many frames in one chunk), into {@linkcode RemotingCommand}s.
 *
 * Bodies of frames that arrive within one chunk are views into that chunk,
 * so producers of chunks must not reuse their buffers.
 *
 * The stream errors with a {@linkcode CodecError} on a bad length field, on
 * a frame above `maxFrameSize` (before allocating for it), on a malformed
 * frame unless `onInvalidFrame` is given, and when the input ends inside a
 * frame.
 *
 * @example Skip malformed frames, keep decoding
 * ```ts
 * import { RemotingDecoderStream } from "./remoting_decoder_stream.ts";
 * import { encodeCommand } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import { concat } from "../bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const bad = new Uint8Array([0, 0, 0, 5, 0, 0, 0, 1, 0x7b]); // JSON header "{"
 * const good = encodeCommand(createRequest(34, {}, { opaque: 2 }));
 * const skipped: number[] = [];
 * const stream = new RemotingDecoderStream({ onInvalidFrame: (e) => skipped.push(e.opaque ?? -1) });
 * const out = await Array.fromAsync(ReadableStream.from([concat([bad, good])]).pipeThrough(stream));
 * assert.equal(out.length, 1);
 * assert.deepEqual(skipped, [-1]);
 * ```
 */
export class RemotingDecoderStream extends TransformStream<Uint8Array, RemotingCommand> {
  /**
   * Create the decoder.
   *
   * @param options Size limit and handling of malformed frames.
   */
  constructor(options: RemotingDecoderStreamOptions = {}) {
    const decoder = new RemotingDecoder(options);
    super({
      transform(chunk, controller) {
        decoder.push(chunk, (command) => controller.enqueue(command));
      },
      flush() {
        decoder.end();
      },
    });
  }
}
