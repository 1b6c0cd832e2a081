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

/** A message to append. The store assigns offsets and the store time. */
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
   * Filter code of the message's tag: Java `String.hashCode()` of the TAGS
   * property, 0 without tags. Kept in the queue index for server-side tag
   * filtering.
   */
  tagsCode: number;
}

/** Where a message was stored. */
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

/** Outcome of a read, mirroring RocketMQ's `GetMessageStatus`. */
export type GetStatus =
  | "FOUND"
  | "NO_MATCHED_MESSAGE"
  | "NO_MESSAGE_IN_QUEUE"
  | "OFFSET_FOUND_NULL"
  | "OFFSET_OVERFLOW_BADLY"
  | "OFFSET_OVERFLOW_ONE"
  | "OFFSET_TOO_SMALL"
  | "NO_MATCHED_LOGIC_QUEUE";

/** Result of {@linkcode MessageStore.get}. */
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

/** Filter applied while reading: `true` keeps the message. */
export type MessageFilter = (tagsCode: number) => boolean;

/** Told when a message is appended (for long polling). */
export type ArrivalListener = (
  topic: string,
  queueId: number,
  queueOffset: number,
  tagsCode: number,
) => void;

/** How `searchOffset` resolves a timestamp between two messages. */
export type BoundaryType = "LOWER" | "UPPER";

/** A message store. */
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
  /** Queue offset of the first message stored at or after `timestamp`. */
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
