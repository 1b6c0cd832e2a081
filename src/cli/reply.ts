// `rocketmq-rpc reply <topic>`: answer requests until SIGINT or SIGTERM.

import { PushConsumer } from "../client/push_consumer.ts";
import type { MessageExt } from "../client/message.ts";
import { MessageProperty } from "../codec/properties.ts";
import { compileSql92 } from "../codec/sql92.ts";
import { FilterExpressionError } from "../errors.ts";
import { type Flag, parseArgs, UsageError } from "./_args.ts";
import { CLIENT_FLAGS, CLIENT_FLAGS_HELP, clientOptions, EXIT, EXIT_HELP, ms } from "./_common.ts";
import type { CliIO } from "./_io.ts";

/** Usage of `rocketmq-rpc reply`. */
export const REPLY_USAGE: string =
  `Usage: rocketmq-rpc reply <topic> (--echo | --exec <command>) [options]

Answer the requests sent to <topic> until interrupted (SIGINT or SIGTERM).
With --exec, each request runs <command> in the shell: the request's body on
its stdin, its stdout is the reply. A command that fails (exit code other
than 0, or killed after --exec-timeout) fails the request: the requester gets
a RemoteError with the end of the command's stderr. The command sees
RMQ_TOPIC, RMQ_TAGS, RMQ_KEYS, RMQ_MSG_ID, RMQ_CORRELATION_ID and
RMQ_REPLY_TO in its environment. "ready" is printed to stderr once the
consumer owns its queues.

Options:
  --echo                  reply with the request's body
  --exec <command>        reply with what <command> prints
  --exec-timeout <ms>     time allowed for each command (default 30000)
  --group <group>         consumer group (default <topic>_cli): responders in
                          one group share the requests
  --tags <expression>     only requests with these tags (default *)
  --sql <expression>      only requests whose properties match this SQL92
                          filter, e.g. "region = 'eu' AND amount > 100"
                          (RocketMQ needs enablePropertyFilter=true)
  --concurrency <n>       requests handled at once (default 4)
  --quiet                 do not log each request to stderr
${CLIENT_FLAGS_HELP}
  -h, --help              show this help

${EXIT_HELP}

Examples:
  rocketmq-rpc reply quotes --echo
  rocketmq-rpc reply quotes --exec 'jq -c "{price: 42.5, symbol: .symbol}"'
  rocketmq-rpc reply upper --exec 'tr a-z A-Z'
  rocketmq-rpc reply orders --echo --sql "region IN ('eu', 'us')"
`;

const FLAGS: readonly Flag[] = [
  ...CLIENT_FLAGS,
  { name: "echo", kind: "boolean" },
  { name: "exec", kind: "string" },
  { name: "exec-timeout", kind: "integer", min: 1 },
  { name: "group", kind: "string" },
  { name: "tags", kind: "string" },
  { name: "sql", kind: "string" },
  { name: "concurrency", kind: "integer", min: 1, max: 1024 },
  { name: "quiet", kind: "boolean" },
];

/**
 * Runs `rocketmq-rpc reply`.
 *
 * @param argv Arguments after `reply`.
 * @param io The process.
 * @param onReady Told once the consumer is ready (tests).
 * @returns The exit code.
 */
export async function reply(
  argv: readonly string[],
  io: CliIO,
  onReady?: () => void,
): Promise<number> {
  const parsed = parseArgs(argv, FLAGS);
  const f = parsed.flags;
  if (f.get("help")) {
    io.out(REPLY_USAGE);
    return EXIT.OK;
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(`expected <topic>, got ${parsed.positionals.length} argument(s)`);
  }
  const topic = parsed.positionals[0]!;
  const command = f.get("exec") as string | undefined;
  if ((command === undefined) === (f.get("echo") !== true)) {
    throw new UsageError("give one of --echo or --exec <command>");
  }
  const sql = f.get("sql") as string | undefined;
  if (sql !== undefined && f.has("tags")) throw new UsageError("give --tags or --sql, not both");
  if (sql !== undefined) {
    try {
      compileSql92(sql);
    } catch (error) {
      if (error instanceof FilterExpressionError) throw new UsageError(`--sql: ${error.message}`);
      throw error;
    }
  }
  const execTimeout = (f.get("exec-timeout") as number | undefined) ?? 30_000;
  const quiet = f.get("quiet") === true;
  const consumer = new PushConsumer({
    ...clientOptions(parsed, io),
    group: (f.get("group") as string | undefined) ?? `${topic}_cli`,
    concurrency: (f.get("concurrency") as number | undefined) ?? 4,
  });
  const handle = async (msg: MessageExt): Promise<Uint8Array> => {
    const started = performance.now();
    let out: Uint8Array;
    if (command === undefined) {
      out = msg.body;
    } else {
      const result = await io.exec(command, msg.body, {
        RMQ_TOPIC: msg.topic,
        RMQ_TAGS: msg.tags ?? "",
        RMQ_KEYS: msg.keys.join(" "),
        RMQ_MSG_ID: msg.msgId,
        RMQ_CORRELATION_ID: msg.properties[MessageProperty.CORRELATION_ID] ?? "",
        RMQ_REPLY_TO: msg.properties[MessageProperty.REPLY_TO_CLIENT] ?? "",
      }, execTimeout);
      if (result.timedOut || result.code !== 0) {
        const why = result.timedOut
          ? `killed after ${execTimeout} ms`
          : `exited with ${result.code ?? "a signal"}`;
        const stderr = result.stderr.trim();
        const error = new Error(`command ${why}${stderr ? `: ${stderr}` : ""}`);
        if (!quiet) io.err(`${msg.msgId}: ${error.message}\n`);
        throw error;
      }
      out = result.stdout;
    }
    if (!quiet) {
      io.err(
        `${msg.msgId}: ${msg.body.length} bytes in, ${out.length} bytes out, ${
          ms(performance.now() - started)
        } ms\n`,
      );
    }
    return out;
  };
  consumer.subscribe(
    topic,
    sql !== undefined ? { sql } : (f.get("tags") as string | undefined) ?? "*",
    handle,
  );
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => stop = resolve);
  const off = io.onSignal(() => stop());
  try {
    await consumer.start();
    const queues = consumer.assignedQueues.filter((q) => q.topic === topic).length;
    io.err(
      `ready: replying to ${topic} as group ${consumer.group} (${queues} queues${
        queues === 0
          ? ": the topic has no route yet, or other members of the group own its queues"
          : ""
      })\n`,
    );
    onReady?.();
    await stopped;
  } finally {
    off();
    await consumer.close();
  }
  return EXIT.OK;
}
