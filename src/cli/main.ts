/**
 * The `rocketmq-rpc` command line: request-reply over Apache RocketMQ from
 * the shell, like `nats req` / `nats reply`, plus a benchmark and the
 * embedded broker. Installed as the `rocketmq-rpc` binary by the npm
 * package; with Deno, `deno run -A jsr:@rocketmq-rpc/core/cli <command>`
 * (or `deno task cli <command>` in this repository).
 *
 * ```
 * rocketmq-rpc broker --port 9876                    # name server + broker
 * rocketmq-rpc reply quotes --exec 'jq -c .'         # answer from a shell command
 * rocketmq-rpc request quotes '{"symbol":"ACME"}'    # print the reply
 * rocketmq-rpc bench --concurrency 16                # round trips and percentiles
 * ```
 *
 * Every command has `--help`. Exit codes: 0 ok, 1 a request failed, 2 bad
 * usage, 3 name server or broker unreachable.
 *
 * @example Run a command in-process
 * ```ts
 * import { main } from "./main.ts";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const io = {
 *   out: (data: string | Uint8Array) => void (out += typeof data === "string" ? data : new TextDecoder().decode(data)),
 *   err: () => {},
 *   env: () => undefined,
 *   stdin: () => Promise.resolve(new Uint8Array()),
 *   onSignal: () => () => {},
 *   exec: () => Promise.reject(new Error("no shell here")),
 * };
 * assert.equal(await main(["--help"], io), 0);
 * assert.match(out, /Usage: rocketmq-rpc <command>/);
 * assert.equal(await main(["reqest", "t", "b"], io), 2); // did you mean request?
 * ```
 *
 * @module
 */

import { UsageError } from "./_args.ts";
import { EXIT, EXIT_HELP, explain } from "./_common.ts";
import { type CliIO, exitWith, processIO } from "./_io.ts";
import { request, REQUEST_USAGE } from "./request.ts";
import { reply, REPLY_USAGE } from "./reply.ts";
import { bench, BENCH_USAGE } from "./bench.ts";
import { closestName } from "../client/options.ts";

export type { CliIO, ExecResult } from "./_io.ts";

/** Usage of `rocketmq-rpc`. */
const USAGE: string = `Usage: rocketmq-rpc <command> [options]

Request-reply (RocketMQ RIP-16) over Apache RocketMQ from the shell.

Commands:
  request <topic> <body>   send a request, print the reply and its timing
  reply <topic>            answer requests (--echo, or --exec <command>)
  bench                    request-reply round trips with percentiles
  broker                   the embedded broker (name server + broker on one port)

Run rocketmq-rpc <command> --help for its options. The name server comes
from --namesrv, else NAMESRV_ADDR, else 127.0.0.1:9876.
${EXIT_HELP}
`;

const USAGES: Record<string, string> = {
  request: REQUEST_USAGE,
  reply: REPLY_USAGE,
  bench: BENCH_USAGE,
};

/**
 * Runs one command line.
 *
 * @param argv Arguments after the program name.
 * @param io The process (stdout, stderr, environment, stdin, signals, shell).
 * @returns The exit code.
 *
 * @example Usage errors exit with 2 and say what is wrong
 * ```ts
 * import { main } from "./main.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = {
 *   out: () => {},
 *   err: (text: string) => void (err += text),
 *   env: () => undefined,
 *   stdin: () => Promise.resolve(new Uint8Array()),
 *   onSignal: () => () => {},
 *   exec: () => Promise.reject(new Error("no shell here")),
 * };
 * assert.equal(await main(["request", "quotes", "ACME", "--timout", "5"], io), 2);
 * assert.match(err, /unknown option --timout \(did you mean --timeout\?\)/);
 * ```
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "request":
        return await request(rest, io);
      case "reply":
        return await reply(rest, io);
      case "bench":
        return await bench(rest, io);
      case "broker": {
        // The broker's own command line, so its flags (and new ones) apply as they are.
        const broker = await import("../broker/cli.ts");
        return await broker.main(rest);
      }
      case undefined:
      case "help":
      case "-h":
      case "--help":
        io.out(USAGE);
        return command === undefined ? EXIT.USAGE : EXIT.OK;
      default: {
        const suggestion = closestName(command, ["request", "reply", "bench", "broker"]);
        throw new UsageError(
          `unknown command ${JSON.stringify(command)}${
            suggestion ? ` (did you mean ${suggestion}?)` : ""
          }`,
        );
      }
    }
  } catch (error) {
    const { text, exit } = explain(error);
    const usage = exit === EXIT.USAGE
      ? `\n${
        command !== undefined && USAGES[command] ? `see: rocketmq-rpc ${command} --help` : USAGE
      }`
      : "";
    io.err(`rocketmq-rpc: ${text}${usage}\n`);
    return exit;
  }
}

// Run by Deno or Bun as the main module (`deno run jsr:@rocketmq-rpc/core/cli`);
// Node has no import.meta.main before 24 and runs bin.ts instead.
if ((import.meta as ImportMeta & { main?: boolean }).main === true) {
  import("node:process").then(async ({ default: process }) =>
    exitWith(await main(process.argv.slice(2)))
  );
}
