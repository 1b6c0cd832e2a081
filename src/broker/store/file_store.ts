/**
 * The durable {@linkcode MessageStore} of the embedded broker: a segmented,
 * append-only commit log of stored message records (RocketMQ's commit-log
 * record layout, exactly as `encodeStoredMessage` writes it, so a pull body is
 * a concatenation of records as stored), a fixed-entry index per
 * (topic, queue), consumer offsets, and a checkpoint, all recovered on
 * restart.
 *
 * ## Files under `dataDir`
 *
 * | Path | Content |
 * |---|---|
 * | `commitlog/<base>` | A commit-log segment: records back to back, nothing else. `<base>` (20 decimal digits) is the physical offset of its first byte. A segment is closed at `segmentSize` bytes (a record never spans two) and the next one starts where it ended, so physical offsets are contiguous, without padding. Only the last segment is ever written. |
 * | `consumequeue/<topic>.<queueId>.<n>/queue.json` | Which queue the directory indexes (`topic`, `queueId`, `entriesPerFile`); the directory name is only a readable, unique label (`<topic>` with characters outside `[A-Za-z0-9_-]` replaced). Written before any entry. |
 * | `consumequeue/<…>/<first>` | An index file: `entriesPerFile` slots of 32 bytes, the slot of queue offset `q` at `(q - first) * 32`, `<first>` (20 digits) a multiple of `entriesPerFile`. Entry: commitLogOffset int64, size int32, tagsCode int64, storeTimestamp int64, CRC-32 of those 28 bytes uint32 (big-endian). An all-zero slot is a hole (below the queue's min offset). |
 * | `checkpoint.json` | `logEnd`: every record below it, and every index entry of those records, is on disk (fsynced); the queues' next offsets at that point; the last store time. |
 * | `offsets.json` | Committed consumer offsets, `[group, topic, queueId, offset]`. |
 *
 * The key index (QUERY_MESSAGE: which records carry a `KEYS` word or a
 * `UNIQ_KEY`) is held in memory, about 32 bytes per key, at most
 * `keyIndexEntries` keys (the newest), and rebuilt on open by reading the
 * newest segments that hold that many keys: it has no file.
 *
 * The JSON files are a line of JSON and a line with its CRC-32, replaced
 * atomically (temporary file, fsync, rename, fsync of the directory). Other
 * files under `dataDir` (the broker keeps its topics there) are left alone.
 *
 * ## Flushing
 *
 * Writes reach the operating system before `put()` resolves. With
 * `flush: "async"` (the default) the commit log, the touched index files and
 * the checkpoint are fsynced every `flushIntervalMs` and on `flush()`/`close()`:
 * a process crash loses nothing acknowledged, a power loss up to one interval.
 * With `flush: "sync"`, `put()` resolves only after an fsync of the commit log
 * covering its record; concurrent puts share one fsync (group commit), and a
 * message becomes readable only once it is durable, so a consumer never sees
 * (and commits past) a message that a crash could take back. Index files are
 * not fsynced per put: they are rebuilt from the log on recovery.
 *
 * ## Recovery
 *
 * On open, segments must be contiguous. The scan starts at the checkpoint's
 * `logEnd` (at the start of the log without a checkpoint, at the start of the
 * last segment if the log is shorter than the checkpoint says, and earlier
 * where an index file holds fewer entries than the checkpoint recorded) and
 * validates every record from there: size within the segment, magic code,
 * decodable fields, physical-offset field equal to its position, body CRC,
 * queue offsets consecutive per queue. CRCs are checked only in this scanned
 * tail, not in the whole log: everything before it was fsynced before the
 * checkpoint was written, so only the tail can be torn, and checking a whole
 * large log would make every restart cost a full read of it. The first
 * invalid record ends the log: the segment is truncated there (a torn tail is
 * never served). An invalid record below the durable point is not torn but
 * corrupt, and the store refuses to open rather than drop acknowledged
 * messages. Index entries are (re)written for every scanned record, entries
 * beyond what the log holds are cut, and min offsets are recomputed. If the
 * record at the checkpoint itself is invalid, its segment is rescanned from
 * the start, so a checkpoint that does not match the log cannot cut it.
 *
 * Notes: store timestamps never decrease (the clock is clamped to the last
 * one, also across restarts), which `searchOffset`'s binary search relies on.
 * Reads check each record's header against its index entry, and the body
 * CRC of every record read from a file: a record that fails it is skipped
 * (the read moves past it) and logged as an error, never served as if whole.
 * Records still in the write cache (the last 4 MiB written) are not checked
 * again. Only the body has a checksum in this layout (as in Java's): damage
 * to topic or properties bytes that keeps the record decodable goes unseen.
 * A rebuilt index entry takes its tags code from the record's `TAGS` property
 * (Java `String.hashCode()`), as `PutMessageInput.tagsCode` is defined.
 *
 * @example Store, read, reopen
 * ```ts
 * import { openFileStore } from "./file_store.ts";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await mkdtemp(`${tmpdir()}/store-`);
 * const host = { address: "127.0.0.1", port: 10911 };
 * const message = {
 *   topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 1, bornHost: host, storeHost: host,
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([1, 2, 3]), properties: {},
 *   tagsCode: 0,
 * };
 * let store = await openFileStore({ dataDir, flush: "sync" });
 * const put = await store.put(message);
 * await store.close();
 *
 * store = await openFileStore({ dataDir });
 * const got = await store.get("T", 0, 0, 32, 1 << 20);
 * assert.equal(got.status, "FOUND");
 * assert.equal(got.records[0]!.length, put.size);
 * await store.close();
 * await rm(dataDir, { recursive: true });
 * ```
 *
 * @module
 */

import {
  IllegalStateError,
  InvalidArgumentError,
  RocketMQError,
  StoreError,
} from "../../errors.ts";
import { crc32 } from "../../codec/crc32.ts";
import { MessageSysFlag } from "../../codec/message.ts";
import {
  decodeStoredMessage,
  encodeStoredMessage,
  type HostAddress,
  MessageMagic,
  type StoredMessage,
} from "../../codec/message_ext.ts";
import { offsetMessageId } from "../../codec/message_id.ts";
import { lazyStoredProperties } from "../../codec/_stored_properties.ts";
import { consoleLogger, type Logger } from "../../logger.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../remoting/timers.ts";
import { type FileSystem, isNotFound, nodeFileSystem, type StoreFile } from "./_fs.ts";
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

export type { FileSystem, StoreFile } from "./_fs.ts";

/** Options of {@linkcode openFileStore}. */
export interface FileStoreOptions {
  /** Directory of the store's files; created if missing. One store per directory. */
  dataDir: string;
  /**
   * When `put()` resolves: `"async"` once the record reached the operating
   * system (fsync every `flushIntervalMs`), `"sync"` once it is fsynced.
   * @default {"async"}
   */
  flush?: "async" | "sync";
  /**
   * Period of the background fsync and checkpoint, in ms (both policies; with
   * `"sync"` it only concerns index files, offsets and the checkpoint).
   * @default {500}
   */
  flushIntervalMs?: number;
  /**
   * Size at which a commit-log segment is closed, in bytes (4 KiB to 1 GiB).
   * A record or batch larger than this is refused.
   * @default {67108864} (64 MiB)
   */
  segmentSize?: number;
  /**
   * Delete the oldest segments while the log exceeds this many bytes (the
   * segment being written is never deleted). Unlimited if absent.
   */
  retentionBytes?: number;
  /**
   * Delete the oldest segments once every message in them was stored more
   * than this many ms ago (the segment being written is never deleted), as
   * RocketMQ's `fileReservedTime` (72 hours there). Checked on open and then
   * every 10 s (or every `retentionMs`, if shorter). Unlimited if absent.
   */
  retentionMs?: number;
  /**
   * Entries per index file of queues created from now on (existing queues
   * keep theirs).
   * @default {65536} (2 MiB files)
   */
  indexFileEntries?: number;
  /**
   * Most keys (`KEYS` words and `UNIQ_KEY`s) held in the in-memory key index
   * (about 32 bytes each): a message older than the newest this many keys is
   * no longer found by key, only by its offset message id.
   * @default {1048576}
   */
  keyIndexEntries?: number;
  /**
   * This broker's address. Not needed by the store (records keep each
   * message's `storeHost`, which the broker sets); accepted so a broker can
   * pass one configuration to either store, and named in log lines.
   */
  storeHost?: HostAddress;
  /** Clock for store timestamps and timer for the periodic flush. */
  timers?: Timers;
  /** File system (tests inject faults through it). @default the real one */
  fs?: FileSystem;
  /** Where recovery and failure messages go. @default consoleLogger("warn") */
  logger?: Logger;
}

// ---------------------------------------------------------------- constants

const ENTRY_SIZE = 32;
const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;
const DEFAULT_FLUSH_INTERVAL_MS = 500;
const DEFAULT_INDEX_FILE_ENTRIES = 65536;
const DEFAULT_KEY_INDEX_ENTRIES = 1 << 20;
/** How often `retentionMs` is checked at most (RocketMQ's cleanResourceInterval). */
const AGE_CHECK_INTERVAL_MS = 10_000;
/** TOTALSIZE..PROPERTIESLENGTH with IPv4 hosts, empty body, topic and properties. */
const MIN_RECORD_SIZE = 91;
/** Bytes of recently written records kept in memory for tail reads. */
const READ_CACHE_BYTES = 4 * 1024 * 1024;
/** Index entries kept in memory per queue for tail reads. */
const ENTRY_CACHE = 128;
/** Most bytes and records written by one step of the append loop. */
const MAX_STEP_BYTES = 4 * 1024 * 1024;
const MAX_STEP_RECORDS = 8192;
const SCAN_CHUNK = 4 * 1024 * 1024;
/** Queue entries scanned at most per read while filtering (Java: 16000 bytes / 20). */
const FILTER_WINDOW = 800;
/** Reads of neighbouring records are merged when the gap is at most this. */
const COALESCE_GAP = 4096;
const COALESCE_MAX = 1024 * 1024;
const OPEN_FILES = 256;
const FORMAT_VERSION = 1;
const CHECKPOINT_FILE = "checkpoint.json";
const OFFSETS_FILE = "offsets.json";
const QUEUE_FILE = "queue.json";
const TWO_32 = 4294967296;
const NUMBERED = /^\d{20}$/;

const openDirs = new Set<string>();

// ------------------------------------------------------------------ helpers

function setInt64(view: DataView, at: number, value: number): void {
  view.setInt32(at, Math.floor(value / TWO_32));
  view.setUint32(at + 4, value >>> 0);
}

function getInt64(view: DataView, at: number): number {
  return view.getInt32(at) * TWO_32 + view.getUint32(at + 4);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function numbered(value: number): string {
  return String(value).padStart(20, "0");
}

/** Java `String.hashCode()`: the tags code of a TAGS property. */
function javaHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

function queueKey(topic: string, queueId: number): string {
  return `${queueId}@${topic}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where STORETIMESTAMP is in a record: after the born host (8 or 20 bytes). */
function storeTimestampAt(view: DataView): number {
  return view.getInt32(36) & MessageSysFlag.BORNHOST_V6 ? 68 : 56;
}

/** Overwrite the fields the store assigns in a record encoded with zeros. */
function patchRecord(
  bytes: Uint8Array,
  queueOffset: number,
  physical: number,
  stored: number,
): void {
  const view = viewOf(bytes);
  setInt64(view, 20, queueOffset);
  setInt64(view, 28, physical);
  setInt64(view, storeTimestampAt(view), stored);
}

/** Whether a record read through the index is the one the entry names. */
function recordMatches(
  bytes: Uint8Array,
  physical: number,
  queueId: number,
  queueOffset: number,
): boolean {
  if (bytes.length < MIN_RECORD_SIZE) return false;
  const view = viewOf(bytes);
  const magic = view.getInt32(4);
  return view.getInt32(0) === bytes.length &&
    (magic === MessageMagic.V1 || magic === MessageMagic.V2) &&
    view.getInt32(12) === queueId && getInt64(view, 20) === queueOffset &&
    getInt64(view, 28) === physical;
}

/** Where BODYLENGTH is in a record: after the fixed fields, the hosts (8 or 20 bytes) and the fields between. */
function bodyLengthAt(sysFlag: number): number {
  return 48 + (sysFlag & MessageSysFlag.BORNHOST_V6 ? 20 : 8) + 8 +
    (sysFlag & MessageSysFlag.STOREHOST_V6 ? 20 : 8) + 4 + 8;
}

/**
 * Whether a record's body matches its BODYCRC: the one checksum of the
 * record layout (Java's `UtilAll.crc32(body) & 0x7FFFFFFF`).
 */
function bodyCrcMatches(record: Uint8Array): boolean {
  const view = viewOf(record);
  const at = bodyLengthAt(view.getInt32(36));
  if (at + 4 > record.length) return false;
  const length = view.getInt32(at);
  if (length < 0 || at + 4 + length > record.length) return false;
  return (crc32(record.subarray(at + 4, at + 4 + length)) & 0x7fffffff) === view.getInt32(8);
}

/** What {@linkcode FileStore} reads in place of a record whose body fails its CRC. */
const DAMAGED = new Uint8Array(0);

/** The decoded record at physical offset `position`, or what is wrong with it. */
function checkRecord(bytes: Uint8Array, position: number): StoredMessage | string {
  let m: StoredMessage;
  try {
    m = decodeStoredMessage(bytes);
  } catch (error) {
    return describe(error);
  }
  if (m.storeSize !== bytes.length) {
    return `TOTALSIZE ${m.storeSize} disagrees with ${bytes.length}`;
  }
  if (m.commitLogOffset !== position) {
    return `physical offset field ${m.commitLogOffset} is not ${position}`;
  }
  if ((crc32(m.body) & 0x7fffffff) !== m.bodyCRC) return "body CRC mismatch";
  if (m.queueId < 0 || m.queueOffset < 0 || m.topic.length === 0) return "invalid queue fields";
  return m;
}

interface Entry {
  offset: number;
  size: number;
  tagsCode: number;
  storeTimestamp: number;
}

function encodeEntry(out: Uint8Array, index: number, e: Entry): void {
  const at = index * ENTRY_SIZE;
  const view = new DataView(out.buffer, out.byteOffset + at, ENTRY_SIZE);
  setInt64(view, 0, e.offset);
  view.setInt32(8, e.size);
  setInt64(view, 12, e.tagsCode);
  setInt64(view, 20, e.storeTimestamp);
  view.setUint32(28, crc32(out.subarray(at, at + 28)));
}

/** The entry at `index` of `bytes`, or `undefined` for a hole or a damaged entry. */
function decodeEntry(bytes: Uint8Array, index: number): Entry | undefined {
  const at = index * ENTRY_SIZE;
  if (at + ENTRY_SIZE > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, ENTRY_SIZE);
  if (view.getUint32(28) !== crc32(bytes.subarray(at, at + 28))) return undefined;
  const size = view.getInt32(8);
  if (size <= 0) return undefined;
  return {
    offset: getInt64(view, 0),
    size,
    tagsCode: getInt64(view, 12),
    storeTimestamp: getInt64(view, 20),
  };
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ------------------------------------------------------------- handle pool

interface Lease {
  readonly file: StoreFile;
  release(): void;
}

interface PoolEntry {
  opening: Promise<StoreFile>;
  file: StoreFile | undefined;
  refs: number;
  used: number;
  idle: Array<() => void>;
}

/** Open files by path, shared by concurrent users, least recently used closed first. */
class HandlePool {
  readonly #fs: FileSystem;
  readonly #max: number;
  readonly #entries = new Map<string, PoolEntry>();
  readonly #closing = new Set<Promise<void>>();
  #clock = 0;

  constructor(fs: FileSystem, max: number) {
    this.#fs = fs;
    this.#max = max;
  }

  async acquire(path: string, create = false): Promise<Lease> {
    let entry = this.#entries.get(path);
    if (!entry) {
      const opening = this.#fs.open(path, { create });
      const created: PoolEntry = { opening, file: undefined, refs: 0, used: 0, idle: [] };
      entry = created;
      this.#entries.set(path, created);
      opening.then((file) => {
        created.file = file;
      }, () => {
        if (this.#entries.get(path) === created) this.#entries.delete(path);
      });
    }
    const held = entry;
    held.refs++;
    held.used = ++this.#clock;
    let file: StoreFile;
    try {
      file = await held.opening;
    } catch (error) {
      this.#unref(held);
      throw error;
    }
    this.#trim();
    let released = false;
    return {
      file,
      release: () => {
        if (released) return;
        released = true;
        this.#unref(held);
      },
    };
  }

  /** Forget a path and close its handle once nobody uses it (before deleting the file). */
  async drop(path: string): Promise<void> {
    const entry = this.#entries.get(path);
    if (!entry) return;
    this.#entries.delete(path);
    if (entry.refs > 0) await new Promise<void>((resolve) => entry.idle.push(resolve));
    const file = await entry.opening.catch(() => undefined);
    await file?.close().catch(() => {});
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((path) => this.drop(path)));
    await Promise.all([...this.#closing]);
  }

  #unref(entry: PoolEntry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    for (const resolve of entry.idle.splice(0)) resolve();
    this.#trim();
  }

  #trim(): void {
    if (this.#entries.size <= this.#max) return;
    const idle = [...this.#entries].filter(([, e]) => e.refs === 0 && e.file !== undefined)
      .sort((a, b) => a[1].used - b[1].used);
    for (const [path, entry] of idle) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(path);
      const closing = entry.file!.close().catch(() => {});
      this.#closing.add(closing);
      void closing.finally(() => this.#closing.delete(closing));
    }
  }
}

// ------------------------------------------------------------------- state

interface Segment {
  readonly base: number;
  /** Bytes of complete records (the file's length, except during a write). */
  length: number;
  readonly path: string;
}

/** The last index entries of a queue, for reads at the tail without file I/O. */
class EntryCache {
  base = 0;
  count = 0;
  #data: Uint8Array | undefined;

  append(first: number, entries: Uint8Array): void {
    const n = entries.length / ENTRY_SIZE;
    this.#data ??= new Uint8Array(2 * ENTRY_CACHE * ENTRY_SIZE);
    if (this.count === 0 || first !== this.base + this.count) {
      this.base = first;
      this.count = 0;
    }
    if (n >= ENTRY_CACHE) {
      this.#data.set(entries.subarray((n - ENTRY_CACHE) * ENTRY_SIZE));
      this.base = first + n - ENTRY_CACHE;
      this.count = ENTRY_CACHE;
      return;
    }
    if (this.count + n > 2 * ENTRY_CACHE) {
      const drop = this.count + n - ENTRY_CACHE;
      this.#data.copyWithin(0, drop * ENTRY_SIZE, this.count * ENTRY_SIZE);
      this.base += drop;
      this.count -= drop;
    }
    this.#data.set(entries, this.count * ENTRY_SIZE);
    this.count += n;
  }

  get(from: number, n: number): Uint8Array | undefined {
    if (!this.#data || from < this.base || from + n > this.base + this.count) return undefined;
    return this.#data.slice((from - this.base) * ENTRY_SIZE, (from - this.base + n) * ENTRY_SIZE);
  }
}

interface QueueState {
  readonly topic: string;
  readonly queueId: number;
  readonly key: string;
  readonly entriesPerFile: number;
  /** The queue's index directory, once created. */
  dir: string | undefined;
  dirPromise: Promise<void> | undefined;
  /** First queue offsets of the index files, ascending. */
  files: number[];
  /** Next queue offset to assign (written). */
  nextOffset: number;
  /** Next queue offset readers may see (durable under the sync policy). */
  maxOffset: number;
  minOffset: number;
  readonly cache: EntryCache;
}

interface Prepared {
  bytes: Uint8Array;
  tagsCode: number;
  /** What the key index holds for it. */
  keys: string[];
  /** The offset message id of the store host without its 16 offset digits. */
  msgIdPrefix: string;
}

interface Unit {
  topic: string;
  queueId: number;
  records: Prepared[];
  size: number;
  resolve(results: PutResult[]): void;
  reject(error: unknown): void;
}

interface Commit {
  end: number;
  apply(): void;
  reject(error: Error): void;
}

interface Checkpoint {
  logEnd: number;
  lastStoreTimestamp: number;
  queues: Map<string, number>;
}

interface Picked {
  queueOffset: number;
  entry: Entry;
}

function isNonNegativeInteger(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

function isInt32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= -0x80000000 &&
    value <= 0x7fffffff;
}

// -------------------------------------------------------------------- store

class FileStore implements MessageStore {
  readonly #fs: FileSystem;
  readonly #dir: string;
  readonly #logDir: string;
  readonly #cqDir: string;
  readonly #sync: boolean;
  readonly #interval: number;
  readonly #segmentSize: number;
  readonly #retention: number | undefined;
  readonly #retentionMs: number | undefined;
  /** Broker time of the last age check of the oldest segments. */
  #agedAt = 0;
  /** An age check waits for the append loop. */
  #retentionDue = false;
  readonly #entriesPerFile: number;
  readonly #timers: Timers;
  readonly #logger: Logger;
  readonly #pool: HandlePool;

  #segments: Segment[] = [];
  readonly #queues = new Map<string, QueueState>();
  readonly #offsets = new Map<string, [string, string, number, number]>();
  #offsetsDirty = false;
  readonly #listeners = new Set<ArrivalListener>();

  #logStart = 0;
  /** Bytes of all segments. */
  #logBytes = 0;
  /** End of the records written (log and index) so far. */
  #writtenEnd = 0;
  /** End of the records readers may see. */
  #visibleEnd = 0;
  /** End of the records known to be fsynced. */
  #flushedEnd = 0;
  #lastStoreTimestamp = 0;
  #nextDirNumber = 0;

  #pending: Unit[] = [];
  #laneRunning = false;
  #unflushed: Commit[] = [];
  #flushing = false;
  #idleWaiters: Array<() => void> = [];

  #recent: Array<{ start: number; bytes: Uint8Array }> = [];
  #recentBytes = 0;

  #dirtyFiles = new Set<string>();
  #dirtyDirs = new Set<string>();
  #checkpointChain: Promise<void> = Promise.resolve();
  #lastCheckpointText: string | undefined;
  /** `logEnd` of the checkpoint on disk: records below it are counted by it. */
  #checkpointedEnd = 0;

  #timer: TimerHandle | undefined;
  #state: "open" | "closing" | "closed" = "open";
  #readsClosed = false;
  #closePromise: Promise<void> | undefined;
  #broken: StoreError | undefined;
  readonly #reads = new Set<Promise<void>>();
  readonly #msgIdPrefixes = new Map<string, string>();
  readonly #keys: KeyIndex;

  constructor(
    options: Required<Omit<FileStoreOptions, "retentionBytes" | "retentionMs" | "storeHost">> & {
      retentionBytes: number | undefined;
      retentionMs: number | undefined;
    },
  ) {
    this.#fs = options.fs;
    this.#dir = options.dataDir;
    this.#logDir = `${options.dataDir}/commitlog`;
    this.#cqDir = `${options.dataDir}/consumequeue`;
    this.#sync = options.flush === "sync";
    this.#interval = options.flushIntervalMs;
    this.#segmentSize = options.segmentSize;
    this.#retention = options.retentionBytes;
    this.#retentionMs = options.retentionMs;
    this.#entriesPerFile = options.indexFileEntries;
    this.#keys = new KeyIndex(options.keyIndexEntries);
    this.#timers = options.timers;
    this.#logger = options.logger;
    this.#pool = new HandlePool(options.fs, OPEN_FILES);
  }

  // ------------------------------------------------------------- appending

  put(message: PutMessageInput): Promise<PutResult> {
    return this.#submit([message], false).then((results) => results[0]!);
  }

  putBatch(messages: readonly PutMessageInput[]): Promise<PutResult[]> {
    if (!Array.isArray(messages)) {
      return Promise.reject(new InvalidArgumentError("messages", "must be an array"));
    }
    if (messages.length === 0) return Promise.resolve([]);
    return this.#submit(messages, true);
  }

  #submit(messages: readonly PutMessageInput[], batch: boolean): Promise<PutResult[]> {
    if (this.#state !== "open") {
      return Promise.reject(new IllegalStateError("message store is closed"));
    }
    if (this.#broken) return Promise.reject(this.#brokenError());
    let records: Prepared[];
    let size = 0;
    try {
      records = messages.map((m, i) => this.#prepare(m, batch ? `messages[${i}]` : "message"));
      for (const record of records) size += record.bytes.length;
      const first = messages[0]!;
      if (messages.some((m) => m.topic !== first.topic || m.queueId !== first.queueId)) {
        throw new InvalidArgumentError("messages", "must all have the same topic and queueId");
      }
      if (size > this.#segmentSize) {
        throw new InvalidArgumentError(
          batch ? "messages" : "message",
          `${size} bytes of records exceed the segment size of ${this.#segmentSize} bytes`,
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const first = messages[0]!;
    return new Promise<PutResult[]>((resolve, reject) => {
      this.#pending.push({
        topic: first.topic,
        queueId: first.queueId,
        records,
        size,
        resolve,
        reject,
      });
      this.#kick();
    });
  }

  /** Validate and encode a message with the store-assigned fields zero. */
  #prepare(m: PutMessageInput, path: string): Prepared {
    if (typeof m !== "object" || m === null) {
      throw new InvalidArgumentError(path, "must be a message object");
    }
    if (typeof m.topic !== "string" || m.topic.length === 0) {
      throw new InvalidArgumentError(`${path}.topic`, "must be a non-empty string");
    }
    if (!isNonNegativeInteger(m.queueId, 0x7fffffff)) {
      throw new InvalidArgumentError(`${path}.queueId`, `must be an int32 >= 0, got ${m.queueId}`);
    }
    if (!(m.body instanceof Uint8Array)) {
      throw new InvalidArgumentError(`${path}.body`, "must be a Uint8Array");
    }
    if (!Number.isSafeInteger(m.tagsCode)) {
      throw new InvalidArgumentError(
        `${path}.tagsCode`,
        `must be a safe integer, got ${m.tagsCode}`,
      );
    }
    if (!isInt32(m.sysFlag)) {
      throw new InvalidArgumentError(`${path}.sysFlag`, `must be an int32, got ${m.sysFlag}`);
    }
    if (typeof m.bornHost?.address !== "string" || typeof m.storeHost?.address !== "string") {
      throw new InvalidArgumentError(`${path}.bornHost`, "hosts must have a string address");
    }
    if (typeof m.properties !== "object" || m.properties === null) {
      throw new InvalidArgumentError(`${path}.properties`, "must be an object of strings");
    }
    // The host families follow the addresses, as the broker sets them (and as the memory store does).
    let sysFlag = m.sysFlag & ~(MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6);
    if (m.bornHost.address.includes(":")) sysFlag |= MessageSysFlag.BORNHOST_V6;
    if (m.storeHost.address.includes(":")) sysFlag |= MessageSysFlag.STOREHOST_V6;
    let bytes: Uint8Array;
    try {
      bytes = encodeStoredMessage({
        queueId: m.queueId,
        flag: m.flag,
        queueOffset: 0,
        commitLogOffset: 0,
        sysFlag,
        bornTimestamp: m.bornTimestamp,
        bornHost: m.bornHost,
        storeTimestamp: 0,
        storeHost: m.storeHost,
        reconsumeTimes: m.reconsumeTimes,
        preparedTransactionOffset: m.preparedTransactionOffset,
        body: m.body,
        topic: m.topic,
        properties: m.properties,
        propertiesText: m.propertiesText,
      });
    } catch (error) {
      if (error instanceof RocketMQError) throw error;
      throw new InvalidArgumentError(path, `cannot be encoded: ${describe(error)}`, {
        cause: error,
      });
    }
    // Validates the host now, so that a bad one fails this put and not the append step.
    const msgIdPrefix = this.#msgIdPrefix(m.storeHost);
    return { bytes, tagsCode: m.tagsCode, keys: messageKeys(m.properties), msgIdPrefix };
  }

  /** `offsetMessageId(host, x)` without the offset's 16 hex digits (cached: it is the broker's own address). */
  #msgIdPrefix(host: HostAddress): string {
    const key = `${host.address}|${host.port}`;
    let prefix = this.#msgIdPrefixes.get(key);
    if (prefix === undefined) {
      prefix = offsetMessageId(host, 0).slice(0, -16);
      if (this.#msgIdPrefixes.size >= 64) this.#msgIdPrefixes.clear();
      this.#msgIdPrefixes.set(key, prefix);
    }
    return prefix;
  }

  #kick(): void {
    if (this.#laneRunning) return;
    this.#laneRunning = true;
    void this.#runLane();
  }

  /** The append loop: one step at a time, each step one write to the log. */
  async #runLane(): Promise<void> {
    try {
      while (this.#pending.length > 0 || this.#retentionDue) {
        if (this.#retentionDue) {
          // Segments are added and deleted only here, one step at a time.
          this.#retentionDue = false;
          if (!this.#broken) await this.#enforceRetention();
          continue;
        }
        if (this.#broken) {
          const error = this.#brokenError();
          for (const unit of this.#pending.splice(0)) unit.reject(error);
          break;
        }
        const active = this.#active();
        if (active.length > 0 && active.length + this.#pending[0]!.size > this.#segmentSize) {
          await this.#roll();
          continue;
        }
        const room = this.#segmentSize - active.length;
        let bytes = 0;
        let records = 0;
        let take = 0;
        for (const unit of this.#pending) {
          if (
            take > 0 &&
            (bytes + unit.size > room || bytes + unit.size > MAX_STEP_BYTES ||
              records + unit.records.length > MAX_STEP_RECORDS)
          ) break;
          bytes += unit.size;
          records += unit.records.length;
          take++;
        }
        await this.#writeStep(this.#pending.splice(0, take), bytes);
      }
    } catch (error) {
      // #writeStep and #roll report their own failures; this guards against bugs.
      this.#fail(new StoreError(`append loop failed: ${describe(error)}`, { cause: error }));
    } finally {
      this.#laneRunning = false;
      this.#notifyIdle();
    }
  }

  async #writeStep(units: Unit[], total: number): Promise<void> {
    const segment = this.#active();
    const at = segment.length;
    const start = segment.base + at;
    const now = this.#timers.now();
    const timestamp = Math.max(Number.isSafeInteger(now) ? now : 0, this.#lastStoreTimestamp);
    const single = units.length === 1 && units[0]!.records.length === 1;
    const buffer = single ? units[0]!.records[0]!.bytes : new Uint8Array(total);
    const touched = new Map<QueueState, { first: number; next: number; parts: Uint8Array[] }>();
    const results: PutResult[][] = [];
    const arrivals: Array<[QueueState, number, number, Uint8Array]> = [];
    let cursor = 0;
    for (const unit of units) {
      const queue = this.#queue(unit.topic, unit.queueId);
      let t = touched.get(queue);
      if (!t) {
        t = { first: queue.nextOffset, next: queue.nextOffset, parts: [] };
        touched.set(queue, t);
      }
      const entries = new Uint8Array(unit.records.length * ENTRY_SIZE);
      const unitResults: PutResult[] = [];
      unit.records.forEach((record, i) => {
        const physical = start + cursor;
        const size = record.bytes.length;
        patchRecord(record.bytes, t.next, physical, timestamp);
        if (!single) buffer.set(record.bytes, cursor);
        encodeEntry(entries, i, {
          offset: physical,
          size,
          tagsCode: record.tagsCode,
          storeTimestamp: timestamp,
        });
        unitResults.push({
          commitLogOffset: physical,
          queueOffset: t.next,
          storeTimestamp: timestamp,
          msgId: record.msgIdPrefix + physical.toString(16).toUpperCase().padStart(16, "0"),
          size,
        });
        arrivals.push([queue, t.next, record.tagsCode, record.bytes]);
        t.next++;
        cursor += size;
      });
      t.parts.push(entries);
      results.push(unitResults);
    }
    const indexed = [...touched].map(([queue, t]) => ({
      queue,
      ...t,
      entries: concatBytes(t.parts),
    }));
    try {
      for (const { queue } of indexed) await this.#ensureQueueDir(queue);
      const outcomes = await Promise.allSettled([
        this.#withFile(segment.path, (file) => file.write(buffer, at)),
        ...indexed.map((q) => this.#writeEntries(q.queue, q.first, q.entries)),
      ]);
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (error) {
      await this.#undo(segment, at);
      const failure = new StoreError(`append failed, nothing was stored: ${describe(error)}`, {
        cause: error,
        path: segment.path,
      });
      for (const unit of units) unit.reject(failure);
      return;
    }
    segment.length = at + total;
    this.#logBytes += total;
    this.#writtenEnd = start + total;
    this.#lastStoreTimestamp = timestamp;
    for (const q of indexed) {
      q.queue.nextOffset = q.next;
      q.queue.cache.append(q.first, q.entries);
    }
    units.forEach((unit, i) => {
      unit.records.forEach((record, j) => {
        if (record.keys.length > 0) {
          this.#keys.add(unit.topic, record.keys, results[i]![j]!.commitLogOffset, timestamp);
        }
      });
    });
    this.#remember(start, buffer);
    const end = this.#writtenEnd;
    const commit: Commit = {
      end,
      apply: () => {
        this.#visibleEnd = Math.max(this.#visibleEnd, end);
        for (const q of indexed) q.queue.maxOffset = Math.max(q.queue.maxOffset, q.next);
        for (const [queue, queueOffset, tagsCode, bytes] of arrivals) {
          this.#notifyArrival(queue, queueOffset, tagsCode, bytes);
        }
        units.forEach((unit, i) => unit.resolve(results[i]!));
      },
      reject: (error) => {
        for (const unit of units) unit.reject(error);
      },
    };
    if (!this.#sync) {
      commit.apply();
    } else if (this.#broken) {
      // An fsync failed while this step was written: it can never be confirmed durable.
      commit.reject(this.#brokenError());
    } else {
      this.#unflushed.push(commit);
      void this.#runFlusher();
    }
    if (this.#retention !== undefined && this.#logBytes > this.#retention) {
      await this.#enforceRetention();
    }
  }

  /** Cut the active segment back after a failed step. */
  async #undo(segment: Segment, length: number): Promise<void> {
    try {
      await this.#withFile(segment.path, (file) => file.truncate(length));
    } catch (error) {
      this.#fail(
        new StoreError(
          `could not undo a failed append (${
            describe(error)
          }); appends are refused until the store is reopened`,
          { cause: error, path: segment.path },
        ),
      );
    }
  }

  /** Close the full active segment (fsynced) and start the next one. */
  async #roll(): Promise<void> {
    const old = this.#active();
    try {
      await this.#withFile(old.path, (file) => file.sync());
    } catch (error) {
      this.#fail(
        new StoreError(`fsync of a full segment failed: ${describe(error)}`, {
          cause: error,
          path: old.path,
        }),
      );
      return;
    }
    this.#flushedEnd = Math.max(this.#flushedEnd, old.base + old.length);
    this.#applyFlushed();
    const base = old.base + old.length;
    const segment: Segment = { base, length: 0, path: `${this.#logDir}/${numbered(base)}` };
    try {
      (await this.#pool.acquire(segment.path, true)).release();
      await this.#fs.syncDir(this.#logDir);
    } catch (error) {
      const failure = new StoreError(`could not create a commit-log segment: ${describe(error)}`, {
        cause: error,
        path: segment.path,
      });
      this.#pending.shift()?.reject(failure);
      return;
    }
    this.#segments.push(segment);
  }

  async #runFlusher(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#unflushed.length > 0 && !this.#broken) {
        const target = this.#writtenEnd;
        if (target > this.#flushedEnd) {
          const segment = this.#active();
          await this.#withFile(segment.path, (file) => file.sync());
          this.#flushedEnd = Math.max(this.#flushedEnd, target);
        }
        this.#applyFlushed();
      }
    } catch (error) {
      this.#fail(
        new StoreError(`fsync of the commit log failed: ${describe(error)}`, { cause: error }),
      );
    } finally {
      this.#flushing = false;
      this.#notifyIdle();
    }
  }

  #applyFlushed(): void {
    while (this.#unflushed.length > 0 && this.#unflushed[0]!.end <= this.#flushedEnd) {
      this.#unflushed.shift()!.apply();
    }
  }

  #fail(error: StoreError): void {
    if (!this.#broken) {
      this.#broken = error;
      this.#logger.error("message store failed; appends are refused until it is reopened", {
        error,
        dataDir: this.#dir,
      });
    }
    for (const commit of this.#unflushed.splice(0)) commit.reject(error);
    for (const unit of this.#pending.splice(0)) unit.reject(error);
  }

  #brokenError(): StoreError {
    return new StoreError(
      `message store failed earlier and refuses appends until reopened: ${this.#broken!.message}`,
      { cause: this.#broken },
    );
  }

  #notifyArrival(
    queue: QueueState,
    queueOffset: number,
    tagsCode: number,
    bytes: Uint8Array,
  ): void {
    const properties = lazyStoredProperties(bytes);
    for (const listener of [...this.#listeners]) {
      try {
        listener(queue.topic, queue.queueId, queueOffset, tagsCode, properties);
      } catch (error) {
        this.#logger.warn("arrival listener failed", { error });
      }
    }
  }

  #isIdle(): boolean {
    return !this.#laneRunning && this.#pending.length === 0 && !this.#flushing &&
      this.#unflushed.length === 0;
  }

  #whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #remember(start: number, bytes: Uint8Array): void {
    this.#recent.push({ start, bytes });
    this.#recentBytes += bytes.length;
    while (this.#recent.length > 1 && this.#recentBytes > READ_CACHE_BYTES) {
      this.#recentBytes -= this.#recent.shift()!.bytes.length;
    }
  }

  /** The cached bytes `[offset, offset + size)`, when one written chunk holds them. */
  #fromRecent(offset: number, size: number): Uint8Array | undefined {
    const recent = this.#recent;
    if (recent.length === 0 || offset < recent[0]!.start) return undefined;
    let lo = 0;
    let hi = recent.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (recent[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    const chunk = recent[lo]!;
    const at = offset - chunk.start;
    if (at + size > chunk.bytes.length) return undefined;
    return chunk.bytes.subarray(at, at + size);
  }

  // --------------------------------------------------------------- queues

  #active(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  #queue(topic: string, queueId: number, entriesPerFile = this.#entriesPerFile): QueueState {
    const key = queueKey(topic, queueId);
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = {
        topic,
        queueId,
        key,
        entriesPerFile,
        dir: undefined,
        dirPromise: undefined,
        files: [],
        nextOffset: 0,
        maxOffset: 0,
        minOffset: 0,
        cache: new EntryCache(),
      };
      this.#queues.set(key, queue);
    }
    return queue;
  }

  #ensureQueueDir(queue: QueueState): Promise<void> {
    if (queue.dir !== undefined) return Promise.resolve();
    queue.dirPromise ??= (async () => {
      const label = queue.topic.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
      const dir = `${this.#cqDir}/${label}.${queue.queueId}.${this.#nextDirNumber++}`;
      await this.#fs.mkdir(dir);
      await this.#writeJson(dir, QUEUE_FILE, {
        version: FORMAT_VERSION,
        topic: queue.topic,
        queueId: queue.queueId,
        entriesPerFile: queue.entriesPerFile,
      });
      await this.#fs.syncDir(this.#cqDir);
      queue.dir = dir;
    })().finally(() => {
      queue.dirPromise = undefined;
    });
    return queue.dirPromise;
  }

  #indexPath(queue: QueueState, base: number): string {
    return `${queue.dir}/${numbered(base)}`;
  }

  /** Write consecutive entries from queue offset `first`, across index files. */
  async #writeEntries(queue: QueueState, first: number, entries: Uint8Array): Promise<void> {
    await this.#ensureQueueDir(queue);
    const perFile = queue.entriesPerFile;
    const n = entries.length / ENTRY_SIZE;
    let k = first;
    while (k < first + n) {
      const base = Math.floor(k / perFile) * perFile;
      const count = Math.min(first + n - k, base + perFile - k);
      const path = this.#indexPath(queue, base);
      let create = false;
      if (queue.files[queue.files.length - 1] !== base && !queue.files.includes(base)) {
        queue.files.push(base);
        queue.files.sort((a, b) => a - b);
        this.#dirtyDirs.add(queue.dir!);
        create = true;
      }
      this.#dirtyFiles.add(path);
      const part = entries.subarray((k - first) * ENTRY_SIZE, (k - first + count) * ENTRY_SIZE);
      await this.#withFile(path, (file) => file.write(part, (k - base) * ENTRY_SIZE), create);
      k += count;
    }
  }

  /** `n` entries from queue offset `from`; missing slots read as zeros (holes). */
  async #readEntries(queue: QueueState, from: number, n: number): Promise<Uint8Array> {
    const cached = queue.cache.get(from, n);
    if (cached) return cached;
    const out = new Uint8Array(n * ENTRY_SIZE);
    if (queue.dir === undefined) return out;
    const perFile = queue.entriesPerFile;
    let k = from;
    while (k < from + n) {
      const base = Math.floor(k / perFile) * perFile;
      const count = Math.min(from + n - k, base + perFile - k);
      if (queue.files.includes(base)) {
        const into = out.subarray((k - from) * ENTRY_SIZE, (k - from + count) * ENTRY_SIZE);
        try {
          await this.#withFile(
            this.#indexPath(queue, base),
            (file) => file.read(into, (k - base) * ENTRY_SIZE),
          );
        } catch (error) {
          if (!isNotFound(error)) {
            throw new StoreError(`index read failed: ${describe(error)}`, {
              cause: error,
              path: queue.dir,
            });
          }
        }
      }
      k += count;
    }
    return out;
  }

  async #readEntry(queue: QueueState, k: number): Promise<Entry | undefined> {
    return decodeEntry(await this.#readEntries(queue, k, 1), 0);
  }

  /** First queue offset from `from` whose record is still in the log. */
  async #findMin(queue: QueueState, from: number): Promise<number> {
    const present = async (k: number): Promise<boolean> => {
      const entry = await this.#readEntry(queue, k);
      return entry !== undefined && entry.offset >= this.#logStart;
    };
    let lo = Math.max(from, queue.files[0] ?? queue.nextOffset);
    let hi = queue.nextOffset;
    if (lo >= hi || await present(lo)) return Math.min(lo, hi);
    lo++;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await present(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Delete index files wholly below the min offset (never a queue's last one). */
  async #dropIndexFiles(queue: QueueState): Promise<void> {
    while (queue.files.length > 1 && queue.files[0]! + queue.entriesPerFile <= queue.minOffset) {
      const path = this.#indexPath(queue, queue.files.shift()!);
      this.#dirtyFiles.delete(path);
      await this.#pool.drop(path);
      await this.#fs.remove(path);
    }
  }

  /**
   * Delete the oldest segments beyond `retentionBytes`, or older than
   * `retentionMs`. Runs in the append loop (or in open()), never beside it.
   */
  async #enforceRetention(): Promise<void> {
    const limit = this.#retention;
    const maxAge = this.#retentionMs;
    if (limit === undefined && maxAge === undefined) return;
    const now = this.#timers.now();
    this.#agedAt = now;
    const doomed: Segment[] = [];
    let bytes = this.#logBytes;
    for (let i = 0; i + 1 < this.#segments.length; i++) {
      const over = limit !== undefined && bytes > limit;
      // A segment's messages are all older than the first message of the next one.
      if (
        !over &&
        !(maxAge !== undefined && await this.#storedBefore(this.#segments[i + 1]!, now - maxAge))
      ) {
        break;
      }
      doomed.push(this.#segments[i]!);
      bytes -= this.#segments[i]!.length;
    }
    if (doomed.length === 0) return;
    this.#segments.splice(0, doomed.length);
    this.#logBytes = bytes;
    this.#logStart = this.#segments[0]!.base;
    this.#keys.dropBelow(this.#logStart);
    try {
      for (const queue of this.#queues.values()) {
        queue.minOffset = await this.#findMin(queue, queue.minOffset);
      }
      // The checkpoint's queue counts are all that remembers the offsets of these records once
      // they are gone: index entries written since the last checkpoint may not survive a power
      // loss. So a segment goes only when a checkpoint on disk covers it.
      if (this.#checkpointedEnd < this.#logStart) await this.#checkpoint();
      for (const segment of doomed) {
        await this.#pool.drop(segment.path);
        await this.#fs.remove(segment.path);
      }
      await this.#fs.syncDir(this.#logDir);
      for (const queue of this.#queues.values()) await this.#dropIndexFiles(queue);
    } catch (error) {
      this.#logger.warn("retention could not delete old files; they are retried on the next open", {
        error,
      });
    }
  }

  /** Whether the first record of `segment` was stored before `cutoff` (false if unreadable). */
  async #storedBefore(segment: Segment, cutoff: number): Promise<boolean> {
    const size = 80; // through the store timestamp, whatever the born host's family
    if (segment.length < MIN_RECORD_SIZE) return false;
    let head = this.#fromRecent(segment.base, size);
    if (!head) {
      const buffer = new Uint8Array(size);
      try {
        const read = await this.#withFile(segment.path, (file) => file.read(buffer, 0));
        if (read < size) return false;
      } catch (error) {
        this.#logger.warn("could not read a segment's first record for retention", {
          path: segment.path,
          error,
        });
        return false;
      }
      head = buffer;
    }
    const view = viewOf(head);
    return getInt64(view, storeTimestampAt(view)) < cutoff;
  }

  // ---------------------------------------------------------------- reading

  #read<T>(run: () => Promise<T>): Promise<T> {
    if (this.#readsClosed) return Promise.reject(new IllegalStateError("message store is closed"));
    const result = run();
    const settled = result.then(() => {}, () => {});
    this.#reads.add(settled);
    void settled.then(() => this.#reads.delete(settled));
    return result;
  }

  get(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    maxBytes: number,
    filter?: MessageFilter,
  ): Promise<GetResult> {
    return this.#read(() => this.#get(topic, queueId, offset, maxCount, maxBytes, filter));
  }

  async #get(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    maxBytes: number,
    filter?: MessageFilter,
  ): Promise<GetResult> {
    if (!Number.isSafeInteger(offset)) {
      throw new InvalidArgumentError("offset", `must be an integer, got ${offset}`);
    }
    if (!isNonNegativeInteger(maxCount) || maxCount === 0) {
      throw new InvalidArgumentError("maxCount", `must be a positive integer, got ${maxCount}`);
    }
    if (typeof maxBytes !== "number" || !(maxBytes > 0)) {
      throw new InvalidArgumentError("maxBytes", `must be a positive number, got ${maxBytes}`);
    }
    const queue = this.#queues.get(queueKey(topic, queueId));
    const min = queue?.minOffset ?? 0;
    const max = queue?.maxOffset ?? 0;
    const result = (status: GetResult["status"], nextBeginOffset: number): GetResult => ({
      status,
      records: [],
      queueOffsets: [],
      nextBeginOffset,
      minOffset: min,
      maxOffset: max,
    });
    if (!queue || max === 0) return result("NO_MESSAGE_IN_QUEUE", 0);
    if (offset < min) return result("OFFSET_TOO_SMALL", min);
    if (offset === max) return result("OFFSET_OVERFLOW_ONE", offset);
    // Past the end: from the start when the queue still starts at 0 (its
    // offsets went back: a store that lost its tail), else from the end
    // (DefaultMessageStore.getMessage).
    if (offset > max) return result("OFFSET_OVERFLOW_BADLY", min === 0 ? 0 : max);

    // Select entries as DefaultMessageStore.getMessage does: the first always, then while
    // maxCount and maxBytes allow, at most max(800, maxCount) entries scanned.
    const windowEnd = offset + Math.min(max - offset, Math.max(FILTER_WINDOW, maxCount));
    const picked: Picked[] = [];
    let bytes = 0;
    let next = offset;
    let k = offset;
    /** Queue offset of a message found deleted by retention while this read ran, if any. */
    let gone: number | undefined;
    scan: while (k < windowEnd && picked.length < maxCount) {
      const n = Math.min(windowEnd - k, filter ? 256 : maxCount - picked.length);
      const raw = await this.#readEntries(queue, k, n);
      for (let i = 0; i < n; i++, k++) {
        const entry = decodeEntry(raw, i);
        if (!entry) {
          if (k < queue.minOffset) {
            if (picked.length === 0) gone = k; // deleted by retention while this read ran
            break scan;
          }
          throw new StoreError(`index entry ${k} of ${topic}:${queueId} is damaged`, {
            path: queue.dir,
          });
        }
        if (picked.length > 0 && (picked.length + 1 > maxCount || bytes + entry.size > maxBytes)) {
          break scan;
        }
        next = k + 1;
        if (filter && !safeFilter(filter, entry.tagsCode)) continue;
        picked.push({ queueOffset: k, entry });
        bytes += entry.size;
      }
    }
    const records = await this.#readRecords(picked);
    const out = result("NO_MATCHED_MESSAGE", next);
    for (let i = 0; i < picked.length; i++) {
      const record = records[i];
      const p = picked[i]!;
      if (!record) {
        // The segment was deleted by retention while this read ran.
        out.nextBeginOffset = p.queueOffset;
        if (out.records.length === 0) gone = p.queueOffset;
        break;
      }
      if (record === DAMAGED) {
        // Skipped, never served as if whole; the read moves past it.
        this.#logger.error("skipping a damaged record: its body does not match its CRC", {
          topic,
          queueId,
          queueOffset: p.queueOffset,
          commitLogOffset: p.entry.offset,
          path: this.#segmentAt(p.entry.offset)?.path,
        });
        continue;
      }
      if (!recordMatches(record, p.entry.offset, queueId, p.queueOffset)) {
        throw new StoreError(
          `record at ${p.entry.offset} does not match index entry ${p.queueOffset} of ${topic}:${queueId}`,
          { path: this.#segmentAt(p.entry.offset)?.path },
        );
      }
      out.records.push(record);
      out.queueOffsets.push(p.queueOffset);
    }
    if (out.records.length > 0) out.status = "FOUND";
    else if (gone !== undefined) {
      // Everything up to `gone` is deleted; the min offset may not have caught up yet.
      out.status = "OFFSET_TOO_SMALL";
      out.nextBeginOffset = Math.max(queue.minOffset, gone + 1);
    }
    return out;
  }

  /**
   * Records of the picked entries; `undefined` where the segment is gone,
   * DAMAGED where a record read from its file fails its body CRC (records
   * still in the write cache are the bytes written, not checked again).
   */
  async #readRecords(picked: readonly Picked[]): Promise<Array<Uint8Array | undefined>> {
    const out: Array<Uint8Array | undefined> = new Array(picked.length).fill(undefined);
    let i = 0;
    while (i < picked.length) {
      const first = picked[i]!.entry;
      const cached = this.#fromRecent(first.offset, first.size);
      if (cached) {
        out[i++] = cached;
        continue;
      }
      const segment = first.offset >= this.#logStart ? this.#segmentAt(first.offset) : undefined;
      if (!segment) {
        i++;
        continue;
      }
      let j = i + 1;
      let end = first.offset + first.size;
      while (j < picked.length) {
        const e = picked[j]!.entry;
        if (
          e.offset < end || e.offset - end > COALESCE_GAP ||
          e.offset + e.size - first.offset > COALESCE_MAX ||
          e.offset + e.size > segment.base + segment.length || this.#fromRecent(e.offset, e.size)
        ) break;
        end = e.offset + e.size;
        j++;
      }
      const buffer = new Uint8Array(end - first.offset);
      let got = 0;
      try {
        got = await this.#withFile(
          segment.path,
          (file) => file.read(buffer, first.offset - segment.base),
        );
      } catch (error) {
        if (!isNotFound(error)) {
          throw new StoreError(`commit log read failed: ${describe(error)}`, {
            cause: error,
            path: segment.path,
          });
        }
      }
      for (let m = i; m < j; m++) {
        const e = picked[m]!.entry;
        const at = e.offset - first.offset;
        if (at + e.size > got) continue;
        const record = buffer.subarray(at, at + e.size);
        out[m] = bodyCrcMatches(record) ? record : DAMAGED;
      }
      i = j;
    }
    return out;
  }

  #segmentAt(offset: number): Segment | undefined {
    const segments = this.#segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segments[mid]!.base <= offset) lo = mid;
      else hi = mid - 1;
    }
    const segment = segments[lo];
    return segment && segment.base <= offset && offset < segment.base + segment.length
      ? segment
      : undefined;
  }

  maxOffset(topic: string, queueId: number): number {
    return this.#queues.get(queueKey(topic, queueId))?.maxOffset ?? 0;
  }

  minOffset(topic: string, queueId: number): number {
    return this.#queues.get(queueKey(topic, queueId))?.minOffset ?? 0;
  }

  searchOffset(
    topic: string,
    queueId: number,
    timestamp: number,
    boundary: BoundaryType = "LOWER",
  ): Promise<number> {
    return this.#read(async () => {
      if (boundary !== "LOWER" && boundary !== "UPPER") {
        throw new InvalidArgumentError("boundary", `must be LOWER or UPPER, got ${boundary}`);
      }
      const queue = this.#queues.get(queueKey(topic, queueId));
      if (!queue) return 0;
      const min = queue.minOffset;
      const max = queue.maxOffset;
      if (min >= max) return min;
      const storeTime = async (k: number): Promise<number> => {
        const entry = await this.#readEntry(queue, k);
        if (!entry) {
          throw new StoreError(`index entry ${k} of ${topic}:${queueId} is damaged`, {
            path: queue.dir,
          });
        }
        return entry.storeTimestamp;
      };
      // Store timestamps never decrease within the log (the store clamps its clock).
      let lo = min;
      let hi = max - 1;
      if (boundary === "UPPER") {
        // The last message stored at or before `timestamp`; the min offset if none.
        let found = min;
        while (lo <= hi) {
          const mid = Math.floor((lo + hi) / 2);
          if (await storeTime(mid) <= timestamp) {
            found = mid;
            lo = mid + 1;
          } else hi = mid - 1;
        }
        return found;
      }
      // The first message stored at or after `timestamp`; the max offset if none.
      let found = max;
      while (lo <= hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (await storeTime(mid) >= timestamp) {
          found = mid;
          hi = mid - 1;
        } else lo = mid + 1;
      }
      return found;
    });
  }

  earliestStoreTime(topic: string, queueId: number): Promise<number> {
    return this.#read(async () => {
      const queue = this.#queues.get(queueKey(topic, queueId));
      if (!queue || queue.minOffset >= queue.maxOffset) return 0;
      return (await this.#readEntry(queue, queue.minOffset))?.storeTimestamp ?? 0;
    });
  }

  lookup(commitLogOffset: number): Promise<Uint8Array | undefined> {
    return this.#read(async () => {
      if (
        !Number.isSafeInteger(commitLogOffset) || commitLogOffset < this.#logStart ||
        commitLogOffset + MIN_RECORD_SIZE > this.#visibleEnd
      ) return undefined;
      const segment = this.#segmentAt(commitLogOffset);
      if (!segment) return undefined;
      const limit = Math.min(segment.base + segment.length, this.#visibleEnd) - commitLogOffset;
      const check = (bytes: Uint8Array): number | undefined => {
        const view = viewOf(bytes);
        const size = view.getInt32(0);
        const magic = view.getInt32(4);
        return size >= MIN_RECORD_SIZE && size <= limit &&
            (magic === MessageMagic.V1 || magic === MessageMagic.V2) &&
            getInt64(view, 28) === commitLogOffset
          ? size
          : undefined;
      };
      const head = this.#fromRecent(commitLogOffset, MIN_RECORD_SIZE);
      if (head) {
        const size = check(head);
        return size === undefined ? undefined : this.#fromRecent(commitLogOffset, size);
      }
      let buffer = new Uint8Array(Math.min(limit, 4096));
      try {
        const got = await this.#withFile(
          segment.path,
          (file) => file.read(buffer, commitLogOffset - segment.base),
        );
        if (got < MIN_RECORD_SIZE) return undefined;
        const size = check(buffer);
        if (size === undefined) return undefined;
        if (size > buffer.length) {
          buffer = new Uint8Array(size);
          const full = await this.#withFile(
            segment.path,
            (file) => file.read(buffer, commitLogOffset - segment.base),
          );
          if (full < size) return undefined;
        }
        const record = buffer.subarray(0, size);
        if (!bodyCrcMatches(record)) {
          this.#logger.error("not serving a damaged record: its body does not match its CRC", {
            commitLogOffset,
            path: segment.path,
          });
          return undefined;
        }
        return record;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw new StoreError(`commit log read failed: ${describe(error)}`, {
          cause: error,
          path: segment.path,
        });
      }
    });
  }

  queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    beginTimestamp: number,
    endTimestamp: number,
  ): Promise<QueryMessageResult> {
    return this.#read(() =>
      queryByKey(
        this.#keys,
        (phys) => this.lookup(phys),
        topic,
        key,
        maxNum,
        beginTimestamp,
        endTimestamp,
      )
    );
  }

  onArrival(listener: ArrivalListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  // --------------------------------------------------------------- offsets

  commitOffset(group: string, topic: string, queueId: number, offset: number): void {
    if (typeof group !== "string" || group.length === 0) {
      throw new InvalidArgumentError("group", "must be a non-empty string");
    }
    if (typeof topic !== "string" || topic.length === 0) {
      throw new InvalidArgumentError("topic", "must be a non-empty string");
    }
    if (!isNonNegativeInteger(queueId, 0x7fffffff)) {
      throw new InvalidArgumentError("queueId", `must be an int32 >= 0, got ${queueId}`);
    }
    if (!Number.isSafeInteger(offset)) {
      throw new InvalidArgumentError("offset", `must be an integer, got ${offset}`);
    }
    const key = JSON.stringify([group, topic, queueId]);
    if (this.#offsets.get(key)?.[3] === offset) return;
    this.#offsets.set(key, [group, topic, queueId, offset]);
    this.#offsetsDirty = true;
  }

  queryOffset(group: string, topic: string, queueId: number): number | undefined {
    return this.#offsets.get(JSON.stringify([group, topic, queueId]))?.[3];
  }

  groupsWithOffsets(topic: string): string[] {
    const groups = new Set<string>();
    for (const [group, t] of this.#offsets.values()) if (t === topic) groups.add(group);
    return [...groups];
  }

  queues(): Array<{ topic: string; queueId: number; maxOffset: number }> {
    const out: Array<{ topic: string; queueId: number; maxOffset: number }> = [];
    for (const queue of this.#queues.values()) {
      if (queue.maxOffset > 0) {
        out.push({ topic: queue.topic, queueId: queue.queueId, maxOffset: queue.maxOffset });
      }
    }
    return out;
  }

  // ------------------------------------------------------ flush and close

  async flush(): Promise<void> {
    if (this.#state === "closed") throw new IllegalStateError("message store is closed");
    await this.#whenIdle();
    await this.#checkpoint();
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    this.#state = "closing";
    if (this.#timer !== undefined) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    await this.#whenIdle();
    let failure: unknown;
    try {
      await this.#checkpoint();
    } catch (error) {
      failure = error;
    }
    this.#readsClosed = true;
    await Promise.all([...this.#reads]);
    await this.#pool.closeAll();
    this.#listeners.clear();
    this.#state = "closed";
    openDirs.delete(this.#dir);
    if (failure) throw failure;
  }

  /** Release files after a failed open. */
  async abandon(): Promise<void> {
    this.#state = "closed";
    this.#readsClosed = true;
    await this.#pool.closeAll();
    openDirs.delete(this.#dir);
  }

  #arm(): void {
    if (this.#state !== "open") return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      const maxAge = this.#retentionMs;
      if (
        maxAge !== undefined && this.#segments.length > 1 &&
        this.#timers.now() - this.#agedAt >= Math.min(maxAge, AGE_CHECK_INTERVAL_MS)
      ) {
        this.#retentionDue = true; // #enforceRetention() records the check's time
        this.#kick();
      }
      this.#checkpoint()
        .catch((error) => this.#logger.warn("periodic flush failed", { error, dataDir: this.#dir }))
        .finally(() => this.#arm());
    }, this.#interval);
  }

  #checkpoint(): Promise<void> {
    const run = this.#checkpointChain.then(() => this.#writeCheckpoint());
    this.#checkpointChain = run.catch(() => {});
    return run;
  }

  /**
   * fsync the log and the index files written so far, then record the point
   * below which both are durable, and the consumer offsets.
   */
  async #writeCheckpoint(): Promise<void> {
    if (this.#broken) throw this.#brokenError();
    const target = this.#writtenEnd;
    const counts: Array<[string, number, number]> = [];
    for (const queue of this.#queues.values()) {
      if (queue.nextOffset > 0) counts.push([queue.topic, queue.queueId, queue.nextOffset]);
    }
    const files = [...this.#dirtyFiles];
    const dirs = [...this.#dirtyDirs];
    this.#dirtyFiles.clear();
    this.#dirtyDirs.clear();
    try {
      if (target > this.#flushedEnd) {
        await this.#withFile(this.#active().path, (file) => file.sync());
        this.#flushedEnd = Math.max(this.#flushedEnd, target);
        this.#applyFlushed();
      }
      for (const path of files) {
        try {
          await this.#withFile(path, (file) => file.sync());
        } catch (error) {
          if (!isNotFound(error)) throw error; // deleted by retention meanwhile
        }
      }
      for (const dir of dirs) await this.#fs.syncDir(dir);
    } catch (error) {
      const failure = new StoreError(`fsync failed: ${describe(error)}`, { cause: error });
      this.#fail(failure);
      throw failure;
    }
    const checkpoint = {
      version: FORMAT_VERSION,
      logEnd: target,
      lastStoreTimestamp: this.#lastStoreTimestamp,
      queues: counts,
    };
    const text = JSON.stringify(checkpoint);
    if (text !== this.#lastCheckpointText) {
      await this.#writeJson(this.#dir, CHECKPOINT_FILE, checkpoint);
      this.#lastCheckpointText = text;
    }
    this.#checkpointedEnd = Math.max(this.#checkpointedEnd, target);
    if (this.#offsetsDirty) {
      this.#offsetsDirty = false;
      try {
        await this.#writeJson(this.#dir, OFFSETS_FILE, {
          version: FORMAT_VERSION,
          offsets: [...this.#offsets.values()],
        });
      } catch (error) {
        this.#offsetsDirty = true;
        throw error;
      }
    }
  }

  // ------------------------------------------------------------ file helpers

  async #withFile<T>(
    path: string,
    use: (file: StoreFile) => Promise<T>,
    create = false,
  ): Promise<T> {
    const lease = await this.#pool.acquire(path, create);
    try {
      return await use(lease.file);
    } finally {
      lease.release();
    }
  }

  /** Replace `dir/name` atomically with a line of JSON and a line with its CRC. */
  async #writeJson(dir: string, name: string, body: unknown): Promise<void> {
    const json = JSON.stringify(body);
    const bytes = encoder.encode(`${json}\n${crc32(encoder.encode(json))}\n`);
    const temp = `${dir}/${name}.tmp`;
    const file = await this.#fs.open(temp, { create: true });
    try {
      await file.truncate(0);
      await file.write(bytes, 0);
      await file.sync();
    } finally {
      await file.close();
    }
    await this.#fs.rename(temp, `${dir}/${name}`);
    await this.#fs.syncDir(dir);
  }

  /** The JSON of a file written by #writeJson; `undefined` if missing; throws if damaged. */
  async #readJson(path: string): Promise<unknown> {
    let file: StoreFile;
    try {
      file = await this.#fs.open(path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.size());
      await file.read(bytes, 0);
    } finally {
      await file.close();
    }
    const text = decoder.decode(bytes);
    const match = /^(.*)\n(\d+)\n$/s.exec(text);
    if (!match || crc32(encoder.encode(match[1]!)) !== Number(match[2])) {
      throw new StoreError("file is damaged (CRC mismatch)", { path });
    }
    try {
      return JSON.parse(match[1]!);
    } catch (error) {
      throw new StoreError("file is damaged (invalid JSON)", { cause: error, path });
    }
  }

  // ----------------------------------------------------------------- recovery

  async open(): Promise<void> {
    const fs = this.#fs;
    await fs.mkdir(this.#logDir);
    await fs.mkdir(this.#cqDir);
    // Leftovers of an interrupted atomic write (only ours: other files under dataDir are not the store's).
    for (const name of [CHECKPOINT_FILE, OFFSETS_FILE]) await fs.remove(`${this.#dir}/${name}.tmp`);
    const checkpoint = await this.#loadCheckpoint();
    await this.#loadOffsets();
    await this.#loadSegments(checkpoint);
    const fileCounts = await this.#loadQueues();

    const logStart = this.#segments[0]!.base;
    const last = this.#active();
    const logEnd = last.base + last.length;
    this.#logStart = logStart;

    // Where the scan starts, and below which a bad record is corruption (not a torn tail).
    let start: number;
    let durable = last.base;
    if (!checkpoint) {
      start = logStart;
    } else if (checkpoint.logEnd > logEnd) {
      this.#logger.warn("commit log is shorter than its checkpoint; rescanning its last segment", {
        dataDir: this.#dir,
        checkpoint: checkpoint.logEnd,
        logEnd,
      });
      start = last.base;
    } else {
      start = Math.max(checkpoint.logEnd, logStart);
      durable = Math.max(durable, checkpoint.logEnd);
    }
    if (checkpoint) {
      for (const [key, count] of checkpoint.queues) {
        const queue = this.#queues.get(key);
        const fileCount = queue ? fileCounts.get(queue) ?? 0 : 0;
        const firstBase = queue?.files[0] ?? 0;
        if (!queue || fileCount < count) {
          let from = logStart;
          if (queue && fileCount > firstBase) {
            const entry = await this.#readEntry(queue, fileCount - 1);
            if (entry) from = Math.max(logStart, entry.offset + entry.size);
          }
          this.#logger.warn(
            "queue index is shorter than its checkpoint; rebuilding it from the commit log",
            {
              queue: key,
              entries: fileCount,
              expected: count,
            },
          );
          start = Math.min(start, from);
        } else if (count > firstBase && !(await this.#readEntry(queue, count - 1))) {
          this.#logger.warn("queue index has a damaged entry; rebuilding it from the commit log", {
            queue: key,
          });
          start = logStart;
        }
      }
    }

    let scan = await this.#scan(start, durable);
    const startSegment = this.#segmentAt(start);
    if (scan.end === start && start < logEnd && startSegment && startSegment.base < start) {
      // The very first record is bad: either the tail really is torn there, or the checkpoint
      // does not match this log (files restored or copied). Rescanning its segment from the
      // start tells the two apart, and finds the real end in the second case.
      this.#logger.warn("the record at the checkpoint is invalid; rescanning its segment", {
        at: start,
        reason: scan.reason,
      });
      start = startSegment.base;
      scan = await this.#scan(start, Math.min(durable, last.base));
    }
    if (scan.end < logEnd) {
      this.#logger.warn("dropping a torn or corrupt commit-log tail", {
        dataDir: this.#dir,
        at: scan.end,
        bytes: logEnd - scan.end,
        reason: scan.reason,
      });
      await this.#withFile(last.path, async (file) => {
        await file.truncate(scan.end - last.base);
        await file.sync();
      });
      last.length = scan.end - last.base;
    }

    for (const queue of this.#queues.values()) {
      const seen = scan.seen.get(queue);
      let count: number;
      if (seen !== undefined) {
        count = seen + 1;
      } else {
        const recorded = checkpoint?.queues.get(queue.key);
        if (queue.files.length === 0) {
          count = recorded ?? 0;
        } else {
          count = await this.#trimUnseen(
            queue,
            Math.min(fileCounts.get(queue) ?? 0, recorded ?? Infinity),
            start,
          );
          if (recorded !== undefined && recorded > count) {
            // Entries lost with their records to retention: keep the offsets they had.
            const lastEntry = count > queue.files[0]!
              ? await this.#readEntry(queue, count - 1)
              : undefined;
            if (
              count === queue.files[0] ||
              (lastEntry && lastEntry.offset + lastEntry.size <= logStart)
            ) {
              count = recorded;
            }
          }
        }
      }
      await this.#truncateIndex(queue, count);
      queue.nextOffset = count;
      queue.maxOffset = count;
    }
    for (const queue of this.#queues.values()) {
      queue.minOffset = await this.#findMin(queue, 0);
      await this.#dropIndexFiles(queue);
    }

    this.#writtenEnd = this.#visibleEnd = scan.end;
    this.#logBytes = scan.end - logStart;
    // The scanned tail may not be on disk yet (a crash of the process keeps it in the OS cache):
    // the checkpoint below fsyncs it before recording it as durable.
    this.#flushedEnd = this.#active().base;
    this.#lastStoreTimestamp = Math.max(
      checkpoint?.lastStoreTimestamp ?? 0,
      scan.lastStoreTimestamp,
    );
    await this.#rebuildKeys();
    await this.#enforceRetention();
    await this.#checkpoint();
    this.#arm();
  }

  /**
   * Rebuild the key index from the newest segments that hold
   * `keyIndexEntries` keys (counted from the last segment back, then indexed
   * forward), below `#writtenEnd`.
   */
  async #rebuildKeys(): Promise<void> {
    const end = this.#writtenEnd;
    let from = this.#segments.length - 1;
    let keys = 0;
    for (; from >= 0; from--) {
      await this.#eachRecord(this.#segments[from]!, end, (m) => {
        keys += messageKeys(m.properties).length;
      });
      if (keys >= this.#keys.capacity) break;
    }
    for (let i = Math.max(0, from); i < this.#segments.length; i++) {
      await this.#eachRecord(this.#segments[i]!, end, (m, position) => {
        const found = messageKeys(m.properties);
        if (found.length > 0) this.#keys.add(m.topic, found, position, m.storeTimestamp);
      });
    }
  }

  /** Visit the decodable records of a segment below `end` (stops at the first that is not). */
  async #eachRecord(
    segment: Segment,
    end: number,
    visit: (m: StoredMessage, position: number) => void,
  ): Promise<void> {
    const segmentEnd = Math.min(segment.base + segment.length, end);
    if (segmentEnd <= segment.base) return;
    const lease = await this.#pool.acquire(segment.path);
    try {
      let buffer = new Uint8Array(Math.min(SCAN_CHUNK, segmentEnd - segment.base));
      let bufferStart = segment.base;
      let bufferLength = 0;
      let pos = segment.base;
      while (pos + 4 <= segmentEnd) {
        if (pos + 4 > bufferStart + bufferLength) {
          bufferStart = pos;
          bufferLength = await lease.file.read(
            buffer.subarray(0, Math.min(buffer.length, segmentEnd - pos)),
            pos - segment.base,
          );
          if (bufferLength < 4) return;
        }
        const size = viewOf(buffer).getInt32(pos - bufferStart);
        if (size < MIN_RECORD_SIZE || pos + size > segmentEnd) return;
        if (pos - bufferStart + size > bufferLength) {
          if (size > buffer.length) buffer = new Uint8Array(size);
          bufferStart = pos;
          bufferLength = await lease.file.read(
            buffer.subarray(0, Math.min(buffer.length, segmentEnd - pos)),
            pos - segment.base,
          );
          if (bufferLength < size) return;
        }
        let m: StoredMessage;
        try {
          m = decodeStoredMessage(buffer.subarray(pos - bufferStart, pos - bufferStart + size));
        } catch {
          return;
        }
        visit(m, pos);
        pos += size;
      }
    } finally {
      lease.release();
    }
  }

  async #loadCheckpoint(): Promise<Checkpoint | undefined> {
    const path = `${this.#dir}/${CHECKPOINT_FILE}`;
    let raw: unknown;
    try {
      raw = await this.#readJson(path);
    } catch (error) {
      this.#logger.warn("ignoring a damaged checkpoint; the whole commit log is scanned", {
        error,
      });
      return undefined;
    }
    if (raw === undefined) return undefined;
    const body = raw as {
      version?: unknown;
      logEnd?: unknown;
      lastStoreTimestamp?: unknown;
      queues?: unknown;
    };
    const queues = new Map<string, number>();
    const valid = body.version === FORMAT_VERSION && isNonNegativeInteger(body.logEnd) &&
      isNonNegativeInteger(body.lastStoreTimestamp) && Array.isArray(body.queues) &&
      body.queues.every((q: unknown) => {
        if (!Array.isArray(q) || q.length !== 3) return false;
        const [topic, queueId, count] = q as unknown[];
        if (
          typeof topic !== "string" || !isNonNegativeInteger(queueId) ||
          !isNonNegativeInteger(count)
        ) return false;
        queues.set(queueKey(topic, queueId), count);
        return true;
      });
    if (!valid) {
      this.#logger.warn(
        "ignoring a checkpoint of an unknown format; the whole commit log is scanned",
        { path },
      );
      return undefined;
    }
    return {
      logEnd: body.logEnd as number,
      lastStoreTimestamp: body.lastStoreTimestamp as number,
      queues,
    };
  }

  async #loadOffsets(): Promise<void> {
    const path = `${this.#dir}/${OFFSETS_FILE}`;
    const raw = await this.#readJson(path) as { version?: unknown; offsets?: unknown } | undefined;
    if (raw === undefined) return;
    const ok = raw.version === FORMAT_VERSION && Array.isArray(raw.offsets) &&
      raw.offsets.every((o: unknown) =>
        Array.isArray(o) && o.length === 4 && typeof o[0] === "string" &&
        typeof o[1] === "string" &&
        isNonNegativeInteger(o[2]) && Number.isSafeInteger(o[3])
      );
    if (!ok) throw new StoreError("consumer offsets file has an unknown format", { path });
    for (
      const [group, topic, queueId, offset] of raw.offsets as Array<
        [string, string, number, number]
      >
    ) {
      this.#offsets.set(JSON.stringify([group, topic, queueId]), [group, topic, queueId, offset]);
    }
  }

  async #loadSegments(checkpoint: Checkpoint | undefined): Promise<void> {
    const names = (await this.#fs.readdir(this.#logDir)).filter((n) => NUMBERED.test(n)).sort();
    for (const name of names) {
      const path = `${this.#logDir}/${name}`;
      const stat = await this.#fs.stat(path);
      if (!stat || stat.isDirectory) continue;
      const segment: Segment = { base: Number(name), length: stat.size, path };
      const previous = this.#segments[this.#segments.length - 1];
      if (previous && previous.base + previous.length !== segment.base) {
        throw new StoreError(
          `commit-log segments are not contiguous: ${previous.path} ends at ${
            previous.base + previous.length
          } but the next segment starts at ${segment.base}; restore the missing bytes or move the later segments away`,
          { path: this.#logDir },
        );
      }
      this.#segments.push(segment);
    }
    if (this.#segments.length === 0) {
      const base = checkpoint?.logEnd ?? 0;
      const path = `${this.#logDir}/${numbered(base)}`;
      (await this.#pool.acquire(path, true)).release();
      await this.#fs.syncDir(this.#logDir);
      this.#segments.push({ base, length: 0, path });
    }
  }

  /** Index directories: queue states, and how many entries each holds contiguously. */
  async #loadQueues(): Promise<Map<QueueState, number>> {
    const counts = new Map<QueueState, number>();
    for (const name of (await this.#fs.readdir(this.#cqDir)).sort()) {
      const dir = `${this.#cqDir}/${name}`;
      const number = /\.(\d+)$/.exec(name);
      if (number) this.#nextDirNumber = Math.max(this.#nextDirNumber, Number(number[1]) + 1);
      const stat = await this.#fs.stat(dir);
      if (!stat?.isDirectory) continue;
      let meta:
        | { version?: unknown; topic?: unknown; queueId?: unknown; entriesPerFile?: unknown }
        | undefined;
      try {
        meta = await this.#readJson(`${dir}/${QUEUE_FILE}`) as typeof meta;
      } catch {
        meta = undefined;
      }
      if (
        !meta || meta.version !== FORMAT_VERSION || typeof meta.topic !== "string" ||
        meta.topic.length === 0 ||
        !isNonNegativeInteger(meta.queueId, 0x7fffffff) ||
        !isNonNegativeInteger(meta.entriesPerFile) ||
        meta.entriesPerFile === 0
      ) {
        this.#logger.warn("ignoring an index directory without a valid queue.json", { dir });
        continue;
      }
      if (this.#queues.has(queueKey(meta.topic, meta.queueId))) {
        this.#logger.warn("ignoring a second index directory of a queue", { dir });
        continue;
      }
      const queue = this.#queue(meta.topic, meta.queueId, meta.entriesPerFile);
      queue.dir = dir;
      const perFile = meta.entriesPerFile;
      const files: Array<{ base: number; size: number }> = [];
      for (const file of (await this.#fs.readdir(dir)).filter((n) => NUMBERED.test(n)).sort()) {
        const base = Number(file);
        const st = await this.#fs.stat(`${dir}/${file}`);
        if (st && !st.isDirectory && base % perFile === 0) files.push({ base, size: st.size });
      }
      queue.files = files.map((f) => f.base);
      // Entries held contiguously from the first file; files after a gap or a short file are cut later.
      let count = files[0]?.base ?? 0;
      for (const file of files) {
        if (file.base !== count) break;
        const entries = Math.min(perFile, Math.floor(file.size / ENTRY_SIZE));
        count = file.base + entries;
        if (entries < perFile) break;
      }
      counts.set(queue, count);
    }
    return counts;
  }

  /**
   * Validate every record from `from` to the end of the log and write index
   * entries for them. Stops at the first bad record; throws if that record
   * lies below `durable`.
   */
  async #scan(
    from: number,
    durable: number,
  ): Promise<
    { end: number; seen: Map<QueueState, number>; lastStoreTimestamp: number; reason?: string }
  > {
    const seen = new Map<QueueState, number>();
    const batches = new Map<QueueState, { first: number; entries: Entry[] }>();
    let lastStoreTimestamp = 0;
    const flushBatch = async (queue: QueueState): Promise<void> => {
      const batch = batches.get(queue);
      if (!batch || batch.entries.length === 0) return;
      const bytes = new Uint8Array(batch.entries.length * ENTRY_SIZE);
      batch.entries.forEach((entry, i) => encodeEntry(bytes, i, entry));
      await this.#writeEntries(queue, batch.first, bytes);
      batches.delete(queue);
    };
    let pos = from;
    let reason: string | undefined;
    segments: for (const segment of this.#segments) {
      const segmentEnd = segment.base + segment.length;
      if (segmentEnd <= pos) continue;
      pos = Math.max(pos, segment.base);
      const lease = await this.#pool.acquire(segment.path);
      try {
        let buffer = new Uint8Array(0);
        let bufferStart = pos;
        let bufferLength = 0;
        const ensure = async (n: number): Promise<boolean> => {
          if (pos + n > segmentEnd) return false;
          if (pos >= bufferStart && pos - bufferStart + n <= bufferLength) return true;
          const want = Math.max(n, Math.min(SCAN_CHUNK, segmentEnd - pos));
          if (buffer.length < want) buffer = new Uint8Array(want);
          bufferStart = pos;
          bufferLength = await lease.file.read(buffer.subarray(0, want), pos - segment.base);
          return bufferLength >= n;
        };
        const have = (n: number): boolean =>
          pos >= bufferStart && pos - bufferStart + n <= bufferLength;
        while (pos < segmentEnd) {
          let problem: string | undefined;
          if (!have(4) && !(await ensure(4))) {
            problem = "truncated size field";
          } else {
            const size = viewOf(buffer).getInt32(pos - bufferStart);
            if (size < MIN_RECORD_SIZE || pos + size > segmentEnd) {
              problem = `record size ${size} does not fit in the segment`;
            } else if (!have(size) && !(await ensure(size))) {
              problem = "record extends beyond the end of the file";
            } else {
              const m = checkRecord(
                buffer.subarray(pos - bufferStart, pos - bufferStart + size),
                pos,
              );
              if (typeof m === "string") {
                problem = m;
              } else {
                const queue = this.#queue(m.topic, m.queueId);
                const previous = seen.get(queue);
                if (previous !== undefined && m.queueOffset !== previous + 1) {
                  problem =
                    `queue offset ${m.queueOffset} of ${m.topic}:${m.queueId} follows ${previous}`;
                } else {
                  seen.set(queue, m.queueOffset);
                  lastStoreTimestamp = Math.max(lastStoreTimestamp, m.storeTimestamp);
                  let batch = batches.get(queue);
                  if (!batch) {
                    batch = { first: m.queueOffset, entries: [] };
                    batches.set(queue, batch);
                  }
                  const tags = m.properties["TAGS"];
                  batch.entries.push({
                    offset: pos,
                    size,
                    tagsCode: tags === undefined ? 0 : javaHash(tags),
                    storeTimestamp: m.storeTimestamp,
                  });
                  pos += size;
                  if (batch.entries.length >= 1024) await flushBatch(queue);
                }
              }
            }
          }
          if (problem !== undefined) {
            if (pos < durable) {
              throw new StoreError(
                `commit-log record at ${pos} is corrupt (${problem}) below the durable offset ${durable}; ` +
                  "refusing to drop acknowledged messages (move the store aside, or cut the segment by hand)",
                { path: segment.path },
              );
            }
            reason = problem;
            break segments;
          }
        }
      } finally {
        lease.release();
      }
    }
    for (const queue of [...batches.keys()]) await flushBatch(queue);
    return { end: pos, seen, lastStoreTimestamp, ...(reason === undefined ? {} : { reason }) };
  }

  /** Cut trailing entries of a queue the scan did not see that do not point below `start`. */
  async #trimUnseen(queue: QueueState, count: number, start: number): Promise<number> {
    const firstBase = queue.files[0] ?? count;
    while (count > firstBase) {
      const n = Math.min(256, count - firstBase);
      const raw = await this.#readEntries(queue, count - n, n);
      for (let i = n - 1; i >= 0; i--) {
        const entry = decodeEntry(raw, i);
        if (entry && entry.offset + entry.size <= start) return count;
        count--;
      }
    }
    return count;
  }

  /** Make a queue's index files hold exactly `count` entries. */
  async #truncateIndex(queue: QueueState, count: number): Promise<void> {
    const perFile = queue.entriesPerFile;
    for (const base of [...queue.files]) {
      const path = this.#indexPath(queue, base);
      if (base > count) {
        await this.#pool.drop(path);
        await this.#fs.remove(path);
        queue.files = queue.files.filter((b) => b !== base);
        this.#dirtyDirs.add(queue.dir!);
      } else if (count < base + perFile) {
        const want = (count - base) * ENTRY_SIZE;
        await this.#withFile(path, async (file) => {
          if (await file.size() > want) {
            await file.truncate(want);
            this.#dirtyFiles.add(path);
          }
        });
      }
    }
  }
}

function safeFilter(filter: MessageFilter, tagsCode: number): boolean {
  try {
    return filter(tagsCode);
  } catch {
    return true; // as the memory store: a failing filter does not hide messages
  }
}

function positiveInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(path, `must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/**
 * Open (creating or recovering) the durable message store under
 * `options.dataDir`. See the module documentation for the files, the flush
 * policies and the recovery.
 *
 * @param options Directory, flush policy, sizes, clock and file system.
 * @returns The open store; `close()` it to flush and release its files.
 * @throws {InvalidArgumentError} When an option is invalid.
 * @throws {IllegalStateError} When this process already has a store open on
 * the directory.
 * @throws {StoreError} When the files cannot be read or written, or hold
 * corruption that recovery cannot repair without dropping acknowledged
 * messages.
 *
 * @example Group commit under the sync policy
 * ```ts
 * import { openFileStore } from "./file_store.ts";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await mkdtemp(`${tmpdir()}/store-`);
 * const store = await openFileStore({ dataDir, flush: "sync", segmentSize: 1 << 20 });
 * const host = { address: "127.0.0.1", port: 10911 };
 * const results = await Promise.all([0, 1, 2].map((i) =>
 *   store.put({
 *     topic: "T", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: i, bornHost: host, storeHost: host,
 *     reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array([i]),
 *     properties: { TAGS: "a" }, tagsCode: 97,
 *   })
 * ));
 * assert.deepEqual(results.map((r) => r.queueOffset), [0, 1, 2]);
 * assert.equal(store.maxOffset("T", 0), 3);
 * await store.close();
 * await rm(dataDir, { recursive: true });
 * ```
 */
export async function openFileStore(options: FileStoreOptions): Promise<MessageStore> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("options", "must be an object");
  }
  if (typeof options.dataDir !== "string" || options.dataDir.length === 0) {
    throw new InvalidArgumentError("options.dataDir", "must be a non-empty path");
  }
  const flush = options.flush ?? "async";
  if (flush !== "async" && flush !== "sync") {
    throw new InvalidArgumentError("options.flush", `must be "async" or "sync", got ${flush}`);
  }
  const flushIntervalMs = positiveInteger(
    options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
    "options.flushIntervalMs",
    1,
    3_600_000,
  );
  const segmentSize = positiveInteger(
    options.segmentSize ?? DEFAULT_SEGMENT_SIZE,
    "options.segmentSize",
    4096,
    1 << 30,
  );
  const retentionBytes = options.retentionBytes === undefined
    ? undefined
    : positiveInteger(options.retentionBytes, "options.retentionBytes", 1, Number.MAX_SAFE_INTEGER);
  const retentionMs = options.retentionMs === undefined
    ? undefined
    : positiveInteger(options.retentionMs, "options.retentionMs", 1, Number.MAX_SAFE_INTEGER);
  const indexFileEntries = positiveInteger(
    options.indexFileEntries ?? DEFAULT_INDEX_FILE_ENTRIES,
    "options.indexFileEntries",
    1,
    1 << 24,
  );
  const dataDir = options.dataDir.length > 1
    ? options.dataDir.replace(/\/+$/, "")
    : options.dataDir;
  if (openDirs.has(dataDir)) {
    throw new IllegalStateError(`a message store is already open on ${dataDir} in this process`);
  }
  openDirs.add(dataDir);
  const logger = options.logger ?? consoleLogger("warn");
  const store = new FileStore({
    dataDir,
    flush,
    flushIntervalMs,
    segmentSize,
    retentionBytes,
    retentionMs,
    indexFileEntries,
    keyIndexEntries: positiveInteger(
      options.keyIndexEntries ?? DEFAULT_KEY_INDEX_ENTRIES,
      "options.keyIndexEntries",
      1,
      1 << 28,
    ),
    timers: options.timers ?? systemTimers,
    fs: options.fs ?? nodeFileSystem,
    logger,
  });
  try {
    await store.open();
  } catch (error) {
    await store.abandon();
    if (error instanceof RocketMQError) throw error;
    throw new StoreError(`could not open the message store: ${describe(error)}`, {
      cause: error,
      path: dataDir,
    });
  }
  if (options.storeHost) {
    logger.debug("message store open", {
      dataDir,
      storeHost: `${options.storeHost.address}:${options.storeHost.port}`,
    });
  }
  return store;
}
