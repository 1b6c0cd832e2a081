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
 * - {@linkcode requestOnce}: one request from a client that lives for that
 *   call only (edge functions; see also the `./client` entry).
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

// The client: its own entry (`./client`) lists its exports once; this entry
// adds the embedded broker.
export * from "./src/client/mod.ts";
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
