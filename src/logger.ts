/**
 * A minimal logging interface shared by the client and the broker, so that
 * users can route our log lines into theirs. The default writes to the
 * console (stderr for warnings and errors) from a minimum level.
 *
 * @example Route log lines elsewhere
 * ```ts
 * import { type Logger, consoleLogger } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: Logger = {
 *   debug: () => {},
 *   info: (msg) => lines.push(msg),
 *   warn: (msg) => lines.push(msg),
 *   error: (msg) => lines.push(msg),
 * };
 * logger.info("connected", { address: "127.0.0.1:9876" });
 * assert.deepEqual(lines, ["connected"]);
 * assert.equal(typeof consoleLogger("warn").warn, "function");
 * ```
 *
 * @module
 */

/** Structured context of a log line. */
export type LogFields = Record<string, unknown>;

/** Where log lines go. */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, fields?: LogFields): void;
  /** Lifecycle events (connections opened and closed, start, stop). */
  info(message: string, fields?: LogFields): void;
  /** Something went wrong and was handled (a retry, a dropped late reply). */
  warn(message: string, fields?: LogFields): void;
  /** Something went wrong and could not be handled. */
  error(message: string, fields?: LogFields): void;
}

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

function format(level: string, message: string, fields?: LogFields): string {
  let line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      const text = value instanceof Error ? `${value.name}: ${value.message}` : typeof value === "string"
        ? value
        : JSON.stringify(value);
      line += ` ${key}=${text}`;
    }
  }
  return line;
}

/**
 * A logger writing one line per event to the console, from `level` up.
 *
 * @param level The minimum level written.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const logger = consoleLogger("silent");
 * logger.error("never printed");
 * assert.ok(logger);
 * ```
 */
export function consoleLogger(level: LogLevel = "info"): Logger {
  const min = RANK[level];
  return {
    debug(message, fields) {
      // deno-lint-ignore no-console
      if (min <= 0) console.debug(format("debug", message, fields));
    },
    info(message, fields) {
      // deno-lint-ignore no-console
      if (min <= 1) console.error(format("info", message, fields));
    },
    warn(message, fields) {
      // deno-lint-ignore no-console
      if (min <= 2) console.error(format("warn", message, fields));
    },
    error(message, fields) {
      // deno-lint-ignore no-console
      if (min <= 3) console.error(format("error", message, fields));
    },
  };
}

/**
 * A logger that drops everything.
 *
 * @example
 * ```ts
 * import { silentLogger } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * silentLogger.warn("dropped");
 * assert.ok(silentLogger);
 * ```
 */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
