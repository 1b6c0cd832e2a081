/**
 * A remoting connection: a {@linkcode Transport} turned into a stream of
 * {@linkcode RemotingCommand}s in both directions. It correlates responses to
 * requests by opaque, times calls out, answers incoming requests through a
 * handler, and coalesces the frames of one event-loop turn into one write.
 *
 * Used by both sides: the client calls brokers and name servers and serves
 * the broker's pushes (RIP-16 replies, rebalance notifications); the broker
 * serves clients and pushes to them.
 *
 * @example A request and its answer over an in-memory pair
 * ```ts
 * import { RemotingConnection } from "./connection.ts";
 * import { memoryPair } from "../transport/memory.ts";
 * import { createRequest, createResponse } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = memoryPair();
 * const server = new RemotingConnection(b, {
 *   onRequest: (req) => createResponse(req, 0, { echo: req.extFields.topic }),
 * });
 * const client = new RemotingConnection(a);
 * const res = await client.invoke(createRequest(105, { topic: "T" }), { timeout: 1000 });
 * assert.equal(res.extFields.echo, "T");
 * await client.close();
 * await server.closed;
 * ```
 *
 * @module
 */

import {
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  RemotingTimeoutError,
} from "../errors.ts";
import { CommandFlag, ResponseCode, SerializeType } from "../codec/codes.ts";
import { fitsRocketMQHeader } from "../codec/header_rocketmq.ts";
import { DEFAULT_MAX_FRAME_SIZE, FrameEncoder } from "../codec/frame.ts";
import {
  createResponse,
  isOneway,
  isResponse,
  type RemotingCommand,
} from "../codec/remoting_command.ts";
import { RemotingDecoder } from "../codec/remoting_decoder_stream.ts";
import type { Transport } from "../transport/types.ts";
import { type PendingStats, PendingTable } from "./pending.ts";
import { systemTimers, type Timers } from "./timers.ts";

/**
 * Answers an incoming request. Return the response, or `undefined` to send
 * nothing (oneway requests are never answered, whatever is returned). A
 * throw becomes a `SYSTEM_ERROR` response with the error's message.
 */
export type RequestHandler = (
  request: RemotingCommand,
  connection: RemotingConnection,
) => RemotingCommand | undefined | Promise<RemotingCommand | undefined>;

/** Options of {@linkcode RemotingConnection}. */
export interface RemotingConnectionOptions {
  /** Label of the peer for errors and logs. Defaults to the transport's remote address. */
  address?: string;
  /**
   * Largest frame accepted or sent, length field included.
   * @default {DEFAULT_MAX_FRAME_SIZE}
   */
  maxFrameSize?: number;
  /** Answers incoming requests. Without it, every request gets REQUEST_CODE_NOT_SUPPORTED. */
  onRequest?: RequestHandler;
  /**
   * Called for a frame whose content is malformed while framing is intact and
   * no pending call of ours has its opaque. Without it the connection is
   * closed with the error.
   */
  onInvalidFrame?: (error: CodecError, connection: RemotingConnection) => void;
  /**
   * Bytes shared by connections for frames still arriving, beyond the first
   * {@linkcode FREE_PARTIAL_FRAME_BYTES} of each: when the budget refuses,
   * the connection closes with a {@linkcode ConnectionError}. A server's
   * defence against peers that start large frames on many connections at
   * once. Without it, what a connection holds is bounded by `maxFrameSize`
   * only.
   */
  frameBudget?: FrameBudget;
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /**
   * Header serialization of the requests this side starts: a type, or
   * `"peer"` for the type of the last command the peer sent (JSON before
   * it sent any). A command the binary `ROCKETMQ` header cannot carry (see
   * {@linkcode fitsRocketMQHeader}) goes in JSON. Responses always take
   * their request's type. Without it, requests keep their own type.
   */
  serializeType?: SerializeType | "peer";
}

/**
 * Bytes of a frame still arriving that a connection holds without taking
 * them from its {@linkcode FrameBudget}: small frames split across reads
 * never touch the budget.
 *
 * @example
 * ```ts
 * import { FREE_PARTIAL_FRAME_BYTES } from "./connection.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FREE_PARTIAL_FRAME_BYTES, 65536);
 * ```
 */
export const FREE_PARTIAL_FRAME_BYTES = 64 * 1024;

/**
 * A pool of bytes that connections draw from while a frame arrives (see
 * {@linkcode RemotingConnectionOptions.frameBudget}).
 *
 * @example A pool of 1 MiB shared by a server's connections
 * ```ts
 * import type { FrameBudget } from "./connection.ts";
 * import assert from "node:assert/strict";
 *
 * let left = 1024 * 1024;
 * const budget: FrameBudget = {
 *   take: (bytes) => bytes <= left && (left -= bytes, true),
 *   give: (bytes) => void (left += bytes),
 * };
 * assert.equal(budget.take(1000), true);
 * assert.equal(budget.take(1024 * 1024), false);
 * budget.give(1000);
 * assert.equal(left, 1024 * 1024);
 * ```
 */
export interface FrameBudget {
  /** Take `bytes` more; `false`, taking nothing, when fewer are left. */
  take(bytes: number): boolean;
  /** Give back `bytes` taken earlier. */
  give(bytes: number): void;
}

/** Options of one call. */
export interface InvokeOptions {
  /** Milliseconds to wait for the response. */
  timeout: number;
  /** Abandons the wait (the request may still have been processed). */
  signal?: AbortSignal | undefined;
}

/** Counters of a connection. */
export interface ConnectionStats extends PendingStats {
  /** Frames written. */
  framesOut: number;
  /** Frames read. */
  framesIn: number;
  /** Write calls made on the transport (frames are coalesced). */
  writes: number;
}

/** Frames that go out in one transport write. */
interface Batch {
  /** The frames, once sealed (until then they are in the encoder). */
  chunk: Uint8Array | undefined;
  /** Created only for callers that wait for the write (`send`, `invokeOneway`). */
  written: Promise<void> | undefined;
  resolve: (() => void) | undefined;
  reject: ((err: unknown) => void) | undefined;
  /** Opaque of the last call (`invoke`) encoded into the batch, if any. */
  lastOpaque: number | undefined;
}

const MAX_COALESCED_BYTES = 256 * 1024;

/**
 * Runs `fn` once the current event-loop turn is over: after every microtask
 * that is already queued, and every I/O callback of this turn in Node. A
 * response produced by an async handler a few microtasks after the request
 * was read, and the other frames of the turn, thus join one write: on
 * loopback a write costs about as much as the work of answering a request
 * (the kernel delivers the bytes and wakes the reader inside the call).
 * `setImmediate` exists in Deno, Bun and Node; elsewhere frames are
 * coalesced within the tick only.
 */
const afterTurn: (fn: () => void) => void = typeof globalThis.setImmediate === "function"
  ? (fn) => void globalThis.setImmediate(fn)
  : (fn) => queueMicrotask(fn);

/**
 * A remoting connection over one transport.
 *
 * @example Oneway requests get no answer
 * ```ts
 * import { RemotingConnection } from "./connection.ts";
 * import { memoryPair } from "../transport/memory.ts";
 * import { createOneway } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = memoryPair();
 * const seen: number[] = [];
 * const server = new RemotingConnection(b, { onRequest: (req) => { seen.push(req.code); return undefined; } });
 * const client = new RemotingConnection(a);
 * await client.invokeOneway(createOneway(15, { consumerGroup: "g" }));
 * await new Promise((r) => setTimeout(r, 10));
 * assert.deepEqual(seen, [15]);
 * await client.close();
 * await server.close();
 * ```
 */
export class RemotingConnection {
  /** Label of the peer (`host:port`). */
  readonly address: string;
  /** The underlying transport. */
  readonly transport: Transport;
  /** Resolves once the connection is closed, with the error that closed it, if any. */
  readonly closed: Promise<Error | undefined>;

  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending: PendingTable<number, RemotingCommand>;
  readonly #options: RemotingConnectionOptions;
  readonly #maxFrameSize: number;
  readonly #timers: Timers;
  #resolveClosed!: (error: Error | undefined) => void;
  #closeError: Error | undefined;
  #isClosed = false;
  #nextOpaque = 1;
  /**
   * Opaque of the last call whose frame the transport accepted (its batch's
   * write resolved): calls up to it may have been processed by the peer,
   * later ones cannot have been (see `#shutdown`).
   */
  #writtenOpaque: number | undefined;
  /** The header serialization the peer last used. */
  #peerType: SerializeType = SerializeType.JSON;
  readonly #encoder: FrameEncoder;
  /** The batch frames are being encoded into. */
  #batch: Batch | undefined;
  /** Sealed batches, in write order. */
  readonly #queue: Batch[] = [];
  /** A flush is scheduled or under way: frames enqueued now will be written by it. */
  #writing = false;
  #lastActivity: number;
  #frameSince: number | undefined;
  /** Bytes taken from the frame budget. */
  #charged = 0;
  #stats = { framesOut: 0, framesIn: 0, writes: 0 };

  /**
   * @param transport A connected transport; the connection owns it from now on.
   * @param options Handlers, limits and timers.
   */
  constructor(transport: Transport, options: RemotingConnectionOptions = {}) {
    this.transport = transport;
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#encoder = new FrameEncoder({ maxFrameSize: this.#maxFrameSize });
    const remote = transport.remoteAddr;
    this.address = options.address ??
      (remote ? formatAddress(remote.hostname, remote.port) : "unknown");
    this.#pending = new PendingTable({ timers: this.#timers });
    this.#lastActivity = this.#timers.now();
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#writer = transport.writable.getWriter();
    // The writable errors when the connection goes away (a clean remote close
    // included, which is not a failure); the read loop notices it too.
    this.#writer.closed.catch((err) =>
      this.#shutdown(err instanceof ConnectionClosedError ? undefined : asError(err))
    );
    void this.#readLoop();
  }

  /** Whether the connection is closed or closing. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Calls waiting for their response. */
  get pendingCalls(): number {
    return this.#pending.size;
  }

  /** Time of the last frame read or written (ms since the epoch). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /**
   * When the frame being received began to arrive (ms since the epoch, on the
   * connection's clock), or `undefined` between frames. A server closes
   * connections whose frame takes too long (a peer that trickles bytes).
   */
  get partialFrameSince(): number | undefined {
    return this.#frameSince;
  }

  /** A snapshot of the counters. */
  get stats(): ConnectionStats {
    return { ...this.#pending.stats, ...this.#stats };
  }

  /**
   * Send a request and wait for its response. The request's `opaque` and
   * flag are set here. The response is returned whatever its code; callers
   * map non-success codes to errors.
   *
   * @param request The request.
   * @param options Timeout and abort signal.
   * @returns The response.
   * @throws {RemotingTimeoutError} When no response came in time.
   * @throws {ConnectionClosedError} When the connection closed first.
   */
  invoke(request: RemotingCommand, options: InvokeOptions): Promise<RemotingCommand> {
    if (this.#isClosed) {
      return Promise.reject(
        new ConnectionClosedError(this.address, { cause: this.#closeError, unsent: true }),
      );
    }
    const opaque = this.#allocateOpaque();
    request.opaque = opaque;
    request.flag &= ~(CommandFlag.RESPONSE | CommandFlag.ONEWAY);
    this.#chooseType(request);
    try {
      // A frame that cannot be written fails the call through the shutdown
      // that a failed write always causes (rejectAll with ConnectionClosedError).
      this.#enqueue(request).lastOpaque = opaque;
    } catch (err) {
      return Promise.reject(err);
    }
    const code = request.code;
    return this.#pending.add(opaque, {
      timeout: options.timeout,
      signal: options.signal,
      onTimeout: () => new RemotingTimeoutError(this.address, code, options.timeout),
    });
  }

  /**
   * Send a oneway request: resolves once the frame was handed to the
   * transport; no answer is expected.
   *
   * @param request The request.
   * @returns Resolves when written.
   * @throws {ConnectionClosedError} When the connection is closed.
   */
  invokeOneway(request: RemotingCommand): Promise<void> {
    if (this.#isClosed) {
      return Promise.reject(new ConnectionClosedError(this.address, { cause: this.#closeError }));
    }
    request.opaque = this.#allocateOpaque();
    request.flag = (request.flag | CommandFlag.ONEWAY) & ~CommandFlag.RESPONSE;
    this.#chooseType(request);
    try {
      return this.#written(this.#enqueue(request));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Write a command as is (for example a response built elsewhere).
   *
   * @param command The command.
   * @returns Resolves when written.
   * @throws {ConnectionClosedError} When the connection is closed.
   */
  send(command: RemotingCommand): Promise<void> {
    if (this.#isClosed) {
      return Promise.reject(new ConnectionClosedError(this.address, { cause: this.#closeError }));
    }
    try {
      return this.#written(this.#enqueue(command));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Close the connection: pending calls fail with
   * {@linkcode ConnectionClosedError}, queued writes are dropped.
   *
   * @param reason Why, kept as the `cause` of the errors given to pending calls.
   * @returns Resolves when the transport is closed.
   */
  async close(reason?: Error): Promise<void> {
    this.#shutdown(reason);
    await this.transport.closed;
    await this.closed;
  }

  /** `await using` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Applies the `serializeType` option to a request this side starts. */
  #chooseType(request: RemotingCommand): void {
    const wanted = this.#options.serializeType;
    if (wanted === undefined) return;
    const type = wanted === "peer" ? this.#peerType : wanted;
    request.serializeType = type === SerializeType.ROCKETMQ && fitsRocketMQHeader(request)
      ? SerializeType.ROCKETMQ
      : SerializeType.JSON;
  }

  #allocateOpaque(): number {
    const opaque = this.#nextOpaque;
    this.#nextOpaque = opaque >= 0x7fffffff ? 1 : opaque + 1;
    return opaque;
  }

  /**
   * Encode a command into the batch of the next write and return the batch.
   * Throws (and queues nothing) when the command cannot be encoded.
   */
  #enqueue(command: RemotingCommand): Batch {
    let batch = this.#batch;
    if (!batch) {
      batch = this.#batch = {
        chunk: undefined,
        written: undefined,
        resolve: undefined,
        reject: undefined,
        lastOpaque: undefined,
      };
    }
    this.#encoder.append(command);
    this.#stats.framesOut++;
    // Past the cap, the batch is sealed: the next frames start another write.
    if (this.#encoder.byteLength >= MAX_COALESCED_BYTES) this.#seal();
    if (!this.#writing) {
      this.#writing = true;
      afterTurn(() => void this.#flush());
    }
    return batch;
  }

  /** Moves the frames encoded so far into the write queue as one chunk. */
  #seal(): void {
    const batch = this.#batch;
    if (!batch || this.#encoder.frameCount === 0) return;
    this.#batch = undefined;
    batch.chunk = this.#encoder.take();
    this.#queue.push(batch);
  }

  /** A promise settled when the batch is written (or dropped). */
  #written(batch: Batch): Promise<void> {
    if (!batch.written) {
      batch.written = new Promise<void>((resolve, reject) => {
        batch.resolve = resolve;
        batch.reject = reject;
      });
      batch.written.catch(() => {}); // callers that care observe it; never an unhandled rejection
    }
    return batch.written;
  }

  /**
   * Write queued batches in order, once per event-loop turn (see
   * {@linkcode afterTurn}). Frames encoded while a write is under way go out
   * together in the next one, so a busy connection makes few, larger writes;
   * `writer.ready` carries the transport's backpressure.
   */
  async #flush(): Promise<void> {
    try {
      for (;;) {
        if (this.#queue.length === 0) this.#seal();
        const head = this.#queue[0];
        if (!head) break;
        try {
          await this.#writer.ready;
          if (this.#isClosed) {
            throw new ConnectionClosedError(this.address, { cause: this.#closeError });
          }
          this.#queue.shift();
          this.#stats.writes++;
          this.#lastActivity = this.#timers.now();
          const write = this.#writer.write(head.chunk!);
          if (head.lastOpaque !== undefined) {
            const opaque = head.lastOpaque;
            write.then(() => {
              this.#writtenOpaque = opaque;
            }, () => {});
          }
          if (head.written) {
            write.then(
              head.resolve,
              (err) => head.reject!(new ConnectionClosedError(this.address, { cause: err })),
            );
          } else {
            write.catch(() => {/* the writer errors, and the connection shuts down */});
          }
        } catch (err) {
          const error = err instanceof ConnectionClosedError
            ? err
            : new ConnectionClosedError(this.address, { cause: err });
          this.#dropQueued(error);
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Fails every batch not yet written. */
  #dropQueued(error: ConnectionClosedError): void {
    this.#seal();
    for (const batch of this.#queue.splice(0)) batch.reject?.(error);
  }

  async #readLoop(): Promise<void> {
    // The decoder runs inside this loop rather than as a pipeThrough stage:
    // one promise per chunk read instead of one per frame, and no second
    // stream's queue between the socket and the dispatch.
    // `completed`: a frame ended within the chunk being decoded, so a frame
    // still in progress after it began in that chunk.
    let completed = false;
    const decoder = new RemotingDecoder({
      maxFrameSize: this.#maxFrameSize,
      onInvalidFrame: (error) => {
        completed = true;
        this.#onInvalidFrame(error);
      },
    });
    const onCommand = (command: RemotingCommand): void => {
      completed = true;
      this.#stats.framesIn++;
      this.#dispatch(command);
    };
    let error: Error | undefined;
    try {
      const reader = this.transport.readable.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) {
            decoder.end();
            break;
          }
          const now = this.#timers.now();
          this.#lastActivity = now;
          completed = false;
          decoder.push(value, onCommand);
          const buffered = decoder.buffered;
          if (buffered === 0) this.#frameSince = undefined;
          else if (completed || this.#frameSince === undefined) this.#frameSince = now;
          if (this.#options.frameBudget && !this.#isClosed) this.#charge(buffered);
        }
      } finally {
        reader.releaseLock();
      }
    } catch (err) {
      error = asError(err);
    }
    this.#shutdown(error);
  }

  /** Take from (or give back to) the frame budget what a partial frame holds beyond the free part. */
  #charge(buffered: number): void {
    const budget = this.#options.frameBudget!;
    const charge = Math.max(0, buffered - FREE_PARTIAL_FRAME_BYTES);
    if (charge > this.#charged) {
      if (!budget.take(charge - this.#charged)) {
        throw new ConnectionError(
          this.address,
          `a frame still arriving holds ${buffered} bytes, more than the frame budget has left`,
        );
      }
    } else if (charge < this.#charged) budget.give(this.#charged - charge);
    this.#charged = charge;
  }

  #dispatch(command: RemotingCommand): void {
    this.#peerType = command.serializeType;
    if (isResponse(command)) {
      this.#pending.settle(command.opaque, command);
      return;
    }
    const handler = this.#options.onRequest;
    if (!handler) {
      this.#answer(
        command,
        createResponse(command, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, undefined, {
          remark: ` request type ${command.code} not supported`,
        }),
      );
      return;
    }
    let result: RemotingCommand | undefined | Promise<RemotingCommand | undefined>;
    try {
      result = handler(command, this);
    } catch (err) {
      this.#answerError(command, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.#answer(command, response),
        (err) => this.#answerError(command, err),
      );
    } else {
      this.#answer(command, result);
    }
  }

  #answer(request: RemotingCommand, response: RemotingCommand | undefined): void {
    if (!response || isOneway(request) || this.#isClosed) return;
    response.opaque = request.opaque;
    response.flag |= CommandFlag.RESPONSE;
    // Answer in the serialization the request came in (Java decodes both).
    response.serializeType =
      request.serializeType === SerializeType.ROCKETMQ && fitsRocketMQHeader(response)
        ? SerializeType.ROCKETMQ
        : SerializeType.JSON;
    try {
      this.#enqueue(response);
    } catch (err) {
      // A response that cannot be encoded (above maxFrameSize, say) becomes
      // SYSTEM_ERROR rather than silence that the caller would wait out.
      if (response.code !== ResponseCode.SYSTEM_ERROR) this.#answerError(request, err);
    }
  }

  #answerError(request: RemotingCommand, err: unknown): void {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.#answer(
      request,
      createResponse(request, ResponseCode.SYSTEM_ERROR, undefined, { remark: message }),
    );
  }

  #onInvalidFrame(error: CodecError): void {
    if (error.opaque !== undefined && this.#pending.reject(error.opaque, error)) return;
    if (this.#options.onInvalidFrame) {
      this.#options.onInvalidFrame(error, this);
      return;
    }
    this.#shutdown(error);
  }

  #shutdown(error: Error | undefined): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeError = error;
    if (this.#charged > 0) this.#options.frameBudget!.give(this.#charged);
    this.#charged = 0;
    // A call whose frame the transport never accepted cannot have been
    // processed (`unsent`: safe to send again); for the others it is unknown.
    // Opaques grow by one per call (wrapping at 2^31), and batches are
    // written in order, so "accepted" is "at or before #writtenOpaque".
    const maybeProcessed = new ConnectionClosedError(this.address, { cause: error });
    const unsent = new ConnectionClosedError(this.address, { cause: error, unsent: true });
    const written = this.#writtenOpaque;
    this.#pending.rejectAll((opaque: number) =>
      written !== undefined && ((written - opaque) & 0x7fffffff) < 0x40000000
        ? maybeProcessed
        : unsent
    );
    this.#dropQueued(new ConnectionClosedError(this.address, { cause: error }));
    this.#writer.releaseLock();
    void this.transport.close().finally(() => this.#resolveClosed(error));
  }
}

/**
 * Format `host:port`, bracketing IPv6 hosts.
 *
 * @param hostname Host name or address.
 * @param port Port.
 * @returns `host:port`, or `[v6]:port`.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./connection.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAddress("127.0.0.1", 9876), "127.0.0.1:9876");
 * assert.equal(formatAddress("::1", 9876), "[::1]:9876");
 * ```
 */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Parse `host:port` as RocketMQ writes it: split at the last colon, so
 * unbracketed IPv6 (`0:0:0:0:0:0:0:1:10911`, Java's form) works, as does
 * `[::1]:10911`.
 *
 * @param address The address.
 * @returns Host and port.
 * @throws {CodecError} When there is no valid port.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./connection.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseAddress("127.0.0.1:10911"), { hostname: "127.0.0.1", port: 10911 });
 * assert.deepEqual(parseAddress("0:0:0:0:0:0:0:1:10911"), { hostname: "0:0:0:0:0:0:0:1", port: 10911 });
 * assert.deepEqual(parseAddress("[::1]:9876"), { hostname: "::1", port: 9876 });
 * ```
 */
export function parseAddress(address: string): { hostname: string; port: number } {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  let hostname = address.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535 || hostname === "") {
    throw new CodecError("header", `invalid address "${address}": expected host:port`);
  }
  return { hostname, port };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
