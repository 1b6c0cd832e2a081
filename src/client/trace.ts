/**
 * Tracing: W3C Trace Context (`traceparent`, `tracestate`) carried in message
 * properties, and the span hook interface a tracer plugs into.
 *
 * The requester puts `traceparent` / `tracestate` on each request (from the
 * `trace` option, the `parent` context, or the span its hooks started); the
 * responder's context exposes them; the reply carries the responder's back.
 * The property names are the W3C header names, as OpenTelemetry's messaging
 * instrumentations use for RocketMQ user properties, so Java peers
 * instrumented by the OpenTelemetry agent join the same traces.
 *
 * Without hooks and without a trace context nothing here runs: no property is
 * added and no span object is created.
 *
 * @example Start a request span and read its context
 * ```ts
 * import { parseTraceparent, type SpanHooks } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const ended: string[] = [];
 * const hooks: SpanHooks = {
 *   startSpan: (start) => ({
 *     context: { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` },
 *     end: () => ended.push(start.kind),
 *   }),
 * };
 * const span = hooks.startSpan({ kind: "send", topic: "rpc", correlationId: "c1", group: "PG", parent: undefined });
 * assert.equal(parseTraceparent(span!.context!.traceparent)?.traceId, "a".repeat(32));
 * span!.end();
 * assert.deepEqual(ended, ["send"]);
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/**
 * A W3C trace context as it travels in message properties.
 *
 * @example
 * ```ts
 * import type { TraceContext } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const trace: TraceContext = {
 *   traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 *   tracestate: "congo=t61rcWkgMzE",
 * };
 * assert.equal(trace.traceparent.length, 55);
 * ```
 */
export interface TraceContext {
  /** `version-traceid-parentid-flags`, e.g. `00-4bf9…4736-00f0…02b7-01`. */
  traceparent: string;
  /** Vendor entries, `key=value` pairs separated by commas. */
  tracestate?: string | undefined;
}

/**
 * The parts of a `traceparent`.
 *
 * @example
 * ```ts
 * import { parseTraceparent, type Traceparent } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const parts: Traceparent | undefined = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * assert.equal(parts?.sampled, true);
 * ```
 */
export interface Traceparent {
  /** Format version, `00` today. */
  version: string;
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero: the id of the calling span. */
  parentId: string;
  /** Trace flags byte (bit 0: sampled). */
  flags: number;
  /** Whether the sampled flag is set. */
  sampled: boolean;
}

/**
 * Message property keys of the trace context (the W3C header names).
 *
 * @example
 * ```ts
 * import { TraceProperty } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TraceProperty.TRACEPARENT, "traceparent");
 * ```
 */
export const TraceProperty = {
  /** W3C `traceparent`. */
  TRACEPARENT: "traceparent",
  /** W3C `tracestate`. */
  TRACESTATE: "tracestate",
} as const;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_TRACESTATE = 512;

/**
 * Parse a `traceparent` the way the W3C recommendation reads one: version
 * `ff` and all-zero ids are invalid; a version above `00` may carry more
 * fields after the flags.
 *
 * @param value The header value.
 * @returns The parts, or `undefined` when the value is not a valid traceparent.
 *
 * @example
 * ```ts
 * import { parseTraceparent } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled, false);
 * assert.equal(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), undefined);
 * assert.equal(parseTraceparent("not a traceparent"), undefined);
 * ```
 */
export function parseTraceparent(value: string): Traceparent | undefined {
  if (typeof value !== "string") return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, parentId, flagsHex, rest] = m as unknown as string[];
  if (version === "ff") return undefined;
  if (version === "00" && rest !== undefined) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  const flags = parseInt(flagsHex!, 16);
  return {
    version: version!,
    traceId: traceId!,
    parentId: parentId!,
    flags,
    sampled: (flags & 1) === 1,
  };
}

/**
 * Build a version-00 `traceparent`.
 *
 * @param traceId 32 hex digits.
 * @param spanId 16 hex digits.
 * @param flags Trace flags (1 = sampled).
 * @returns The header value.
 * @throws {InvalidArgumentError} When an id has the wrong shape or is all zero.
 *
 * @example
 * ```ts
 * import { formatTraceparent } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatTraceparent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1),
 *   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 * );
 * ```
 */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  const value = `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, "0")}`;
  if (!parseTraceparent(value)) {
    throw new InvalidArgumentError(
      "traceparent",
      `invalid trace id ${traceId} or span id ${spanId}`,
    );
  }
  return value;
}

/**
 * Check a trace context given by a caller.
 *
 * @param trace The value of a `trace` option.
 * @param path Argument path for the error.
 * @returns The context, normalised (traceparent trimmed, empty tracestate dropped).
 * @throws {InvalidArgumentError} When the traceparent is invalid or the
 * tracestate cannot travel as a property.
 *
 * @example
 * ```ts
 * import { checkTraceContext } from "./trace.ts";
 * import { InvalidArgumentError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkTraceContext({ traceparent: "nope" }), InvalidArgumentError);
 * assert.deepEqual(
 *   checkTraceContext({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "" }),
 *   { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
 * );
 * ```
 */
export function checkTraceContext(trace: unknown, path = "trace"): TraceContext {
  if (typeof trace !== "object" || trace === null) {
    throw new InvalidArgumentError(path, "must be { traceparent, tracestate? }");
  }
  const { traceparent, tracestate } = trace as { traceparent?: unknown; tracestate?: unknown };
  if (typeof traceparent !== "string" || !parseTraceparent(traceparent)) {
    throw new InvalidArgumentError(`${path}.traceparent`, "is not a valid W3C traceparent");
  }
  const out: TraceContext = { traceparent: traceparent.trim() };
  if (tracestate !== undefined) {
    if (typeof tracestate !== "string" || hasControlCharacter(tracestate)) {
      throw new InvalidArgumentError(
        `${path}.tracestate`,
        "must be a string without control characters",
      );
    }
    if (tracestate.length > MAX_TRACESTATE) {
      throw new InvalidArgumentError(
        `${path}.tracestate`,
        `longer than ${MAX_TRACESTATE} characters`,
      );
    }
    if (tracestate.length > 0) out.tracestate = tracestate;
  }
  return out;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

/**
 * Read the trace context of a message's properties.
 *
 * @param properties Message properties.
 * @returns The context, or `undefined` when there is no valid `traceparent`.
 *
 * @example
 * ```ts
 * import { readTraceContext } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
 * assert.deepEqual(readTraceContext({ traceparent, tracestate: "a=1" }), { traceparent, tracestate: "a=1" });
 * assert.equal(readTraceContext({ traceparent: "garbage" }), undefined);
 * ```
 */
export function readTraceContext(
  properties: Readonly<Record<string, string>>,
): TraceContext | undefined {
  const traceparent = properties[TraceProperty.TRACEPARENT];
  if (traceparent === undefined || !parseTraceparent(traceparent)) return undefined;
  const tracestate = properties[TraceProperty.TRACESTATE];
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * Write a trace context into message properties (replacing any there).
 *
 * @param properties Message properties, changed in place.
 * @param trace The context; `undefined` leaves the properties alone.
 *
 * @example
 * ```ts
 * import { writeTraceContext } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const properties: Record<string, string> = { tracestate: "stale=1" };
 * writeTraceContext(properties, { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
 * assert.deepEqual(Object.keys(properties), ["traceparent"]);
 * ```
 */
export function writeTraceContext(
  properties: Record<string, string>,
  trace: TraceContext | undefined,
): void {
  if (!trace) return;
  properties[TraceProperty.TRACEPARENT] = trace.traceparent;
  if (trace.tracestate) properties[TraceProperty.TRACESTATE] = trace.tracestate;
  else delete properties[TraceProperty.TRACESTATE];
}

/**
 * Which part of a request a span covers:
 *
 * - `"send"`: the requester's side of one request, from the call until the
 *   reply arrives or the request fails (for `requestMany`, until the
 *   iteration ends). Its context is put on the request.
 * - `"handle"`: the responder's handler run. Its parent is the request's
 *   trace context.
 * - `"reply"`: the responder sending one reply. Its parent is the handle
 *   span; its context travels back in the reply.
 *
 * @example
 * ```ts
 * import type { SpanKind } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const kinds: SpanKind[] = ["send", "handle", "reply"];
 * assert.equal(kinds.length, 3);
 * ```
 */
export type SpanKind = "send" | "handle" | "reply";

/**
 * What a span hook is told when a span starts.
 *
 * @example
 * ```ts
 * import type { SpanStart } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const start: SpanStart = { kind: "handle", topic: "rpc", correlationId: "c1", group: "calc", parent: undefined };
 * assert.equal(start.kind, "handle");
 * ```
 */
export interface SpanStart {
  /** Which part of the request. */
  kind: SpanKind;
  /** The request's topic. */
  topic: string;
  /** The request's correlation id. */
  correlationId: string;
  /** The producer group (send) or the responder's consumer group (handle, reply). */
  group: string;
  /**
   * The parent trace context: the caller's (send: the `trace` option or the
   * `parent` context), the request's (handle), the handle span's (reply).
   * `undefined` when there is none (an OpenTelemetry adapter then uses its
   * active context).
   */
  parent: TraceContext | undefined;
}

/**
 * A span started by a {@linkcode SpanHooks}.
 *
 * @example
 * ```ts
 * import type { RpcSpan } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const errors: unknown[] = [];
 * const span: RpcSpan = { context: undefined, end: (error) => { if (error) errors.push(error); } };
 * span.end(new Error("timeout"));
 * assert.equal(errors.length, 1);
 * ```
 */
export interface RpcSpan {
  /** The span's own context, propagated downstream; `undefined` propagates the parent. */
  readonly context: TraceContext | undefined;
  /**
   * End the span; called exactly once.
   *
   * @param error Set when the part failed (the request timed out, the handler threw, …).
   */
  end(error?: unknown): void;
}

/**
 * The span hook interface: start a span for one part of a request. The
 * OpenTelemetry adapter (`@rocketmq-rpc/core/otel`) implements it; so can any
 * other tracer. A hook that throws is logged and ignored: tracing never fails
 * a request.
 *
 * @example Count spans by kind
 * ```ts
 * import type { SpanHooks, SpanKind } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const counts = new Map<SpanKind, number>();
 * const hooks: SpanHooks = {
 *   startSpan(start) {
 *     counts.set(start.kind, (counts.get(start.kind) ?? 0) + 1);
 *     return undefined; // no span object: nothing to end, the parent context travels on
 *   },
 * };
 * hooks.startSpan({ kind: "send", topic: "rpc", correlationId: "c1", group: "PG", parent: undefined });
 * assert.equal(counts.get("send"), 1);
 * ```
 */
export interface SpanHooks {
  /**
   * Start a span.
   *
   * @param start What the span covers.
   * @returns The span, or `undefined` to record nothing.
   */
  startSpan(start: SpanStart): RpcSpan | undefined;
}

/**
 * Start a span through hooks, never throwing: a failing hook yields no span.
 *
 * @param hooks The hooks, if any.
 * @param start What the span covers.
 * @param onError Told about a hook that threw.
 * @returns The span, or `undefined`.
 *
 * @example
 * ```ts
 * import { startSpanSafely } from "./trace.ts";
 * import assert from "node:assert/strict";
 *
 * const broken = { startSpan: () => { throw new Error("tracer down"); } };
 * const errors: unknown[] = [];
 * const start = { kind: "send" as const, topic: "rpc", correlationId: "c1", group: "PG", parent: undefined };
 * assert.equal(startSpanSafely(broken, start, (e) => errors.push(e)), undefined);
 * assert.equal(errors.length, 1);
 * ```
 */
export function startSpanSafely(
  hooks: SpanHooks | undefined,
  start: SpanStart,
  onError: (error: unknown) => void,
): RpcSpan | undefined {
  if (!hooks) return undefined;
  try {
    const span = hooks.startSpan(start);
    if (!span) return undefined;
    let ended = false;
    return {
      context: span.context,
      end(error?: unknown) {
        if (ended) return;
        ended = true;
        try {
          span.end(error);
        } catch (err) {
          onError(err);
        }
      },
    };
  } catch (err) {
    onError(err);
    return undefined;
  }
}
