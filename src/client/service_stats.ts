/**
 * Service statistics of responders: a bounded latency histogram per topic,
 * and the form both travel in inside a consumer's running info (the
 * `properties` of GET_CONSUMER_RUNNING_INFO, which `mqadmin consumerStatus`
 * and the Dashboard print as `key: value` lines and `responders()` reads
 * back):
 *
 * - `RPC_STAT_<counter>`: one counter each (`RPC_STAT_handled: 42`);
 * - `RPC_LATENCY_<topic>`: `count=… avg=… p50=… p99=…` (ms).
 *
 * @example
 * ```ts
 * import { LatencyHistogram, parseServiceStats, serviceStatsProperties } from "./service_stats.ts";
 * import assert from "node:assert/strict";
 *
 * const h = new LatencyHistogram();
 * for (const ms of [1, 2, 3, 4, 100]) h.record(ms);
 * const props = serviceStatsProperties({ handled: 5 }, { rpc: h.summary() });
 * const back = parseServiceStats(props);
 * assert.equal(back.counters.handled, 5);
 * assert.equal(back.latency.rpc?.count, 5);
 * ```
 *
 * @module
 */

/**
 * Handler latency of one topic.
 *
 * @example
 * ```ts
 * import type { LatencySummary } from "./service_stats.ts";
 * import assert from "node:assert/strict";
 *
 * const s: LatencySummary = { count: 10, avg: 2.5, p50: 2, p99: 9.8 };
 * assert.ok(s.p99 >= s.p50);
 * ```
 */
export interface LatencySummary {
  /** Handler runs measured. */
  count: number;
  /** Mean (ms). */
  avg: number;
  /** Median (ms, within 5 %). */
  p50: number;
  /** 99th percentile (ms, within 5 %). */
  p99: number;
}

/** Smallest value with its own bucket (ms); below it everything is one bucket. */
const MIN_MS = 0.01;
/** Relative width of a bucket: values within 5 % share one. */
const GROWTH = 1.05;
/** Buckets up to about 10 minutes. */
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(GROWTH)) + 2;
const LOG_GROWTH = Math.log(GROWTH);

/**
 * A latency histogram of fixed size (about 370 counters, whatever the number
 * of samples): log-spaced buckets 5 % wide from 10 µs to 10 min, so
 * percentiles are exact to within 5 %. Recording is one logarithm and an
 * increment.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./service_stats.ts";
 * import assert from "node:assert/strict";
 *
 * const h = new LatencyHistogram();
 * for (let i = 1; i <= 100; i++) h.record(i);
 * const { count, p50, p99 } = h.summary();
 * assert.equal(count, 100);
 * assert.ok(Math.abs(p50 - 50) / 50 < 0.05);
 * assert.ok(Math.abs(p99 - 99) / 99 < 0.05);
 * ```
 */
export class LatencyHistogram {
  readonly #buckets = new Uint32Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /**
   * Record one duration.
   *
   * @param ms Milliseconds (negative and non-finite values are ignored).
   */
  record(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    const i = ms < MIN_MS
      ? 0
      : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.#buckets[i]!++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Durations recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * The value below which a share of the durations fall.
   *
   * @param q The share, 0 to 1.
   * @returns Milliseconds (the middle of the bucket, capped at the largest value seen); 0 when empty.
   */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#buckets[i]!;
      if (seen >= rank) {
        if (i === 0) return Math.min(MIN_MS / 2, this.#max);
        if (i === BUCKETS - 1) return this.#max; // beyond the last bound: the largest seen
        const low = MIN_MS * GROWTH ** (i - 1);
        return Math.min(low * (1 + GROWTH) / 2, this.#max);
      }
    }
    return this.#max;
  }

  /**
   * Count, mean, median and 99th percentile.
   *
   * @returns The summary.
   */
  summary(): LatencySummary {
    return {
      count: this.#count,
      avg: this.#count === 0 ? 0 : this.#sum / this.#count,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
    };
  }
}

const STAT_PREFIX = "RPC_STAT_";
const LATENCY_PREFIX = "RPC_LATENCY_";
const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The running-info properties that carry a responder's counters and
 * per-topic handler latency.
 *
 * @param counters Counter name → value.
 * @param latency Topic → latency summary.
 * @returns Properties to merge into the running info.
 *
 * @example
 * ```ts
 * import { serviceStatsProperties } from "./service_stats.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   serviceStatsProperties({ handled: 3 }, { rpc: { count: 3, avg: 1.5, p50: 1.4, p99: 2.1 } }),
 *   { RPC_STAT_handled: "3", RPC_LATENCY_rpc: "count=3 avg=1.5 p50=1.4 p99=2.1" },
 * );
 * ```
 */
export function serviceStatsProperties(
  counters: Readonly<Record<string, number>>,
  latency: Readonly<Record<string, LatencySummary>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(counters)) out[STAT_PREFIX + name] = String(value);
  for (const [topic, s] of Object.entries(latency)) {
    out[LATENCY_PREFIX + topic] = `count=${s.count} avg=${round(s.avg)} p50=${round(s.p50)} p99=${
      round(s.p99)
    }`;
  }
  return out;
}

/**
 * Read a responder's counters and latency back from running-info
 * properties; what is absent or malformed is left out.
 *
 * @param properties The running info's properties.
 * @returns Counters and per-topic latency (empty for clients that do not report them, Java's).
 *
 * @example
 * ```ts
 * import { parseServiceStats } from "./service_stats.ts";
 * import assert from "node:assert/strict";
 *
 * const stats = parseServiceStats({ RPC_STAT_handled: "7", consumeThreadMax: "20", RPC_STAT_bad: "x" });
 * assert.deepEqual(stats, { counters: { handled: 7 }, latency: {} });
 * ```
 */
export function parseServiceStats(
  properties: Readonly<Record<string, string>>,
): { counters: Record<string, number>; latency: Record<string, LatencySummary> } {
  const counters: Record<string, number> = {};
  const latency: Record<string, LatencySummary> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (key.startsWith(STAT_PREFIX)) {
      const n = Number(value);
      if (value !== "" && Number.isFinite(n)) counters[key.slice(STAT_PREFIX.length)] = n;
    } else if (key.startsWith(LATENCY_PREFIX)) {
      const fields = Object.fromEntries(
        value.split(" ").map((part) => part.split("=") as [string, string]),
      );
      const s = {
        count: Number(fields.count),
        avg: Number(fields.avg),
        p50: Number(fields.p50),
        p99: Number(fields.p99),
      };
      if (Object.values(s).every((n) => Number.isFinite(n))) {
        latency[key.slice(LATENCY_PREFIX.length)] = s;
      }
    }
  }
  return { counters, latency };
}
