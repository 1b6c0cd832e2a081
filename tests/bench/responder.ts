// Bench responder: our PushConsumer replying to every request with its body
// reversed, in its own process. Runs under Deno, Bun and Node (tsx).
//
//   deno run -A tests/bench/responder.ts --namesrv 127.0.0.1:9876 --topic T \
//     [--group G] [--concurrency 20] [--queues 4] [--stdin-watch]
//
// Prints {"event":"ready",...} once it owns all --queues queues of the topic, then runs
// until SIGTERM (or stdin closes, with --stdin-watch) and prints "stopped".

import { PushConsumer } from "../../mod.ts";
import { Args, cpuMs, emit, fatal, memoryKb, onStop, pid, runtimeName } from "./_common.ts";

async function main(): Promise<void> {
  const args = new Args();
  const nameServer = args.str("namesrv");
  const topic = args.str("topic");
  const group = args.str("group", `${topic}_responder`);
  const concurrency = args.num("concurrency", 20);
  const queues = args.num("queues", 4);
  const watchStdin = args.flag("stdin-watch");
  args.done();

  const consumer = new PushConsumer({ nameServer, group, concurrency });
  consumer.subscribe(topic, "*", (message) => message.body.slice().reverse());
  onStop(async () => {
    await consumer.close();
    emit({ event: "stopped", stats: consumer.stats, cpuMs: cpuMs(), ...await memoryKb() });
  }, watchStdin);
  await consumer.start();
  const deadline = Date.now() + 60_000;
  // Every queue, not just one: a queue whose start offset is still being
  // computed would skip requests sent meanwhile (see QUERY_CONSUMER_OFFSET).
  while (consumer.assignedQueues.filter((q) => q.topic === topic).length < queues) {
    if (Date.now() > deadline) {
      throw new Error(`fewer than ${queues} queues of ${topic} assigned within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  emit({
    event: "ready",
    runtime: runtimeName(),
    pid: pid(),
    clientId: consumer.clientId,
    assigned: consumer.assignedQueues.filter((q) => q.topic === topic).length,
  });
}

main().catch(fatal);
