/**
 * Consumer offsets of a broadcasting consumer, kept by the client itself
 * (the Java client's `LocalFileOffsetStore`): every instance of the group
 * reads every queue, so each keeps its own position, and never commits it to
 * a broker. In memory by default: a new consumer (a restart) starts at
 * `consumeFrom`. With a file path (`offsetFile`, on Deno, Bun and Node), the
 * offsets are written there as JSON at every periodic commit, when a queue
 * is given up (`unsubscribe()`) and at `close()`, and read back when the
 * consumer takes its queues, so a restarted consumer resumes where the last
 * one stopped. The file is replaced atomically (written beside it, then
 * renamed over it); one file per consumer: two consumers sharing a file
 * overwrite each other's offsets.
 *
 * @example
 * ```ts
 * import { LocalOffsetStore } from "./local_offset_store.ts";
 * import { ClientInstance } from "./client_instance.ts";
 * import assert from "node:assert/strict";
 *
 * const instance = new ClientInstance({ nameServer: "127.0.0.1:9876" });
 * const store = new LocalOffsetStore({
 *   instance, group: "g", consumeFrom: "last", consumeTimestamp: undefined,
 *   brokerAddress: () => "127.0.0.1:10911",
 * });
 * const queue = { topic: "t", brokerName: "b", queueId: 0 };
 * store.track(queue, 5);
 * store.update(queue, 7);
 * await store.release("t@b@0"); // kept here, not sent to any broker
 * assert.equal(await store.startOffset(queue), 7);
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { MessageQueue } from "./message.ts";
import { OffsetStore, type OffsetStoreOptions } from "./offset_store.ts";
import { queueKey } from "./rebalance.ts";

/** Options of a {@linkcode LocalOffsetStore}. */
export interface LocalOffsetStoreOptions extends OffsetStoreOptions {
  /** JSON file keeping the offsets across restarts; none: in memory only. */
  file?: string | undefined;
}

interface FileFormat {
  version: 1;
  group: string;
  offsets: Array<{ topic: string; brokerName: string; queueId: number; offset: number }>;
}

type Fs = typeof import("node:fs/promises");

interface NodeProcessLike {
  getBuiltinModule?(id: string): unknown;
}

/**
 * `node:fs/promises`, taken only when a file is given, through
 * `process.getBuiltinModule` (Deno 2, Bun, Node 20.16+) rather than an
 * import: a Worker bundle (no `node:` modules) must not see one.
 */
function loadFs(): Fs {
  const process = (globalThis as { process?: NodeProcessLike }).process;
  const fs = process?.getBuiltinModule?.("node:fs/promises") as Fs | undefined;
  if (fs === undefined) {
    throw new InvalidArgumentError(
      "offsetFile",
      "needs a file system (process.getBuiltinModule: Deno 2, Bun, Node 20.16+)",
    );
  }
  return fs;
}

function parentDirectory(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut > 0 ? path.slice(0, cut) : undefined;
}

/** Offsets of a broadcasting consumer: in memory, optionally in a file. */
export class LocalOffsetStore extends OffsetStore {
  readonly #group: string;
  readonly #file: string | undefined;
  readonly #log: OffsetStoreOptions["instance"]["logger"];
  /** Every queue's last known offset, tracked or not (a released queue keeps its own). */
  readonly #stored = new Map<string, { queue: MessageQueue; offset: number }>();
  #loaded: Promise<void> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;

  /** @param options The consumer's side, and the file. */
  constructor(options: LocalOffsetStoreOptions) {
    super(options);
    this.#group = options.group;
    this.#file = options.file;
    this.#log = options.instance.logger;
    if (options.file !== undefined) loadFs(); // no file system here: say so now
  }

  /** The offsets this store knows (tracked queues and released ones), by `queueKey`. */
  snapshot(): Map<string, number> {
    return new Map([...this.#stored].map(([key, { offset }]) => [key, offset]));
  }

  /** Start tracking a queue; its start offset is kept too (a restart resumes there). */
  override track(queue: MessageQueue, offset: number): void {
    super.track(queue, offset);
    const key = queueKey(queue);
    if (this.#stored.get(key)?.offset !== offset) this.#dirty = true;
    this.#stored.set(key, { queue, offset });
  }

  override update(queue: MessageQueue, offset: number): void {
    super.update(queue, offset);
    const tracked = super.offset(queue);
    if (tracked === undefined) return;
    const key = queueKey(queue);
    if (this.#stored.get(key)?.offset !== tracked) {
      this.#stored.set(key, { queue, offset: tracked });
      this.#dirty = true;
    }
  }

  /** Keep one queue's offset (write the file when one is given). */
  override async persist(_key: string, _oneway: boolean, _timeout?: number): Promise<void> {
    await this.#save();
  }

  /** Keep every offset (write the file once when one is given). */
  override async persistAll(_oneway: boolean, _timeout?: number): Promise<void> {
    await this.#save().catch((err) =>
      this.#log.warn("writing the offset file failed", { file: this.#file, error: err })
    );
  }

  /**
   * Where a queue starts: its offset kept here (from the file on the first
   * call), else `consumeFrom`.
   */
  override async startOffset(queue: MessageQueue): Promise<number> {
    await (this.#loaded ??= this.#load());
    const kept = this.#stored.get(queueKey(queue));
    if (kept !== undefined) return kept.offset;
    return await this.initialOffset(queue);
  }

  async #load(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    const fs = loadFs();
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return; // first start
      throw err;
    }
    try {
      const data = JSON.parse(text) as FileFormat;
      if (data.version !== 1 || !Array.isArray(data.offsets)) {
        throw new InvalidArgumentError("offsetFile", "is not an offset file of this library");
      }
      for (const entry of data.offsets) {
        const { topic, brokerName, queueId, offset } = entry;
        if (
          typeof topic !== "string" || typeof brokerName !== "string" ||
          !Number.isInteger(queueId) || !Number.isInteger(offset) || offset < 0
        ) {
          throw new InvalidArgumentError(
            "offsetFile",
            `has an invalid entry ${JSON.stringify(entry)}`,
          );
        }
        const queue = { topic, brokerName, queueId };
        const key = queueKey(queue);
        if (!this.#stored.has(key)) this.#stored.set(key, { queue, offset });
      }
    } catch (err) {
      // Java's LocalFileOffsetStore does the same: unreadable offsets mean consumeFrom.
      this.#log.error("offset file unreadable; queues start at consumeFrom", {
        file,
        error: err,
      });
    }
  }

  #save(): Promise<void> {
    const file = this.#file;
    if (file === undefined || !this.#dirty) return this.#writing;
    this.#dirty = false;
    const run = async () => {
      await (this.#loaded ??= this.#load()); // never write over offsets not read yet
      const fs = loadFs();
      const data: FileFormat = {
        version: 1,
        group: this.#group,
        offsets: [...this.#stored.values()].map(({ queue, offset }) => ({
          topic: queue.topic,
          brokerName: queue.brokerName,
          queueId: queue.queueId,
          offset,
        })),
      };
      const directory = parentDirectory(file);
      if (directory !== undefined) await fs.mkdir(directory, { recursive: true });
      const temporary = `${file}.${Date.now().toString(36)}.tmp`;
      try {
        await fs.writeFile(temporary, JSON.stringify(data));
        await fs.rename(temporary, file);
      } catch (err) {
        this.#dirty = true; // try again at the next commit
        await fs.rm(temporary, { force: true }).catch(() => undefined);
        throw err;
      }
    };
    const next = this.#writing.catch(() => undefined).then(run);
    this.#writing = next;
    return next;
  }
}
