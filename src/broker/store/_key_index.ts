// The message-key index of both stores (RocketMQ's IndexService): which
// records carry a key of a topic, for QUERY_MESSAGE and the lookup by unique
// key. Keys are the words of the KEYS property (split on spaces) and the
// UNIQ_KEY property, in one namespace per topic, as Java indexes them.
//
// Layout: a chained hash table in typed arrays, as Java's IndexFile: every
// entry holds the 32-bit hash of `topic#key`, the record's physical offset
// and store time, and the distance back to the previous entry of its bucket.
// Entries are appended in physical order, so evicting the records below an
// offset drops a prefix of the entries, and a chain (always pointing back)
// ends at the first dropped one. About 36 bytes per key held: no object per
// entry, nothing for the garbage collector. Hash collisions are resolved by
// the caller, which reads the record and checks its topic and keys.

import { decodeStoredMessage, type StoredMessage } from "../../codec/message_ext.ts";
import type { QueryMessageResult } from "./types.ts";

/** Smallest entry capacity and bucket count. */
const MIN_CAPACITY = 64;
/** Entries a lookup walks at most (same-hash entries out of the time range). */
const MAX_WALK = 100_000;

function hashKey(topic: string, key: string): number {
  // FNV-1a over the UTF-16 code units of `topic#key`.
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) h = Math.imul(h ^ topic.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x23, 0x01000193);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** The keys a message is indexed under: its KEYS words, then its UNIQ_KEY. */
export function messageKeys(properties: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  const keys = properties["KEYS"];
  if (keys !== undefined) {
    for (const word of keys.split(" ")) if (word.length > 0 && !out.includes(word)) out.push(word);
  }
  const unique = properties["UNIQ_KEY"];
  if (unique !== undefined && unique.length > 0 && !out.includes(unique)) out.push(unique);
  return out;
}

/** Whether a message with these properties carries `key`. */
export function hasKey(
  properties: Readonly<Record<string, string>>,
  key: string,
): boolean {
  return messageKeys(properties).includes(key);
}

export class KeyIndex {
  readonly #maxEntries: number;
  #hashes = new Int32Array(0);
  #phys = new Float64Array(0);
  #times = new Float64Array(0);
  /** Distance back to the previous entry of the same bucket; 0 for none. */
  #prev = new Int32Array(0);
  /** Logical index of the newest entry per bucket, -1 for none. */
  #buckets = new Float64Array(0);
  /** Logical index of array position 0. */
  #base = 0;
  /** First live logical index. */
  #head = 0;
  /** Next logical index. */
  #tail = 0;
  #lastTimestamp = 0;
  #lastPhys = 0;

  /** @param maxEntries Most entries held; the oldest are dropped beyond it. */
  constructor(maxEntries: number) {
    this.#maxEntries = Math.max(1, Math.floor(maxEntries));
  }

  /** Most entries held. */
  get capacity(): number {
    return this.#maxEntries;
  }

  /** Entries held. */
  get size(): number {
    return this.#tail - this.#head;
  }

  /** Bytes of the typed arrays. */
  get bytes(): number {
    return this.#hashes.length * 24 + this.#buckets.byteLength;
  }

  /** Store time and physical offset of the last record indexed. */
  get lastUpdate(): { timestamp: number; phys: number } {
    return { timestamp: this.#lastTimestamp, phys: this.#lastPhys };
  }

  /**
   * Index a record (records must come in physical order).
   *
   * @returns The change in `bytes`.
   */
  add(topic: string, keys: readonly string[], phys: number, storeTimestamp: number): number {
    const before = this.bytes;
    this.#lastTimestamp = storeTimestamp;
    this.#lastPhys = phys;
    for (const key of keys) {
      if (this.#tail - this.#head >= this.#maxEntries) this.#head++;
      this.#ensureRoom();
      const h = hashKey(topic, key);
      const at = this.#tail - this.#base;
      const bucket = h & (this.#buckets.length - 1);
      const newest = this.#buckets[bucket]!;
      this.#hashes[at] = h;
      this.#phys[at] = phys;
      this.#times[at] = storeTimestamp;
      this.#prev[at] = newest >= this.#head ? this.#tail - newest : 0;
      this.#buckets[bucket] = this.#tail;
      this.#tail++;
    }
    return this.bytes - before;
  }

  /**
   * Drop the entries of records below `phys` (evicted or deleted).
   *
   * @returns The change in `bytes`.
   */
  dropBelow(phys: number): number {
    const before = this.bytes;
    while (this.#head < this.#tail && this.#phys[this.#head - this.#base]! < phys) this.#head++;
    const live = this.#tail - this.#head;
    if (live === 0) {
      this.#reset();
    } else if (live * 4 <= this.#hashes.length && this.#hashes.length > MIN_CAPACITY) {
      this.#reshape(Math.max(MIN_CAPACITY, live * 2));
    }
    return this.bytes - before;
  }

  /**
   * Physical offsets of records of `topic` indexed under `key` (or a key of
   * the same hash) stored within `[begin, end]`, newest first, at most
   * `limit`.
   */
  find(topic: string, key: string, begin: number, end: number, limit: number): number[] {
    const out: number[] = [];
    if (this.#tail === this.#head || limit <= 0) return out;
    const h = hashKey(topic, key);
    let at = this.#buckets[h & (this.#buckets.length - 1)]!;
    for (let walked = 0; at >= this.#head && walked < MAX_WALK; walked++) {
      const pos = at - this.#base;
      if (this.#hashes[pos] === h) {
        const time = this.#times[pos]!;
        if (time >= begin && time <= end) {
          out.push(this.#phys[pos]!);
          if (out.length >= limit) break;
        }
      }
      const back = this.#prev[pos]!;
      if (back === 0) break;
      at -= back;
    }
    return out;
  }

  #reset(): void {
    this.#hashes = new Int32Array(0);
    this.#phys = new Float64Array(0);
    this.#times = new Float64Array(0);
    this.#prev = new Int32Array(0);
    this.#buckets = new Float64Array(0);
    this.#base = this.#head = this.#tail;
  }

  #ensureRoom(): void {
    const capacity = this.#hashes.length;
    if (this.#tail - this.#base < capacity) return;
    const live = this.#tail - this.#head;
    // Twice the room when more than half is live, else the same room once the dropped head is reclaimed.
    this.#reshape(Math.max(MIN_CAPACITY, live * 2 > capacity ? capacity * 2 : capacity));
  }

  /** Move the live entries to the start of arrays of `capacity` entries, and rehash. */
  #reshape(capacity: number): void {
    const from = this.#head - this.#base;
    const to = this.#tail - this.#base;
    const hashes = new Int32Array(capacity);
    const phys = new Float64Array(capacity);
    const times = new Float64Array(capacity);
    hashes.set(this.#hashes.subarray(from, to));
    phys.set(this.#phys.subarray(from, to));
    times.set(this.#times.subarray(from, to));
    this.#hashes = hashes;
    this.#phys = phys;
    this.#times = times;
    this.#prev = new Int32Array(capacity);
    this.#base = this.#head;
    // Load factor about one: as many buckets as entries fit.
    this.#rebuildBuckets(capacity);
  }

  #rebuildBuckets(count: number): void {
    let n = MIN_CAPACITY;
    while (n < count) n *= 2;
    const buckets = n === this.#buckets.length ? this.#buckets : new Float64Array(n);
    buckets.fill(-1);
    this.#buckets = buckets;
    for (let i = this.#head; i < this.#tail; i++) {
      const pos = i - this.#base;
      const bucket = this.#hashes[pos]! & (n - 1);
      const newest = buckets[bucket]!;
      this.#prev[pos] = newest >= this.#head ? i - newest : 0;
      buckets[bucket] = i;
    }
  }
}

/**
 * `MessageStore.queryMessage` over a key index: the newest `maxNum` records
 * of `topic` that really carry `key` (hash collisions and records gone since
 * are left out), in physical order.
 */
export async function queryByKey(
  index: KeyIndex,
  lookup: (phys: number) => Promise<Uint8Array | undefined>,
  topic: string,
  key: string,
  maxNum: number,
  begin: number,
  end: number,
): Promise<QueryMessageResult> {
  const { timestamp, phys: lastPhys } = index.lastUpdate;
  const result: QueryMessageResult = {
    records: [],
    indexLastUpdateTimestamp: timestamp,
    indexLastUpdatePhyoffset: lastPhys,
  };
  const limit = Math.max(0, Math.min(Math.floor(maxNum), 0x7fffffff));
  if (limit === 0) return result;
  const found: Array<[number, Uint8Array]> = [];
  for (const phys of index.find(topic, key, begin, end, limit * 2 + 8)) {
    const record = await lookup(phys);
    if (record === undefined || record.length === 0) continue;
    let message: StoredMessage;
    try {
      message = decodeStoredMessage(record);
    } catch {
      continue;
    }
    if (message.topic !== topic || !hasKey(message.properties, key)) continue;
    found.push([phys, record]);
    if (found.length >= limit) break;
  }
  found.sort((a, b) => a[0] - b[0]);
  result.records = found.map(([, record]) => record);
  return result;
}
