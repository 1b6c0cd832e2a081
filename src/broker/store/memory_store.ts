/**
 * The in-memory {@linkcode MessageStore}: the default store of the embedded
 * broker. Records are kept in commit-log format (so a pull body is a plain
 * concatenation of them), appended back to back into segments of up to
 * 1 MiB, and indexed per (topic, queue) in typed arrays of 32 bytes per
 * record. The store is bounded by what it holds: once its segments and
 * index exceed `memoryLimitBytes`, the oldest segment is dropped and the
 * minimum offsets of its queues advance, as when RocketMQ deletes an old
 * commit-log file. Consumers behind the minimum get PULL_OFFSET_MOVED.
 *
 * Why segments: a record in an allocation of its own costs several hundred
 * bytes more than its length (the typed array, its ArrayBuffer and backing
 * store, an index object), and dropped ones wait for the garbage collector;
 * with requests and replies of a few hundred bytes, a store that counted
 * 256 MiB of records held 0.8-1.8 GB. Segments and typed-array indexes hold
 * what they count.
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
import { lazyStoredProperties } from "../../codec/_stored_properties.ts";
import { KeyIndex, messageKeys, queryByKey } from "./_key_index.ts";
import type {
  ArrivalListener,
  BoundaryType,
  GetResult,
  MessageFilter,
  MessageStore,
  PutMessageInput,
  PutResult,
  QueryMessageResult,
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
   * Most bytes to hold: record segments (their unused tails included), the
   * queue index (32 bytes per record) and the key index (about 32 bytes per
   * key: each word of `KEYS` and the `UNIQ_KEY`). Beyond it the oldest segment is
   * dropped. Segments are `memoryLimitBytes / 16` long, at most 1 MiB; a
   * record longer than that gets a segment of its own.
   * @default {268435456} (256 MiB)
   */
  memoryLimitBytes?: number;
  /** Clock for store timestamps. @default {Date.now} */
  now?: () => number;
}

/** Records back to back from physical offset `base`; `used` bytes written. */
interface Segment {
  base: number;
  bytes: Uint8Array;
  used: number;
}

/**
 * A queue's index: `count` entries from entry `head` of `index`, for queue
 * offsets `base..`. An entry is SLOTS numbers: physical offset, size, tags
 * code, store time.
 */
interface Queue {
  topic: string;
  queueId: number;
  index: Float64Array;
  head: number;
  count: number;
  base: number;
}

const SLOTS = 4;
const PHYS = 0;
const SIZE = 1;
const TAGS = 2;
const TIME = 3;
const MIN_INDEX_ENTRIES = 16;
const MAX_SEGMENT = 1024 * 1024;
const NO_INDEX = new Float64Array(0);

/** Queue entries scanned at most per read while filtering (Java: 16000 bytes / 20). */
const MAX_FILTER_SCAN = 800;

function queueKey(topic: string, queueId: number): string {
  return `${queueId}@${topic}`;
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
 * const store = new MemoryStore({ memoryLimitBytes: 16 * 1024 });
 * const host = { address: "127.0.0.1", port: 9876 };
 * for (let i = 0; i < 200; i++) {
 *   await store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array(100), properties: {}, tagsCode: 0,
 *   });
 * }
 * assert.ok(store.minOffset("T", 0) > 0);
 * assert.equal(store.maxOffset("T", 0), 200);
 * assert.ok(store.bytes <= 16 * 1024); // segments and index, all counted
 * ```
 */
export class MemoryStore implements MessageStore {
  readonly #limit: number;
  readonly #segmentSize: number;
  readonly #now: () => number;
  readonly #queues = new Map<string, Queue>();
  readonly #offsets = new Map<string, Map<string, Map<number, number>>>();
  readonly #listeners = new Set<ArrivalListener>();
  /** Segments in physical order; the live ones from `#segmentHead`. */
  #segments: Segment[] = [];
  #segmentHead = 0;
  #nextPhys = 0;
  #segmentBytes = 0;
  #indexBytes = 0;
  #messages = 0;
  readonly #keys: KeyIndex;
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
    this.#segmentSize = Math.min(MAX_SEGMENT, Math.floor(limit / 16));
    this.#now = options.now ?? Date.now;
    // Never the bound: its bytes count against the limit, and eviction drops them.
    this.#keys = new KeyIndex(Math.max(1024, limit / 24));
  }

  /** Bytes held: record segments (with their unused tails), the queue index and the key index. */
  get bytes(): number {
    return this.#segmentBytes + this.#indexBytes;
  }

  /** Records held. */
  get messages(): number {
    return this.#messages;
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
      propertiesText: m.propertiesText,
    });
  }

  #append(m: PutMessageInput): PutResult {
    if (this.#closed) throw new IllegalStateError("message store is closed");
    const key = queueKey(m.topic, m.queueId);
    let queue = this.#queues.get(key);
    const queueOffset = queue ? queue.base + queue.count : 0;
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
      queue = { topic: m.topic, queueId: m.queueId, index: NO_INDEX, head: 0, count: 0, base: 0 };
      this.#queues.set(key, queue);
    }
    const segment = this.#segmentFor(bytes.length);
    segment.bytes.set(bytes, segment.used);
    segment.used += bytes.length;
    this.#nextPhys += bytes.length;
    this.#pushEntry(queue, phys, bytes.length, m.tagsCode, storeTimestamp);
    this.#indexBytes += this.#keys.add(m.topic, messageKeys(m.properties), phys, storeTimestamp);
    this.#messages++;
    this.#evict();
    const properties = lazyStoredProperties(bytes);
    for (const listener of [...this.#listeners]) {
      try {
        listener(m.topic, m.queueId, queueOffset, m.tagsCode, properties);
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

  /** The segment the next record of `size` bytes goes to (a new one when the last is full). */
  #segmentFor(size: number): Segment {
    const last = this.#segments[this.#segments.length - 1];
    if (
      last && this.#segments.length > this.#segmentHead && last.used + size <= last.bytes.length
    ) {
      return last;
    }
    const segment: Segment = {
      base: this.#nextPhys,
      bytes: new Uint8Array(Math.max(this.#segmentSize, size)),
      used: 0,
    };
    this.#segments.push(segment);
    this.#segmentBytes += segment.bytes.length;
    return segment;
  }

  #pushEntry(
    queue: Queue,
    phys: number,
    size: number,
    tagsCode: number,
    storeTimestamp: number,
  ): void {
    let end = queue.head + queue.count;
    if ((end + 1) * SLOTS > queue.index.length) {
      const capacity = queue.index.length / SLOTS;
      // Twice the entries held, or the same room once the dropped head is reclaimed.
      this.#resize(
        queue,
        Math.max(MIN_INDEX_ENTRIES, queue.count * 2 > capacity ? capacity * 2 : capacity),
      );
      end = queue.count;
    }
    const at = end * SLOTS;
    const index = queue.index;
    index[at + PHYS] = phys;
    index[at + SIZE] = size;
    index[at + TAGS] = tagsCode;
    index[at + TIME] = storeTimestamp;
    queue.count++;
  }

  /** Move a queue's entries to the start of an index of `entries` entries. */
  #resize(queue: Queue, entries: number): void {
    const index = entries === 0 ? NO_INDEX : new Float64Array(entries * SLOTS);
    if (queue.count > 0) {
      index.set(queue.index.subarray(queue.head * SLOTS, (queue.head + queue.count) * SLOTS));
    }
    this.#indexBytes += index.byteLength - queue.index.byteLength;
    queue.index = index;
    queue.head = 0;
  }

  #evict(): void {
    const segments = this.#segments;
    while (this.bytes > this.#limit && segments.length - this.#segmentHead > 1) {
      const dropped = segments[this.#segmentHead]!;
      segments[this.#segmentHead] = undefined as unknown as Segment;
      this.#segmentHead++;
      this.#segmentBytes -= dropped.bytes.length;
      const logStart = segments[this.#segmentHead]!.base;
      this.#indexBytes += this.#keys.dropBelow(logStart);
      for (const queue of this.#queues.values()) {
        let dropping = 0;
        while (
          dropping < queue.count && queue.index[(queue.head + dropping) * SLOTS + PHYS]! < logStart
        ) dropping++;
        if (dropping === 0) continue;
        queue.head += dropping;
        queue.count -= dropping;
        queue.base += dropping;
        this.#messages -= dropping;
        const capacity = queue.index.length / SLOTS;
        if (queue.count === 0) this.#resize(queue, 0);
        else if (capacity > MIN_INDEX_ENTRIES && queue.count * 4 <= capacity) {
          this.#resize(queue, Math.max(MIN_INDEX_ENTRIES, capacity / 2));
        }
      }
    }
    if (this.#segmentHead > 64 && this.#segmentHead * 2 > segments.length) {
      this.#segments = segments.slice(this.#segmentHead);
      this.#segmentHead = 0;
    }
  }

  /** The segment holding physical offset `phys`, if still held. */
  #segmentAt(phys: number): Segment | undefined {
    const segments = this.#segments;
    let lo = this.#segmentHead, hi = segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const segment = segments[mid]!;
      if (phys < segment.base) hi = mid - 1;
      else if (phys >= segment.base + segment.used) lo = mid + 1;
      else return segment;
    }
    return undefined;
  }

  /** The record at `phys` of `size` bytes: a view into its segment. */
  #record(phys: number, size: number): Uint8Array {
    const segment = this.#segmentAt(phys)!;
    const at = phys - segment.base;
    return segment.bytes.subarray(at, at + size);
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
   * @returns The status, the records (views into the store's segments) and
   * the offsets.
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
    const max = queue.base + queue.count;
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
      // From the start when the queue still starts at 0 (its offsets went
      // back: a restarted memory store), else from the end
      // (DefaultMessageStore.getMessage).
      result.nextBeginOffset = min === 0 ? 0 : max;
    } else {
      result.status = "NO_MATCHED_MESSAGE";
      let next = offset;
      let bytes = 0;
      const scanLimit = Math.max(MAX_FILTER_SCAN, maxCount);
      const index = queue.index;
      for (let i = offset; i < max; i++) {
        if (i - offset >= scanLimit) break;
        const at = (queue.head + (i - queue.base)) * SLOTS;
        const size = index[at + SIZE]!;
        if (
          result.records.length > 0 &&
          (result.records.length >= maxCount || bytes + size > maxBytes)
        ) {
          break;
        }
        next = i + 1;
        if (filter && !safeFilter(filter, index[at + TAGS]!)) continue;
        result.records.push(this.#record(index[at + PHYS]!, size));
        result.queueOffsets.push(i);
        bytes += size;
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
    return queue ? queue.base + queue.count : 0;
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
    if (!queue || queue.count === 0) return Promise.resolve(queue?.base ?? 0);
    const n = queue.count;
    const at = (i: number): number => queue.index[(queue.head + i) * SLOTS + TIME]!;
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
    if (!queue || queue.count === 0) return Promise.resolve(0);
    return Promise.resolve(queue.index[queue.head * SLOTS + TIME]!);
  }

  /**
   * The record at a physical offset.
   *
   * @param commitLogOffset Physical offset.
   * @returns The record (a view into its segment), or `undefined` when
   * dropped, never written, or not the start of a record.
   */
  lookup(commitLogOffset: number): Promise<Uint8Array | undefined> {
    const segment = this.#segmentAt(commitLogOffset);
    if (!segment) return Promise.resolve(undefined);
    // Walk the segment's records (each starts with its size) to the offset.
    const view = new DataView(segment.bytes.buffer, segment.bytes.byteOffset, segment.used);
    const target = commitLogOffset - segment.base;
    let at = 0;
    while (at < target) at += view.getInt32(at);
    return Promise.resolve(
      at === target ? segment.bytes.subarray(at, at + view.getInt32(at)) : undefined,
    );
  }

  /**
   * Records of a topic by key (a `KEYS` word or the `UNIQ_KEY`).
   *
   * @param topic Topic.
   * @param key The key.
   * @param maxNum Most records (the newest).
   * @param beginTimestamp Earliest store time, ms.
   * @param endTimestamp Latest store time, ms.
   * @returns The records (views into the store's segments), in physical order.
   */
  queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    beginTimestamp: number,
    endTimestamp: number,
  ): Promise<QueryMessageResult> {
    return queryByKey(
      this.#keys,
      (phys) => this.lookup(phys),
      topic,
      key,
      maxNum,
      beginTimestamp,
      endTimestamp,
    );
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
      maxOffset: q.base + q.count,
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
