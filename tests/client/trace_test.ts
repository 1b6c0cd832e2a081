import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkTraceContext,
  formatTraceparent,
  parseTraceparent,
  readTraceContext,
  startSpanSafely,
  writeTraceContext,
} from "../../src/client/trace.ts";
import { InvalidArgumentError } from "../../src/errors.ts";

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });
const traceId = hex(32).filter((s) => !/^0+$/.test(s));
const spanId = hex(16).filter((s) => !/^0+$/.test(s));

test("traceparent: parse(format(x)) = x for every valid id pair and flags", () => {
  fc.assert(
    fc.property(traceId, spanId, fc.integer({ min: 0, max: 255 }), (t, s, flags) => {
      const parsed = parseTraceparent(formatTraceparent(t, s, flags));
      assert.deepEqual(parsed, {
        version: "00",
        traceId: t,
        parentId: s,
        flags,
        sampled: (flags & 1) === 1,
      });
    }),
    { numRuns: 300 },
  );
});

test("traceparent: any string parses or is refused, never throws; all-zero ids and version ff are invalid", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      const parsed = parseTraceparent(s);
      if (parsed) assert.match(s.trim(), /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}/);
    }),
    { numRuns: 500 },
  );
  const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  assert.ok(parseTraceparent(valid));
  assert.equal(
    parseTraceparent(valid.replace("4bf92f3577b34da6a3ce929d0e0e4736", "0".repeat(32))),
    undefined,
  );
  assert.equal(parseTraceparent(valid.replace("00f067aa0ba902b7", "0".repeat(16))), undefined);
  assert.equal(parseTraceparent(`ff${valid.slice(2)}`), undefined);
  assert.equal(parseTraceparent(`${valid}-extra`), undefined); // version 00 has exactly four fields
  assert.ok(parseTraceparent(`01${valid.slice(2)}-extra`)); // later versions may add fields
  assert.equal(parseTraceparent(valid.toUpperCase()), undefined);
  assert.throws(() => formatTraceparent("0".repeat(32), "1".repeat(16), 1), InvalidArgumentError);
});

test("trace context: written to and read from properties; bad input is refused with the field named", () => {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const props: Record<string, string> = {};
  writeTraceContext(props, { traceparent, tracestate: "a=1,b=2" });
  assert.deepEqual(readTraceContext(props), { traceparent, tracestate: "a=1,b=2" });
  writeTraceContext(props, { traceparent });
  assert.equal(props.tracestate, undefined);
  assert.throws(
    () => checkTraceContext({ traceparent, tracestate: "a=\u0001" }),
    (e) => e instanceof InvalidArgumentError && e.path === "trace.tracestate",
  );
  assert.throws(
    () => checkTraceContext({ traceparent, tracestate: "x".repeat(513) }),
    InvalidArgumentError,
  );
});

test("a span hook that throws, on start or end, yields no error to the caller", () => {
  const errors: unknown[] = [];
  const start = {
    kind: "send" as const,
    topic: "t",
    correlationId: "c",
    group: "g",
    parent: undefined,
  };
  const span = startSpanSafely(
    {
      startSpan: () => ({
        context: undefined,
        end: () => {
          throw new Error("exporter down");
        },
      }),
    },
    start,
    (e) => errors.push(e),
  );
  span!.end();
  span!.end(); // a second end is ignored
  assert.equal(errors.length, 1);
  assert.equal(startSpanSafely(undefined, start, (e) => errors.push(e)), undefined);
});
