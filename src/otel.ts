/**
 * OpenTelemetry for rocketmq-rpc, in an entry point of its own so that the
 * core stays free of dependencies: `@opentelemetry/api` is needed only by
 * code that imports this module (an optional peer dependency).
 *
 * - {@linkcode otelSpanHooks}: span hooks that start an OpenTelemetry span
 *   for each request sent (`send <topic>`, PRODUCER), handled
 *   (`process <topic>`, CONSUMER) and replied to (`reply <topic>`,
 *   PRODUCER), with the messaging semantic conventions' attributes. Trace
 *   context travels in W3C `traceparent` / `tracestate` message properties.
 * - {@linkcode observeStats}: the counters of a producer or consumer as
 *   observable gauges of a meter, for any OpenTelemetry metrics exporter.
 *
 * @example Trace requests with the global tracer provider
 * ```ts
 * import { otelSpanHooks } from "./otel.ts";
 * import { Producer } from "./client/producer.ts";
 * import assert from "node:assert/strict";
 *
 * const producer = new Producer({ nameServer: "127.0.0.1:9876", spanHooks: otelSpanHooks() });
 * assert.equal(producer.group, "RPC_PRODUCER");
 * ```
 *
 * @module
 */

import {
  type Attributes,
  context as otelContext,
  createTraceState,
  isSpanContextValid,
  type Meter,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import {
  formatTraceparent,
  parseTraceparent,
  type RpcSpan,
  type SpanHooks,
  type SpanStart,
  type TraceContext,
} from "./client/trace.ts";

export type { RpcSpan, SpanHooks, SpanKind, SpanStart, TraceContext } from "./client/trace.ts";

/**
 * An OpenTelemetry `Tracer` (from `@opentelemetry/api`), declared here by
 * the one method used, so that this module's types stand alone.
 *
 * @example
 * ```ts
 * import type { TracerLike } from "./otel.ts";
 * import { trace } from "@opentelemetry/api";
 * import assert from "node:assert/strict";
 *
 * const tracer: TracerLike = trace.getTracer("billing");
 * assert.equal(typeof tracer.startSpan, "function");
 * ```
 */
export interface TracerLike {
  /**
   * Start a span (OpenTelemetry's `Tracer.startSpan(name, options, context)`).
   *
   * @param name Span name.
   * @param rest Span options and parent context.
   * @returns The span.
   */
  startSpan(name: string, ...rest: never[]): object;
}

/**
 * An OpenTelemetry `Meter` (from `@opentelemetry/api`), declared here by the
 * one method used.
 *
 * @example
 * ```ts
 * import type { MeterLike } from "./otel.ts";
 * import { metrics } from "@opentelemetry/api";
 * import assert from "node:assert/strict";
 *
 * const meter: MeterLike = metrics.getMeter("billing");
 * assert.equal(typeof meter.createObservableGauge, "function");
 * ```
 */
export interface MeterLike {
  /**
   * Create an observable gauge (OpenTelemetry's `Meter.createObservableGauge`).
   *
   * @param name Gauge name.
   * @param rest Gauge options.
   * @returns The gauge.
   */
  createObservableGauge(name: string, ...rest: never[]): {
    addCallback(callback: (result: ObservationSink) => void): void;
    removeCallback(callback: (result: ObservationSink) => void): void;
  };
}

/**
 * Where an observable gauge's callback reports (OpenTelemetry's `ObservableResult`).
 *
 * @example
 * ```ts
 * import type { ObservationSink } from "./otel.ts";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const sink: ObservationSink = { observe: (value) => { seen.push(value); } };
 * sink.observe(3);
 * assert.deepEqual(seen, [3]);
 * ```
 */
export interface ObservationSink {
  /**
   * Report one value.
   *
   * @param value The value.
   * @param attributes Its attributes.
   */
  observe(value: number, attributes?: SpanAttributes): void;
}

/**
 * Attributes of spans and observations: OpenTelemetry's `Attributes`, with
 * scalar values.
 *
 * @example
 * ```ts
 * import type { SpanAttributes } from "./otel.ts";
 * import assert from "node:assert/strict";
 *
 * const attributes: SpanAttributes = { "service.name": "billing", "deployment.zone": 3 };
 * assert.equal(attributes["service.name"], "billing");
 * ```
 */
export type SpanAttributes = Record<string, string | number | boolean>;

/**
 * Options of {@linkcode otelSpanHooks}.
 *
 * @example
 * ```ts
 * import type { OtelSpanHooksOptions } from "./otel.ts";
 * import { trace } from "@opentelemetry/api";
 * import assert from "node:assert/strict";
 *
 * const options: OtelSpanHooksOptions = { tracer: trace.getTracer("billing") };
 * assert.ok(options.tracer);
 * ```
 */
export interface OtelSpanHooksOptions {
  /** The tracer. @default {trace.getTracer("rocketmq-rpc")} of the global provider, at each span */
  tracer?: TracerLike;
  /** Attributes added to every span. */
  attributes?: SpanAttributes;
}

const NAMES = { send: "send", handle: "process", reply: "reply" } as const;
const KINDS = { send: SpanKind.PRODUCER, handle: SpanKind.CONSUMER, reply: SpanKind.PRODUCER };

function parentContext(parent: TraceContext | undefined) {
  const active = otelContext.active();
  if (!parent) return active;
  const parts = parseTraceparent(parent.traceparent);
  if (!parts) return active;
  return trace.setSpanContext(active, {
    traceId: parts.traceId,
    spanId: parts.parentId,
    traceFlags: parts.flags,
    isRemote: true,
    ...(parent.tracestate ? { traceState: createTraceState(parent.tracestate) } : {}),
  });
}

/**
 * Span hooks backed by OpenTelemetry. A span's parent is the trace context
 * the library gives (the caller's `trace`/`parent` for a send, the
 * request's for a handle, the handle's for a reply) or, without one, the
 * active OpenTelemetry context, so a request made inside a traced operation
 * joins its trace.
 *
 * @param options The tracer and extra attributes.
 * @returns Hooks for the `spanHooks` option of a producer or consumer.
 *
 * @example Spans recorded by a tracer, parent to child
 * ```ts
 * import { otelSpanHooks } from "./otel.ts";
 * import { trace, type Tracer } from "@opentelemetry/api";
 * import assert from "node:assert/strict";
 *
 * const started: Array<{ name: string; parent: string | undefined }> = [];
 * const tracer = {
 *   startSpan(name: string, _options: unknown, ctx: Parameters<typeof trace.getSpanContext>[0]) {
 *     started.push({ name, parent: trace.getSpanContext(ctx)?.spanId });
 *     return trace.wrapSpanContext({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 });
 *   },
 * } as unknown as Tracer;
 * const hooks = otelSpanHooks({ tracer });
 * const span = hooks.startSpan({
 *   kind: "handle", topic: "rpc", correlationId: "c1", group: "calc",
 *   parent: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01" },
 * });
 * assert.deepEqual(started, [{ name: "process rpc", parent: "1111111111111111" }]);
 * assert.equal(span?.context?.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * span?.end();
 * ```
 */
export function otelSpanHooks(options: OtelSpanHooksOptions = {}): SpanHooks {
  return {
    startSpan(start: SpanStart): RpcSpan {
      const tracer = (options.tracer as Tracer | undefined) ?? trace.getTracer("rocketmq-rpc");
      const attributes: Attributes = {
        ...options.attributes,
        "messaging.system": "rocketmq",
        "messaging.destination.name": start.topic,
        "messaging.operation.type": start.kind === "handle" ? "process" : "send",
        "messaging.operation.name": NAMES[start.kind],
        "messaging.message.conversation_id": start.correlationId,
        [
          start.kind === "send"
            ? "messaging.rocketmq.client_group"
            : "messaging.consumer.group.name"
        ]: start.group,
      };
      const span = tracer.startSpan(
        `${NAMES[start.kind]} ${start.topic}`,
        { kind: KINDS[start.kind], attributes },
        parentContext(start.parent),
      );
      const sc = span.spanContext();
      let own: TraceContext | undefined;
      if (isSpanContextValid(sc)) {
        own = { traceparent: formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags) };
        const state = sc.traceState?.serialize();
        if (state) own.tracestate = state;
      }
      return {
        context: own ?? start.parent,
        end(error?: unknown): void {
          if (error !== undefined) {
            if (error instanceof Error) span.recordException(error);
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: error instanceof Error ? error.message : String(error),
            });
          }
          span.end();
        },
      };
    },
  };
}

/**
 * Something with counters: a `Producer` or a `PushConsumer` (their `stats`).
 *
 * @example
 * ```ts
 * import type { StatsSource } from "./otel.ts";
 * import assert from "node:assert/strict";
 *
 * const stats = { replied: 3, timedOutByStage: { sending: 1 } };
 * const source: StatsSource = { stats };
 * assert.equal(source.stats, stats);
 * ```
 */
export interface StatsSource {
  /** Current counters: numbers, or records of numbers (one level); other fields are skipped. */
  readonly stats: object;
}

/**
 * Export the counters of a producer or consumer as observable gauges of an
 * OpenTelemetry meter: one gauge per counter, named `<prefix>.<counter>`;
 * a record of counters (`timedOutByStage`) becomes one gauge with a `key`
 * attribute. Read at each collection, so nothing is counted twice.
 *
 * @param meter The meter.
 * @param source The producer or consumer.
 * @param options Gauge name prefix and attributes (for example the group).
 * @returns Stops the export.
 *
 * @example
 * ```ts
 * import { observeStats } from "./otel.ts";
 * import { metrics } from "@opentelemetry/api";
 * import assert from "node:assert/strict";
 *
 * const stop = observeStats(metrics.getMeter("app"), { stats: { replied: 1 } }, { attributes: { group: "PG" } });
 * assert.equal(typeof stop, "function");
 * stop();
 * ```
 */
export function observeStats(
  meter: MeterLike,
  source: StatsSource,
  options: { prefix?: string; attributes?: SpanAttributes } = {},
): () => void {
  const prefix = options.prefix ?? "rocketmq_rpc";
  const base = options.attributes ?? {};
  const read = (name: string): unknown => (source.stats as Record<string, unknown>)[name];
  const gauges = Object.keys(source.stats).map((name) => {
    const gauge = (meter as Meter).createObservableGauge(`${prefix}.${name}`);
    const callback = (result: { observe(value: number, attributes?: Attributes): void }) => {
      const value = read(name);
      if (typeof value === "number") result.observe(value, base);
      else if (typeof value === "object" && value !== null) {
        for (const [key, n] of Object.entries(value)) {
          if (typeof n === "number") result.observe(n, { ...base, key });
        }
      }
    };
    gauge.addCallback(callback);
    return { gauge, callback };
  });
  return () => {
    for (const { gauge, callback } of gauges) gauge.removeCallback(callback);
  };
}
