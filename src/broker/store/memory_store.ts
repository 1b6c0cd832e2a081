/**
 * The in-memory {@linkcode MessageStore}: the default store of the embedded
 * broker. Records are kept in commit-log format (so a pull body is a plain
 * concatenation of them), indexed per (topic, queue). The store is bounded:
 * once the records exceed `memoryLimitBytes`, the oldest are dropped and the
 * minimum offsets of their queues advance, as when RocketMQ deletes an old
 * commit-log file. Consumers behind the minimum get PULL_OFFSET_MOVED.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 9876 };
 * const put = await store.put({
 *   topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: {}, tagsCode: 0,
 * });
 * assert.equal(put.queueOffset, 0);
 * const got = await store.get("T", 0, 0, 32, 1 << 20);
 * assert.equal(got.status, "FOUND");
 * assert.equal(got.nextBeginOffset, 1);
 * await store.close();
 * ```
 *
 * @module
 */

import { IllegalStateError, InvalidArgumentError } from "../../errors.ts";
import { MessageSysFlag } from "../../codec/message.ts";
import { encodeStoredMessage } from "../../codec/message_ext.ts";
import { offsetMessageId } from "../../codec/message_id.ts";
import type {
  ArrivalListener,
  BoundaryType,
  GetResult,
  MessageFilter,
  MessageStore,
  PutMessageInput,
  PutResult,
} from "./types.ts";

/**
 * Options of {@linkcode MemoryStore}.
 *
 * @example
 * ```ts
 * import { MemoryStore, type MemoryStoreOptions } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * const options: MemoryStoreOptions = { memoryLimitBytes: 64 * 1024 * 1024, now: () => 1_700_000_000_000 };
 * const store = new MemoryStore(options);
 * const host = { address: "127.0.0.1", port: 10911 };
 * const put = await store.put({
 *   topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: {}, tagsCode: 0,
 * });
 * assert.equal(put.storeTimestamp, 1_700_000_000_000); // store times come from `now`
 * await store.close();
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * Most bytes of records to keep; beyond it the oldest records are dropped.
   * @default {268435456} (256 MiB)
   */
  memoryLimitBytes?: number;
  /** Clock for store timestamps. @default {Date.now} */
  now?: () => number;
}

interface Rec {
  phys: number;
  bytes: Uint8Array;
  queue: Queue;
  queueOffset: number;
  tagsCode: number;
  storeTimestamp: number;
}

/** A queue's records: `items[head..]` hold offsets `base..`. */
interface Queue {
  topic: string;
  queueId: number;
  items: Rec[];
  head: number;
  base: number;
}

/** Queue entries scanned at most per read while filtering (Java: 16000 bytes / 20). */
const MAX_FILTER_SCAN = 800;

function queueKey(topic: string, queueId: number): string {
  return `${queueId}@${topic}`;
}

function count(queue: Queue): number {
  return queue.items.length - queue.head;
}

function isV6(address: string): boolean {
  return address.includes(":");
}

/**
 * A bounded in-memory message store.
 *
 * @example Oldest records are dropped beyond the limit
 * ```ts
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore({ memoryLimitBytes: 1000 });
 * const host = { address: "127.0.0.1", port: 9876 };
 * for (let i = 0; i < 20; i++) {
 *   await store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array(100), properties: {}, tagsCode: 0,
 *   });
 * }
 * assert.ok(store.minOffset("T", 0) > 0);
 * assert.equal(store.maxOffset("T", 0), 20);
 * assert.ok(store.bytes <= 1000);
 * ```
 */
export class MemoryStore implements MessageStore {
  readonly #limit: number;
  readonly #now: () => number;
  readonly #queues = new Map<string, Queue>();
  readonly #offsets = new Map<string, Map<string, Map<number, number>>>();
  readonly #listeners = new Set<ArrivalListener>();
  #log: Rec[] = [];
  #logHead = 0;
  #nextPhys = 0;
  #bytes = 0;
  #closed = false;

  /**
   * Create an empty store.
   *
   * @param options Memory limit and clock.
   * @throws {InvalidArgumentError} When the limit is not a positive number.
   */
  constructor(options: MemoryStoreOptions = {}) {
    const limit = options.memoryLimitBytes ?? 256 * 1024 * 1024;
    if (!(limit > 0)) {
      throw new InvalidArgumentError("memoryLimitBytes", `must be a positive number, got ${limit}`);
    }
    this.#limit = limit;
    this.#now = options.now ?? Date.now;
  }

  /** Bytes of records held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records held. */
  get messages(): number {
    return this.#log.length - this.#logHead;
  }

  /**
   * Append one message.
   *
   * @param message The message.
   * @returns Where it was stored.
   * @throws {InvalidArgumentError} When a field does not fit the record
   * format, or the record alone exceeds the memory limit.
   * @throws {IllegalStateError} After {@linkcode MemoryStore.close}.
   */
  put(message: PutMessageInput): Promise<PutResult> {
    try {
      return Promise.resolve(this.#append(message));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Append several messages contiguously.
   *
   * @param messages The messages.
   * @returns Where each was stored.
   * @throws {InvalidArgumentError} As {@linkcode MemoryStore.put}; nothing is
   * stored then.
   */
  putBatch(messages: readonly PutMessageInput[]): Promise<PutResult[]> {
    try {
      const records = messages.map((m) => this.#encode(m, 0, 0, 0));
      if (records.some((r) => r.length > this.#limit)) {
        throw new InvalidArgumentError(
          "message",
          `record exceeds the memory limit of ${this.#limit} bytes`,
        );
      }
      return Promise.resolve(messages.map((m) => this.#append(m)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #encode(
    m: PutMessageInput,
    queueOffset: number,
    phys: number,
    storeTimestamp: number,
  ): Uint8Array {
    let sysFlag = m.sysFlag & ~(MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6);
    if (isV6(m.bornHost.address)) sysFlag |= MessageSysFlag.BORNHOST_V6;
    if (isV6(m.storeHost.address)) sysFlag |= MessageSysFlag.STOREHOST_V6;
    return encodeStoredMessage({
      queueId: m.queueId,
      flag: m.flag,
      queueOffset,
      commitLogOffset: phys,
      sysFlag,
      bornTimestamp: m.bornTimestamp,
      bornHost: m.bornHost,
      storeTimestamp,
      storeHost: m.storeHost,
      reconsumeTimes: m.reconsumeTimes,
      preparedTransactionOffset: m.preparedTransactionOffset,
      body: m.body,
      topic: m.topic,
      properties: m.properties,
    });
  }

  #append(m: PutMessageInput): PutResult {
    if (this.#closed) throw new IllegalStateError("message store is closed");
    const key = queueKey(m.topic, m.queueId);
    let queue = this.#queues.get(key);
    const queueOffset = queue ? queue.base + count(queue) : 0;
    const phys = this.#nextPhys;
    const storeTimestamp = this.#now();
    const bytes = this.#encode(m, queueOffset, phys, storeTimestamp);
    if (bytes.length > this.#limit) {
      throw new InvalidArgumentError(
        "message",
        `record of ${bytes.length} bytes exceeds the memory limit of ${this.#limit} bytes`,
      );
    }
    if (!queue) {
      queue = { topic: m.topic, queueId: m.queueId, items: [], head: 0, base: 0 };
      this.#queues.set(key, queue);
    }
    const rec: Rec = { phys, bytes, queue, queueOffset, tagsCode: m.tagsCode, storeTimestamp };
    queue.items.push(rec);
    this.#log.push(rec);
    this.#nextPhys += bytes.length;
    this.#bytes += bytes.length;
    this.#evict();
    for (const listener of [...this.#listeners]) {
      try {
        listener(m.topic, m.queueId, queueOffset, m.tagsCode);
      } catch {
        // a listener's failure is its own business
      }
    }
    return {
      commitLogOffset: phys,
      queueOffset,
      storeTimestamp,
      msgId: offsetMessageId(m.storeHost, phys),
      size: bytes.length,
    };
  }

  #evict(): void {
    while (this.#bytes > this.#limit && this.#log.length - this.#logHead > 1) {
      const rec = this.#log[this.#logHead]!;
      this.#log[this.#logHead] = undefined as unknown as Rec;
      this.#logHead++;
      this.#bytes -= rec.bytes.length;
      const queue = rec.queue;
      queue.items[queue.head] = undefined as unknown as Rec;
      queue.head++;
      queue.base++;
      if (queue.head > 1024 && queue.head * 2 > queue.items.length) {
        queue.items = queue.items.slice(queue.head);
        queue.head = 0;
      }
    }
    if (this.#logHead > 4096 && this.#logHead * 2 > this.#log.length) {
      this.#log = this.#log.slice(this.#logHead);
      this.#logHead = 0;
    }
  }

  /**
   * Read messages of a queue, as `DefaultMessageStore.getMessage`.
   *
   * @param topic Topic.
   * @param queueId Queue.
   * @param offset First queue offset to read.
   * @param maxCount Most messages.
   * @param maxBytes About the most bytes (the first message always fits).
   * @param filter Keeps messages by tags code.
   * @returns The status, the records and the offsets.
   */
  get(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    maxBytes: number,
    filter?: MessageFilter,
  ): Promise<GetResult> {
    const queue = this.#queues.get(queueKey(topic, queueId));
    const result: GetResult = {
      status: "NO_MATCHED_LOGIC_QUEUE",
      records: [],
      queueOffsets: [],
      nextBeginOffset: 0,
      minOffset: 0,
      maxOffset: 0,
    };
    if (!queue) return Promise.resolve(result);
    const min = queue.base;
    const max = queue.base + count(queue);
    result.minOffset = min;
    result.maxOffset = max;
    if (max === 0) {
      result.status = "NO_MESSAGE_IN_QUEUE";
      result.nextBeginOffset = 0;
    } else if (offset < min) {
      result.status = "OFFSET_TOO_SMALL";
      result.nextBeginOffset = min;
    } else if (offset === max) {
      result.status = "OFFSET_OVERFLOW_ONE";
      result.nextBeginOffset = offset;
    } else if (offset > max) {
      result.status = "OFFSET_OVERFLOW_BADLY";
      result.nextBeginOffset = max;
    } else {
      result.status = "NO_MATCHED_MESSAGE";
      let next = offset;
      let bytes = 0;
      const scanLimit = Math.max(MAX_FILTER_SCAN, maxCount);
      for (let i = offset; i < max; i++) {
        if (i - offset >= scanLimit) break;
        const rec = queue.items[queue.head + (i - queue.base)]!;
        if (
          result.records.length > 0 &&
          (result.records.length >= maxCount || bytes + rec.bytes.length > maxBytes)
        ) {
          break;
        }
        next = i + 1;
        if (filter && !safeFilter(filter, rec.tagsCode)) continue;
        result.records.push(rec.bytes);
        result.queueOffsets.push(i);
        bytes += rec.bytes.length;
        result.status = "FOUND";
      }
      result.nextBeginOffset = next;
    }
    return Promise.resolve(result);
  }

  /**
   * Offset the next message of a queue will get.
   *
   * @param topic Topic.
   * @param queueId Queue.
   * @returns The offset; 0 for an unknown queue.
   */
  maxOffset(topic: string, queueId: number): number {
    const queue = this.#queues.get(queueKey(topic, queueId));
    return queue ? queue.base + count(queue) : 0;
  }

  /**
   * Smallest offset still held.
   *
   * @param topic Topic.
   * @param queueId Queue.
   * @returns The offset; 0 for an unknown queue.
   */
  minOffset(topic: string, queueId: number): number {
    return this.#queues.get(queueKey(topic, queueId))?.base ?? 0;
  }

  /**
   * Queue offset for a store time (`getOffsetInQueueByTime`): `LOWER` gives
   * the first message stored at or after `timestamp` (the max offset if
   * none), `UPPER` the last stored at or before it.
   *
   * @param topic Topic.
   * @param queueId Queue.
   * @param timestamp Store time in ms.
   * @param boundary Which side of the timestamp.
   * @returns The offset.
   */
  searchOffset(
    topic: string,
    queueId: number,
    timestamp: number,
    boundary: BoundaryType = "LOWER",
  ): Promise<number> {
    const queue = this.#queues.get(queueKey(topic, queueId));
    if (!queue || count(queue) === 0) return Promise.resolve(queue?.base ?? 0);
    const n = count(queue);
    const at = (i: number): number => queue.items[queue.head + i]!.storeTimestamp;
    if (boundary === "UPPER") {
      // last index with storeTimestamp <= timestamp
      let lo = 0, hi = n - 1, found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (at(mid) <= timestamp) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return Promise.resolve(queue.base + Math.max(found, 0));
    }
    // first index with storeTimestamp >= timestamp, n when none
    let lo = 0, hi = n - 1, found = n;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (at(mid) >= timestamp) {
        found = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return Promise.resolve(queue.base + found);
  }

  /**
   * Store time of the oldest message held in a queue.
   *
   * @param topic Topic.
   * @param queueId Queue.
   * @returns The time in ms, 0 when the queue is empty.
   */
  earliestStoreTime(topic: string, queueId: number): Promise<number> {
    const queue = this.#queues.get(queueKey(topic, queueId));
    if (!queue || count(queue) === 0) return Promise.resolve(0);
    return Promise.resolve(queue.items[queue.head]!.storeTimestamp);
  }

  /**
   * The record at a physical offset.
   *
   * @param commitLogOffset Physical offset.
   * @returns The record, or `undefined` when dropped or never written.
   */
  lookup(commitLogOffset: number): Promise<Uint8Array | undefined> {
    let lo = this.#logHead, hi = this.#log.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const rec = this.#log[mid]!;
      if (rec.phys === commitLogOffset) return Promise.resolve(rec.bytes);
      if (rec.phys < commitLogOffset) lo = mid + 1;
      else hi = mid - 1;
    }
    return Promise.resolve(undefined);
  }

  /**
   * Subscribe to appends.
   *
   * @param listener Told of every appended message.
   * @returns Unsubscribes.
   */
  onArrival(listener: ArrivalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Store a group's next offset to consume.
   *
   * @param group Consumer group.
   * @param topic Topic.
   * @param queueId Queue.
   * @param offset Offset.
   */
  commitOffset(group: string, topic: string, queueId: number, offset: number): void {
    let topics = this.#offsets.get(group);
    if (!topics) {
      topics = new Map();
      this.#offsets.set(group, topics);
    }
    let queues = topics.get(topic);
    if (!queues) {
      queues = new Map();
      topics.set(topic, queues);
    }
    queues.set(queueId, offset);
  }

  /**
   * A group's committed offset.
   *
   * @param group Consumer group.
   * @param topic Topic.
   * @param queueId Queue.
   * @returns The offset, or `undefined`.
   */
  queryOffset(group: string, topic: string, queueId: number): number | undefined {
    return this.#offsets.get(group)?.get(topic)?.get(queueId);
  }

  /**
   * Groups with committed offsets for a topic.
   *
   * @param topic Topic.
   * @returns Group names.
   */
  groupsWithOffsets(topic: string): string[] {
    const out: string[] = [];
    for (const [group, topics] of this.#offsets) if (topics.has(topic)) out.push(group);
    return out;
  }

  /**
   * Every queue held, with its max offset.
   *
   * @returns The queues.
   */
  queues(): Array<{ topic: string; queueId: number; maxOffset: number }> {
    return [...this.#queues.values()].map((q) => ({
      topic: q.topic,
      queueId: q.queueId,
      maxOffset: q.base + count(q),
    }));
  }

  /** Nothing to make durable. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Refuse further appends and drop listeners. */
  close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    return Promise.resolve();
  }
}

function safeFilter(filter: MessageFilter, tagsCode: number): boolean {
  try {
    return filter(tagsCode);
  } catch {
    return true;
  }
}
