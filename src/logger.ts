/**
 * A minimal logging interface shared by the client and the broker, so that
 * users can route our log lines into theirs. The default writes to the
 * console from a minimum level: debug lines with `console.debug` (stdout),
 * info, warn and error lines with `console.error` (stderr).
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

/**
 * Structured context of a log line.
 *
 * @example How the console logger writes fields
 * ```ts
 * import { consoleLogger, type LogFields } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const original = console.error;
 * console.error = (line: string) => lines.push(line);
 * try {
 *   const fields: LogFields = { address: "10.0.0.1:10911", attempt: 2, error: new Error("refused") };
 *   consoleLogger("warn").warn("connect failed", fields);
 * } finally {
 *   console.error = original;
 * }
 * assert.match(lines[0]!, / WARN connect failed address=10\.0\.0\.1:10911 attempt=2 error=Error: refused$/);
 * ```
 */
export type LogFields = Record<string, unknown>;

/**
 * Where log lines go.
 *
 * @example Into a structured logger
 * ```ts
 * import type { LogFields, Logger } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const records: object[] = [];
 * const to = (level: string) => (message: string, fields?: LogFields) => {
 *   records.push({ level, message, ...fields });
 * };
 * const logger: Logger = { debug: to("debug"), info: to("info"), warn: to("warn"), error: to("error") };
 * logger.warn("retrying send", { attempt: 2 });
 * assert.deepEqual(records, [{ level: "warn", message: "retrying send", attempt: 2 }]);
 * ```
 */
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

/**
 * Log levels, lowest first.
 *
 * @example
 * ```ts
 * import { consoleLogger, type LogLevel } from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const original = console.error;
 * console.error = (line: string) => lines.push(line);
 * try {
 *   const level: LogLevel = "warn"; // warn and error are written, debug and info dropped
 *   const logger = consoleLogger(level);
 *   logger.info("connected");
 *   logger.warn("retrying");
 * } finally {
 *   console.error = original;
 * }
 * assert.equal(lines.length, 1);
 * assert.match(lines[0]!, /WARN retrying$/);
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

function format(level: string, message: string, fields?: LogFields): string {
  let line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      const text = value instanceof Error
        ? `${value.name}: ${value.message}`
        : typeof value === "string"
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
