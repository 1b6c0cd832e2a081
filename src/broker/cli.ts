/**
 * Command line of the embedded broker: `deno task broker` (or
 * `node --experimental-strip-types src/broker/cli.ts`, `bun src/broker/cli.ts`).
 * Prints the address (name server and broker on one port) and stops cleanly
 * on SIGINT or SIGTERM.
 *
 * ```
 * deno task broker --port 9876 --data-dir ./data
 * ```
 *
 * @example Parse flags
 * ```ts
 * import { parseBrokerArgs } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const args = parseBrokerArgs(["--port", "0", "--data-dir", "/tmp/x", "--flush=sync"]);
 * assert.deepEqual(args, { port: 0, dataDir: "/tmp/x", flush: "sync" });
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { consoleLogger, type LogLevel } from "../logger.ts";
import { readTextFile } from "./_config_file.ts";
import { parsePlainAcl } from "./acl/plain_acl.ts";
import { watchAclFile } from "./acl/watch.ts";
import { startBroker, type StartBrokerOptions } from "./broker.ts";
import { nodeFileSystem } from "./store/_fs.ts";

/** What the command line asks for. */
export interface BrokerArgs {
  /** Print the usage and exit. */
  help?: boolean;
  /** Port (`--port`). */
  port?: number;
  /** Listen address (`--host`). */
  hostname?: string;
  /** Host advertised in routes (`--advertised-host`). */
  advertisedHost?: string;
  /** Data directory (`--data-dir`). */
  dataDir?: string;
  /** Cluster name (`--cluster`). */
  clusterName?: string;
  /** Broker name (`--broker-name`). */
  brokerName?: string;
  /** Flush policy (`--flush`). */
  flush?: "sync" | "async";
  /** With a data directory: log size kept (`--retention-bytes`). */
  retentionBytes?: number;
  /** With a data directory: hours a message is kept at least (`--retention-hours`). */
  retentionHours?: number;
  /** With a data directory: keys held by the key index (`--key-index-entries`). */
  keyIndexEntries?: number;
  /** Whether SQL92 subscriptions are served (`--enable-property-filter`). */
  enablePropertyFilter?: boolean;
  /** Memory bound of the in-memory store (`--memory-limit`, bytes). */
  memoryLimitBytes?: number;
  /** Log level (`--log-level`). */
  logLevel?: LogLevel;
  /** Most connections at once (`--max-connections`). */
  maxConnections?: number;
  /** Ms a frame may take to arrive once begun (`--frame-timeout`). */
  frameTimeout?: number;
  /** Ms without traffic before a connection is closed (`--idle-timeout`). */
  channelIdleTimeout?: number;
  /** Bytes for frames still arriving, across connections (`--partial-frame-budget`). */
  partialFrameBudget?: number;
  // ---- security ----
  /** ACL file in the shape of RocketMQ's plain_acl.yml (`--acl`). */
  aclFile?: string;
  /** PEM certificate chain to serve TLS with (`--tls-cert`). */
  tlsCertFile?: string;
  /** PEM private key of the certificate (`--tls-key`). */
  tlsKeyFile?: string;
  /** `enforcing` (TLS only, the default) or `permissive` (TLS and plain) (`--tls-mode`). */
  tlsMode?: "enforcing" | "permissive";
}

/** The usage text. */
export const USAGE: string = `Usage: broker [options]

An embedded RocketMQ-compatible broker: name server and broker on one port.
Point clients (and Java's namesrvAddr) at the printed address.

Options:
  --port <n>              port to listen on (default 9876; 0 picks a free one)
  --host <addr>           address to listen on (default 127.0.0.1)
  --advertised-host <h>   host put in routes (default: --host, or 127.0.0.1 for 0.0.0.0)
  --data-dir <dir>        keep messages, offsets and topics in files under <dir>
                          (default: in memory)
  --flush sync|async      with --data-dir: acknowledge sends once on disk (sync)
                          or once written (async, default)
  --retention-bytes <bytes>
                          with --data-dir: delete the oldest messages while the
                          commit log is larger (default: keep everything)
  --retention-hours <n>   with --data-dir: delete messages older than n hours
                          (RocketMQ's fileReservedTime; default: keep everything)
  --key-index-entries <n> with --data-dir: message keys indexed for lookups by
                          key (default 1048576, ~32 bytes each)
  --memory-limit <bytes>  bound of the in-memory store (default 268435456)
  --enable-property-filter true|false
                          serve SQL92 subscriptions (default true; RocketMQ's
                          enablePropertyFilter, false there by default)
  --cluster <name>        cluster name (default DefaultCluster)
  --broker-name <name>    broker name (default broker-a)
  --log-level <level>     debug, info, warn, error or silent (default info)
  --max-connections <n>   connections served at once; more are closed (default 10000)
  --frame-timeout <ms>    close a connection whose frame takes longer to arrive
                          (default 10000)
  --idle-timeout <ms>     close a connection silent for this long (default 120000)
  --partial-frame-budget <bytes>
                          bytes held for frames still arriving, over all
                          connections beyond 64 KiB each (default 134217728)
  --acl <file>            require ACL signatures; accounts and permissions in the
                          shape of RocketMQ's plain_acl.yml (default: no ACL);
                          reloaded when the file changes (read every 2 s)
  --tls-cert <file>       serve TLS with this PEM certificate chain (with --tls-key)
  --tls-key <file>        the certificate's PEM private key (PKCS#8)
  --tls-mode <mode>       enforcing: TLS clients only (default); permissive: TLS
                          and plain clients on the same port
  --help                  show this help
`;

const VALUE_FLAGS = new Set([
  "port",
  "host",
  "advertised-host",
  "data-dir",
  "cluster",
  "broker-name",
  "flush",
  "memory-limit",
  "enable-property-filter",
  "retention-bytes",
  "retention-hours",
  "key-index-entries",
  "log-level",
  "max-connections",
  "frame-timeout",
  "idle-timeout",
  "partial-frame-budget",
  "acl",
  "tls-cert",
  "tls-key",
  "tls-mode",
]);

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new InvalidArgumentError(
      `--${flag}`,
      `must be an integer ${min}..${max}, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

/**
 * Parse the broker's command line.
 *
 * @param argv Arguments after the script name.
 * @returns The options asked for.
 * @throws {InvalidArgumentError} On an unknown flag or a bad value.
 *
 * @example
 * ```ts
 * import { parseBrokerArgs } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseBrokerArgs(["--cluster", "C", "--broker-name", "b"]), { clusterName: "C", brokerName: "b" });
 * assert.throws(() => parseBrokerArgs(["--flush", "maybe"]), /--flush/);
 * ```
 */
export function parseBrokerArgs(argv: readonly string[]): BrokerArgs {
  const out: BrokerArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      out.help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      throw new InvalidArgumentError("arguments", `unexpected ${JSON.stringify(arg)}`);
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!VALUE_FLAGS.has(flag)) {
      throw new InvalidArgumentError(`--${flag}`, "unknown option (see --help)");
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[++i];
      if (next === undefined) throw new InvalidArgumentError(`--${flag}`, "needs a value");
      value = next;
    }
    switch (flag) {
      case "port":
        out.port = integer(flag, value, 0, 65535);
        break;
      case "host":
        out.hostname = value;
        break;
      case "advertised-host":
        out.advertisedHost = value;
        break;
      case "data-dir":
        out.dataDir = value;
        break;
      case "cluster":
        out.clusterName = value;
        break;
      case "broker-name":
        out.brokerName = value;
        break;
      case "flush":
        if (value !== "sync" && value !== "async") {
          throw new InvalidArgumentError(
            "--flush",
            `must be sync or async, got ${JSON.stringify(value)}`,
          );
        }
        out.flush = value;
        break;
      case "retention-bytes":
        out.retentionBytes = integer(flag, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case "retention-hours":
        out.retentionHours = integer(flag, value, 1, 1_000_000);
        break;
      case "key-index-entries":
        out.keyIndexEntries = integer(flag, value, 1, 2 ** 28);
        break;
      case "enable-property-filter":
        if (value !== "true" && value !== "false") {
          throw new InvalidArgumentError(
            "--enable-property-filter",
            `must be true or false, got ${JSON.stringify(value)}`,
          );
        }
        out.enablePropertyFilter = value === "true";
        break;
      case "memory-limit":
        out.memoryLimitBytes = integer(flag, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case "log-level":
        if (!["debug", "info", "warn", "error", "silent"].includes(value)) {
          throw new InvalidArgumentError(
            "--log-level",
            `must be debug, info, warn, error or silent`,
          );
        }
        out.logLevel = value as LogLevel;
        break;
      case "max-connections":
        out.maxConnections = integer(flag, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case "frame-timeout":
        out.frameTimeout = integer(flag, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case "idle-timeout":
        out.channelIdleTimeout = integer(flag, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case "partial-frame-budget":
        out.partialFrameBudget = integer(flag, value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case "acl":
        out.aclFile = value;
        break;
      case "tls-cert":
        out.tlsCertFile = value;
        break;
      case "tls-key":
        out.tlsKeyFile = value;
        break;
      case "tls-mode":
        if (value !== "enforcing" && value !== "permissive") {
          throw new InvalidArgumentError(
            "--tls-mode",
            `must be enforcing or permissive, got ${JSON.stringify(value)}`,
          );
        }
        out.tlsMode = value;
        break;
    }
  }
  if ((out.tlsCertFile === undefined) !== (out.tlsKeyFile === undefined)) {
    throw new InvalidArgumentError("--tls-cert", "--tls-cert and --tls-key go together");
  }
  for (
    const [flag, value] of [
      ["retention-bytes", out.retentionBytes],
      ["retention-hours", out.retentionHours],
      ["key-index-entries", out.keyIndexEntries],
    ] as const
  ) {
    if (value !== undefined && out.dataDir === undefined) {
      throw new InvalidArgumentError(
        `--${flag}`,
        "needs --data-dir (the in-memory store has --memory-limit)",
      );
    }
  }
  if (out.tlsMode !== undefined && out.tlsCertFile === undefined) {
    throw new InvalidArgumentError("--tls-mode", "needs --tls-cert and --tls-key");
  }
  return out;
}

async function readFileText(flag: string, path: string): Promise<string> {
  let text: string | undefined;
  try {
    text = await readTextFile(nodeFileSystem, path);
  } catch (err) {
    throw new InvalidArgumentError(flag, `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (text === undefined) throw new InvalidArgumentError(flag, `no such file: ${path}`);
  return text;
}

/**
 * The security options a command line asks for, with the files read:
 * the ACL (`--acl`) and the TLS certificate and key.
 *
 * @param args Parsed arguments.
 * @returns The `acl` and `tls` options of {@linkcode startBroker}.
 * @throws {InvalidArgumentError} When a file cannot be read or the ACL file is invalid.
 *
 * @example No security flags, no security options
 * ```ts
 * import { securityOptions } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await securityOptions({ port: 0 }), {});
 * ```
 */
export async function securityOptions(
  args: BrokerArgs,
): Promise<Pick<StartBrokerOptions, "acl" | "tls">> {
  const out: Pick<StartBrokerOptions, "acl" | "tls"> = {};
  if (args.aclFile !== undefined) {
    out.acl = await parsePlainAcl(await readFileText("--acl", args.aclFile), args.aclFile);
  }
  if (args.tlsCertFile !== undefined && args.tlsKeyFile !== undefined) {
    out.tls = {
      cert: await readFileText("--tls-cert", args.tlsCertFile),
      key: await readFileText("--tls-key", args.tlsKeyFile),
      mode: args.tlsMode ?? "enforcing",
    };
  }
  return out;
}

// Runtime globals, declared locally with the little this file uses.
declare const Deno:
  | {
    args: string[];
    addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
    removeSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
    exit(code: number): never;
  }
  | undefined;
declare const process:
  | {
    argv: string[];
    on(event: "SIGINT" | "SIGTERM", handler: () => void): void;
    off(event: "SIGINT" | "SIGTERM", handler: () => void): void;
    exit(code: number): never;
    exitCode?: number;
  }
  | undefined;

interface Runtime {
  args: string[];
  onSignal(handler: () => void): () => void;
  exit(code: number): void;
}

function runtime(): Runtime {
  if (typeof Deno !== "undefined") {
    const deno = Deno;
    return {
      args: deno.args,
      onSignal(handler) {
        deno.addSignalListener("SIGINT", handler);
        deno.addSignalListener("SIGTERM", handler);
        return () => {
          deno.removeSignalListener("SIGINT", handler);
          deno.removeSignalListener("SIGTERM", handler);
        };
      },
      exit: (code) => deno.exit(code),
    };
  }
  if (typeof process !== "undefined") {
    const proc = process;
    return {
      args: proc.argv.slice(2),
      onSignal(handler) {
        proc.on("SIGINT", handler);
        proc.on("SIGTERM", handler);
        return () => {
          proc.off("SIGINT", handler);
          proc.off("SIGTERM", handler);
        };
      },
      exit: (code) => proc.exit(code),
    };
  }
  throw new Error("unsupported runtime: neither Deno nor Node/Bun process is available");
}

/**
 * Run the broker until SIGINT or SIGTERM.
 *
 * @param argv Arguments after the script name.
 * @returns The exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let args: BrokerArgs;
  try {
    args = parseBrokerArgs(argv);
  } catch (err) {
    // deno-lint-ignore no-console
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    // deno-lint-ignore no-console
    console.log(USAGE);
    return 0;
  }
  const logger = consoleLogger(args.logLevel ?? "info");
  const options: StartBrokerOptions = { logger, port: args.port ?? 9876 };
  if (args.hostname !== undefined) options.hostname = args.hostname;
  if (args.advertisedHost !== undefined) options.advertisedHost = args.advertisedHost;
  if (args.dataDir !== undefined) options.dataDir = args.dataDir;
  if (args.clusterName !== undefined) options.clusterName = args.clusterName;
  if (args.brokerName !== undefined) options.brokerName = args.brokerName;
  if (args.flush !== undefined) options.flush = args.flush;
  if (args.retentionBytes !== undefined) options.retentionBytes = args.retentionBytes;
  if (args.retentionHours !== undefined) options.retentionMs = args.retentionHours * 3_600_000;
  if (args.keyIndexEntries !== undefined) options.keyIndexEntries = args.keyIndexEntries;
  if (args.memoryLimitBytes !== undefined) options.memoryLimitBytes = args.memoryLimitBytes;
  if (args.enablePropertyFilter !== undefined) {
    options.enablePropertyFilter = args.enablePropertyFilter;
  }
  if (args.maxConnections !== undefined) options.maxConnections = args.maxConnections;
  if (args.frameTimeout !== undefined) options.frameTimeout = args.frameTimeout;
  if (args.channelIdleTimeout !== undefined) options.channelIdleTimeout = args.channelIdleTimeout;
  if (args.partialFrameBudget !== undefined) options.partialFrameBudget = args.partialFrameBudget;
  try {
    Object.assign(options, await securityOptions(args));
  } catch (err) {
    // deno-lint-ignore no-console
    console.error((err as Error).message);
    return 2;
  }
  const handle = await startBroker(options);
  // Accounts can change without a restart, as RocketMQ reloads plain_acl.yml.
  const aclWatch = args.aclFile === undefined ? undefined : await watchAclFile({
    path: args.aclFile,
    logger,
    onChange: (config) => handle.broker.updateAcl(config),
  });
  const security = [
    options.acl ? `ACL: ${options.acl.accounts.length} account(s)` : "no ACL",
    options.tls ? `TLS ${options.tls.mode}` : "no TLS",
  ].join(", ");
  // deno-lint-ignore no-console
  console.log(
    `broker listening on ${handle.address} (name server and broker; namesrvAddr=${handle.address}; ${security})`,
  );
  await new Promise<void>((resolve) => {
    const off = runtime().onSignal(() => {
      off();
      logger.info("shutting down");
      resolve();
    });
  });
  aclWatch?.close();
  await handle.close();
  return 0;
}

function isMainModule(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  // Node before 24 has no import.meta.main: compare with the script path.
  const script = typeof process !== "undefined" ? process.argv[1] : undefined;
  if (!script) return false;
  const here = decodeURIComponent(new URL(import.meta.url).pathname);
  return here === script || here === `${script}.ts` ||
    here.endsWith(`/${script.replace(/^\.\//, "")}`);
}

if (isMainModule()) {
  const rt = runtime();
  main(rt.args).then(
    (code) => rt.exit(code),
    (err) => {
      // deno-lint-ignore no-console
      console.error(err instanceof Error ? err.message : String(err));
      rt.exit(1);
    },
  );
}
