// `rocketmq-rpc request <topic> <body>`: send requests, print the replies.

import { InvalidArgumentError } from "../errors.ts";
import { javaStringHashCode } from "../codec/bodies.ts";
import { Producer, type RequestManyOptions, type RequestOptions } from "../client/producer.ts";
import {
  type Message,
  type MessageQueue,
  type ReplyMessage,
  type RequestTiming,
  RpcProperty,
} from "../client/message.ts";
import { type Flag, parseArgs, UsageError } from "./_args.ts";
import {
  CLIENT_FLAGS,
  CLIENT_FLAGS_HELP,
  clientOptions,
  EXIT,
  EXIT_HELP,
  explain,
  ms,
  percentile,
} from "./_common.ts";
import type { CliIO } from "./_io.ts";

/** Usage of `rocketmq-rpc request`. */
export const REQUEST_USAGE: string = `Usage: rocketmq-rpc request <topic> <body> [options]

Send a request and wait for its reply: the reply's body goes to stdout (one
line per reply), its timing to stderr. <body> is sent as UTF-8; - reads it
from stdin.

Options:
  --timeout <ms>          time allowed for each request (default 3000)
  --count <n>             send n requests (default 1); with more than one,
                          print round-trip percentiles at the end
  --parallel              with --count: keep all n in flight at once
                          (default: one after another)
  --many                  take every reply to one request (scatter-gather,
                          streamed parts: requestMany), one line each, until
                          --timeout, or earlier by the options below
  --max-replies <n>       with --many: end after n replies
  --responders <n>        with --many: end once n responders sent their last
  --stall <ms>            with --many: end when no reply came for this long
  --selector-arg <value>  pick the queue by the hash of <value>, as Java's
                          SelectMessageQueueByHash (same value, same queue)
  --queue <[broker:]id>   send to this queue of the topic
  --tags <tags>           tags of the request
  --keys <keys>           keys of the request
  --property <key=value>  a property of the request (again for more); what
                          a responder's SQL92 filter (reply --sql) reads
  --group <group>         producer group (default rocketmq_rpc_cli)
  --quiet                 print the reply bodies only
${CLIENT_FLAGS_HELP}
  -h, --help              show this help

${EXIT_HELP}

Examples:
  rocketmq-rpc request quotes ACME
  echo '{"symbol":"ACME"}' | rocketmq-rpc request quotes - --timeout 10000
  rocketmq-rpc request quotes ACME --count 1000 --parallel --quiet > /dev/null
  rocketmq-rpc request prices EURUSD --many --responders 3 --timeout 2000
`;

const FLAGS: readonly Flag[] = [
  ...CLIENT_FLAGS,
  { name: "timeout", kind: "integer", min: 1 },
  { name: "count", kind: "integer", min: 1, max: 1_000_000 },
  { name: "parallel", kind: "boolean" },
  { name: "many", kind: "boolean" },
  { name: "max-replies", kind: "integer", min: 1 },
  { name: "responders", kind: "integer", min: 1 },
  { name: "stall", kind: "integer", min: 1 },
  { name: "selector-arg", kind: "string" },
  { name: "queue", kind: "string" },
  { name: "tags", kind: "string" },
  { name: "keys", kind: "string" },
  { name: "property", kind: "strings" },
  { name: "group", kind: "string" },
  { name: "quiet", kind: "boolean" },
];

/** Java's SelectMessageQueueByHash: `abs(arg.hashCode() % size)`. */
function byHash(queues: readonly MessageQueue[], value: string): MessageQueue {
  return queues[Math.abs(javaStringHashCode(value) % queues.length)]!;
}

function byQueue(queues: readonly MessageQueue[], spec: string): MessageQueue {
  const colon = spec.lastIndexOf(":");
  const broker = colon >= 0 ? spec.slice(0, colon) : undefined;
  const id = Number(spec.slice(colon + 1));
  const queue = queues.find((q) =>
    q.queueId === id && (broker === undefined || q.brokerName === broker)
  );
  if (!queue) {
    throw new InvalidArgumentError(
      "--queue",
      `the topic has no queue ${spec}; its queues: ${
        queues.map((q) => `${q.brokerName}:${q.queueId}`).join(", ")
      }`,
    );
  }
  return queue;
}

function timingLine(index: number, rtt: number, t: RequestTiming): string {
  const steps: string[] = [];
  const step = (name: string, at: number | undefined) => {
    if (at !== undefined) steps.push(`${name} +${ms(at - t.sent)}`);
  };
  step("stored", t.stored);
  step("consumed", t.consumed);
  step("replied", t.replied);
  step("pushed", t.pushed);
  return `reply ${index} in ${ms(rtt)} ms${steps.length ? ` (${steps.join(", ")})` : ""}\n`;
}

/**
 * Runs `rocketmq-rpc request`.
 *
 * @param argv Arguments after `request`.
 * @param io The process.
 * @returns The exit code.
 */
export async function request(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(argv, FLAGS);
  if (parsed.flags.get("help")) {
    io.out(REQUEST_USAGE);
    return EXIT.OK;
  }
  if (parsed.positionals.length !== 2) {
    throw new UsageError(
      `expected <topic> <body>, got ${parsed.positionals.length} argument(s)`,
    );
  }
  const [topic, bodyArg] = parsed.positionals as [string, string];
  const f = parsed.flags;
  const selectorArg = f.get("selector-arg") as string | undefined;
  const queueSpec = f.get("queue") as string | undefined;
  if (selectorArg !== undefined && queueSpec !== undefined) {
    throw new UsageError("give --selector-arg or --queue, not both");
  }
  if (queueSpec !== undefined && !/^(.+:)?\d+$/.test(queueSpec)) {
    throw new UsageError(`--queue must be <id> or <broker>:<id>, got ${JSON.stringify(queueSpec)}`);
  }
  const count = (f.get("count") as number | undefined) ?? 1;
  const many = f.get("many") === true;
  if (many && (count > 1 || f.get("parallel"))) {
    throw new UsageError("--many takes the replies to one request: not with --count or --parallel");
  }
  for (const name of ["max-replies", "responders", "stall"]) {
    if (f.has(name) && !many) throw new UsageError(`--${name} goes with --many`);
  }
  const quiet = f.get("quiet") === true;
  const body = bodyArg === "-" ? await io.stdin() : bodyArg;
  const options: RequestOptions = { timeout: (f.get("timeout") as number | undefined) ?? 3000 };
  if (selectorArg !== undefined) {
    options.selector = (queues) => byHash(queues, selectorArg);
  } else if (queueSpec !== undefined) {
    options.selector = (queues) => byQueue(queues, queueSpec);
  }
  const properties = parseProperties((f.get("property") as string[] | undefined) ?? []);
  const message = {
    topic,
    body,
    ...(f.has("tags") ? { tags: f.get("tags") as string } : {}),
    ...(f.has("keys") ? { keys: f.get("keys") as string } : {}),
    ...(properties ? { properties } : {}),
  };
  const producer = new Producer({
    ...clientOptions(parsed, io),
    group: (f.get("group") as string | undefined) ?? "rocketmq_rpc_cli",
  });
  const times: number[] = [];
  let failed = 0;
  let lastError: unknown;
  const started = performance.now();
  try {
    await producer.start();
    if (many) {
      return await replies(producer, message, options, f, quiet, io);
    }
    const one = async (index: number): Promise<void> => {
      const at = performance.now();
      let reply: ReplyMessage;
      try {
        reply = await producer.request(message, options);
      } catch (error) {
        failed++;
        lastError = error;
        const { text, exit } = explain(error);
        // A bad argument or an unreachable peer fails every request alike: stop at the first.
        if (exit === EXIT.USAGE || exit === EXIT.UNREACHABLE) throw error;
        if (count > 1) io.err(`request ${index}: ${text.split("\n")[0]}\n`);
        return;
      }
      const rtt = performance.now() - at;
      times.push(rtt);
      io.out(reply.body);
      io.out("\n");
      if (!quiet) io.err(timingLine(index, rtt, reply.timing));
    };
    if (f.get("parallel")) {
      await Promise.all(Array.from({ length: count }, (_, i) => one(i + 1)));
    } else {
      for (let i = 1; i <= count; i++) await one(i);
    }
  } catch (error) {
    lastError = error;
    failed = Math.max(failed, 1);
  } finally {
    await producer.close();
  }
  const elapsed = performance.now() - started;
  if (count > 1 && times.length > 0) {
    const sorted = [...times].sort((a, b) => a - b);
    io.err(
      `${count} requests${f.get("parallel") ? " in flight together" : ""}: ${times.length} ok, ${
        count - times.length
      } failed; round trip p50 ${ms(percentile(sorted, 50))} ms, p90 ${
        ms(percentile(sorted, 90))
      }, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1)!)}; ${
        (times.length / (elapsed / 1000)).toFixed(0)
      } req/s\n`,
    );
  }
  if (failed === 0) return EXIT.OK;
  const { text, exit } = explain(lastError);
  if (exit === EXIT.USAGE) throw lastError; // printed with the usage hint
  io.err(`rocketmq-rpc: ${text}\n`);
  return exit;
}

/** `--many`: every reply to one request, one line each; a summary on stderr. */
async function replies(
  producer: Producer,
  message: Message,
  options: RequestOptions,
  f: ReadonlyMap<string, unknown>,
  quiet: boolean,
  io: CliIO,
): Promise<number> {
  const manyOptions: RequestManyOptions = {
    ...options,
    ...(f.has("max-replies") ? { maxReplies: f.get("max-replies") as number } : {}),
    ...(f.has("responders") ? { responders: f.get("responders") as number } : {}),
    ...(f.has("stall") ? { stall: f.get("stall") as number } : {}),
  };
  const at = performance.now();
  const stream = producer.requestMany(message, manyOptions);
  let index = 0;
  try {
    for await (const reply of stream) {
      index++;
      io.out(reply.body);
      io.out("\n");
      if (!quiet) {
        const group = reply.properties[RpcProperty.GROUP];
        io.err(
          timingLine(index, performance.now() - at, reply.timing).replace(
            /\n$/,
            group !== undefined ? ` from ${group}\n` : "\n",
          ),
        );
      }
    }
  } catch (error) {
    const { text, exit } = explain(error);
    if (exit === EXIT.USAGE) throw error;
    io.err(`rocketmq-rpc: ${text}\n`);
    return exit;
  }
  if (!quiet) {
    io.err(
      `${stream.received} replies in ${
        ms(performance.now() - at)
      } ms; ended by ${stream.endReason}${
        stream.partial ? " (partial: the timeout cut it short)" : ""
      }\n`,
    );
  }
  return EXIT.OK;
}

/** `--property key=value` values as message properties (`undefined` for none). */
function parseProperties(values: readonly string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`--property must be <key>=<value>, got ${JSON.stringify(value)}`);
    }
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}
