// Flag parsing for the CLI's subcommands: `--name value`, `--name=value`,
// boolean `--name`, positionals, `--` ends flags. An unknown flag is a usage
// error naming the closest known one.

import { closestName } from "../client/options.ts";

/** A usage mistake: the CLI prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One flag a subcommand accepts. */
export interface Flag {
  /** Name without dashes (`namesrv`). */
  name: string;
  /** `"boolean"` flags take no value; `"strings"` may be given again, each value kept. */
  kind: "string" | "strings" | "integer" | "boolean";
  /** Smallest accepted integer. */
  min?: number;
  /** Largest accepted integer. */
  max?: number;
}

/** Parsed command line. */
export interface Parsed {
  flags: Map<string, string | number | boolean | string[]>;
  positionals: string[];
}

/**
 * Parses `argv` against the flags given. `-h` is `--help`.
 * @throws {UsageError} On an unknown flag, a missing or bad value.
 */
export function parseArgs(argv: readonly string[], flags: readonly Flag[]): Parsed {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const out: Parsed = { flags: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") {
      out.flags.set("help", true);
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const flag = byName.get(name);
    if (!flag) {
      const suggestion = closestName(name, byName.keys());
      throw new UsageError(
        `unknown option --${name}${suggestion ? ` (did you mean --${suggestion}?)` : ""}`,
      );
    }
    if (flag.kind === "boolean") {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      out.flags.set(name, true);
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`--${name} needs a value`);
      value = next;
    }
    if (flag.kind === "integer") {
      const min = flag.min ?? 0;
      const max = flag.max ?? Number.MAX_SAFE_INTEGER;
      if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
        throw new UsageError(
          `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
        );
      }
      out.flags.set(name, Number(value));
    } else if (flag.kind === "strings") {
      const values = (out.flags.get(name) as string[] | undefined) ?? [];
      out.flags.set(name, [...values, value]);
    } else {
      out.flags.set(name, value);
    }
  }
  return out;
}
