// Shared helpers of the message store tests: messages, temporary directories, a
// capturing logger, and a file system that counts, gates and fails operations.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { FileSystem, StoreFile } from "../../../src/broker/store/_fs.ts";
import { nodeFileSystem } from "../../../src/broker/store/_fs.ts";
import type { PutMessageInput } from "../../../src/broker/store/types.ts";
import type { LogFields, Logger } from "../../../src/logger.ts";

export const HOST = { address: "127.0.0.1", port: 10911 };
export const BORN = { address: "10.0.0.7", port: 50123 };

/** Java `String.hashCode()`. */
export function tagsCode(tags: string | undefined): number {
  if (tags === undefined) return 0;
  let h = 0;
  for (let i = 0; i < tags.length; i++) h = (Math.imul(31, h) + tags.charCodeAt(i)) | 0;
  return h;
}

/** A deterministic body of `size` bytes for message number `seed`. */
export function body(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface MessageSpec {
  topic?: string;
  queueId?: number;
  seed?: number;
  size?: number;
  tags?: string;
  properties?: Record<string, string>;
}

/** A message to put; the body is derived from `seed` and `size`. */
export function message(spec: MessageSpec = {}): PutMessageInput {
  const seed = spec.seed ?? 0;
  const properties: Record<string, string> = { UNIQ_KEY: `K${seed}`, ...spec.properties };
  if (spec.tags !== undefined) properties["TAGS"] = spec.tags;
  return {
    topic: spec.topic ?? "T",
    queueId: spec.queueId ?? 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000 + seed,
    bornHost: BORN,
    storeHost: HOST,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: body(seed, spec.size ?? 100),
    properties,
    tagsCode: tagsCode(spec.tags),
  };
}

/** A fresh temporary directory, removed by `cleanup`. */
export async function tempDir(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(`${tmpdir()}/rocketmq-store-`);
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A logger that keeps its lines. */
export class CaptureLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields?: LogFields | undefined }> = [];
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: "error", message, fields });
  }
  has(level: string, pattern: RegExp): boolean {
    return this.lines.some((l) => l.level === level && pattern.test(l.message));
  }
}

/** An error as a file system reports it. */
export function fsError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

/** What a {@linkcode FaultyFs} hook decides for a write. */
export type WriteFault = undefined | Error | { torn: number; error: Error };

/**
 * A file system over the real one that counts fsyncs and writes and lets a
 * test fail, tear or hold them.
 */
export class FaultyFs implements FileSystem {
  syncs = 0;
  writes = 0;
  /** Paths fsynced, in order. */
  synced: string[] = [];
  /** Decide the fate of each write (path, bytes, position). */
  onWrite: ((path: string, bytes: Uint8Array, position: number) => WriteFault) | undefined;
  /** Fail an fsync of a file with the returned error. */
  onSync: ((path: string) => Error | undefined) | undefined;
  /** While set, fsyncs wait for this promise. */
  syncGate: Promise<void> | undefined;
  /** Writes to a path wait for the promise returned, if any. */
  writeGate: ((path: string) => Promise<void> | undefined) | undefined;
  /** Fail truncations with the returned error. */
  onTruncate: ((path: string) => Error | undefined) | undefined;
  readonly inner: FileSystem;

  constructor(inner: FileSystem = nodeFileSystem) {
    this.inner = inner;
  }

  async open(path: string, options?: { create?: boolean }): Promise<StoreFile> {
    const file = await this.inner.open(path, options);
    return {
      read: (buffer, position) => file.read(buffer, position),
      write: async (buffer, position) => {
        await this.writeGate?.(path);
        this.writes++;
        const fault = this.onWrite?.(path, buffer, position);
        if (fault instanceof Error) throw fault;
        if (fault) {
          await file.write(buffer.subarray(0, fault.torn), position);
          throw fault.error;
        }
        await file.write(buffer, position);
      },
      sync: async () => {
        if (this.syncGate) await this.syncGate;
        const error = this.onSync?.(path);
        if (error) throw error;
        this.syncs++;
        this.synced.push(path);
        await file.sync();
      },
      truncate: (length) => {
        const error = this.onTruncate?.(path);
        if (error) return Promise.reject(error);
        return file.truncate(length);
      },
      size: () => file.size(),
      close: () => file.close(),
    };
  }

  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  mkdir(path: string): Promise<void> {
    return this.inner.mkdir(path);
  }
  readdir(path: string): Promise<string[]> {
    return this.inner.readdir(path);
  }
  stat(path: string): Promise<{ size: number; isDirectory: boolean } | undefined> {
    return this.inner.stat(path);
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }
  syncDir(path: string): Promise<void> {
    return this.inner.syncDir(path);
  }
}
