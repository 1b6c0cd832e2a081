/**
 * The client alone: {@linkcode Producer}, {@linkcode PushConsumer} and
 * {@linkcode requestOnce}, without the embedded broker. Nothing in this
 * entry's module graph imports a `node:` module (the Node transport reaches
 * `node:net` through `process.getBuiltinModule` when it is used), so it
 * bundles for runtimes without Node compatibility, such as Cloudflare
 * Workers without `nodejs_compat`; pass `connect` there (see
 * `./transport/cloudflare`). Everything here is also exported by the main
 * entry.
 *
 * @example One request from a short-lived function
 * ```ts
 * import { Producer, PushConsumer, requestOnce } from "./mod.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using responder = new PushConsumer({ nameServer: broker.address, group: "ping" });
 * responder.subscribe("ping", "*", () => "pong");
 * await responder.start();
 *
 * const reply = await requestOnce({ nameServer: broker.address }, { topic: "ping", body: "?" });
 * assert.equal(new TextDecoder().decode(reply.body), "pong");
 * assert.equal(typeof Producer, "function");
 * ```
 *
 * @module
 */

export {
  BrokerError,
  type BrokerErrorContext,
  ClientClosedError,
  ClientIdConflictError,
  CodecError,
  type CodecErrorReason,
  ConnectionClosedError,
  ConnectionError,
  type ErrorCode,
  FilterExpressionError,
  FrameTooLargeError,
  HandlerTimeoutError,
  IllegalStateError,
  InvalidArgumentError,
  NoResponderError,
  NoRouteError,
  RemoteError,
  RemotingTimeoutError,
  RequestAbortedError,
  RequestCancelledError,
  type RequestStage,
  type RequestTimeoutDetails,
  RequestTimeoutError,
  RocketMQError,
  TooManyRequestsError,
} from "../errors.ts";
export {
  Producer,
  type ProducerOptions,
  type ProducerStats,
  type QueueSelector,
  type RequestCallback,
  type RequestManyOptions,
  type RequestOptions,
  type RequestParent,
  type SendOptions,
} from "./producer.ts";
export type { ReplyStream, ReplyStreamEnd } from "./reply_stream.ts";
export type { MessageSelector, SqlSelector } from "./selector.ts";
export type { ResponderClient, ResponderGroup, RespondersOptions } from "./discovery.ts";
export type { CancelStats } from "./cancel_sender.ts";
export type { LatencySummary } from "./service_stats.ts";
export type { ReplyCompression, ReplyOptions } from "./replier.ts";
export {
  formatTraceparent,
  parseTraceparent,
  type RpcSpan,
  type SpanHooks,
  type SpanKind,
  type SpanStart,
  type TraceContext,
  type Traceparent,
  TraceProperty,
} from "./trace.ts";
export type { SendResult, SendStatus } from "./send_request.ts";
export { type BatchSendResult, DEFAULT_MAX_BATCH_SIZE, splitBatch } from "./batch.ts";
export {
  type CloseOptions,
  type ConsumeContext,
  type ConsumerStats,
  type MessageHandler,
  PushConsumer,
  type PushConsumerOptions,
} from "./push_consumer.ts";
export type { IteratedMessage, MessageIterator, MessagesOptions } from "./message_iterator.ts";
export {
  bodyText,
  jsonSerializer,
  type Message,
  type MessageExt,
  type MessageQueue,
  type ReplyMessage,
  type ReplySerializer,
  type ReplyValue,
  type RequestTiming,
  RpcProperty,
} from "./message.ts";
export type { ClientOptions } from "./client_instance.ts";
export { SerializeType } from "../codec/codes.ts";
export type { Credentials } from "./acl.ts";
export type { RequestTrackerStats } from "./request_tracker.ts";
export type { IdempotencyOptions } from "./replier.ts";
export { requestOnce } from "./one_shot.ts";
export {
  consoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "../logger.ts";
export { ManualTimers, systemTimers, type TimerHandle, type Timers } from "../remoting/timers.ts";
export type {
  Connect,
  ConnectOptions,
  Listen,
  Listener,
  ListenOptions,
  NetAddr,
  TlsOptions,
  Transport,
} from "../transport/types.ts";
