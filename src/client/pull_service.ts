/**
 * The pulling side of a push consumer: one long-polling loop per assigned
 * queue (PULL_MESSAGE with the subscription and a piggybacked commit),
 * paused while the queue holds `maxCachedMessagesPerQueue` unhandled
 * messages; filters by tag, decompresses, feeds the broker clock with the
 * store times of messages pulled while caught up, and hands each message
 * to the consume service. When a queue's offsets went back (a broker that
 * lost its store), it reads from the queue's new minimum.
 *
 * @example
 * ```ts
 * import { PullService } from "./pull_service.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof PullService.prototype.run, "function");
 * ```
 *
 * @module
 */

import { BrokerError } from "../errors.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { MessageProperty } from "../codec/properties.ts";
import { decodeStoredMessages, type StoredMessage } from "../codec/message_ext.ts";
import { offsetMessageId } from "../codec/message_id.ts";
import { decompressBody } from "../codec/compression.ts";
import { decodePullMessageResponseHeader } from "../codec/ext_fields.ts";
import { toMessageExt } from "./message.ts";
import type { ProcessQueue } from "./process_queue.ts";
import type { FlowLimit } from "./flow_limit.ts";
import { queueKey } from "./rebalance.ts";
import type { ConsumeService } from "./consume_service.ts";
import { type ConsumerCore, sleep, type Subscription } from "./consumer_core.ts";

/** Pulls the assigned queues of one push consumer. */
export class PullService {
  readonly #core: ConsumerCore;
  readonly #consume: Pick<ConsumeService, "submit" | "pump" | "complete">;

  /**
   * @param core The consumer's shared state.
   * @param consume Where pulled messages go (the concurrent or the orderly consume service).
   */
  constructor(core: ConsumerCore, consume: Pick<ConsumeService, "submit" | "pump" | "complete">) {
    this.#core = core;
    this.#consume = consume;
  }

  /** Pull `pq` until it is dropped or the consumer stops. */
  async run(pq: ProcessQueue): Promise<void> {
    let failures = 0;
    while (!pq.dropped && this.#core.running()) {
      if (!this.#core.locks.mayPull(pq)) {
        // The lock was lost (a renewal refused): wait for it again.
        await this.#core.locks.acquire(pq);
        continue;
      }
      if (this.#core.gate.suspended) {
        await this.#core.gate.wait(pq.abort.signal);
        continue;
      }
      if (pq.cached >= this.#core.options.maxCachedMessagesPerQueue) {
        await pq.waitForRoom();
        continue;
      }
      // An iterator's bound: ask for no more than the room left in its buffer.
      const flow = this.#core.subscriptions.get(pq.queue.topic)?.flow;
      const batch = flow ? this.#reserve(flow, pq) : this.#core.options.pullBatchSize;
      if (batch === 0) {
        await flow!.waitForRoom(pq.abort.signal);
        continue;
      }
      try {
        await this.#pullOnce(pq, batch).finally(() => flow?.unreserve(batch));
        failures = 0;
      } catch (err) {
        if (pq.dropped || !this.#core.running()) return;
        failures++;
        const delay = err instanceof BrokerError && err.responseCode === ResponseCode.FLOW_CONTROL
          ? 20
          : Math.min(3000, 200 * 2 ** Math.min(failures, 4));
        this.#core.instance.logger.warn("pull failed; retrying", {
          queue: queueKey(pq.queue),
          delayMs: delay,
          error: err,
        });
        await sleep(this.#core.instance.timers, delay, pq.abort.signal);
      }
    }
  }

  /** Room for one pull of `pq` within `flow`: its queue's share of the bound. */
  #reserve(flow: FlowLimit, pq: ProcessQueue): number {
    let queues = 0;
    for (const other of this.#core.queues.values()) {
      if (other.queue.topic === pq.queue.topic) queues++;
    }
    return flow.reserve(
      this.#core.options.pullBatchSize,
      Math.floor(flow.capacity / Math.max(1, queues)),
    );
  }

  async #pullOnce(pq: ProcessQueue, batch: number): Promise<void> {
    const queue = pq.queue;
    const subscription = this.#core.subscriptions.get(queue.topic);
    if (!subscription) {
      pq.drop();
      return;
    }
    const address = this.#core.brokerAddress(queue);
    // A broadcasting consumer keeps its offsets itself: never committed to a broker.
    const commit = this.#core.options.messageModel === "BROADCASTING"
      ? 0
      : this.#core.offsets.offset(queue) ?? 0;
    // Caught up: messages this pull returns were stored after it was sent,
    // so their store times tell the broker's clock (see BrokerClock). The
    // first pull of a queue does not wait, to learn where the queue ends.
    const caughtUp = pq.maxOffset >= 0 && pq.nextOffset >= pq.maxOffset;
    // suspend (2, not on the first pull) | subscription (4) | commitOffset (1) when there is one to piggyback
    const sysFlag = (pq.maxOffset >= 0 ? 2 : 0) | 4 | (commit > 0 ? 1 : 0);
    const request = createRequest(RequestCode.PULL_MESSAGE, {
      consumerGroup: this.#core.group,
      topic: queue.topic,
      queueId: queue.queueId,
      queueOffset: pq.nextOffset,
      maxMsgNums: batch,
      sysFlag,
      commitOffset: commit,
      suspendTimeoutMillis: this.#core.options.pollTimeout,
      subscription: subscription.expression,
      subVersion: subscription.data.subVersion,
      expressionType: subscription.data.expressionType,
      maxMsgBytes: 256 * 1024 * 8,
      bname: queue.brokerName,
    });
    const sent = this.#core.instance.timers.now();
    pq.lastPullTimestamp = sent;
    const response = await this.#core.instance.remoting.invoke(address, request, {
      timeout: this.#core.options.pollTimeout + 15_000,
      signal: pq.abort.signal,
    });
    const arrived = this.#core.instance.timers.now();
    if (pq.dropped) return;
    switch (response.code) {
      case ResponseCode.SUCCESS: {
        const header = decodePullMessageResponseHeader(response.extFields);
        const records = decodeStoredMessages(response.body);
        this.#core.rates(queue.topic).pulled(arrived - sent, records.length);
        pq.nextOffset = header.nextBeginOffset;
        pq.maxOffset = header.maxOffset;
        if (caughtUp) {
          let newest = 0;
          for (const record of records) newest = Math.max(newest, record.storeTimestamp);
          this.#core.clock(queue.brokerName).observe(newest, arrived);
        }
        await this.#accept(pq, subscription, records, header.minOffset, header.maxOffset);
        return;
      }
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY: {
        const header = decodePullMessageResponseHeader(response.extFields);
        pq.nextOffset = header.nextBeginOffset;
        pq.maxOffset = header.maxOffset;
        if (pq.cached === 0) this.#core.offsets.update(queue, header.nextBeginOffset);
        return;
      }
      case ResponseCode.PULL_OFFSET_MOVED: {
        const header = decodePullMessageResponseHeader(response.extFields);
        let next = header.nextBeginOffset;
        // Past the queue's end: its offsets went back (a broker that lost its
        // store restarted, or the queue was recreated). Everything it holds
        // now came after what we read: read from its new minimum, not from
        // where the broker suggests (4.x brokers say the maximum).
        if (pq.nextOffset > header.maxOffset && header.minOffset < next) next = header.minOffset;
        this.#core.instance.logger.warn("offset moved; resetting", {
          queue: queueKey(queue),
          from: pq.nextOffset,
          to: next,
          minOffset: header.minOffset,
          maxOffset: header.maxOffset,
        });
        pq.nextOffset = next;
        pq.maxOffset = header.maxOffset;
        this.#core.offsets.update(queue, next);
        return;
      }
      default:
        throw BrokerError.fromResponse(response, {
          requestCode: RequestCode.PULL_MESSAGE,
          address,
        });
    }
  }

  async #accept(
    pq: ProcessQueue,
    subscription: Subscription,
    records: StoredMessage[],
    minOffset: number,
    maxOffset: number,
  ): Promise<void> {
    const tags = subscription.data.tagsSet;
    for (const record of records) {
      this.#core.stats.received++;
      pq.add(record.queueOffset);
      const tag = record.properties[MessageProperty.TAGS];
      if (tags.length > 0 && (tag === undefined || !tags.includes(tag))) {
        this.#consume.complete(pq, record.queueOffset);
        continue;
      }
      let body: Uint8Array;
      try {
        body = await decompressBody(record.body, record.sysFlag, this.#core.options.maxBodySize);
      } catch (err) {
        this.#core.instance.logger.error("message body cannot be decompressed; skipped", {
          queue: queueKey(pq.queue),
          offset: record.queueOffset,
          error: err,
        });
        this.#consume.complete(pq, record.queueOffset);
        continue;
      }
      const message = toMessageExt(
        record,
        body,
        pq.queue.brokerName,
        offsetMessageId(record.storeHost, record.commitLogOffset),
      );
      message.properties[MessageProperty.MIN_OFFSET] = String(minOffset);
      message.properties[MessageProperty.MAX_OFFSET] = String(maxOffset);
      const target = message.topic === subscription.topic
        ? subscription
        : this.#core.subscriptions.get(message.topic) ?? subscription;
      if (target.sink) target.sink(pq, message);
      else this.#consume.submit(pq, message, target);
    }
    this.#consume.pump();
  }
}
