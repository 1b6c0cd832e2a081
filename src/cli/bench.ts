// `rocketmq-rpc bench`: request-reply round trips against any name server.

import { IllegalStateError } from "../errors.ts";
import { Producer } from "../client/producer.ts";
import { PushConsumer } from "../client/push_consumer.ts";
import type { ClientOptions } from "../client/client_instance.ts";
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

/** Usage of `rocketmq-rpc bench`. */
export const BENCH_USAGE: string = `Usage: rocketmq-rpc bench [options]

Measure request-reply round trips: requests per second and latency
percentiles. Without --namesrv (or NAMESRV_ADDR), the embedded broker runs
in this process; without --no-responder, an echo responder in this process
answers (so the figure includes both ends of this client).

Options:
  --count <n>             requests timed (default 2000)
  --warmup <n>            requests sent before timing (default 200)
  --concurrency <n>       requests in flight at once (default 1)
  --size <bytes>          body size (default 128)
  --timeout <ms>          time allowed for each request (default 3000)
  --topic <topic>         topic (default rocketmq_rpc_bench); created on first
                          send where the broker allows it
  --no-responder          do not start a responder: another one answers
                          (rocketmq-rpc reply <topic> --echo, a Java one, ...)
  --json                  print one JSON object instead of text
${CLIENT_FLAGS_HELP}
  -h, --help              show this help

${EXIT_HELP}

Examples:
  rocketmq-rpc bench
  rocketmq-rpc bench --namesrv 10.0.0.1:9876 --concurrency 16 --count 20000
`;

const FLAGS: readonly Flag[] = [
  ...CLIENT_FLAGS,
  { name: "count", kind: "integer", min: 1, max: 10_000_000 },
  { name: "warmup", kind: "integer", min: 0, max: 1_000_000 },
  { name: "concurrency", kind: "integer", min: 1, max: 4096 },
  { name: "size", kind: "integer", min: 1, max: 4 * 1024 * 1024 },
  { name: "timeout", kind: "integer", min: 1 },
  { name: "topic", kind: "string" },
  { name: "no-responder", kind: "boolean" },
  { name: "json", kind: "boolean" },
];

/**
 * Runs `rocketmq-rpc bench`.
 *
 * @param argv Arguments after `bench`.
 * @param io The process.
 * @returns The exit code.
 */
export async function bench(argv: readonly string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(argv, FLAGS);
  const f = parsed.flags;
  if (f.get("help")) {
    io.out(BENCH_USAGE);
    return EXIT.OK;
  }
  if (parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
  }
  const count = (f.get("count") as number | undefined) ?? 2000;
  const warmup = (f.get("warmup") as number | undefined) ?? 200;
  const concurrency = (f.get("concurrency") as number | undefined) ?? 1;
  const size = (f.get("size") as number | undefined) ?? 128;
  const timeout = (f.get("timeout") as number | undefined) ?? 3000;
  const topic = (f.get("topic") as string | undefined) ?? "rocketmq_rpc_bench";
  const embedded = !f.has("namesrv") && io.env("NAMESRV_ADDR") === undefined;

  const cleanup: Array<() => Promise<void>> = [];
  try {
    let options: ClientOptions = clientOptions(parsed, io);
    let where = options.nameServer as string;
    if (embedded) {
      const { startBroker } = await import("../broker/broker.ts");
      const broker = await startBroker({ port: 0 });
      cleanup.unshift(() => broker.close());
      options = { ...options, nameServer: broker.address };
      where = `the embedded broker (${broker.address}, in this process)`;
    }
    const requester = new Producer({ ...options, group: `${topic}_bench_requester` });
    cleanup.unshift(() => requester.close());
    await requester.start();
    if (!f.get("no-responder")) {
      await requester.send({ topic, body: "create the topic" });
      const responder = new PushConsumer({
        ...options,
        group: `${topic}_bench_responder`,
        concurrency: Math.max(concurrency, 4),
      });
      cleanup.unshift(() => responder.close());
      responder.subscribe(topic, "*", (m) => m.body);
      await responder.start();
      if (!responder.assignedQueues.some((q) => q.topic === topic)) {
        throw new IllegalStateError(
          `the responder got no queue of ${topic}: is another member of its group running?`,
        );
      }
    }
    const body = new Uint8Array(size).fill(0x61);
    const times: number[] = [];
    let errors = 0;
    let lastError: unknown;
    const run = async (n: number, record: boolean): Promise<void> => {
      let next = 0;
      const worker = async () => {
        while (next < n) {
          next++;
          const at = performance.now();
          try {
            await requester.request({ topic, body }, { timeout });
            if (record) times.push(performance.now() - at);
          } catch (error) {
            if (!record) throw error; // a failing warm-up says more than a timed run of failures
            errors++;
            lastError = error;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    };
    await run(warmup, false);
    const started = performance.now();
    await run(count, true);
    const seconds = (performance.now() - started) / 1000;
    const sorted = times.sort((a, b) => a - b);
    const result = {
      requests: count,
      ok: times.length,
      errors,
      concurrency,
      bodySize: size,
      requestsPerSecond: Math.round(times.length / seconds),
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? NaN,
    };
    if (f.get("json")) {
      io.out(`${JSON.stringify({ ...result, nameServer: options.nameServer, embedded })}\n`);
    } else {
      io.out(
        `${count} requests, ${concurrency} in flight, ${size}-byte bodies, via ${where}\n` +
          `  ${result.requestsPerSecond} req/s; round trip p50 ${ms(result.p50)} ms, p90 ${
            ms(result.p90)
          }, p99 ${ms(result.p99)}, max ${ms(result.max)}; ${errors} errors\n`,
      );
    }
    if (errors > 0) {
      io.err(`rocketmq-rpc: ${explain(lastError).text}\n`);
      return EXIT.FAILED;
    }
    return EXIT.OK;
  } finally {
    for (const close of cleanup) await close();
  }
}
