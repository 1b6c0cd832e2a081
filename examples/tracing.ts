// deno-lint-ignore-file no-console
/**
 * Tracing and metrics: W3C trace context on requests and replies, spans
 * through the OpenTelemetry adapter (`@rocketmq-rpc/core/otel`, which needs
 * `@opentelemetry/api`), and the counters and per-topic handler latency a
 * producer and a consumer keep. Here a tiny tracer prints the spans; with an
 * OpenTelemetry SDK registered, `otelSpanHooks()` alone exports them.
 *
 *   deno run -A examples/tracing.ts
 */
import { trace, type Tracer } from "@opentelemetry/api";
import { bodyText, Producer, PushConsumer } from "../mod.ts";
import { otelSpanHooks } from "../src/otel.ts";
import { nameServer, uniqueTopic } from "./_shared.ts";

// A tracer that prints each span with its parent (the SDK's job normally).
let nextId = 1;
const printing = {
  startSpan(name: string, _options: unknown, context: Parameters<typeof trace.getSpanContext>[0]) {
    const parent = trace.getSpanContext(context);
    const spanId = (nextId++).toString(16).padStart(16, "0");
    const traceId = parent?.traceId ?? "4bf92f3577b34da6a3ce929d0e0e4736";
    console.log(`span ${spanId} ${name.padEnd(28)} parent ${parent?.spanId ?? "(root)"}`);
    return trace.wrapSpanContext({ traceId, spanId, traceFlags: 1 });
  },
} as unknown as Tracer;
const spanHooks = otelSpanHooks({ tracer: printing });

const server = await nameServer();
const topic = uniqueTopic("pricing");

const requester = new Producer({
  nameServer: server.address,
  group: `${topic}_clients`,
  spanHooks,
});
await requester.start();
await requester.send({ topic, body: "create the topic" });

const responder = new PushConsumer({
  nameServer: server.address,
  group: `${topic}_svc`,
  spanHooks,
});
responder.subscribe(topic, "*", (request, context) => {
  if (!context.isRequest) return undefined;
  console.log(`handler: trace ${context.trace?.traceparent}`);
  return `price of ${bodyText(request)}: 42.5`;
});
await responder.start();
while (responder.assignedQueues.filter((q) => q.topic === topic).length < 4) {
  await new Promise((r) => setTimeout(r, 20));
}

for (const symbol of ["ACME", "INITECH", "HOOLI"]) {
  const reply = await requester.request({ topic, body: symbol }, { timeout: 5000 });
  console.log(`reply: ${bodyText(reply)} (trace back: ${reply.trace?.traceparent})`);
}

const { replied, timedOut, timedOutByStage, lateReplies } = requester.stats;
console.log("producer:", { replied, timedOut, timedOutByStage, lateReplies });
const { requests, handled, failed, cancelled } = responder.stats;
console.log("consumer:", { requests, handled, failed, cancelled });
console.log("handler latency (ms):", responder.handlerLatency[topic]);

await requester.close();
await responder.close();
await server.close();
