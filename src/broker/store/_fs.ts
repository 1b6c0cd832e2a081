/**
 * The file-system seam of the file message store: the handful of operations
 * it needs, as an interface, and one implementation on `node:fs/promises`
 * (which Deno, Bun and Node all provide). The store uses nothing else, so a
 * test can inject a file system that fails, tears writes or counts fsyncs.
 *
 * This is the only module of the broker that imports `node:*`.
 *
 * @example Write, sync and read back a file
 * ```ts
 * import { nodeFileSystem } from "./_fs.ts";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import assert from "node:assert/strict";
 *
 * const dir = await mkdtemp(`${tmpdir()}/fs-`);
 * const file = await nodeFileSystem.open(`${dir}/a`, { create: true });
 * await file.write(new Uint8Array([1, 2, 3]), 0);
 * await file.sync();
 * const back = new Uint8Array(3);
 * assert.equal(await file.read(back, 0), 3);
 * assert.deepEqual(back, new Uint8Array([1, 2, 3]));
 * await file.close();
 * await rm(dir, { recursive: true });
 * ```
 *
 * @module
 */

import type * as Fsp from "node:fs/promises";

let loaded: Promise<typeof Fsp> | undefined;

/**
 * `node:fs/promises`, loaded on first use: in Deno, the first `node:*` import
 * boots the Node compatibility layer (about 45 ms), which a broker without
 * `dataDir`, and every client importing `mod.ts`, should not pay at start-up.
 */
function nodeFs(): Promise<typeof Fsp> {
  return loaded ??= import("node:fs/promises");
}

/** An open file, read and written at explicit positions. */
export interface StoreFile {
  /**
   * Read into `buffer` from `position` until it is full or the file ends.
   * Resolves with the number of bytes read (less than `buffer.length` only
   * at the end of the file).
   */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /** Write all of `buffer` at `position` (the write may be torn if it rejects). */
  write(buffer: Uint8Array, position: number): Promise<void>;
  /** Make the file's data durable (fsync). */
  sync(): Promise<void>;
  /** Cut or extend the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** Current size of the file in bytes. */
  size(): Promise<number>;
  /** Close the handle. */
  close(): Promise<void>;
}

/** The file-system operations the file message store uses. */
export interface FileSystem {
  /**
   * Open a file for reading and writing; with `create`, create it if missing
   * (never truncating an existing file). Rejects with an error whose `code`
   * is `"ENOENT"` if the file is missing and `create` is not set.
   */
  open(path: string, options?: { create?: boolean }): Promise<StoreFile>;
  /** Rename a file, replacing the target atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Create a directory and its parents (no error if it exists). */
  mkdir(path: string): Promise<void>;
  /** Names of the entries of a directory (`[]` if it does not exist). */
  readdir(path: string): Promise<string[]>;
  /** Size and kind of a path, or `undefined` if it does not exist. */
  stat(path: string): Promise<{ size: number; isDirectory: boolean } | undefined>;
  /** Delete a file (no error if it does not exist). */
  remove(path: string): Promise<void>;
  /**
   * Make a directory's entries (created, renamed, deleted files) durable.
   * Best effort: platforms that cannot open a directory skip it.
   */
  syncDir(path: string): Promise<void>;
}

/**
 * Whether an error from a {@linkcode FileSystem} means "no such file".
 *
 * @param error The error.
 * @returns `true` for `ENOENT`.
 *
 * @example
 * ```ts
 * import { isNotFound, nodeFileSystem } from "./_fs.ts";
 * import assert from "node:assert/strict";
 *
 * const err = await nodeFileSystem.open("/nonexistent/dir/file").catch((e) => e);
 * assert.equal(isNotFound(err), true);
 * ```
 */
export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "ENOENT";
}

/** Errors by which a platform refuses to open or fsync a directory. */
function isRefusal(error: unknown): boolean {
  const code = typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
  return code === "EISDIR" || code === "EPERM" || code === "EACCES" || code === "EINVAL" ||
    code === "ENOTSUP" || code === "EBADF";
}

class NodeStoreFile implements StoreFile {
  readonly #handle: Fsp.FileHandle;

  constructor(handle: Fsp.FileHandle) {
    this.#handle = handle;
  }

  async read(buffer: Uint8Array, position: number): Promise<number> {
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await this.#handle.read(
        buffer,
        done,
        buffer.length - done,
        position + done,
      );
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  async write(buffer: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < buffer.length) {
      const { bytesWritten } = await this.#handle.write(
        buffer,
        done,
        buffer.length - done,
        position + done,
      );
      done += bytesWritten;
    }
  }

  sync(): Promise<void> {
    return this.#handle.sync();
  }

  truncate(length: number): Promise<void> {
    return this.#handle.truncate(length);
  }

  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

/**
 * The real file system, through `node:fs/promises`.
 *
 * @example
 * ```ts
 * import { nodeFileSystem } from "./_fs.ts";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import assert from "node:assert/strict";
 *
 * const dir = await mkdtemp(`${tmpdir()}/fs-`);
 * await nodeFileSystem.mkdir(`${dir}/a/b`);
 * assert.deepEqual(await nodeFileSystem.readdir(`${dir}/a`), ["b"]);
 * assert.equal((await nodeFileSystem.stat(`${dir}/a/b`))?.isDirectory, true);
 * assert.equal(await nodeFileSystem.stat(`${dir}/missing`), undefined);
 * await rm(dir, { recursive: true });
 * ```
 */
export const nodeFileSystem: FileSystem = {
  async open(path, options) {
    const fsp = await nodeFs();
    const flags = options?.create ? fsp.constants.O_RDWR | fsp.constants.O_CREAT : "r+";
    return new NodeStoreFile(await fsp.open(path, flags, 0o644));
  },
  async rename(from, to) {
    await (await nodeFs()).rename(from, to);
  },
  async mkdir(path) {
    await (await nodeFs()).mkdir(path, { recursive: true });
  },
  async readdir(path) {
    const fsp = await nodeFs();
    try {
      return await fsp.readdir(path);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  },
  async stat(path) {
    const fsp = await nodeFs();
    try {
      const st = await fsp.stat(path);
      return { size: st.size, isDirectory: st.isDirectory() };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  },
  async remove(path) {
    const fsp = await nodeFs();
    try {
      await fsp.unlink(path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
  async syncDir(path) {
    const fsp = await nodeFs();
    let handle: Fsp.FileHandle;
    try {
      handle = await fsp.open(path, "r");
    } catch (error) {
      if (isRefusal(error)) return; // directories cannot be opened here (Windows)
      throw error;
    }
    try {
      await handle.sync();
    } catch (error) {
      if (!isRefusal(error)) throw error; // a real I/O error must not pass silently
    } finally {
      await handle.close();
    }
  },
};
