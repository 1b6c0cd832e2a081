/**
 * Tells responders that a requester gave up on a request (it timed out, its
 * signal aborted, or its `requestMany()` stream ended before every responder
 * finished), so the consumer holding the request aborts its handler's
 * `context.signal`, or skips the request if it has not started it.
 *
 * Two routes, tried in this order:
 *
 * 1. **The broker's own** (brokers of this library): `CANCEL_REQUEST`
 *    (`RpcRequestCode`) to the broker that stored the request. That broker
 *    remembers which client sent each request and which consumer channels
 *    pulled each queue; it accepts the cancel only from the requester's own
 *    client and forwards it, `PUSH_CANCEL_TO_CLIENT`, to the consumers that
 *    pulled the request's queue. Nothing else can address a consumer, so the
 *    broker's rule "replies go only to the requester" stays whole.
 * 2. **Routed like a reply** (RocketMQ brokers answer `CANCEL_REQUEST` with
 *    REQUEST_CODE_NOT_SUPPORTED): the requester works out which consumer of
 *    each group subscribed to the topic holds the request's queue (the
 *    groups from QUERY_TOPIC_CONSUME_BY_WHO, their members from
 *    GET_CONSUMER_LIST_BY_GROUP, then the same average allocation every
 *    client uses), and sends each a small reply-shaped message through
 *    `<cluster>_REPLY_TOPIC` with `REPLY_TO_CLIENT` set to that consumer's
 *    client id and the `RPC_CANCEL` property. The broker pushes it to that
 *    client as it pushes any reply. A Java consumer that gets one logs and
 *    ignores it (no request of its own has that correlation id).
 *
 * Sending a cancel never fails a request: failures are counted and logged.
 *
 * @module
 */

import { RequestCode, ResponseCode, RpcRequestCode } from "../codec/codes.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { encodeCancelRequestHeader } from "../codec/admin_headers.ts";
import { MessageProperty } from "../codec/properties.ts";
import { decodeConsumerListBody } from "../codec/bodies.ts";
import { parseFastJson } from "../codec/fastjson.ts";
import { utf8Decode, utf8Encode } from "../codec/_utf8.ts";
import { UniqueKeyGenerator } from "../codec/message_id.ts";
import { BrokerError } from "../errors.ts";
import type { ClientInstance } from "./client_instance.ts";
import type { MessageQueue } from "./message.ts";
import { RpcProperty } from "./message.ts";
import { allocateAveragely, compareQueues } from "./rebalance.ts";
import type { GiveUp } from "./request_tracker.ts";
import { buildSendCommand, readSendResponse } from "./send_request.ts";

/** How long the consumer lists behind the reply route are reused (ms). */
const HOLDERS_CACHE_MS = 3000;

/**
 * Counters of cancels sent.
 *
 * @example
 * ```ts
 * import type { CancelStats } from "./cancel_sender.ts";
 * import assert from "node:assert/strict";
 *
 * const stats: CancelStats = { cancelsSent: 1, cancelsFailed: 0 };
 * assert.equal(stats.cancelsSent, 1);
 * ```
 */
export interface CancelStats {
  /** Requests whose responders were told that the requester gave up. */
  cancelsSent: number;
  /** Cancels that could not be delivered (logged). */
  cancelsFailed: number;
}

/** Sends cancels for one producer. */
export class CancelSender {
  readonly #instance: ClientInstance;
  readonly #group: string;
  readonly #keys: UniqueKeyGenerator;
  /** Broker addresses that answered CANCEL_REQUEST with REQUEST_CODE_NOT_SUPPORTED. */
  readonly #noBrokerRoute = new Set<string>();
  readonly #brokerRoute: boolean;
  readonly #groups = new Map<string, { until: number; load: Promise<Map<string, string[]>> }>();
  readonly #pending = new Set<Promise<void>>();
  readonly stats: CancelStats = { cancelsSent: 0, cancelsFailed: 0 };

  /**
   * @param instance The producer's client instance.
   * @param group The producer group (for reply-route sends).
   * @param options `brokerRoute: false` skips route 1 (tests of route 2).
   */
  constructor(instance: ClientInstance, group: string, options: { brokerRoute?: boolean } = {}) {
    this.#instance = instance;
    this.#group = group;
    this.#brokerRoute = options.brokerRoute ?? true;
    this.#keys = new UniqueKeyGenerator({ now: () => instance.timers.now() });
  }

  /**
   * Tell the responders of a request that the requester gave up. Returns at
   * once; the cancel goes out in the background.
   *
   * @param giveUp The request and where it was stored.
   */
  send(giveUp: GiveUp): void {
    if (!giveUp.stored || !this.#instance.running) return;
    const work = this.#send(giveUp).then(
      () => {
        this.stats.cancelsSent++;
      },
      (error) => {
        this.stats.cancelsFailed++;
        this.#instance.logger.warn("cancel not delivered", {
          correlationId: giveUp.correlationId,
          topic: giveUp.topic,
          error,
        });
      },
    );
    this.#pending.add(work);
    work.finally(() => this.#pending.delete(work));
  }

  /** Resolves when every cancel under way has gone out (or failed). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #send(giveUp: GiveUp): Promise<void> {
    const stored = giveUp.stored!;
    const route = await this.#instance.getRoute(giveUp.topic);
    const address = route.masterAddress(stored.brokerName);
    if (!address) {
      throw new BrokerError(ResponseCode.SYSTEM_ERROR, `no master for ${stored.brokerName}`);
    }
    if (this.#brokerRoute && !this.#noBrokerRoute.has(address)) {
      const response = await this.#instance.remoting.invoke(
        address,
        createRequest(
          RpcRequestCode.CANCEL_REQUEST,
          encodeCancelRequestHeader({
            correlationId: giveUp.correlationId,
            topic: giveUp.topic,
            queueId: stored.queueId,
          }),
        ),
        { timeout: this.#instance.rpcTimeout },
      );
      if (response.code === ResponseCode.SUCCESS) return;
      if (response.code !== ResponseCode.REQUEST_CODE_NOT_SUPPORTED) {
        throw BrokerError.fromResponse(response, {
          requestCode: RpcRequestCode.CANCEL_REQUEST,
          address,
        });
      }
      this.#noBrokerRoute.add(address);
    }
    await this.#sendAsReplies(
      giveUp,
      address,
      route.subscribeQueues,
      route.clusterOf(stored.brokerName),
    );
  }

  /** Route 2: a reply-shaped cancel to the consumer of each group that holds the queue. */
  async #sendAsReplies(
    giveUp: GiveUp,
    address: string,
    queues: readonly MessageQueue[],
    cluster: string | undefined,
  ): Promise<void> {
    const stored = giveUp.stored!;
    if (!cluster) throw new BrokerError(ResponseCode.SYSTEM_ERROR, "broker cluster unknown");
    const queue = { topic: giveUp.topic, brokerName: stored.brokerName, queueId: stored.queueId };
    const sorted = [...queues].sort(compareQueues);
    const holders = new Set<string>();
    for (const ids of (await this.#consumers(giveUp.topic, address)).values()) {
      for (const id of ids) {
        if (allocateAveragely(sorted, ids, id).some((q) => compareQueues(q, queue) === 0)) {
          holders.add(id);
        }
      }
    }
    if (holders.size === 0) return; // nobody reads the queue: nobody to stop
    const replyTopic = `${cluster}_REPLY_TOPIC`;
    const replyRoute = await this.#instance.getRoute(replyTopic);
    const target = replyRoute.publishQueues.find((q) => q.brokerName === stored.brokerName) ??
      replyRoute.publishQueues[0];
    const targetAddress = target && replyRoute.masterAddress(target.brokerName);
    if (!target || !targetAddress) {
      throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `no writable queue of ${replyTopic}`);
    }
    await Promise.all([...holders].map(async (holder) => {
      const uniqKey = this.#keys.next();
      const command = await buildSendCommand({
        code: RequestCode.SEND_REPLY_MESSAGE_V2,
        producerGroup: this.#group,
        queue: target,
        out: {
          topic: replyTopic,
          body: utf8Encode("cancel"),
          flag: 0,
          properties: {
            [MessageProperty.MSG_TYPE]: "reply",
            [MessageProperty.CORRELATION_ID]: giveUp.correlationId,
            [MessageProperty.REPLY_TO_CLIENT]: holder,
            [RpcProperty.CANCEL]: giveUp.topic,
            [MessageProperty.WAIT]: "true",
          },
        },
        uniqKey,
        compressThreshold: Infinity,
        defaultTopicQueueNums: 4,
        now: this.#instance.timers.now(),
      });
      const response = await this.#instance.remoting.invoke(targetAddress, command, {
        timeout: this.#instance.rpcTimeout,
      });
      readSendResponse(response, target, uniqKey, targetAddress);
    }));
  }

  /** Consumer groups of a topic and their members, cached a few seconds. */
  #consumers(topic: string, address: string): Promise<Map<string, string[]>> {
    const now = this.#instance.timers.now();
    const cached = this.#groups.get(topic);
    if (cached && cached.until > now) return cached.load;
    const load = (async () => {
      const byWho = await this.#instance.call(
        address,
        createRequest(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic }),
      );
      const list = (parseFastJson(utf8Decode(byWho.body)) as { groupList?: unknown } | null)
        ?.groupList;
      const groups = Array.isArray(list)
        ? list.filter((g): g is string => typeof g === "string")
        : [];
      const out = new Map<string, string[]>();
      await Promise.all(groups.map(async (group) => {
        const response = await this.#instance.remoting.invoke(
          address,
          createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group }),
          { timeout: this.#instance.rpcTimeout },
        );
        if (response.code !== ResponseCode.SUCCESS || response.body.length === 0) return;
        const ids = decodeConsumerListBody(response.body).consumerIdList;
        if (ids.length > 0) out.set(group, ids);
      }));
      return out;
    })();
    this.#groups.set(topic, { until: now + HOLDERS_CACHE_MS, load });
    load.catch(() => this.#groups.delete(topic));
    return load;
  }
}
