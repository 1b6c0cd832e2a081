/**
 * Remoting frames: `length (int) | headerWord (int: serialize type << 24 |
 * header length) | header | body`, where `length` counts every byte after
 * itself.
 *
 * @example Round trip
 * ```ts
 * import { decodeCommand, encodeCommand } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeCommand(createRequest(105, { topic: "T" }, { opaque: 1 }));
 * assert.equal(frame.length, 131);
 * assert.deepEqual(decodeCommand(frame).extFields, { topic: "T" });
 * ```
 *
 * @module
 */

import { CodecError, FrameTooLargeError, InvalidArgumentError } from "../errors.ts";
import { SerializeType } from "./codes.ts";
import { decodeJsonHeader, encodeJsonHeader } from "./header_json.ts";
import { decodeRocketMQHeader, encodeRocketMQHeader } from "./header_rocketmq.ts";
import { jsonHeaderText, rocketMQHeaderBound, writeRocketMQHeader } from "./_header_write.ts";
import { utf8Write } from "./_utf8.ts";
import type { RemotingCommand } from "./remoting_command.ts";

/**
 * The largest frame accepted by default, length field included: 16 MiB, as
 * Java's `NettyDecoder` (`com.rocketmq.remoting.frameMaxLength`).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FRAME_SIZE, readFrameLength } from "./frame.ts";
 * import { FrameTooLargeError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_FRAME_SIZE, 16_777_216);
 * // The length field counts the bytes after it: 16 MiB - 4 is the largest accepted.
 * assert.equal(readFrameLength(new Uint8Array([0x00, 0xff, 0xff, 0xfc]), 0, DEFAULT_MAX_FRAME_SIZE), 16_777_212);
 * assert.throws(() => readFrameLength(new Uint8Array([0x00, 0xff, 0xff, 0xfd]), 0, DEFAULT_MAX_FRAME_SIZE), FrameTooLargeError);
 * ```
 */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/**
 * Options of {@linkcode encodeCommand}.
 *
 * @example
 * ```ts
 * import { encodeCommand, type EncodeOptions } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import { FrameTooLargeError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const options: EncodeOptions = { maxFrameSize: 1024 };
 * const big = createRequest(310, {}, { body: new Uint8Array(2000) });
 * assert.throws(() => encodeCommand(big, options), FrameTooLargeError);
 * ```
 */
export interface EncodeOptions {
  /**
   * Largest frame to produce, length field included.
   * @default {DEFAULT_MAX_FRAME_SIZE}
   */
  maxFrameSize?: number;
}

/**
 * Encode a command as one frame, length field included, in the command's
 * `serializeType`.
 *
 * @param command The command.
 * @param options Size limit.
 * @returns The frame bytes.
 * @throws {InvalidArgumentError} When the header cannot be represented.
 * @throws {FrameTooLargeError} When the frame would exceed `maxFrameSize`.
 *
 * @example Binary header
 * ```ts
 * import { encodeCommand } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import { SerializeType } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeCommand(createRequest(105, { topic: "T" }, { opaque: 1, serializeType: SerializeType.ROCKETMQ }));
 * assert.equal(frame.length, 41);
 * assert.deepEqual([...frame.subarray(0, 8)], [0, 0, 0, 0x25, 1, 0, 0, 0x21]);
 * ```
 */
export function encodeCommand(command: RemotingCommand, options: EncodeOptions = {}): Uint8Array {
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  const header = command.serializeType === SerializeType.ROCKETMQ
    ? encodeRocketMQHeader(command)
    : encodeJsonHeader(command);
  if (header.length > 0xffffff) {
    throw new InvalidArgumentError("header", `header of ${header.length} bytes exceeds 16 MiB`);
  }
  const body = command.body;
  const size = 8 + header.length + body.length;
  if (size > maxFrameSize) throw new FrameTooLargeError(size, maxFrameSize);
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  view.setInt32(0, size - 4);
  view.setUint32(4, ((command.serializeType & 0xff) << 24 | header.length) >>> 0);
  frame.set(header, 8);
  frame.set(body, 8 + header.length);
  return frame;
}

/**
 * Encodes commands back to back into one growing buffer and hands them out as
 * one chunk: what a connection writes in one go. Headers are written straight
 * into the buffer, so a frame costs no allocation of its own; {@linkcode
 * FrameEncoder.take} makes the one exact-size copy the transport then owns.
 *
 * @example Two frames, one chunk
 * ```ts
 * import { decodeCommand, encodeCommand, FrameEncoder } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import { SerializeType } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const a = createRequest(105, { topic: "T" }, { opaque: 1 });
 * const b = createRequest(105, { topic: "T" }, { opaque: 2, serializeType: SerializeType.ROCKETMQ });
 * const encoder = new FrameEncoder();
 * encoder.append(a);
 * encoder.append(b);
 * assert.equal(encoder.frameCount, 2);
 * const chunk = encoder.take();
 * assert.deepEqual(chunk, new Uint8Array([...encodeCommand(a), ...encodeCommand(b)]));
 * assert.equal(decodeCommand(chunk.subarray(131)).opaque, 2);
 * assert.equal(encoder.byteLength, 0);
 * ```
 */
export class FrameEncoder {
  readonly #maxFrameSize: number;
  #buffer: Uint8Array;
  #length = 0;
  #frames = 0;

  /**
   * Create an empty encoder.
   *
   * @param options Size limit of each frame.
   */
  constructor(options: EncodeOptions = {}) {
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    // No buffer while nothing is pending: an idle connection holds none.
    this.#buffer = NO_BUFFER;
  }

  /** Bytes encoded and not yet taken. */
  get byteLength(): number {
    return this.#length;
  }

  /** Frames encoded and not yet taken. */
  get frameCount(): number {
    return this.#frames;
  }

  /**
   * Append a command as one frame, in its `serializeType`. On a throw nothing
   * is appended.
   *
   * @param command The command.
   * @returns The size of the frame, length field included.
   * @throws {InvalidArgumentError} When the header cannot be represented.
   * @throws {FrameTooLargeError} When the frame would exceed `maxFrameSize`.
   */
  append(command: RemotingCommand): number {
    const start = this.#length;
    const body = command.body;
    let headerLength: number;
    if (command.serializeType === SerializeType.ROCKETMQ) {
      this.#reserve(8 + rocketMQHeaderBound(command) + body.length);
      headerLength = writeRocketMQHeader(command, this.#buffer, start + 8);
    } else {
      const text = jsonHeaderText(command);
      this.#reserve(8 + 3 * text.length + body.length);
      headerLength = utf8Write(text, this.#buffer, start + 8);
    }
    if (headerLength > 0xffffff) {
      throw new InvalidArgumentError("header", `header of ${headerLength} bytes exceeds 16 MiB`);
    }
    const size = 8 + headerLength + body.length;
    if (size > this.#maxFrameSize) throw new FrameTooLargeError(size, this.#maxFrameSize);
    const out = this.#buffer;
    writeInt(out, start, size - 4);
    writeInt(out, start + 4, (command.serializeType & 0xff) << 24 | headerLength);
    out.set(body, start + 8 + headerLength);
    this.#length = start + size;
    this.#frames++;
    return size;
  }

  /**
   * Take everything appended so far as one new array of exactly its size,
   * and start over.
   *
   * @returns The frames, back to back.
   */
  take(): Uint8Array {
    const chunk = this.#buffer.slice(0, this.#length);
    this.#length = 0;
    this.#frames = 0;
    const buffer = this.#buffer;
    if (buffer.length === INITIAL_CAPACITY) {
      // The common case: hand the scratch buffer to the next encoder that
      // needs one, so thousands of mostly idle connections share a few.
      if (SPARE_BUFFERS.length < MAX_SPARE_BUFFERS) SPARE_BUFFERS.push(buffer);
      this.#buffer = NO_BUFFER;
    } else if (buffer.length > MAX_KEPT_CAPACITY) {
      // A big frame made the buffer grow: do not keep it for the small ones.
      this.#buffer = NO_BUFFER;
    }
    // A buffer grown for batches up to 1 MiB stays: its connection is busy.
    return chunk;
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    if (this.#buffer.length === 0 && needed <= INITIAL_CAPACITY) {
      this.#buffer = SPARE_BUFFERS.pop() ?? new Uint8Array(INITIAL_CAPACITY);
      return;
    }
    let capacity = Math.max(this.#buffer.length * 2, INITIAL_CAPACITY);
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}

const INITIAL_CAPACITY = 16 * 1024;
const MAX_KEPT_CAPACITY = 1024 * 1024;
const NO_BUFFER: Uint8Array = new Uint8Array(0);
// Scratch buffers free for any encoder: at most 64 x 16 KiB = 1 MiB.
const MAX_SPARE_BUFFERS = 64;
const SPARE_BUFFERS: Uint8Array[] = [];

function writeInt(out: Uint8Array, pos: number, value: number): void {
  out[pos] = value >>> 24;
  out[pos + 1] = value >>> 16;
  out[pos + 2] = value >>> 8;
  out[pos + 3] = value;
}

/**
 * Decode the payload of a frame: the bytes after the length field (header
 * word, header, body). The body of the result is a view into `payload`, not a
 * copy.
 *
 * @param payload The frame without its length field.
 * @returns The command.
 * @throws {CodecError} When the payload is malformed. Framing is intact in
 * that case (the length field was valid), so a reader may skip the frame;
 * `opaque` is set on the error when it could be read.
 *
 * @example
 * ```ts
 * import { decodePayload, encodeCommand } from "./frame.ts";
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeCommand(createRequest(34, {}, { body: new Uint8Array([1, 2]) }));
 * assert.deepEqual(decodePayload(frame.subarray(4)).body, new Uint8Array([1, 2]));
 * ```
 */
export function decodePayload(payload: Uint8Array): RemotingCommand {
  if (payload.length < 4) {
    throw new CodecError("frame", `frame of ${payload.length + 4} bytes has no header-length word`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const word = view.getUint32(0);
  const type = word >>> 24;
  const headerLength = word & 0xffffff;
  if (headerLength > payload.length - 4) {
    throw new CodecError(
      "frame",
      `header length ${headerLength} exceeds the ${payload.length - 4} bytes of the frame`,
    );
  }
  const headerBytes = payload.subarray(4, 4 + headerLength);
  let serializeType: SerializeType;
  let header;
  if (type === SerializeType.JSON) {
    serializeType = SerializeType.JSON;
    header = decodeJsonHeader(headerBytes);
  } else if (type === SerializeType.ROCKETMQ) {
    serializeType = SerializeType.ROCKETMQ;
    header = decodeRocketMQHeader(headerBytes);
  } else {
    throw new CodecError("frame", `unknown serialize type ${type}`);
  }
  // The header object is new and ours: completing it costs less than a copy.
  const command = header as RemotingCommand;
  command.body = payload.subarray(4 + headerLength);
  command.serializeType = serializeType;
  return command;
}

/**
 * Decode one complete frame, length field included. The body of the result
 * is a view into `frame`.
 *
 * @param frame The frame bytes.
 * @param maxFrameSize Largest frame accepted, length field included.
 * @returns The command.
 * @throws {FrameTooLargeError} When the declared length exceeds the maximum.
 * @throws {CodecError} When the frame is truncated, has trailing bytes, or is
 * malformed.
 *
 * @example
 * ```ts
 * import { decodeCommand } from "./frame.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => decodeCommand(new Uint8Array([0, 0, 0, 9, 0])), CodecError);
 * ```
 */
export function decodeCommand(
  frame: Uint8Array,
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
): RemotingCommand {
  const length = readFrameLength(frame, 0, maxFrameSize);
  if (frame.length !== length + 4) {
    throw new CodecError(
      "frame",
      `frame declares ${length + 4} bytes but ${frame.length} are present`,
    );
  }
  return decodePayload(frame.subarray(4));
}

/**
 * Read and check a frame's length field at `offset`: the number of bytes that
 * follow it. Exposed for stream decoders.
 *
 * @param bytes Bytes holding at least 4 bytes from `offset`.
 * @param offset Where the length field starts.
 * @param maxFrameSize Largest frame accepted, length field included.
 * @returns The length of the payload that follows the field.
 * @throws {FrameTooLargeError} When the frame exceeds `maxFrameSize`.
 * @throws {CodecError} When the length is negative, below the 4-byte minimum,
 * or fewer than 4 bytes are present.
 *
 * @example
 * ```ts
 * import { readFrameLength } from "./frame.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(readFrameLength(new Uint8Array([0, 0, 1, 0]), 0, 1024), 256);
 * ```
 */
export function readFrameLength(bytes: Uint8Array, offset: number, maxFrameSize: number): number {
  if (bytes.length - offset < 4) {
    throw new CodecError("frame", "frame shorter than its 4-byte length field");
  }
  const length = (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) |
    bytes[offset + 3]!;
  if (length < 4) throw new CodecError("frame", `invalid frame length ${length}`);
  if (length + 4 > maxFrameSize) throw new FrameTooLargeError(length + 4, maxFrameSize);
  return length;
}
