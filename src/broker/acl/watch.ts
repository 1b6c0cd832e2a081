/**
 * Reload an ACL file while the broker runs, as RocketMQ watches its
 * `plain_acl.yml`: the file is read every `intervalMs`; when its text
 * changed and parses, the new configuration is handed over; when it does not
 * parse, the error is logged (once per version of the file) and the
 * configuration in force stays.
 *
 * @example
 * ```ts
 * import { watchAclFile } from "./watch.ts";
 * import { ManualTimers } from "../../remoting/timers.ts";
 * import { silentLogger } from "../../logger.ts";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import assert from "node:assert/strict";
 *
 * const dir = await mkdtemp(`${tmpdir()}/acl-`);
 * const path = `${dir}/plain_acl.yml`;
 * await writeFile(path, "accounts:\n  - accessKey: a\n    secretKey: a-secret\n");
 * const timers = new ManualTimers(0);
 * const seen: string[] = [];
 * const watch = await watchAclFile({
 *   path,
 *   timers,
 *   logger: silentLogger,
 *   onChange: (config) => void seen.push(config.accounts[0]!.accessKey),
 * });
 * await writeFile(path, "accounts:\n  - accessKey: b\n    secretKey: b-secret\n");
 * timers.advance(2000);
 * await watch.idle();
 * assert.deepEqual(seen, ["b"]);
 * watch.close();
 * await rm(dir, { recursive: true });
 * ```
 *
 * @module
 */

import type { Logger } from "../../logger.ts";
import { systemTimers, type TimerHandle, type Timers } from "../../remoting/timers.ts";
import { readTextFile } from "../_config_file.ts";
import { type FileSystem, nodeFileSystem } from "../store/_fs.ts";
import { type AclConfig, parsePlainAcl } from "./plain_acl.ts";

/** Options of {@linkcode watchAclFile}. */
export interface WatchAclFileOptions {
  /** The ACL file (YAML in the shape of RocketMQ's `plain_acl.yml`). */
  path: string;
  /** Told each new valid configuration (not the one in force at the start). */
  onChange: (config: AclConfig) => void;
  /** How often the file is read, ms. @default {2000} */
  intervalMs?: number;
  /** Where reloads and errors are logged. */
  logger: Logger;
  /** Clock. @default {systemTimers} */
  timers?: Timers;
  /** File system. @default {nodeFileSystem} */
  fs?: FileSystem;
}

/** A running {@linkcode watchAclFile}. */
export interface AclFileWatch {
  /** Resolves once the read under way, if any, is done (tests). */
  idle(): Promise<void>;
  /** Stop watching. */
  close(): void;
}

/**
 * Watch an ACL file (see the module documentation).
 *
 * @param options The file, what to do with a new configuration, and how often to look.
 * @returns The watch; the file's current text is its starting point.
 */
export async function watchAclFile(options: WatchAclFileOptions): Promise<AclFileWatch> {
  const timers = options.timers ?? systemTimers;
  const fs = options.fs ?? nodeFileSystem;
  const interval = options.intervalMs ?? 2000;
  const read = (): Promise<string | Error> =>
    readTextFile(fs, options.path).then(
      (text) => text ?? new Error(`${options.path} does not exist`),
      (error: unknown) => error instanceof Error ? error : new Error(String(error)),
    );
  const first = await read();
  let last: string | Error = first;
  let timer: TimerHandle | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const check = async (): Promise<void> => {
    const text = await read();
    if (closed) return;
    if (typeof text !== "string") {
      if (!(last instanceof Error) || last.message !== text.message) {
        options.logger.error("cannot read the ACL file; the ACL in force stays", {
          path: options.path,
          error: text,
        });
      }
      last = text;
      return;
    }
    if (text === last) return;
    last = text;
    let config: AclConfig;
    try {
      config = await parsePlainAcl(text, options.path);
    } catch (error) {
      options.logger.error("the ACL file is invalid; the ACL in force stays", {
        path: options.path,
        error,
      });
      return;
    }
    if (closed) return;
    try {
      options.onChange(config);
      options.logger.info("ACL file reloaded", {
        path: options.path,
        accounts: config.accounts.length,
      });
    } catch (error) {
      options.logger.error("the new ACL was refused; the ACL in force stays", {
        path: options.path,
        error,
      });
    }
  };

  const arm = () => {
    if (closed) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      running = check().finally(arm);
    }, interval);
  };
  arm();
  return {
    idle: () => running,
    close() {
      closed = true;
      timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}
