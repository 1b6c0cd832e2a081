/**
 * One request in one call, for runtimes where a client cannot outlive the
 * invocation that created it (a Cloudflare Worker's `fetch`, a serverless
 * function): connect, register, request, close.
 *
 * @example
 * ```ts
 * import { requestOnce } from "./one_shot.ts";
 * import { PushConsumer } from "./push_consumer.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using responder = new PushConsumer({ nameServer: broker.address, group: "clock" });
 * responder.subscribe("time", "*", () => "12:00");
 * await responder.start();
 *
 * const reply = await requestOnce({ nameServer: broker.address }, { topic: "time", body: "?" });
 * assert.equal(new TextDecoder().decode(reply.body), "12:00");
 * ```
 *
 * @module
 */

import type { Message, ReplyMessage } from "./message.ts";
import { Producer, type ProducerOptions, type RequestOptions } from "./producer.ts";

/**
 * Send one request and wait for its reply with a producer that lives for
 * this call only: it looks up the route, registers with the brokers that may
 * push the reply, sends, waits, then unregisters and closes its connections,
 * whether the request succeeded or not. Nothing keeps running afterwards
 * (no heartbeat, no timer, no socket), as edge runtimes require. Every call
 * pays for its connections, route lookup and registration: where a process
 * lives on, keep a {@linkcode Producer} instead.
 *
 * @param options The producer's options (name server, `connect`, TLS, ...).
 * @param message The request.
 * @param requestOptions Timeout (from this call to the reply), queue or
 * selector, abort signal.
 * @returns The reply.
 * @throws {InvalidArgumentError} On invalid options or message (nothing sent).
 * @throws {RequestTimeoutError} When no reply came in time; `stage` says how far it got.
 * @throws {RemoteError} When the responder's handler failed.
 * @throws {ConnectionError} When the name server or broker cannot be reached.
 *
 * @example With a queue selector and a short timeout
 * ```ts
 * import { requestOnce } from "./one_shot.ts";
 * import { PushConsumer } from "./push_consumer.ts";
 * import { startBroker } from "../broker/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * await using responder = new PushConsumer({ nameServer: broker.address, group: "upper" });
 * responder.subscribe("upper", "*", (m) => new TextDecoder().decode(m.body).toUpperCase());
 * await responder.start();
 *
 * const reply = await requestOnce(
 *   { nameServer: broker.address, group: "edge" },
 *   { topic: "upper", body: "abc" },
 *   { timeout: 5000, selector: (queues) => queues[0]! },
 * );
 * assert.equal(new TextDecoder().decode(reply.body), "ABC");
 * ```
 */
export async function requestOnce(
  options: ProducerOptions,
  message: Message,
  requestOptions: RequestOptions = {},
): Promise<ReplyMessage> {
  const producer = new Producer(options);
  try {
    await producer.start();
    return await producer.request(message, requestOptions);
  } finally {
    await producer.close();
  }
}
