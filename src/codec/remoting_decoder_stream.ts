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

/** Pieces of a frame at least this long are kept as they arrived; shorter ones are copied together. */
const KEEP_PIECE = 1024;
/** Most bytes of short pieces copied into one buffer. */
const MAX_GATHER = 64 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * Splits a byte stream into frame payloads (the bytes after each length
 * field). A payload that lies within one chunk is a view into that chunk.
 * Otherwise the pieces that arrive are kept (short ones copied together into
 * a buffer that doubles as they come) and copied into one buffer of the
 * payload's size once the last piece is in: what is held for a frame in
 * progress grows with the bytes received, never with the length declared,
 * so a peer that announces 16 MiB and sends 1 KiB makes us hold about 1 KiB.
 * Costs as before: one allocation and one copy per frame that spans chunks
 * (short pieces are copied twice); none for a frame within one chunk.
 */
class FrameSplitter {
  readonly #maxFrameSize: number;
  readonly #lengthBytes = new Uint8Array(4);
  #lengthHave = 0;
  /** Declared payload length of the frame in progress; -1 between frames. */
  #payloadLength = -1;
  /** Bytes of the frame in progress received so far. */
  #payloadHave = 0;
  /** Pieces received, in order (views of chunks, or of filled gather buffers). */
  #pieces: Uint8Array[] = [];
  /** Where short pieces are copied together; `#gathered` bytes of it are used. */
  #gather: Uint8Array = EMPTY;
  #gathered = 0;

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
  }

  /** Bytes buffered for an incomplete frame. */
  get buffered(): number {
    return this.#payloadLength >= 0 ? 4 + this.#payloadHave : this.#lengthHave;
  }

  push(chunk: Uint8Array, emit: (payload: Uint8Array) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#payloadLength >= 0) {
        const n = Math.min(chunk.length - pos, this.#payloadLength - this.#payloadHave);
        this.#keep(chunk.subarray(pos, pos + n));
        pos += n;
        if (this.#payloadHave === this.#payloadLength) emit(this.#assemble());
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
      this.#payloadLength = length;
      this.#payloadHave = 0;
    }
  }

  /** Hold a piece of the frame in progress. */
  #keep(piece: Uint8Array): void {
    this.#payloadHave += piece.length;
    if (piece.length >= KEEP_PIECE) {
      this.#sealGather();
      this.#pieces.push(piece);
      return;
    }
    let gather = this.#gather;
    if (this.#gathered + piece.length > gather.length) {
      if (this.#gathered + piece.length > MAX_GATHER) {
        this.#sealGather();
        gather = EMPTY;
      }
      // Double as bytes come, never beyond what the frame still needs.
      const used = this.#gathered;
      const grown = new Uint8Array(
        Math.min(
          Math.max(2 * gather.length, used + piece.length, KEEP_PIECE),
          used + piece.length + this.#payloadLength - this.#payloadHave,
          MAX_GATHER,
        ),
      );
      grown.set(gather.subarray(0, used));
      this.#gather = gather = grown;
    }
    gather.set(piece, this.#gathered);
    this.#gathered += piece.length;
  }

  #sealGather(): void {
    if (this.#gathered === 0) return;
    this.#pieces.push(this.#gather.subarray(0, this.#gathered));
    this.#gather = EMPTY;
    this.#gathered = 0;
  }

  /** The completed payload, in one buffer of its size; resets for the next frame. */
  #assemble(): Uint8Array {
    this.#sealGather();
    const pieces = this.#pieces;
    let payload: Uint8Array;
    if (pieces.length === 1) payload = pieces[0]!;
    else {
      payload = new Uint8Array(this.#payloadLength);
      let at = 0;
      for (const piece of pieces) {
        payload.set(piece, at);
        at += piece.length;
      }
    }
    this.#pieces = [];
    this.#payloadLength = -1;
    this.#payloadHave = 0;
    return payload;
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
