/**
 * Consumer offsets of a clustering consumer, kept on the brokers (the Java
 * client's `RemoteBrokerOffsetStore`): where an assigned queue starts (the
 * group's committed offset, or `consumeFrom` for a new group), the offset to
 * commit as messages complete, and commits (periodic oneway, final two-way).
 *
 * @example
 * ```ts
 * import { OffsetStore } from "./offset_store.ts";
 * import { ClientInstance } from "./client_instance.ts";
 * import assert from "node:assert/strict";
 *
 * const instance = new ClientInstance({ nameServer: "127.0.0.1:9876" });
 * const store = new OffsetStore({
 *   instance, group: "g", consumeFrom: "last", consumeTimestamp: undefined,
 *   brokerAddress: () => "127.0.0.1:10911",
 * });
 * const queue = { topic: "t", brokerName: "b", queueId: 0 };
 * store.track(queue, 5);
 * store.update(queue, 7);
 * assert.equal(store.offset(queue), 7);
 * ```
 *
 * @module
 */

import { BrokerError } from "../errors.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { createOneway, createRequest } from "../codec/remoting_command.ts";
import { decodeQueryConsumerOffsetResponseHeader } from "../codec/ext_fields.ts";
import type { ClientInstance } from "./client_instance.ts";
import type { MessageQueue } from "./message.ts";
import { queueKey } from "./rebalance.ts";

/** Topics of retried messages: `%RETRY%<group>`. */
export const RETRY_PREFIX = "%RETRY%";

/** What an {@linkcode OffsetStore} needs from its consumer. */
export interface OffsetStoreOptions {
  /** The consumer's client machinery. */
  instance: ClientInstance;
  /** Consumer group. */
  group: string;
  /** Where a group without committed offsets starts. */
  consumeFrom: "last" | "first" | "timestamp";
  /** Start time for `consumeFrom: "timestamp"`. */
  consumeTimestamp: number | undefined;
  /** Master address of the queue's broker (throws when unknown). */
  brokerAddress(queue: MessageQueue): string;
}

interface Entry {
  queue: MessageQueue;
  offset: number;
  dirty: boolean;
}

/** Offsets of the queues a consumer holds, and their commits. */
export class OffsetStore {
  readonly #options: OffsetStoreOptions;
  readonly #entries = new Map<string, Entry>();

  /** @param options The consumer's side. */
  constructor(options: OffsetStoreOptions) {
    this.#options = options;
  }

  /** Start tracking a queue at `offset` (nothing to commit yet). */
  track(queue: MessageQueue, offset: number): void {
    this.#entries.set(queueKey(queue), { queue, offset, dirty: false });
  }

  /** The offset to commit for a tracked queue. */
  offset(queue: MessageQueue): number | undefined {
    return this.#entries.get(queueKey(queue))?.offset;
  }

  /** Set the offset to commit (ignored for a queue no longer tracked). */
  update(queue: MessageQueue, offset: number): void {
    const entry = this.#entries.get(queueKey(queue));
    if (!entry) return;
    if (offset !== entry.offset) {
      entry.offset = offset;
      entry.dirty = true;
    }
  }

  /**
   * Commit a queue's offset (and wait for the broker's answer), then stop
   * tracking it. Sent even when unchanged since the last commit: it is the
   * last word, after a pull still under way that carried an older commit.
   */
  async release(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry) entry.dirty = true;
    await this.persist(key, false).catch((err) =>
      this.#options.instance.logger.warn("offset commit failed", { queue: key, error: err })
    );
    this.#entries.delete(key);
  }

  /** Commit every changed offset (two-way calls within `timeout`); failures are logged. */
  async persistAll(oneway: boolean, timeout?: number): Promise<void> {
    const keys = [...this.#entries.keys()];
    const results = await Promise.allSettled(
      keys.map((key) => this.persist(key, oneway, timeout)),
    );
    for (const result of results) {
      if (result.status === "rejected") {
        this.#options.instance.logger.warn("offset commit failed", { error: result.reason });
      }
    }
  }

  /** Commit one queue's offset when it changed. */
  async persist(key: string, oneway: boolean, timeout?: number): Promise<void> {
    const entry = this.#entries.get(key);
    if (!entry || !entry.dirty) return;
    const { instance, group } = this.#options;
    const address = this.#options.brokerAddress(entry.queue);
    const header = {
      consumerGroup: group,
      topic: entry.queue.topic,
      queueId: entry.queue.queueId,
      commitOffset: entry.offset,
      bname: entry.queue.brokerName,
    };
    const offset = entry.offset;
    if (oneway) {
      await instance.remoting.invokeOneway(
        address,
        createOneway(RequestCode.UPDATE_CONSUMER_OFFSET, header),
      );
    } else {
      await instance.call(address, createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, header), {
        timeout: Math.min(timeout ?? instance.rpcTimeout, instance.rpcTimeout),
      });
    }
    if (entry.offset === offset) entry.dirty = false;
  }

  /**
   * Where a newly assigned queue starts: the group's committed offset, or,
   * for a new group, `consumeFrom` (retry topics always from 0).
   */
  async startOffset(queue: MessageQueue): Promise<number> {
    const { instance, group } = this.#options;
    const address = this.#options.brokerAddress(queue);
    const response = await instance.remoting.invoke(
      address,
      createRequest(RequestCode.QUERY_CONSUMER_OFFSET, {
        consumerGroup: group,
        topic: queue.topic,
        queueId: queue.queueId,
        bname: queue.brokerName,
      }),
      { timeout: instance.rpcTimeout },
    );
    if (response.code === ResponseCode.SUCCESS) {
      return decodeQueryConsumerOffsetResponseHeader(response.extFields).offset;
    }
    if (response.code !== ResponseCode.QUERY_NOT_FOUND) {
      throw BrokerError.fromResponse(response, {
        requestCode: RequestCode.QUERY_CONSUMER_OFFSET,
        address,
      });
    }
    return await this.initialOffset(queue);
  }

  /**
   * Where a queue without a stored offset starts: `consumeFrom` (the first
   * offset, the queue's end, or the offset at `consumeTimestamp`; retry
   * topics always from 0).
   */
  async initialOffset(queue: MessageQueue): Promise<number> {
    const { instance } = this.#options;
    const address = this.#options.brokerAddress(queue);
    const from = this.#options.consumeFrom;
    if (from === "first") return 0;
    if (queue.topic.startsWith(RETRY_PREFIX)) return 0;
    const code = from === "timestamp"
      ? RequestCode.SEARCH_OFFSET_BY_TIMESTAMP
      : RequestCode.GET_MAX_OFFSET;
    const header: Record<string, string | number | boolean> = {
      topic: queue.topic,
      queueId: queue.queueId,
      bname: queue.brokerName,
    };
    if (from === "timestamp") {
      header.timestamp = this.#options.consumeTimestamp ?? instance.timers.now();
    }
    const max = await instance.call(address, createRequest(code, header));
    const offset = Number(max.extFields.offset);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new BrokerError(ResponseCode.SYSTEM_ERROR, `invalid offset "${max.extFields.offset}"`, {
        address,
      });
    }
    return offset;
  }
}
