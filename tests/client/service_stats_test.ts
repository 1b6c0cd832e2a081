import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LatencyHistogram,
  parseServiceStats,
  serviceStatsProperties,
} from "../../src/client/service_stats.ts";

test("LatencyHistogram: p50 and p99 within 5 % of the exact percentiles, for any sample", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0.02, max: 500_000, noNaN: true }), {
        minLength: 1,
        maxLength: 300,
      }),
      (samples) => {
        const h = new LatencyHistogram();
        for (const s of samples) h.record(s);
        const sorted = [...samples].sort((a, b) => a - b);
        const exact = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
        const { count, avg, p50, p99 } = h.summary();
        assert.equal(count, samples.length);
        assert.ok(
          Math.abs(avg - samples.reduce((a, b) => a + b, 0) / samples.length) < 1e-6 * avg + 1e-9,
        );
        for (const [got, want] of [[p50, exact(0.5)], [p99, exact(0.99)]]) {
          assert.ok(Math.abs(got! - want!) <= 0.05 * want!, `${got} vs ${want}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test("LatencyHistogram ignores what is not a duration and stays bounded", () => {
  const h = new LatencyHistogram();
  for (const bad of [-1, NaN, Infinity]) h.record(bad);
  assert.deepEqual(h.summary(), { count: 0, avg: 0, p50: 0, p99: 0 });
  h.record(0);
  h.record(10 * 60 * 60 * 1000); // 10 hours: the last bucket, capped at the largest value seen
  assert.equal(h.count, 2);
  assert.equal(h.quantile(1), 10 * 60 * 60 * 1000);
  assert.ok(h.quantile(0.5) < 0.01); // the first bucket: below 10 µs
});

test("service stats: parse(properties(x)) = x, rounded to the microsecond; other properties ignored", () => {
  const counter = fc.dictionary(
    fc.stringMatching(/^[a-zA-Z]{1,12}$/),
    fc.nat(),
    { maxKeys: 5, noNullPrototype: true },
  );
  const ms = fc.double({ min: 0, max: 1e6, noNaN: true }).map((n) => Math.round(n * 1000) / 1000);
  const latency = fc.dictionary(
    fc.stringMatching(/^[a-zA-Z0-9_%|-]{1,20}$/),
    fc.record({ count: fc.nat(), avg: ms, p50: ms, p99: ms }, { noNullPrototype: true }),
    { maxKeys: 3, noNullPrototype: true },
  );
  fc.assert(
    fc.property(counter, latency, (c, l) => {
      const props = { ...serviceStatsProperties(c, l), consumeThreadMax: "20" };
      assert.deepEqual(parseServiceStats(props), { counters: c, latency: l });
    }),
    { numRuns: 200 },
  );
  assert.deepEqual(parseServiceStats({ RPC_LATENCY_t: "count=1 avg=x" }).latency, {});
});
