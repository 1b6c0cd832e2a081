// deno-lint-ignore-file no-console
/**
 * Pre-resolves the real-RocketMQ interop artifacts (name server, broker, official client, compiled Java
 * peers) for CI, so `deno task test:interop` spends no test time in Maven.
 *
 * Usage: `deno run -A tests/interop/prepare.ts [5] [4]` (default: both lines). Exits 1 with one clear
 * line when java or mvn is missing or Maven fails (then Maven's log tail follows).
 *
 * @module
 */
import { ensureArtifacts, InteropError, ROCKETMQ_LINES, type RocketMQLine } from "./harness.ts";

const wanted = Deno.args.length > 0 ? Deno.args : [...ROCKETMQ_LINES];
for (const line of wanted) {
  if (line !== "5" && line !== "4") {
    console.error(`interop: unknown RocketMQ line ${line} (expected 5 or 4)`);
    Deno.exit(2);
  }
}
try {
  for (const line of wanted as RocketMQLine[]) {
    const a = await ensureArtifacts(line);
    console.log(
      `interop: RocketMQ ${a.version} ${
        a.cached ? "already cached" : "resolved"
      } in ${a.coldMs} ms (${a.dir})`,
    );
  }
} catch (e) {
  if (e instanceof InteropError) {
    console.error(e.message);
    Deno.exit(1);
  }
  throw e;
}
