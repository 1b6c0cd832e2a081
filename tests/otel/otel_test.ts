// The OpenTelemetry entry point: spans through a recording tracer (the API
// alone, no SDK), trace context over real loopback TCP, stats as gauges.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Context,
  type Meter,
  type Span,
  type SpanContext,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { observeStats, otelSpanHooks } from "../../src/otel.ts";
import { startBroker } from "../../src/broker/mod.ts";
import { Producer } from "../../src/client/producer.ts";
import { PushConsumer } from "../../src/client/push_consumer.ts";
import { RequestTimeoutError } from "../../src/errors.ts";
import { until } from "../_wait.ts";

interface Recorded {
  name: string;
  kind: number;
  parent: SpanContext | undefined;
  context: SpanContext;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string } | undefined;
  ended: boolean;
}

function recordingTracer(): { tracer: Tracer; spans: Recorded[] } {
  const spans: Recorded[] = [];
  const hex = (n: number) =>
    [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, "0"))
      .join("");
  const tracer = {
    startSpan(
      name: string,
      options: { kind: number; attributes: Record<string, unknown> },
      ctx: Context,
    ): Span {
      const parent = trace.getSpanContext(ctx);
      const context: SpanContext = {
        traceId: parent?.traceId ?? hex(16),
        spanId: hex(8),
        traceFlags: 1,
      };
      const record: Recorded = {
        name,
        kind: options.kind,
        parent,
        context,
        attributes: options.attributes,
        status: undefined,
        ended: false,
      };
      spans.push(record);
      const span = trace.wrapSpanContext(context);
      return Object.assign(Object.create(span), {
        spanContext: () => context,
        setStatus: (status: { code: number; message?: string }) => {
          record.status = status;
          return span;
        },
        recordException: () => {},
        end: () => {
          record.ended = true;
        },
      });
    },
  } as unknown as Tracer;
  return { tracer, spans };
}

test("spans chain send → process → reply across requester and responder; the trace context makes the round trip", async () => {
  await using broker = await startBroker({ port: 0 });
  const { tracer, spans } = recordingTracer();
  const hooks = otelSpanHooks({ tracer, attributes: { "service.name": "billing" } });
  await using requester = new Producer({ nameServer: broker.address, spanHooks: hooks });
  await requester.start();
  await requester.send({ topic: "traced", body: "create the topic" });
  const seen: Array<{ property: string | undefined; context: string | undefined }> = [];
  await using responder = new PushConsumer({
    nameServer: broker.address,
    group: "traced_g",
    spanHooks: hooks,
  });
  responder.subscribe("traced", "*", (m, ctx) => {
    if (!ctx.isRequest) return undefined; // the message that created the topic
    seen.push({ property: m.properties.traceparent, context: ctx.trace?.traceparent });
    return "ok";
  });
  await responder.start();
  await until(
    () => responder.assignedQueues.filter((q) => q.topic === "traced").length === 4,
    "the responder's 4 queues",
  );

  const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01";
  const reply = await requester.request({ topic: "traced", body: "x" }, {
    timeout: 5000,
    trace: { traceparent: caller, tracestate: "vendor=a" },
  });
  const ofRequest = () =>
    spans.filter((s) => s.attributes["messaging.message.conversation_id"] === reply.correlationId);
  await until(
    () => ofRequest().filter((s) => s.ended).length === 3,
    "the 3 spans of the request to end",
  );
  const send = ofRequest().find((s) => s.name === "send traced")!;
  const handle = ofRequest().find((s) => s.name === "process traced")!;
  const replySpan = ofRequest().find((s) => s.name.startsWith("reply "))!;
  assert.equal(send.kind, 3); // PRODUCER
  assert.equal(handle.kind, 4); // CONSUMER
  assert.equal(send.parent?.spanId, "1111111111111111");
  assert.equal(send.parent?.traceState?.serialize(), "vendor=a");
  assert.equal(handle.parent?.spanId, send.context.spanId);
  assert.equal(replySpan.parent?.spanId, handle.context.spanId);
  for (const span of [send, handle, replySpan]) {
    assert.equal(span.context.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(span.attributes["messaging.system"], "rocketmq");
    assert.equal(span.attributes["messaging.message.conversation_id"], reply.correlationId);
    assert.equal(span.status, undefined);
  }
  assert.equal(handle.attributes["messaging.consumer.group.name"], "traced_g");
  assert.equal(send.attributes["service.name"], "billing");
  // The request carried the send span's context; the handler saw its own span's.
  const hex = (sc: SpanContext) => `00-${sc.traceId}-${sc.spanId}-01`;
  assert.deepEqual(seen, [{ property: hex(send.context), context: hex(handle.context) }]);
  // The reply brought the reply span's context back.
  assert.equal(reply.trace?.traceparent, hex(replySpan.context));
  assert.equal(reply.responderGroup, "traced_g");
});

test("a timed-out request ends its span with an error status", async () => {
  await using broker = await startBroker({ port: 0 });
  const { tracer, spans } = recordingTracer();
  await using requester = new Producer({
    nameServer: broker.address,
    spanHooks: otelSpanHooks({ tracer }),
  });
  await requester.start();
  const err = await requester.request({ topic: "nobody", body: "x" }, { timeout: 200 })
    .catch((e) => e);
  assert.ok(err instanceof RequestTimeoutError);
  await until(() => spans[0]?.ended === true, "the send span to end");
  assert.equal(spans[0]!.status?.code, SpanStatusCode.ERROR);
  assert.equal(spans[0]!.parent, undefined); // no caller context: a root span
});

test("observeStats reports a producer's counters as gauges, records by key", () => {
  const gauges = new Map<string, Array<(r: { observe(v: number, a?: object): void }) => void>>();
  const meter = {
    createObservableGauge: (name: string) => ({
      addCallback: (cb: (r: { observe(v: number, a?: object): void }) => void) =>
        gauges.set(name, [...(gauges.get(name) ?? []), cb]),
      removeCallback: () => gauges.delete(name),
    }),
  } as unknown as Meter;
  const producer = new Producer({ nameServer: "127.0.0.1:9876", group: "PG" });
  const stop = observeStats(meter, producer, { attributes: { group: "PG" } });
  const observed: Array<[number, object | undefined]> = [];
  for (const cb of gauges.get("rocketmq_rpc.timedOutByStage")!) {
    cb({ observe: (v, a) => observed.push([v, a]) });
  }
  assert.deepEqual(observed, [
    [0, { group: "PG", key: "sending" }],
    [0, { group: "PG", key: "awaiting-reply" }],
    [0, { group: "PG", key: "reply-undeliverable" }],
  ]);
  assert.ok(gauges.has("rocketmq_rpc.cancelsSent"));
  stop();
  assert.equal(gauges.size, 0);
});
