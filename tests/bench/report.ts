// Result types of `deno task bench` and their rendering: a markdown report
// (bench/results/latest.md) and a hand-made SVG chart (latest.svg), with no
// plotting dependency.

/** Outcome of one measurement. */
export type Status = "ok" | "skipped" | "failed";

/** Latency figures (ms). */
export interface Latency {
  count: number;
  min?: number;
  mean?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  max?: number;
}

/** One request-reply scenario at one concurrency. */
export interface RrResult {
  id: string;
  label: string;
  client: "java" | "ours" | "nats";
  runtime: string;
  broker: "rocketmq" | "ours" | "nats";
  brokerLabel: string;
  concurrency: number;
  status: Status;
  reason?: string | undefined;
  note?: string | undefined;
  ok?: number | undefined;
  errors?: number | undefined;
  throughputPerSec?: number | undefined;
  latencyMs?: Latency | undefined;
  /** Requester CPU per 1,000 requests, from its own counters. */
  cpuMsPer1k?: number | undefined;
  /** Broker (RocketMQ: broker + name server) CPU per 1,000 requests, from /proc. */
  brokerCpuMsPer1k?: number | undefined;
  /** Responder CPU per 1,000 requests, from /proc. */
  responderCpuMsPer1k?: number | undefined;
  rssKb?: number | undefined;
  peakRssKb?: number | undefined;
  /** Whole machine CPU use during the run (all cores = 100). */
  machineBusyPct?: number | undefined;
}

/** Cold start of one client. */
export interface ColdStartResult {
  client: "java" | "ours";
  runtime: string;
  broker: "rocketmq" | "ours";
  status: Status;
  reason?: string;
  /** Median of the samples: spawn → first reply received. */
  coldStartMs?: number | undefined;
  samplesMs?: number[];
  /** Modules loaded (ours) or JVM started (Java) → first reply. */
  afterLoadMs?: number | undefined;
  peakRssKb?: number;
}

/** Send or pull throughput of one client. */
export interface ThroughputResult {
  kind: "send" | "pull";
  client: "java" | "ours";
  runtime: string;
  broker: "rocketmq" | "ours";
  status: Status;
  reason?: string;
  count?: number;
  throughputPerSec?: number;
  cpuMsPer1k?: number | undefined;
  brokerCpuMsPer1k?: number | undefined;
  rssKb?: number | undefined;
  latencyMs?: Latency | undefined;
  errors?: number;
}

/** One codec micro-benchmark. */
export interface CodecResult {
  name: string;
  avgNs: number;
  minNs: number;
  p99Ns: number;
  perSecond: number;
  mbPerSecond?: number | undefined;
}

/** Everything one run measured. */
export interface BenchResults {
  meta: {
    startedAt: string;
    mode: "quick" | "full";
    settings: Record<string, unknown>;
    machine: Record<string, unknown>;
    versions: Record<string, string>;
    wallSeconds: number;
    loadavgEnd?: number[];
  };
  requestReply: RrResult[];
  coldStart: ColdStartResult[];
  throughput: ThroughputResult[];
  codec: CodecResult[];
  notes: string[];
}

const f0 = (v: number | undefined) => v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(0);
const f2 = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? "–" : v < 10 ? v.toFixed(2) : v.toFixed(1);
const mib = (kb: number | undefined) => kb === undefined ? "–" : (kb / 1024).toFixed(0);
const ratio = (v: number | undefined, base: number | undefined) =>
  v === undefined || base === undefined || base === 0 ? "–" : `${(v / base).toFixed(2)}×`;

/** The baseline row (Java via RocketMQ) at a concurrency. */
function baseline(r: BenchResults, concurrency: number): RrResult | undefined {
  return r.requestReply.find((x) =>
    x.id === "java@rocketmq" && x.concurrency === concurrency && x.status === "ok"
  );
}

function rr(r: BenchResults, id: string, concurrency: number): RrResult | undefined {
  return r.requestReply.find((x) =>
    x.id === id && x.concurrency === concurrency && x.status === "ok"
  );
}

/** The NATS row of the same runtime at a concurrency. */
function nats(r: BenchResults, runtime: string, concurrency: number): RrResult | undefined {
  return rr(r, `nats-${runtime}`, concurrency);
}

/** CPU per request of requester + responder (+ broker), in µs, when all were measured. */
function cpuPerRequest(x: RrResult | undefined, withBroker: boolean): number | undefined {
  if (!x || x.cpuMsPer1k === undefined || x.responderCpuMsPer1k === undefined) return undefined;
  if (withBroker && x.brokerCpuMsPer1k === undefined) return undefined;
  return x.cpuMsPer1k + x.responderCpuMsPer1k + (withBroker ? x.brokerCpuMsPer1k! : 0);
}

/**
 * The markdown report.
 *
 * @param r The results.
 * @param before The run issue 14's CPU targets are measured against, when at hand.
 * @returns Markdown text.
 */
export function renderMarkdown(r: BenchResults, before?: BenchResults): string {
  const m = r.meta;
  const s = m.settings as Record<string, number | string | number[]>;
  const lines: string[] = [];
  lines.push(`# Request-reply benchmarks (${m.mode} mode)`);
  lines.push("");
  lines.push(
    `${m.startedAt} · ${m.machine.cpus} CPUs (${m.machine.cpuModel}), ${m.machine.memoryGiB} GiB · ` +
      `load average at start ${
        (m.machine.loadavgStart as number[] | undefined)?.map((x) => x.toFixed(1)).join(" ")
      }` +
      `${m.loadavgEnd ? `, at end ${m.loadavgEnd.map((x) => x.toFixed(1)).join(" ")}` : ""} · ` +
      `wall time ${m.wallSeconds} s`,
  );
  lines.push("");
  lines.push(
    `Versions: Deno ${m.versions.deno}, Bun ${m.versions.bun}, Node ${m.versions.node}, ` +
      `${m.versions.java}, RocketMQ ${m.versions.rocketmq}, NATS client ${m.versions.nats}.`,
  );
  lines.push("");
  lines.push(
    `Each scenario: warm-up ${s.warmupMs} ms (Java requesters: ${s.javaWarmupMs} ms, for the JIT), then ${s.durationMs} ms of closed-loop request-reply with ` +
      `${
        (s.concurrencies as number[]).join(", ")
      } requests in flight; ${s.bodySize}-byte requests, ` +
      `replies = the body reversed; topics of ${s.queues} queues; responders with ` +
      `${s.responderConcurrency} handlers. Every requester, responder and broker is its own process; Deno and Bun run our TypeScript as is, Node runs it bundled to one .mjs by deno bundle (as a JS build of the package would be). ` +
      `Ratios are against scenario 1 (Java ↔ Java via RocketMQ) at the same concurrency. ` +
      `CPU is per 1,000 requests: the requester's from its own counters (Java: OperatingSystemMXBean, ` +
      `ours/NATS: process.cpuUsage()), the responder's and the broker's from /proc (≈: sampled over ` +
      `warm-up + run). RSS is the requester's at the end. "Busy" is the whole machine's CPU use during ` +
      `the run (all cores = 100 %): well above what the scenario's processes use means other work was ` +
      `competing for the CPUs and the figures are pessimistic.`,
  );
  lines.push("");
  lines.push("## Request-reply");
  lines.push("");
  lines.push(
    "| # | scenario | broker | conc | req/s | p50 ms | p99 ms | p99.9 ms | req CPU ms/1k | resp CPU ≈ms/1k | broker CPU ≈ms/1k | RSS MiB | req/s vs Java | p50 vs Java | req/s vs NATS | p50 vs NATS | busy % |",
  );
  lines.push("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const order = [
    "java@rocketmq",
    "ours-deno@rocketmq",
    "ours-bun@rocketmq",
    "ours-node@rocketmq",
    "ours-deno@ours",
    "ours-bun@ours",
    "ours-node@ours",
    "java@ours",
    "nats-deno",
    "nats-bun",
    "nats-node",
  ];
  const number = (id: string) =>
    id === "java@rocketmq"
      ? "1"
      : id.endsWith("@rocketmq")
      ? "2"
      : id.endsWith("@ours")
      ? "3"
      : "4";
  const rows = [...r.requestReply].sort((a, b) =>
    (order.indexOf(a.id) - order.indexOf(b.id)) || a.concurrency - b.concurrency
  );
  for (const x of rows) {
    const name = `${
      x.client === "java" ? "Java" : x.client === "nats" ? "NATS (nats.js)" : "ours"
    }${x.runtime === "java" ? "" : ` / ${x.runtime}`}`;
    if (x.status !== "ok") {
      lines.push(
        `| ${number(x.id)} | ${name} | ${x.brokerLabel} | ${x.concurrency} | **${x.status}**: ${
          (x.reason ?? "").replaceAll("|", "\\|")
        } | | | | | | | | | | | | |`,
      );
      continue;
    }
    const b = baseline(r, x.concurrency);
    // Ours and Java against NATS on the same runtime (Java: against NATS on Deno).
    const n = x.client === "nats"
      ? undefined
      : nats(r, x.runtime === "java" ? "deno" : x.runtime, x.concurrency);
    const l = x.latencyMs ?? { count: 0 };
    lines.push(
      `| ${number(x.id)} | ${name} | ${x.brokerLabel} | ${x.concurrency} | ${
        f0(x.throughputPerSec)
      } | ${f2(l.p50)} | ${f2(l.p99)} | ${f2(l.p999)} | ${f0(x.cpuMsPer1k)} | ${
        f0(x.responderCpuMsPer1k)
      } | ${f0(x.brokerCpuMsPer1k)} | ${mib(x.rssKb)} | ${
        ratio(x.throughputPerSec, b?.throughputPerSec)
      } | ${ratio(l.p50, b?.latencyMs?.p50)} | ${
        ratio(x.throughputPerSec, n?.throughputPerSec)
      } | ${ratio(l.p50, n?.latencyMs?.p50)} | ${x.machineBusyPct ?? "–"} |`,
    );
  }
  const withErrors = rows.filter((x) => x.status === "ok" && (x.errors ?? 0) > 0);
  for (const x of withErrors) {
    lines.push("");
    lines.push(
      `- ${x.id} c=${x.concurrency}: ${x.errors} failed requests${x.note ? ` (${x.note})` : ""}`,
    );
  }

  lines.push("");
  lines.push("## Targets (reported, not asserted)");
  lines.push("");
  lines.push("| target | concurrency | measured | met |");
  lines.push("|---|---:|---|:---:|");
  const concs = (s.concurrencies as number[]) ?? [1, 16, 128];
  for (const c of concs) {
    const j = rr(r, "java@rocketmq", c);
    for (const rt of ["deno", "bun", "node"]) {
      const o = rr(r, `ours-${rt}@rocketmq`, c);
      if (!j || !o) continue;
      const tr = o.throughputPerSec! / j.throughputPerSec!;
      lines.push(
        `| ours/${rt} via RocketMQ: throughput ≥ 1.2× Java's | ${c} | ${tr.toFixed(2)}× | ${
          tr >= 1.2 ? "yes" : "**no**"
        } |`,
      );
      const pr = o.latencyMs!.p50! / j.latencyMs!.p50!;
      lines.push(
        `| ours/${rt} via RocketMQ: p50 ≤ Java's | ${c} | ${f2(o.latencyMs!.p50)} vs ${
          f2(j.latencyMs!.p50)
        } ms | ${pr <= 1 ? "yes" : "**no**"} |`,
      );
    }
  }
  for (const c of concs) {
    for (const rt of ["deno", "bun", "node"]) {
      const o = rr(r, `ours-${rt}@ours`, c);
      const n = rr(r, `nats-${rt}`, c);
      const real = rr(r, `ours-${rt}@rocketmq`, c);
      if (o && n) {
        const q = o.latencyMs!.p50! / n.latencyMs!.p50!;
        lines.push(
          `| ours/${rt} via our broker: p50 ≤ 2× NATS (${rt}) | ${c} | ${f2(o.latencyMs!.p50)} vs ${
            f2(n.latencyMs!.p50)
          } ms (${q.toFixed(2)}×) | ${q <= 2 ? "yes" : "**no**"} |`,
        );
      }
      if (o && real) {
        const q = o.latencyMs!.p50! / real.latencyMs!.p50!;
        lines.push(
          `| ours/${rt} via our broker: p50 ≤ 1/10 of via RocketMQ | ${c} | ${
            f2(o.latencyMs!.p50)
          } vs ${f2(real.latencyMs!.p50)} ms (${q.toFixed(2)}×) | ${q <= 0.1 ? "yes" : "**no**"} |`,
        );
      }
    }
  }
  for (const x of r.coldStart) {
    if (x.status !== "ok" || x.client !== "ours" || x.broker !== "ours") continue;
    lines.push(
      `| ours/${x.runtime}: cold start < 100 ms on our broker | – | ${x.coldStartMs} ms | ${
        (x.coldStartMs ?? Infinity) < 100 ? "yes" : "**no**"
      } |`,
    );
  }
  // Issue 14 (a third of the CPU per request, toward NATS).
  for (const rt of ["deno", "bun", "node"]) {
    const total = cpuPerRequest(rr(r, `ours-${rt}@ours`, 16), true);
    if (total !== undefined) {
      lines.push(
        `| ours/${rt} via our broker: CPU per request (requester + responder + broker) ≤ 130 µs | 16 | ${
          f0(total)
        } µs | ${total <= 130 ? "yes" : "**no**"} |`,
      );
    }
    const o = rr(r, `ours-${rt}@ours`, 128);
    const n = nats(r, rt, 128);
    if (o && n) {
      const q = o.throughputPerSec! / n.throughputPerSec!;
      lines.push(
        `| ours/${rt} via our broker: throughput ≥ 0.5× NATS (${rt}) | 128 | ${q.toFixed(2)}× | ${
          q >= 0.5 ? "yes" : "**no**"
        } |`,
      );
    }
    for (const c of concs) {
      const now = cpuPerRequest(rr(r, `ours-${rt}@rocketmq`, c), false);
      const then = cpuPerRequest(before && rr(before, `ours-${rt}@rocketmq`, c), false);
      if (now !== undefined && then !== undefined) {
        lines.push(
          `| ours/${rt} via RocketMQ: requester + responder CPU ≤ ½ of ${
            before!.meta.startedAt.slice(0, 10)
          }'s | ${c} | ${f0(now)} vs ${f0(then)} µs (${(now / then).toFixed(2)}×) | ${
            now <= then / 2 ? "yes" : "**no**"
          } |`,
        );
      }
      const j = rr(r, "java@rocketmq", c);
      const o2 = rr(r, `ours-${rt}@rocketmq`, c);
      if (j && o2) {
        const q = o2.throughputPerSec! / j.throughputPerSec!;
        lines.push(
          `| ours/${rt} via RocketMQ: throughput ≥ 2× Java's | ${c} | ${q.toFixed(2)}× | ${
            q >= 2 ? "yes" : "**no**"
          } |`,
        );
      }
    }
  }

  lines.push("");
  lines.push("## Cold start: process start → first reply");
  lines.push("");
  lines.push(
    "Spawned by the runner with a responder already running; median of the timed runs after one untimed run (warm caches).",
  );
  lines.push("");
  lines.push(
    "| client | broker | cold start ms (median) | samples | after modules loaded / JVM start | peak RSS MiB |",
  );
  lines.push("|---|---|---:|---|---:|---:|");
  for (const x of r.coldStart) {
    const name = x.client === "java" ? "Java" : `ours / ${x.runtime}`;
    const broker = x.broker === "ours" ? "our broker" : "RocketMQ 5.5.0";
    if (x.status !== "ok") {
      lines.push(`| ${name} | ${broker} | **${x.status}**: ${x.reason ?? ""} | | | |`);
      continue;
    }
    lines.push(
      `| ${name} | ${broker} | ${x.coldStartMs} | ${x.samplesMs?.join(", ")} | ${
        x.afterLoadMs ?? "–"
      } | ${mib(x.peakRssKb)} |`,
    );
  }

  lines.push("");
  lines.push("## Send and pull throughput (1 KiB messages)");
  lines.push("");
  lines.push(
    `Send: ${s.sendCount} pipelined sends (${s.sendInflight} in flight; ours: Producer.send, Java: ` +
      `send with SendCallback). Pull: a push consumer draining a backlog of ${s.backlog} messages ` +
      `(first message → last).`,
  );
  lines.push("");
  lines.push(
    "| kind | client | broker | msg/s | client CPU ms/1k | broker CPU ms/1k | RSS MiB | vs Java |",
  );
  lines.push("|---|---|---|---:|---:|---:|---:|---:|");
  for (const x of r.throughput) {
    const name = x.client === "java" ? "Java" : `ours / ${x.runtime}`;
    const broker = x.broker === "ours" ? "our broker" : "RocketMQ 5.5.0";
    if (x.status !== "ok") {
      lines.push(
        `| ${x.kind} | ${name} | ${broker} | **${x.status}**: ${x.reason ?? ""} | | | | |`,
      );
      continue;
    }
    const java = r.throughput.find((y) =>
      y.kind === x.kind && y.broker === x.broker && y.client === "java" && y.status === "ok"
    );
    lines.push(
      `| ${x.kind} | ${name} | ${broker} | ${f0(x.throughputPerSec)} | ${f0(x.cpuMsPer1k)} | ${
        f0(x.brokerCpuMsPer1k)
      } | ${mib(x.rssKb)} | ${ratio(x.throughputPerSec, java?.throughputPerSec)} |`,
    );
  }

  if (r.codec.length > 0) {
    lines.push("");
    lines.push("## Codec (deno bench tests/bench/codec_bench.ts)");
    lines.push("");
    lines.push("| benchmark | avg µs | min µs | p99 µs | per second | MB/s |");
    lines.push("|---|---:|---:|---:|---:|---:|");
    for (const x of r.codec) {
      lines.push(
        `| ${x.name} | ${f2(x.avgNs / 1000)} | ${f2(x.minNs / 1000)} | ${f2(x.p99Ns / 1000)} | ${
          f0(x.perSecond)
        } | ${x.mbPerSecond === undefined ? "–" : f0(x.mbPerSecond)} |`,
      );
    }
  }
  if (r.notes.length > 0) {
    lines.push("");
    lines.push("## Notes");
    lines.push("");
    for (const n of r.notes) lines.push(`- ${n}`);
  }
  lines.push("");
  return lines.join("\n");
}

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"];

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** A grouped bar chart panel. */
function panel(
  x: number,
  y: number,
  width: number,
  height: number,
  title: string,
  axis: string,
  groups: string[],
  series: { name: string; values: (number | undefined)[] }[],
  log: boolean,
): string {
  const out: string[] = [];
  const left = 70, bottom = 80, top = 28;
  const plotW = width - left - 50;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && v > 0);
  const max = all.length ? Math.max(...all) : 1;
  const min = all.length ? Math.min(...all) : 1;
  const lo = log ? Math.pow(10, Math.floor(Math.log10(min))) : 0;
  const hi = log ? Math.pow(10, Math.ceil(Math.log10(max))) : niceCeil(max);
  const scale = (v: number) =>
    log
      ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
      : v / hi;
  out.push(`<g transform="translate(${x},${y})">`);
  out.push(
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="14" font-weight="bold">${
      esc(title)
    }</text>`,
  );
  // axis and grid
  const ticks: number[] = [];
  if (log) { for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t); }
  else for (let i = 0; i <= 5; i++) ticks.push((hi / 5) * i);
  for (const t of ticks) {
    const ty = top + plotH - scale(t) * plotH;
    out.push(`<line x1="${left}" y1="${ty}" x2="${left + plotW}" y2="${ty}" stroke="#ddd"/>`);
    out.push(
      `<text x="${left - 6}" y="${ty + 4}" text-anchor="end" font-size="10">${
        t >= 1000 ? `${+(t / 1000).toFixed(1)}k` : +t.toPrecision(3)
      }</text>`,
    );
  }
  out.push(
    `<text transform="translate(14,${
      top + plotH / 2
    }) rotate(-90)" text-anchor="middle" font-size="11">${esc(axis)}</text>`,
  );
  out.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${
      top + plotH
    }" stroke="#333"/>`,
  );
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  const gw = plotW / Math.max(1, groups.length);
  const bw = Math.min(18, (gw - 8) / Math.max(1, series.length));
  groups.forEach((g, gi) => {
    const gx = left + gi * gw + (gw - bw * series.length) / 2;
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined || !(v > 0)) {
        out.push(
          `<text x="${gx + si * bw + bw / 2}" y="${
            top + plotH - 4
          }" text-anchor="middle" font-size="9" fill="#999">–</text>`,
        );
        return;
      }
      const h = scale(v) * plotH;
      out.push(
        `<rect x="${gx + si * bw}" y="${top + plotH - h}" width="${bw - 1}" height="${h}" fill="${
          COLORS[si % COLORS.length]
        }"><title>${esc(`${g} — ${s.name}: ${+v.toPrecision(4)}`)}</title></rect>`,
      );
    });
    const lx = left + gi * gw + gw / 2;
    out.push(
      `<text transform="translate(${lx},${top + plotH + 10}) rotate(35)" font-size="10">${
        esc(g)
      }</text>`,
    );
  });
  // legend
  series.forEach((s, si) => {
    const lx = left + 10 + si * 110;
    out.push(
      `<rect x="${lx}" y="${top + 2}" width="10" height="10" fill="${
        COLORS[si % COLORS.length]
      }"/>`,
    );
    out.push(`<text x="${lx + 14}" y="${top + 11}" font-size="10">${esc(s.name)}</text>`);
  });
  out.push(`</g>`);
  return out.join("\n");
}

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * The SVG chart: throughput per scenario and concurrency, and latency
 * percentiles per scenario at each concurrency (log scale).
 *
 * @param r The results.
 * @returns SVG text.
 */
export function renderSvg(r: BenchResults): string {
  const ids = [...new Set(r.requestReply.map((x) => x.id))];
  const label = (id: string) => id.replace("@rocketmq", " @RMQ").replace("@ours", " @ours");
  const concs = [...new Set(r.requestReply.map((x) => x.concurrency))].sort((a, b) => a - b);
  const width = Math.max(900, 120 + ids.length * 70);
  const ph = 300;
  const parts: string[] = [];
  parts.push(
    panel(
      0,
      40,
      width,
      ph,
      "Throughput (requests/s, higher is better)",
      "req/s",
      ids.map(label),
      concs.map((c) => ({
        name: `${c} in flight`,
        values: ids.map((id) => rr(r, id, c)?.throughputPerSec),
      })),
      false,
    ),
  );
  concs.forEach((c, i) => {
    parts.push(
      panel(
        0,
        40 + ph * (i + 1),
        width,
        ph,
        `Latency at ${c} in flight (ms, log scale, lower is better)`,
        "ms",
        ids.map(label),
        [
          { name: "p50", values: ids.map((id) => rr(r, id, c)?.latencyMs?.p50) },
          { name: "p99", values: ids.map((id) => rr(r, id, c)?.latencyMs?.p99) },
          { name: "p99.9", values: ids.map((id) => rr(r, id, c)?.latencyMs?.p999) },
        ],
        true,
      ),
    );
  });
  const height = 40 + ph * (concs.length + 1) + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${
      esc(
        `rocketmq-rpc request-reply benchmarks (${r.meta.mode}, ${r.meta.startedAt.slice(0, 16)})`,
      )
    }</text>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}
