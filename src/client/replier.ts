/**
 * The responder's side of RIP-16: sends replies to request messages through
 * the broker (SEND_REPLY_MESSAGE_V2 on `<cluster>_REPLY_TOPIC`), at most once
 * per request, with the timing properties the requester reads.
 *
 * @example
 * ```ts
 * import { Replier } from "./replier.ts";
 * import { ClientInstance } from "./client_instance.ts";
 * import assert from "node:assert/strict";
 *
 * const replier = new Replier(new ClientInstance({ nameServer: "127.0.0.1:9876" }), { replyTimeout: 3000 });
 * assert.deepEqual(replier.stats, { replied: 0, replyFailures: 0 });
 * ```
 *
 * @module
 */

import { BrokerError, IllegalStateError, InvalidArgumentError } from "../errors.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { MessageProperty } from "../codec/properties.ts";
import { UniqueKeyGenerator } from "../codec/message_id.ts";
import type { ClientInstance } from "./client_instance.ts";
import { type MessageExt, RpcProperty } from "./message.ts";
import { buildSendCommand, readSendResponse, type SendResult } from "./send_request.ts";

/** Internal mark on a received message: when the handler started on it. */
const CONSUME_START: unique symbol = Symbol("consumeStart");

/** Options of a {@linkcode Replier}. */
export interface ReplierOptions {
  /** Time allowed to send a reply (ms). */
  replyTimeout: number;
}

/** Sends replies for one consumer. */
export class Replier {
  readonly #instance: ClientInstance;
  readonly #options: ReplierOptions;
  readonly #replied = new WeakSet<MessageExt>();
  readonly #keys: UniqueKeyGenerator;
  #replySendIndex = 0;
  readonly #stats = { replied: 0, replyFailures: 0 };

  /**
   * @param instance The consumer's client machinery.
   * @param options Reply timeout.
   */
  constructor(instance: ClientInstance, options: ReplierOptions) {
    this.#instance = instance;
    this.#options = options;
    this.#keys = new UniqueKeyGenerator({ now: () => instance.timers.now() });
  }

  /** Replies sent, and replies the broker could not store or push. */
  get stats(): { replied: number; replyFailures: number } {
    return { ...this.#stats };
  }

  /** Whether a reply to `request` was sent (or is being sent). */
  replied(request: MessageExt): boolean {
    return this.#replied.has(request);
  }

  /** Note that the handler starts on `request` now (the reply's CONSUME_TIME). */
  started(request: MessageExt): void {
    (request as { [CONSUME_START]?: number })[CONSUME_START] = this.#instance.timers.now();
  }

  /** Send a reply to `request` (once): body and extra properties. */
  async send(
    request: MessageExt,
    body: Uint8Array,
    extra: Record<string, string>,
  ): Promise<SendResult> {
    const props = request.properties ?? {};
    const correlationId = props[MessageProperty.CORRELATION_ID];
    const replyTo = props[MessageProperty.REPLY_TO_CLIENT];
    const cluster = props[MessageProperty.CLUSTER];
    if (!correlationId || !replyTo) {
      throw new InvalidArgumentError(
        "request",
        "not a request message (no CORRELATION_ID or REPLY_TO_CLIENT)",
      );
    }
    if (!cluster) {
      throw new InvalidArgumentError(
        "request",
        "request has no CLUSTER property (broker older than 4.6?)",
      );
    }
    if (this.#replied.has(request)) {
      throw new IllegalStateError(`request ${correlationId} was already replied to`);
    }
    this.#replied.add(request);
    const topic = `${cluster}_REPLY_TOPIC`;
    const properties: Record<string, string> = {
      ...extra,
      [MessageProperty.MSG_TYPE]: "reply",
      [MessageProperty.CORRELATION_ID]: correlationId,
      [MessageProperty.REPLY_TO_CLIENT]: replyTo,
      [RpcProperty.REQUEST_STORE_TIME]: String(request.storeTimestamp),
      [MessageProperty.WAIT]: "true",
    };
    const ttl = props[MessageProperty.TTL];
    if (ttl !== undefined) properties[MessageProperty.TTL] = ttl;
    const consumed = (request as { [CONSUME_START]?: number })[CONSUME_START];
    if (consumed !== undefined) properties[RpcProperty.CONSUME_TIME] = String(consumed);
    try {
      const route = await this.#instance.getRoute(topic);
      const queues = route.publishQueues;
      if (queues.length === 0) {
        throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `no writable queue of ${topic}`);
      }
      // The requester is surely registered with the broker that stored its request.
      const queue = queues.find((q) => q.brokerName === request.brokerName) ??
        queues[this.#replySendIndex++ % queues.length]!;
      const address = route.masterAddress(queue.brokerName)!;
      const uniqKey = this.#keys.next();
      const command = await buildSendCommand({
        code: RequestCode.SEND_REPLY_MESSAGE_V2,
        producerGroup: "CLIENT_INNER_PRODUCER",
        queue,
        out: { topic, body: body.length > 0 ? body : new Uint8Array(0), flag: 0, properties },
        uniqKey,
        compressThreshold: 4096,
        defaultTopicQueueNums: 4,
        now: this.#instance.timers.now(),
      });
      // No retries: a failed push (code 1) means the requester is gone, and
      // every retry would store another copy.
      const response = await this.#instance.remoting.invoke(address, command, {
        timeout: this.#options.replyTimeout,
      });
      const result = readSendResponse(response, queue, uniqKey, address);
      this.#stats.replied++;
      return result;
    } catch (err) {
      this.#stats.replyFailures++;
      throw err;
    }
  }

  /** Send an error reply naming `err` (nothing when already replied). */
  async sendError(message: MessageExt, err: unknown): Promise<void> {
    if (this.#replied.has(message)) return;
    const name = err instanceof Error ? err.name : "Error";
    const text = err instanceof Error ? err.message : String(err);
    const safe = (s: string) => s.replaceAll("\u0001", " ").replaceAll("\u0002", " ");
    try {
      await this.send(message, new TextEncoder().encode(`${name}: ${text}`), {
        [RpcProperty.ERROR_NAME]: safe(name),
        [RpcProperty.ERROR_MESSAGE]: safe(text),
      });
    } catch (replyErr) {
      this.#instance.logger.warn("error reply failed", { msgId: message.msgId, error: replyErr });
    }
  }
}
