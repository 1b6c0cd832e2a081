/**
 * The message store behind the embedded broker: an append-only log of stored
 * message records (RocketMQ's commit-log record layout, so a pull response is
 * a concatenation of records as stored), a logical index per (topic, queue),
 * and the consumer offsets of every group.
 *
 * Two implementations: an in-memory store (bounded, oldest records dropped)
 * and a file store under a data directory (recovered on restart).
 *
 * @module
 */

import type { HostAddress } from "../../codec/message_ext.ts";

/**
 * A message to append. The store assigns offsets and the store time.
 *
 * @example A tagged message
 * ```ts
 * import type { PutMessageInput } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { javaStringHashCode } from "../../codec/bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const message: PutMessageInput = {
 *   topic: "orders", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: Date.now(),
 *   bornHost: { address: "10.0.0.5", port: 50000 }, storeHost: { address: "10.0.0.1", port: 10911 },
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new TextEncoder().encode("{}"),
 *   properties: { TAGS: "created", UNIQ_KEY: "0A0000051234000000010000002A0000" },
 *   tagsCode: javaStringHashCode("created"), // what tag filters compare
 * };
 * const store = new MemoryStore();
 * assert.equal((await store.put(message)).queueOffset, 0);
 * await store.close();
 * ```
 */
export interface PutMessageInput {
  /** Topic to append to. */
  topic: string;
  /** Queue of the topic. */
  queueId: number;
  /** User flag. */
  flag: number;
  /** Message sysFlag (compression, host families, transaction bits). */
  sysFlag: number;
  /** Producer's send time (ms). */
  bornTimestamp: number;
  /** Producer's address. */
  bornHost: HostAddress;
  /** This broker's address. */
  storeHost: HostAddress;
  /** How many times the message was consumed and sent back. */
  reconsumeTimes: number;
  /** Transaction offset; 0 for normal messages. */
  preparedTransactionOffset: number;
  /** Body as sent (still compressed if sysFlag bit 0). */
  body: Uint8Array;
  /** Message properties (TAGS, KEYS, UNIQ_KEY, CLUSTER, …). */
  properties: Record<string, string>;
  /**
   * The same properties as a properties string, when the caller has it (the
   * client's text with the broker's keys appended): stored as is. Must decode
   * to `properties`; whoever changes `properties` drops it.
   */
  propertiesText?: string | undefined;
  /**
   * Filter code of the message's tag: Java `String.hashCode()` of the TAGS
   * property, 0 without tags. Kept in the queue index for server-side tag
   * filtering.
   */
  tagsCode: number;
}

/**
 * Where a message was stored.
 *
 * @example The offset message id names the store host and the physical offset
 * ```ts
 * import type { PutResult } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { parseOffsetMessageId } from "../../codec/message_id.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore({ now: () => 1_700_000_000_000 });
 * const host = { address: "10.0.0.1", port: 10911 };
 * const put = (body: string): Promise<PutResult> =>
 *   store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new TextEncoder().encode(body), properties: {}, tagsCode: 0,
 *   });
 * const first = await put("a");
 * const second = await put("b");
 * assert.equal(second.queueOffset, 1);
 * assert.equal(second.commitLogOffset, first.commitLogOffset + first.size); // records are contiguous
 * assert.deepEqual(parseOffsetMessageId(second.msgId), { storeHost: host, commitLogOffset: second.commitLogOffset });
 * assert.equal(second.storeTimestamp, 1_700_000_000_000);
 * await store.close();
 * ```
 */
export interface PutResult {
  /** Position of the record in the log (physical offset). */
  commitLogOffset: number;
  /** Logical offset in its (topic, queue). */
  queueOffset: number;
  /** Store time (ms). */
  storeTimestamp: number;
  /** Offset message id (store host + physical offset). */
  msgId: string;
  /** Record size in bytes. */
  size: number;
}

/**
 * Outcome of a read, mirroring RocketMQ's `GetMessageStatus`.
 *
 * @example Reading past the end
 * ```ts
 * import type { GetStatus } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 10911 };
 * await store.put({
 *   topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: {}, tagsCode: 0,
 * });
 * const status = async (queueId: number, offset: number): Promise<GetStatus> =>
 *   (await store.get("T", queueId, offset, 32, 1 << 20)).status;
 * assert.equal(await status(0, 0), "FOUND");
 * assert.equal(await status(0, 1), "OFFSET_OVERFLOW_ONE"); // caught up: a pull is held here
 * assert.equal(await status(0, 5), "OFFSET_OVERFLOW_BADLY");
 * assert.equal(await status(7, 0), "NO_MATCHED_LOGIC_QUEUE"); // no such queue
 * await store.close();
 * ```
 */
export type GetStatus =
  | "FOUND"
  | "NO_MATCHED_MESSAGE"
  | "NO_MESSAGE_IN_QUEUE"
  | "OFFSET_FOUND_NULL"
  | "OFFSET_OVERFLOW_BADLY"
  | "OFFSET_OVERFLOW_ONE"
  | "OFFSET_TOO_SMALL"
  | "NO_MATCHED_LOGIC_QUEUE";

/**
 * Result of {@linkcode MessageStore.get}.
 *
 * @example
 * ```ts
 * import type { GetResult } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { decodeStoredMessage } from "../../codec/message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 10911 };
 * for (const body of ["a", "b", "c"]) {
 *   await store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new TextEncoder().encode(body), properties: {}, tagsCode: 0,
 *   });
 * }
 * const result: GetResult = await store.get("T", 0, 1, 32, 1 << 20);
 * assert.deepEqual(result.queueOffsets, [1, 2]);
 * assert.equal(new TextDecoder().decode(decodeStoredMessage(result.records[0]!).body), "b");
 * assert.deepEqual([result.nextBeginOffset, result.minOffset, result.maxOffset], [3, 0, 3]);
 * await store.close();
 * ```
 */
export interface GetResult {
  /** What happened. */
  status: GetStatus;
  /** Encoded records (commit-log layout), in queue order. */
  records: Uint8Array[];
  /** Queue offsets of `records`, in the same order. */
  queueOffsets: number[];
  /** Where the next read should start. */
  nextBeginOffset: number;
  /** Smallest offset still in the queue. */
  minOffset: number;
  /** Offset the next appended message will get. */
  maxOffset: number;
}

/**
 * Filter applied while reading: `true` keeps the message.
 *
 * @example Server-side tag filtering
 * ```ts
 * import type { MessageFilter } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { javaStringHashCode } from "../../codec/bodies.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 10911 };
 * for (const tag of ["A", "B", "A"]) {
 *   await store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: { TAGS: tag },
 *     tagsCode: javaStringHashCode(tag),
 *   });
 * }
 * const onlyB: MessageFilter = (tagsCode) => tagsCode === javaStringHashCode("B");
 * const result = await store.get("T", 0, 0, 32, 1 << 20, onlyB);
 * assert.deepEqual(result.queueOffsets, [1]);
 * assert.equal(result.nextBeginOffset, 3); // skipped messages are passed over, not read again
 * await store.close();
 * ```
 */
export type MessageFilter = (tagsCode: number) => boolean;

/**
 * Told when a message is appended (for long polling). `properties` reads
 * the stored message's properties (once, on the first call; it may throw on
 * a malformed record): what a held SQL92 pull decides on.
 *
 * @example
 * ```ts
 * import type { ArrivalListener } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const arrivals: string[] = [];
 * const listener: ArrivalListener = (topic, queueId, queueOffset) => arrivals.push(`${topic}/${queueId}@${queueOffset}`);
 * const unsubscribe = store.onArrival(listener);
 * const host = { address: "127.0.0.1", port: 10911 };
 * await store.put({
 *   topic: "T", queueId: 2, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: {}, tagsCode: 0,
 * });
 * unsubscribe();
 * assert.deepEqual(arrivals, ["T/2@0"]);
 * await store.close();
 * ```
 */
export type ArrivalListener = (
  topic: string,
  queueId: number,
  queueOffset: number,
  tagsCode: number,
  properties?: () => Readonly<Record<string, string>>,
) => void;

/**
 * How `searchOffset` resolves a timestamp between two messages.
 *
 * @example A time between two messages
 * ```ts
 * import type { BoundaryType } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * let clock = 1_000;
 * const store = new MemoryStore({ now: () => clock });
 * const host = { address: "127.0.0.1", port: 10911 };
 * for (const at of [1_000, 2_000]) {
 *   clock = at;
 *   await store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: at, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: {}, tagsCode: 0,
 *   });
 * }
 * const at1500 = (boundary: BoundaryType) => store.searchOffset("T", 0, 1_500, boundary);
 * assert.equal(await at1500("LOWER"), 1); // the first message stored at or after 1500
 * assert.equal(await at1500("UPPER"), 0); // the last message stored at or before 1500
 * await store.close();
 * ```
 */
export type BoundaryType = "LOWER" | "UPPER";

/**
 * Result of {@linkcode MessageStore.queryMessage}: the records found by key,
 * and how far the key index reaches (QUERY_MESSAGE's response header).
 *
 * @example Find a message by a word of its KEYS property
 * ```ts
 * import type { QueryMessageResult } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { decodeStoredMessage } from "../../codec/message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 10911 };
 * for (const keys of ["order-1 acct-7", "order-2 acct-7"]) {
 *   await store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1]), properties: { KEYS: keys },
 *     tagsCode: 0,
 *   });
 * }
 * const found: QueryMessageResult = await store.queryMessage("T", "acct-7", 32, 0, Number.MAX_SAFE_INTEGER);
 * assert.deepEqual(found.records.map((r) => decodeStoredMessage(r).properties["KEYS"]), ["order-1 acct-7", "order-2 acct-7"]);
 * assert.equal((await store.queryMessage("T", "order-2", 32, 0, Number.MAX_SAFE_INTEGER)).records.length, 1);
 * await store.close();
 * ```
 */
export interface QueryMessageResult {
  /** Encoded records (commit-log layout), in physical order. */
  records: Uint8Array[];
  /** Store time of the last record indexed (0 when none). */
  indexLastUpdateTimestamp: number;
  /** Physical offset of the last record indexed (0 when none). */
  indexLastUpdatePhyoffset: number;
}

/**
 * A message store.
 *
 * @example Code written against the interface works with either store
 * ```ts
 * import type { MessageStore } from "./types.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import assert from "node:assert/strict";
 *
 * // Messages a group has not consumed yet in one queue.
 * function lag(store: MessageStore, group: string, topic: string, queueId: number): number {
 *   const committed = store.queryOffset(group, topic, queueId) ?? store.minOffset(topic, queueId);
 *   return store.maxOffset(topic, queueId) - committed;
 * }
 *
 * const store: MessageStore = new MemoryStore();
 * const host = { address: "127.0.0.1", port: 10911 };
 * for (let i = 0; i < 5; i++) {
 *   await store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([i]), properties: {}, tagsCode: 0,
 *   });
 * }
 * store.commitOffset("CG", "T", 0, 3); // the next offset to consume
 * assert.equal(lag(store, "CG", "T", 0), 2);
 * await store.close();
 * ```
 */
export interface MessageStore {
  /**
   * Append one message. Resolves once the store's flush policy holds
   * (asynchronous flush: written to the log; synchronous flush: durable on
   * disk).
   */
  put(message: PutMessageInput): Promise<PutResult>;
  /** Append several messages of one (topic, queue) contiguously. */
  putBatch(messages: readonly PutMessageInput[]): Promise<PutResult[]>;
  /**
   * Read up to `maxCount` messages (and about `maxBytes`) of a queue from
   * `offset`, skipping those the filter rejects.
   */
  get(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    maxBytes: number,
    filter?: MessageFilter,
  ): Promise<GetResult>;
  /** Offset the next message of the queue will get (0 for an unknown queue). */
  maxOffset(topic: string, queueId: number): number;
  /** Smallest offset still present (0 for an unknown queue). */
  minOffset(topic: string, queueId: number): number;
  /**
   * Queue offset of the first message stored at or after `timestamp` (the
   * max offset if none) with `LOWER`, the default; of the last message
   * stored at or before it with `UPPER`.
   */
  searchOffset(
    topic: string,
    queueId: number,
    timestamp: number,
    boundary?: BoundaryType,
  ): Promise<number>;
  /** Store time of the oldest message still in the queue (0 if empty). */
  earliestStoreTime(topic: string, queueId: number): Promise<number>;
  /** The encoded record at a physical offset, if still present. */
  lookup(commitLogOffset: number): Promise<Uint8Array | undefined>;
  /**
   * Records of `topic` carrying `key` (a word of their `KEYS` property, or
   * their `UNIQ_KEY`) stored within `[beginTimestamp, endTimestamp]`: the
   * newest `maxNum`, in physical order (`DefaultMessageStore.queryMessage`).
   * Only records still held and indexed are found.
   */
  queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    beginTimestamp: number,
    endTimestamp: number,
  ): Promise<QueryMessageResult>;
  /** Subscribe to appends; returns an unsubscribe function. */
  onArrival(listener: ArrivalListener): () => void;

  /** Store a consumer group's next offset to consume for a queue. */
  commitOffset(group: string, topic: string, queueId: number, offset: number): void;
  /** A group's committed offset for a queue, or `undefined`. */
  queryOffset(group: string, topic: string, queueId: number): number | undefined;
  /** Groups with committed offsets for a topic. */
  groupsWithOffsets(topic: string): string[];

  /** Topics known to the store (with queue counts), for recovery of topic config. */
  queues(): Array<{ topic: string; queueId: number; maxOffset: number }>;

  /** Make everything written so far durable (no-op in memory). */
  flush(): Promise<void>;
  /** Flush and release resources. */
  close(): Promise<void>;
}
