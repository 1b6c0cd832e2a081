/**
 * Delayed delivery by level, after RocketMQ's `ScheduleMessageService`. A
 * message sent with the `DELAY` property (level 1–18), and every retry made by
 * CONSUMER_SEND_MSG_BACK, is stored in `SCHEDULE_TOPIC_XXXX`, queue
 * `level − 1`, with its real topic and queue in `REAL_TOPIC`/`REAL_QID`. Per
 * level, messages are due in store order, so one timer per level (for the
 * head message) is enough: when it fires, due messages are written to their
 * real topic without `DELAY` and the level's progress is committed.
 *
 * Progress is kept as a consumer offset of the schedule topic in the message
 * store under the reserved group {@linkcode DELAY_OFFSET_GROUP}, so with a
 * durable store scheduled messages survive a restart (delivery is
 * at-least-once across a crash, as in Java).
 *
 * @example Levels
 * ```ts
 * import { delayLevelMillis, DELAY_LEVELS } from "./delay.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DELAY_LEVELS.length, 18);
 * assert.equal(delayLevelMillis(3), 10_000);
 * assert.equal(delayLevelMillis(18), 7_200_000);
 * ```
 *
 * @module
 */

import { javaStringHashCode } from "../codec/bodies.ts";
import { decodeStoredMessage, type StoredMessage } from "../codec/message_ext.ts";
import { MessageProperty } from "../codec/properties.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { systemTimers, type TimerHandle, type Timers } from "../remoting/timers.ts";
import { SCHEDULE_TOPIC } from "./topics.ts";
import type { MessageStore, PutMessageInput, PutResult } from "./store/types.ts";

/**
 * Default delays of levels 1..18 in ms (Java's default `messageDelayLevel`:
 * `1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h`); a broker
 * started with `delayLevels` uses those instead.
 *
 * @example
 * ```ts
 * import { DELAY_LEVELS } from "./delay.ts";
 * import assert from "node:assert/strict";
 *
 * // Level n waits DELAY_LEVELS[n - 1]: by default, a message sent with delayLevel 3 waits 10 s.
 * assert.equal(DELAY_LEVELS[3 - 1], 10_000);
 * assert.equal(DELAY_LEVELS.at(-1), 2 * 60 * 60 * 1000);
 * ```
 */
export const DELAY_LEVELS: readonly number[] = [
  1_000,
  5_000,
  10_000,
  30_000,
  60_000,
  120_000,
  180_000,
  240_000,
  300_000,
  360_000,
  420_000,
  480_000,
  540_000,
  600_000,
  1_200_000,
  1_800_000,
  3_600_000,
  7_200_000,
];

/** Reserved consumer group under which delivery progress is stored. */
export const DELAY_OFFSET_GROUP = "#schedule";

/**
 * The delay of a level, levels above 18 clamped to 18.
 *
 * @param level Delay level, 1 or more.
 * @returns Milliseconds.
 *
 * @example
 * ```ts
 * import { delayLevelMillis } from "./delay.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(delayLevelMillis(1), 1000);
 * assert.equal(delayLevelMillis(99), 7_200_000);
 * ```
 */
export function delayLevelMillis(level: number): number {
  const index = Math.min(Math.max(1, Math.trunc(level)), DELAY_LEVELS.length) - 1;
  return DELAY_LEVELS[index]!;
}

/**
 * The message to deliver when a parked message is due
 * (`ScheduleMessageService.messageTimeUp`): real topic and queue restored,
 * `DELAY` and the timer properties removed, `WAIT=false`.
 *
 * @param parked The message read from the schedule topic.
 * @returns The message to store, or `undefined` when `REAL_TOPIC` or
 * `REAL_QID` is missing or invalid.
 *
 * @example
 * ```ts
 * import { messageTimeUp } from "./delay.ts";
 * import assert from "node:assert/strict";
 *
 * const host = { address: "127.0.0.1", port: 1 };
 * const out = messageTimeUp({
 *   storeSize: 0, magicCode: 0, bodyCRC: 0, queueId: 2, flag: 0, queueOffset: 0, commitLogOffset: 0, sysFlag: 0,
 *   bornTimestamp: 0, bornHost: host, storeTimestamp: 0, storeHost: host, reconsumeTimes: 1,
 *   preparedTransactionOffset: 0, body: new Uint8Array(), topic: "SCHEDULE_TOPIC_XXXX",
 *   properties: { DELAY: "3", REAL_TOPIC: "%RETRY%g", REAL_QID: "0", TAGS: "A" },
 * });
 * assert.equal(out?.topic, "%RETRY%g");
 * assert.equal(out?.properties.DELAY, undefined);
 * assert.equal(out?.properties.WAIT, "false");
 * ```
 */
export function messageTimeUp(parked: StoredMessage): PutMessageInput | undefined {
  const properties: Record<string, string> = { ...parked.properties };
  const topic = properties[MessageProperty.REAL_TOPIC];
  const qid = properties[MessageProperty.REAL_QID];
  if (!topic || qid === undefined || !/^\d{1,9}$/.test(qid)) return undefined;
  delete properties[MessageProperty.DELAY];
  delete properties[MessageProperty.TIMER_DELIVER_MS];
  delete properties[MessageProperty.TIMER_DELAY_SEC];
  properties[MessageProperty.WAIT] = "false";
  const tags = properties[MessageProperty.TAGS];
  return {
    topic,
    queueId: Number(qid),
    flag: parked.flag,
    sysFlag: parked.sysFlag,
    bornTimestamp: parked.bornTimestamp,
    bornHost: parked.bornHost,
    storeHost: parked.storeHost,
    reconsumeTimes: parked.reconsumeTimes,
    preparedTransactionOffset: 0,
    body: parked.body,
    properties,
    tagsCode: tags ? javaStringHashCode(tags) : 0,
  };
}

/** Options of {@linkcode DelayService}. */
export interface DelayServiceOptions {
  /** The store holding the schedule topic. */
  store: MessageStore;
  /** Writes a due message to its real topic. @default {store.put} */
  deliver?: (message: PutMessageInput) => Promise<PutResult>;
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /** Where failures are logged. */
  logger?: Logger;
  /**
   * Milliseconds before retrying after a failed read or write.
   * @default {1000}
   */
  retryDelay?: number;
  /**
   * Delay of each of the 18 levels, in ms (Java's `messageDelayLevel`).
   * @default {DELAY_LEVELS}
   */
  levels?: readonly number[];
}

interface Level {
  queueId: number;
  delay: number;
  next: number;
  timer: TimerHandle | undefined;
  running: boolean;
  again: boolean;
}

/**
 * The delivery service of delayed messages.
 *
 * @example A level-1 message is delivered after 1 s
 * ```ts
 * import { DelayService } from "./delay.ts";
 * import { MemoryStore } from "./store/memory_store.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(1_000_000);
 * const store = new MemoryStore({ now: () => timers.now() });
 * const delay = new DelayService({ store, timers });
 * const host = { address: "127.0.0.1", port: 1 };
 * await store.put({ topic: "SCHEDULE_TOPIC_XXXX", queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: 0,
 *   bornHost: host, storeHost: host, reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array(),
 *   properties: { DELAY: "1", REAL_TOPIC: "T", REAL_QID: "0" }, tagsCode: 0 });
 * delay.start();
 * await delay.idle();
 * assert.equal(store.maxOffset("T", 0), 0);
 * timers.advance(1000);
 * await delay.idle();
 * assert.equal(store.maxOffset("T", 0), 1);
 * await delay.close();
 * ```
 */
export class DelayService {
  readonly #store: MessageStore;
  readonly #deliver: (message: PutMessageInput) => Promise<PutResult>;
  readonly #timers: Timers;
  readonly #logger: Logger;
  readonly #retryDelay: number;
  readonly #levels: Level[];
  readonly #running = new Set<Promise<void>>();
  #started = false;
  #closed = false;
  #delivered = 0;

  /** @param options Store, delivery, timers and logger. */
  constructor(options: DelayServiceOptions) {
    this.#store = options.store;
    this.#deliver = options.deliver ?? ((m) => this.#store.put(m));
    this.#timers = options.timers ?? systemTimers;
    this.#logger = options.logger ?? silentLogger;
    this.#retryDelay = options.retryDelay ?? 1000;
    this.#levels = (options.levels ?? DELAY_LEVELS).map((delay, queueId) => ({
      queueId,
      delay,
      next: 0,
      timer: undefined,
      running: false,
      again: false,
    }));
  }

  /** Messages written to their real topic so far. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Messages parked and not yet delivered. */
  get pending(): number {
    let n = 0;
    for (const level of this.#levels) {
      n += Math.max(0, this.#store.maxOffset(SCHEDULE_TOPIC, level.queueId) - level.next);
    }
    return n;
  }

  /** Read the progress of every level and start delivering. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (const level of this.#levels) {
      const committed = this.#store.queryOffset(DELAY_OFFSET_GROUP, SCHEDULE_TOPIC, level.queueId);
      level.next = Math.max(committed ?? 0, this.#store.minOffset(SCHEDULE_TOPIC, level.queueId));
      this.#kick(level);
    }
  }

  /**
   * A message was parked in a schedule queue.
   *
   * @param queueId The queue (level − 1).
   */
  notify(queueId: number): void {
    const level = this.#levels[queueId];
    if (!level || !this.#started || this.#closed) return;
    // A pending timer waits for an older message, due no later than this one.
    if (level.timer !== undefined) return;
    this.#kick(level);
  }

  /** Resolves when no level is working (timers may still be pending). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /** Stop delivering; resolves once in-flight deliveries are done. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const level of this.#levels) {
      if (level.timer !== undefined) this.#timers.clearTimeout(level.timer);
      level.timer = undefined;
    }
    await this.idle();
  }

  #kick(level: Level): void {
    if (this.#closed) return;
    if (level.running) {
      level.again = true;
      return;
    }
    level.running = true;
    const run = this.#run(level).finally(() => {
      level.running = false;
      this.#running.delete(run);
      if (level.again && !this.#closed && level.timer === undefined) {
        level.again = false;
        this.#kick(level);
      }
    });
    this.#running.add(run);
  }

  #schedule(level: Level, ms: number): void {
    if (this.#closed) return;
    if (level.timer !== undefined) this.#timers.clearTimeout(level.timer);
    level.timer = this.#timers.setTimeout(() => {
      level.timer = undefined;
      this.#kick(level);
    }, Math.max(0, ms));
  }

  async #run(level: Level): Promise<void> {
    level.again = false;
    try {
      for (;;) {
        if (this.#closed) return;
        const min = this.#store.minOffset(SCHEDULE_TOPIC, level.queueId);
        if (level.next < min) level.next = min;
        const result = await this.#store.get(
          SCHEDULE_TOPIC,
          level.queueId,
          level.next,
          32,
          4 << 20,
        );
        if (result.records.length === 0) {
          if (result.status === "OFFSET_TOO_SMALL" && result.nextBeginOffset > level.next) {
            level.next = result.nextBeginOffset;
            continue;
          }
          return;
        }
        for (const record of result.records) {
          if (this.#closed) return;
          let parked: StoredMessage;
          try {
            parked = decodeStoredMessage(record);
          } catch (err) {
            this.#logger.error("delay: unreadable parked message skipped", {
              level: level.queueId + 1,
              err,
            });
            this.#advance(level, level.next + 1);
            continue;
          }
          const now = this.#timers.now();
          let due = parked.storeTimestamp + level.delay;
          if (due > now + level.delay) due = now; // the clock went back
          if (due > now) {
            this.#schedule(level, due - now);
            return;
          }
          const message = messageTimeUp(parked);
          if (message) {
            await this.#deliver(message);
            this.#delivered++;
          } else {
            this.#logger.error("delay: parked message without REAL_TOPIC/REAL_QID skipped", {
              level: level.queueId + 1,
              queueOffset: parked.queueOffset,
            });
          }
          this.#advance(level, parked.queueOffset + 1);
        }
      }
    } catch (err) {
      this.#logger.warn("delay: delivery failed, retrying", { level: level.queueId + 1, err });
      this.#schedule(level, this.#retryDelay);
    }
  }

  #advance(level: Level, next: number): void {
    level.next = next;
    this.#store.commitOffset(DELAY_OFFSET_GROUP, SCHEDULE_TOPIC, level.queueId, next);
  }
}
