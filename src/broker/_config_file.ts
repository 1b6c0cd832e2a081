// A small JSON configuration file in the broker's data directory (topics),
// written atomically: to a temporary file, fsynced, renamed over the old one,
// then the directory fsynced. Writes are coalesced: a change while a write is
// under way schedules one more write with the latest content.

import type { FileSystem } from "./store/_fs.ts";
import { isNotFound } from "./store/_fs.ts";
import { utf8Decode, utf8Encode } from "../codec/_utf8.ts";

/** Read a whole file as text, or `undefined` when it does not exist. */
export async function readTextFile(fs: FileSystem, path: string): Promise<string | undefined> {
  let file;
  try {
    file = await fs.open(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    const size = await file.size();
    const buffer = new Uint8Array(size);
    const n = await file.read(buffer, 0);
    return utf8Decode(buffer.subarray(0, n));
  } finally {
    await file.close();
  }
}

/** Writes one file atomically, coalescing bursts of changes. */
export class AtomicFileWriter {
  readonly #fs: FileSystem;
  readonly #dir: string;
  readonly #path: string;
  #pending: (() => string) | undefined;
  #running: Promise<void> | undefined;
  #lastError: unknown;

  constructor(fs: FileSystem, dir: string, name: string) {
    this.#fs = fs;
    this.#dir = dir;
    this.#path = `${dir}/${name}`;
  }

  /** The last write failure, if the last write failed. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Schedule a write of what `content()` returns when the write starts. */
  schedule(content: () => string): void {
    this.#pending = content;
    if (!this.#running) this.#running = this.#loop().finally(() => this.#running = undefined);
  }

  /** Resolves once every scheduled write is done (or failed). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#pending) {
      const content = this.#pending;
      this.#pending = undefined;
      try {
        await this.#write(content());
        this.#lastError = undefined;
      } catch (err) {
        this.#lastError = err;
      }
    }
  }

  async #write(text: string): Promise<void> {
    const tmp = `${this.#path}.tmp`;
    await this.#fs.mkdir(this.#dir);
    await this.#fs.remove(tmp);
    const file = await this.#fs.open(tmp, { create: true });
    try {
      await file.write(utf8Encode(text), 0);
      await file.sync();
    } finally {
      await file.close();
    }
    await this.#fs.rename(tmp, this.#path);
    await this.#fs.syncDir(this.#dir);
  }
}
