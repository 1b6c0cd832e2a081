/**
 * Request-reply (RPC) over Apache RocketMQ's remoting protocol, for Deno, Bun
 * and Node: RocketMQ RIP-16 in TypeScript.
 *
 * - {@linkcode Producer}: `request()` sends a request message and resolves
 *   with the reply a consumer sends back (also with a callback, through a
 *   queue selector, or to one explicit queue); `send()` for plain messages.
 * - {@linkcode PushConsumer}: consumes a group's share of a topic; for
 *   requests, the handler's return value is the reply, or it replies
 *   manually with `context.reply()` / `consumer.reply()`.
 * - `startBroker()`: an embedded RocketMQ-compatible name
 *   server and broker on one port; the official Java client works against it.
 *
 * The same client works against real RocketMQ clusters (4.6+ and 5.x brokers'
 * remoting port).
 *
 * @example Request-reply on the embedded broker
 * ```ts
 * import { Producer, PushConsumer, startBroker } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using responder = new PushConsumer({ nameServer: broker.address, group: "greeter" });
 * responder.subscribe("greet", "*", (msg) => `hello, ${new TextDecoder().decode(msg.body)}`);
 * await responder.start();
 *
 * await using requester = new Producer({ nameServer: broker.address });
 * await requester.start();
 * const reply = await requester.request({ topic: "greet", body: "world" }, { timeout: 5000 });
 * assert.equal(new TextDecoder().decode(reply.body), "hello, world");
 * ```
 *
 * @module
 */

export {
  BrokerError,
  type BrokerErrorContext,
  ClientClosedError,
  CodecError,
  type CodecErrorReason,
  ConnectionClosedError,
  ConnectionError,
  type ErrorCode,
  FrameTooLargeError,
  IllegalStateError,
  InvalidArgumentError,
  NoResponderError,
  NoRouteError,
  RemoteError,
  RemotingTimeoutError,
  RequestAbortedError,
  type RequestStage,
  type RequestTimeoutDetails,
  RequestTimeoutError,
  RocketMQError,
  TooManyRequestsError,
} from "./src/errors.ts";
export {
  Producer,
  type ProducerOptions,
  type ProducerStats,
  type QueueSelector,
  type RequestCallback,
  type RequestOptions,
  type SendOptions,
} from "./src/client/producer.ts";
export type { SendResult, SendStatus } from "./src/client/send_request.ts";
export {
  type ConsumeContext,
  type ConsumerStats,
  type MessageHandler,
  PushConsumer,
  type PushConsumerOptions,
} from "./src/client/push_consumer.ts";
export {
  bodyText,
  type Message,
  type MessageExt,
  type MessageQueue,
  type ReplyMessage,
  type ReplyValue,
  type RequestTiming,
  RpcProperty,
} from "./src/client/message.ts";
export type { ClientOptions } from "./src/client/client_instance.ts";
export type { Credentials } from "./src/client/acl.ts";
export type { RequestTrackerStats } from "./src/client/request_tracker.ts";
export {
  consoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./src/logger.ts";
export {
  ManualTimers,
  systemTimers,
  type TimerHandle,
  type Timers,
} from "./src/remoting/timers.ts";
export type {
  Connect,
  ConnectOptions,
  Listen,
  Listener,
  ListenOptions,
  NetAddr,
  TlsOptions,
  Transport,
} from "./src/transport/types.ts";
import type { BrokerHandle, StartBrokerOptions } from "./src/broker/mod.ts";

export type {
  ArrivalListener,
  BoundaryType,
  Broker,
  BrokerCounters,
  BrokerHandle,
  BrokerOptions,
  BrokerStats,
  GetResult,
  GetStatus,
  HostAddress,
  MessageFilter,
  MessageStore,
  PutMessageInput,
  PutResult,
  StartBrokerOptions,
  TopicConfig,
  TopicManager,
  TopicManagerOptions,
} from "./src/broker/mod.ts";

/**
 * Start the embedded broker (name server and broker on one port). Its code
 * loads on the first call, so an application that only uses the client does
 * not load the broker: about 20 ms less start-up. The `Broker` class and the
 * stores are exported from `./broker`.
 *
 * @param options Where to listen, names, storage and limits.
 * @returns The running broker; `address` is the `nameServer` for clients.
 * @throws {InvalidArgumentError} When an option is invalid.
 * @throws {ConnectionError} When the port cannot be listened on.
 *
 * @example Start on a free port, close when done
 * ```ts
 * import { startBroker } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * assert.match(broker.address, /^127\.0\.0\.1:\d+$/);
 * ```
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const broker = await import("./src/broker/broker.ts");
  return await broker.startBroker(options);
}
