// deno-lint-ignore-file no-console
/**
 * `deno task bench`: request-reply benchmarks side by side with the real
 * thing, in one run (issue #6). Quick mode by default (about 5 minutes);
 * `deno task bench --full` runs longer and repeats cold starts (about 15).
 *
 * Scenarios (each: warm-up, then a fixed duration, at 1, 16 and 128 requests
 * in flight; the requester always runs in its own process):
 *
 * 1. the official Java requester + Java responder via real RocketMQ 5.5.0 (the baseline);
 * 2. our requester + responder via the same real broker, on Deno, Bun and Node;
 * 3. our requester + responder via OUR broker (its own process), on Deno, Bun
 *    and Node; and the Java pair via our broker;
 * 4. NATS core request-reply with nats.js against the NATS server on
 *    127.0.0.1:4222 (the speed reference), on Deno, Bun and Node.
 *
 * Also: cold start (process start → first reply), send throughput (pipelined
 * sends of 1 KiB) and pull-path throughput (a push consumer draining a backlog
 * of 1 KiB messages) for our client and the Java client on both brokers, and
 * the codec micro-benchmarks (tests/bench/codec_bench.ts).
 *
 * Writes bench/results/<timestamp>.json, bench/results/latest.json,
 * bench/results/latest.md and bench/results/latest.svg. A scenario that
 * cannot run is reported as skipped with the reason, never left out.
 *
 *   deno task bench [--full] [--only rr,cold,send,pull,codec] [--runtimes deno,bun,node]
 *                   [--scenarios java@rocketmq,ours-deno@ours,...] [--no-write]
 *
 * @module
 */

import {
  queryRoute,
  remotingCall,
  type RocketMQCluster,
  runJavaProducer,
  runJavaRequester,
  startJavaConsumer,
  startJavaResponder,
  startRocketMQ,
  uniqueName,
} from "../interop/harness.ts";
import { renderMarkdown, renderSvg } from "./report.ts";
import type {
  BenchResults,
  CodecResult,
  ColdStartResult,
  RrResult,
  Status,
  ThroughputResult,
} from "./report.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const TOOLS_BIN = `${ROOT}/.tools/node_modules/.bin`;
const TSX_LOADER = `${ROOT}/.tools/node_modules/tsx/dist/loader.mjs`;
const BENCH_DEPS = `${ROOT}/.cache/bench`;
const NATS_PACKAGE = "@nats-io/transport-node@3.4.0";
const NATS_SERVER = "127.0.0.1:4222";
const RESULTS_DIR = `${ROOT}/bench/results`;
const ENV_PATH = `${TOOLS_BIN}:${Deno.env.get("PATH") ?? ""}`;

type Runtime = "deno" | "bun" | "node";
const ALL_RUNTIMES: readonly Runtime[] = ["deno", "bun", "node"];

// ---- options --------------------------------------------------------------------------------------

interface Settings {
  mode: "quick" | "full";
  warmupMs: number;
  /** The JVMs (requester, responder and the RocketMQ broker) need longer to reach steady state. */
  javaWarmupMs: number;
  durationMs: number;
  concurrencies: number[];
  bodySize: number;
  queues: number;
  responderConcurrency: number;
  coldRepeats: number;
  backlog: number;
  sendCount: number;
  sendInflight: number;
}

function parseCli(argv: string[]) {
  const out = {
    full: false,
    only: undefined as Set<string> | undefined,
    runtimes: [...ALL_RUNTIMES] as Runtime[],
    scenarios: undefined as Set<string> | undefined,
    write: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--full") out.full = true;
    else if (a === "--quick") out.full = false;
    else if (a === "--no-write") out.write = false;
    else if (a.startsWith("--only")) out.only = new Set(value().split(","));
    else if (a.startsWith("--scenarios")) out.scenarios = new Set(value().split(","));
    else if (a.startsWith("--runtimes")) {
      out.runtimes = value().split(",").map((r) => {
        if (!ALL_RUNTIMES.includes(r as Runtime)) throw new Error(`unknown runtime ${r}`);
        return r as Runtime;
      });
    } else if (a === "--help" || a === "-h") {
      console.log(
        "deno task bench [--full] [--only rr,cold,send,pull,codec] [--runtimes deno,bun,node] " +
          "[--scenarios id,...] [--no-write]",
      );
      Deno.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

const cli = parseCli(Deno.args);
const settings: Settings = cli.full
  ? {
    mode: "full",
    warmupMs: 3000,
    javaWarmupMs: 15_000,
    durationMs: 10_000,
    concurrencies: [1, 16, 128],
    bodySize: 64,
    queues: 4,
    responderConcurrency: 20,
    coldRepeats: 5,
    backlog: 100_000,
    sendCount: 100_000,
    sendInflight: 128,
  }
  : {
    mode: "quick",
    warmupMs: 1000,
    javaWarmupMs: 5000,
    durationMs: 3000,
    concurrencies: [1, 16, 128],
    bodySize: 64,
    queues: 4,
    responderConcurrency: 20,
    coldRepeats: 2,
    backlog: 30_000,
    sendCount: 30_000,
    sendInflight: 128,
  };
const wants = (part: string) => cli.only === undefined || cli.only.has(part);
const wantsScenario = (id: string) => cli.scenarios === undefined || cli.scenarios.has(id);

// ---- small utilities ------------------------------------------------------------------------------

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s`;
function log(line: string): void {
  console.log(`[${elapsed()}] ${line}`);
}

function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0]!.slice(0, 300);
}

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of ENV_PATH.split(":")) {
    if (!dir) continue;
    try {
      const info = await Deno.stat(`${dir}/${cmd}`);
      if (info.isFile) return `${dir}/${cmd}`;
    } catch { /* not here */ }
  }
  return undefined;
}

async function capture(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      env: { PATH: ENV_PATH },
    }).output();
    const dec = new TextDecoder();
    return (dec.decode(out.stdout) + dec.decode(out.stderr)).trim();
  } catch (err) {
    return `unavailable (${describe(err)})`;
  }
}

/**
 * The run issue 14's CPU targets are measured against: the quick run on main
 * when the issue was filed (2026-12-04, a quiet machine).
 */
const ISSUE_14_BEFORE = `${RESULTS_DIR}/2026-12-04T12-52-30-646Z.json`;

async function loadBefore(): Promise<BenchResults | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(ISSUE_14_BEFORE));
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Machine-wide CPU time used (not idle), in ms, from /proc/stat. */
async function machineBusyMs(): Promise<number | undefined> {
  try {
    const line = (await Deno.readTextFile("/proc/stat")).split("\n")[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [
      user = 0,
      nice = 0,
      system = 0,
      _idle = 0,
      _iowait = 0,
      irq = 0,
      softirq = 0,
      steal = 0,
    ] = f;
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, all threads) of a process, in ms, from /proc/<pid>/stat. */
async function pidCpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in 1/100 s
  } catch {
    return undefined;
  }
}

/** Pids of processes whose command line contains every needle. */
async function findPids(...needles: string[]): Promise<number[]> {
  const out: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmd = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).replaceAll("\0", " ");
      if (needles.every((n) => cmd.includes(n))) out.push(Number(entry.name));
    } catch { /* gone */ }
  }
  return out;
}

// ---- child processes ------------------------------------------------------------------------------

const children = new Set<Child>();

/** A process this runner started, with its JSON stdout lines. */
class Child {
  readonly name: string;
  readonly process: Deno.ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stderr: string[] = [];
  readonly #text: string[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  readonly #waiters = new Set<() => void>();
  #exited = false;

  constructor(name: string, cmd: string, args: string[], cwd = ROOT) {
    this.name = name;
    this.process = new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { PATH: ENV_PATH },
    }).spawn();
    children.add(this);
    this.#stdin = this.process.stdin.getWriter();
    const lines = async (stream: ReadableStream<Uint8Array>, sink: (line: string) => void) => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          sink(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
        }
      }
      if (rest) sink(rest);
    };
    const out = lines(this.process.stdout, (line) => {
      const trimmed = line.trim();
      if (trimmed.startsWith("{")) {
        try {
          this.events.push(JSON.parse(trimmed));
        } catch {
          this.#text.push(line);
        }
      } else if (trimmed) this.#text.push(line);
      this.#wake();
    });
    const err = lines(this.process.stderr, (line) => {
      this.#stderr.push(line);
      if (this.#stderr.length > 200) this.#stderr.shift();
    });
    const proc = this.process;
    this.status = (async () => {
      const status = await proc.status;
      await Promise.allSettled([out, err]);
      this.#exited = true;
      children.delete(this);
      this.#wake();
      return status;
    })();
  }

  get pid(): number {
    return this.process.pid;
  }

  get text(): readonly string[] {
    return this.#text;
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  tail(n = 15): string {
    return [...this.#text.slice(-5), ...this.#stderr.slice(-n)].join("\n");
  }

  /** Waits until `test` is true, the process exits, or the time is up. */
  async until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (this.#exited) {
        throw new Error(
          `${this.name} exited before ${what}: ${this.tail(5).replaceAll("\n", " | ")}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 1000));
        this.#waiters.add(done);
      });
    }
  }

  async event(name: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const find = () => this.events.find((e) => e.event === name || e.event === "fatal");
    await this.until(() => find() !== undefined, timeoutMs, `"${name}" line`);
    const e = find()!;
    if (e.event === "fatal") throw new Error(`${this.name}: ${String(e.error)}`);
    return e;
  }

  /** Closes stdin, SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    await this.#stdin.close().catch(() => {});
    if (!this.#exited) {
      try {
        this.process.kill("SIGTERM");
      } catch { /* gone */ }
    }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch { /* gone */ }
    }, graceMs);
    await this.status;
    clearTimeout(timer);
  }
}

globalThis.addEventListener("unload", () => {
  for (const child of children) {
    try {
      child.process.kill("SIGKILL");
    } catch { /* gone */ }
  }
});
Deno.addSignalListener("SIGINT", () => {
  for (const child of children) {
    try {
      child.process.kill("SIGTERM");
    } catch { /* gone */ }
  }
  Deno.exit(130);
});

function tsCommand(runtime: Runtime, script: string, args: string[]): [string, string[]] {
  const path = `${ROOT}/tests/bench/${script}`;
  switch (runtime) {
    case "deno":
      return ["deno", ["run", "-A", path, ...args]];
    case "bun":
      return ["bun", [path, ...args]];
    case "node": {
      const bundle = nodeBundles.get(script);
      if (bundle) return ["node", [bundle, ...args]];
      return ["node", ["--import", `file://${TSX_LOADER}`, path, ...args]];
    }
  }
}

/**
 * Our programs as Node runs them in production: one JavaScript file (what a
 * JS build of the package gives), made by `deno bundle`. Through tsx, Node
 * would spend about 600 ms transpiling at every start, which is not our
 * client's start-up. Scripts that could not be bundled run through tsx.
 */
const nodeBundles = new Map<string, string>();
const NODE_BUNDLED = ["requester.ts", "responder.ts", "throughput.ts"];

async function bundleForNode(): Promise<void> {
  const dir = `${ROOT}/bench/results/tmp/node`;
  await Deno.mkdir(dir, { recursive: true });
  for (const script of NODE_BUNDLED) {
    const out = `${dir}/${script.replace(/\.ts$/, ".mjs")}`;
    // The Deno running this script: no PATH lookup that could throw.
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "deno", "-o", out, `${ROOT}/tests/bench/${script}`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code === 0) {
      nodeBundles.set(script, out);
    } else {
      log(
        `node: ${script} could not be bundled, runs through tsx: ${
          new TextDecoder().decode(stderr).trim().split("\n").at(-1)
        }`,
      );
    }
  }
}

function spawnTs(runtime: Runtime, script: string, args: string[], name?: string): Child {
  const [cmd, full] = tsCommand(runtime, script, [...args, "--stdin-watch"]);
  return new Child(name ?? `${script.replace(/\.ts$/, "")}(${runtime})`, cmd, full);
}

/** Runs a TS bench program to completion and returns its summary line. */
async function runTs(
  runtime: Runtime,
  script: string,
  args: string[],
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const child = spawnTs(runtime, script, args);
  try {
    return await child.event("summary", timeoutMs);
  } finally {
    await child.stop(2000);
  }
}

// ---- brokers ---------------------------------------------------------------------------------------

interface BrokerTarget {
  kind: "ours" | "rocketmq";
  label: string;
  nameServer: string;
  /** Pids whose CPU counts as the broker's (RocketMQ: broker + name server). */
  pids: number[];
  createTopic(topic: string): Promise<void>;
  stop(): Promise<void>;
}

async function startOurBroker(): Promise<BrokerTarget> {
  const child = new Child("our broker", "deno", [
    "run",
    "-A",
    `${ROOT}/src/broker/cli.ts`,
    "--port",
    "0",
    "--log-level",
    "warn",
  ]);
  let address: string | undefined;
  await child.until(
    () => {
      const m = child.text.map((l) => /listening on (\S+)/.exec(l)).find((x) => x);
      address = m?.[1];
      return address !== undefined;
    },
    30_000,
    "listening line",
  );
  const nameServer = address!;
  return {
    kind: "ours",
    label: "our broker (Deno)",
    nameServer,
    pids: [child.pid],
    async createTopic(topic) {
      const r = await remotingCall(nameServer, 17, {
        topic,
        defaultTopic: "TBW102",
        readQueueNums: String(settings.queues),
        writeQueueNums: String(settings.queues),
        perm: "6",
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: "0",
        order: "false",
      });
      if (r.code !== 0) {
        throw new Error(`creating ${topic} on our broker: code ${r.code} ${r.remark}`);
      }
      for (let i = 0; i < 100 && !(await queryRoute(nameServer, topic)); i++) await sleep(50);
    },
    stop: () => child.stop(),
  };
}

async function startRealBroker(): Promise<BrokerTarget & { cluster: RocketMQCluster }> {
  const cluster = await startRocketMQ({ line: "5", brokerHeapMb: 1024 });
  const pids = [
    ...await findPids(cluster.baseDir, "BrokerStartup"),
    ...await findPids(cluster.baseDir, "NamesrvStartup"),
  ];
  return {
    kind: "rocketmq",
    label: `RocketMQ ${cluster.version}`,
    nameServer: cluster.nameServer,
    pids,
    cluster,
    async createTopic(topic) {
      await cluster.createTopic(topic, { queues: settings.queues });
    },
    stop: () => cluster.stop(),
  };
}

// ---- scenario plumbing -----------------------------------------------------------------------------

interface Responder {
  pid: number;
  stop(): Promise<void>;
}

interface ScenarioDef {
  id: string;
  label: string;
  client: "java" | "ours" | "nats";
  runtime: Runtime | "java";
  broker: "rocketmq" | "ours" | "nats";
  brokerLabel: string;
}

const results: BenchResults = {
  meta: {
    startedAt: new Date().toISOString(),
    mode: settings.mode,
    settings: { ...settings },
    machine: {},
    versions: {},
    wallSeconds: 0,
  },
  requestReply: [],
  coldStart: [],
  throughput: [],
  codec: [],
  notes: [],
};

function record(def: ScenarioDef, concurrency: number, r: Partial<RrResult>): void {
  const row: RrResult = {
    id: def.id,
    label: def.label,
    client: def.client,
    runtime: def.runtime,
    broker: def.broker,
    brokerLabel: def.brokerLabel,
    concurrency,
    status: "ok",
    ...r,
  };
  results.requestReply.push(row);
  if (row.status !== "ok") {
    log(`  ${def.id} c=${concurrency}: ${row.status.toUpperCase()} — ${row.reason}`);
  } else {
    const l = row.latencyMs!;
    log(
      `  ${def.id} c=${concurrency}: ${row.throughputPerSec!.toFixed(0)} req/s, p50 ${l.p50} ms, ` +
        `p99 ${l.p99} ms, p99.9 ${l.p999} ms, CPU ${row.cpuMsPer1k?.toFixed(0)} ms/1k, ` +
        `RSS ${((row.rssKb ?? 0) / 1024).toFixed(0)} MiB${
          row.errors ? `, ${row.errors} errors` : ""
        }`,
    );
  }
}

function skipAll(def: ScenarioDef, status: Status, reason: string): void {
  for (const c of settings.concurrencies) record(def, c, { status, reason });
}

/** Runs one request-reply scenario at every concurrency, around the measurement of each. */
async function runScenario(
  def: ScenarioDef,
  startResponder: () => Promise<Responder>,
  runRequester: (concurrency: number) => Promise<Partial<RrResult>>,
  serverPids: number[],
): Promise<void> {
  if (!wantsScenario(def.id)) return;
  log(`${def.id}: ${def.label}`);
  const warmupMs = def.client === "java" ? settings.javaWarmupMs : settings.warmupMs;
  let responder: Responder;
  try {
    responder = await startResponder();
  } catch (err) {
    skipAll(def, "failed", `responder did not start: ${describe(err)}`);
    return;
  }
  try {
    for (const concurrency of settings.concurrencies) {
      const busy0 = await machineBusyMs();
      const server0 = await Promise.all(serverPids.map(pidCpuMs));
      const resp0 = await pidCpuMs(responder.pid);
      const w0 = performance.now();
      try {
        const r = await runRequester(concurrency);
        const wall = performance.now() - w0;
        const busy1 = await machineBusyMs();
        const server1 = await Promise.all(serverPids.map(pidCpuMs));
        const resp1 = await pidCpuMs(responder.pid);
        const ok = r.ok ?? 0;
        const serverCpu = server1.reduce<number>(
          (sum, v, i) => sum + ((v ?? 0) - (server0[i] ?? 0)),
          0,
        );
        // Both are whole-process deltas over warm-up + run: a rate per request of the run.
        const per1k = (ms: number) =>
          ok > 0 ? (ms / (ok * (1 + warmupMs / settings.durationMs))) * 1000 : undefined;
        const extra: Partial<RrResult> = {
          machineBusyPct: busy0 !== undefined && busy1 !== undefined
            ? Math.round(((busy1 - busy0) / wall) * 100 / navigator.hardwareConcurrency)
            : undefined,
        };
        if (serverPids.length > 0) extra.brokerCpuMsPer1k = per1k(serverCpu);
        if (resp0 !== undefined && resp1 !== undefined) {
          extra.responderCpuMsPer1k = per1k(resp1 - resp0);
        }
        record(def, concurrency, { ...r, ...extra });
      } catch (err) {
        record(def, concurrency, { status: "failed", reason: describe(err) });
      }
    }
  } finally {
    await responder.stop().catch(() => {});
  }
}

function fromSummary(s: Record<string, unknown>): Partial<RrResult> {
  const latency = s.latencyMs as RrResult["latencyMs"];
  const ok = Number(s.ok ?? 0);
  const errors = Number(s.errors ?? 0) + Number(s.mismatches ?? 0);
  const out: Partial<RrResult> = {
    ok,
    errors,
    throughputPerSec: Number(s.throughputPerSec ?? 0),
    latencyMs: latency,
    cpuMsPer1k: s.cpuMsPer1k === undefined || s.cpuMsPer1k === null
      ? undefined
      : Number(s.cpuMsPer1k),
    rssKb: s.rssKb === undefined ? undefined : Number(s.rssKb),
    peakRssKb: s.peakRssKb === undefined ? undefined : Number(s.peakRssKb),
  };
  if (ok === 0) {
    out.status = "failed";
    out.reason = `no successful request (${String(s.firstError ?? `${errors} errors`)})`;
  } else if (errors > 0 && s.firstError) out.note = `first error: ${String(s.firstError)}`;
  return out;
}

// ---- the scenarios ----------------------------------------------------------------------------------

function ourResponder(runtime: Runtime, broker: BrokerTarget, topic: string) {
  return async (): Promise<Responder> => {
    const child = spawnTs(runtime, "responder.ts", [
      "--namesrv",
      broker.nameServer,
      "--topic",
      topic,
      "--concurrency",
      String(settings.responderConcurrency),
      "--queues",
      String(settings.queues),
    ]);
    try {
      await child.event("ready", 90_000);
    } catch (err) {
      await child.stop(1000);
      throw err;
    }
    return { pid: child.pid, stop: () => child.stop() };
  };
}

function ourRequester(runtime: Runtime, broker: BrokerTarget, topic: string) {
  return async (concurrency: number): Promise<Partial<RrResult>> => {
    const summary = await runTs(runtime, "requester.ts", [
      "--namesrv",
      broker.nameServer,
      "--topic",
      topic,
      "--concurrency",
      String(concurrency),
      "--warmup-ms",
      String(settings.warmupMs),
      "--duration-ms",
      String(settings.durationMs),
      "--body-size",
      String(settings.bodySize),
    ], settings.warmupMs + settings.durationMs + 90_000);
    return fromSummary(summary);
  };
}

function javaResponder(broker: BrokerTarget, topic: string) {
  return async (): Promise<Responder> => {
    const peer = await startJavaResponder({
      line: "5",
      nameServer: broker.nameServer,
      topic,
      mode: "reverse",
      threads: settings.responderConcurrency,
      quiet: true,
    });
    return { pid: peer.pid, stop: async () => void await peer.stop() };
  };
}

function javaRequester(broker: BrokerTarget, topic: string) {
  return async (concurrency: number): Promise<Partial<RrResult>> => {
    const run = await runJavaRequester({
      line: "5",
      nameServer: broker.nameServer,
      topic,
      forms: ["plain"],
      count: 0,
      durationMs: settings.durationMs,
      concurrency,
      timeoutMs: 10_000,
      bodySize: settings.bodySize,
      expect: "reverse",
      quiet: true,
      extraArgs: ["--warmup-ms", String(settings.javaWarmupMs)],
    });
    const s = run.summary as unknown as Record<string, unknown>;
    const out = fromSummary(s);
    if ((run.summary.errors ?? 0) > 0) {
      out.note = `errors: ${JSON.stringify(run.summary.forms?.plain?.errorKinds ?? {})}`;
    }
    return out;
  };
}

function natsScenario(runtime: Runtime, available: string | undefined): void {
  const def: ScenarioDef = {
    id: `nats-${runtime}`,
    label: `NATS core request-reply, nats.js on ${runtime}`,
    client: "nats",
    runtime,
    broker: "nats",
    brokerLabel: "nats-server",
  };
  scenarios.push(async () => {
    if (!wantsScenario(def.id)) return;
    if (available) return skipAll(def, "skipped", available);
    const subject = `bench.${uniqueName("rr")}`;
    const modules = `${BENCH_DEPS}/package.json`;
    const natsPids = await findPids("nats-server");
    await runScenario(def, async () => {
      const child = spawnTs(runtime, "nats_peer.ts", [
        "--role",
        "responder",
        "--subject",
        subject,
        "--server",
        NATS_SERVER,
        "--modules",
        modules,
      ]);
      await child.event("ready", 30_000);
      return { pid: child.pid, stop: () => child.stop() };
    }, async (concurrency) => {
      const s = await runTs(runtime, "nats_peer.ts", [
        "--role",
        "requester",
        "--subject",
        subject,
        "--server",
        NATS_SERVER,
        "--modules",
        modules,
        "--concurrency",
        String(concurrency),
        "--warmup-ms",
        String(settings.warmupMs),
        "--duration-ms",
        String(settings.durationMs),
        "--body-size",
        String(settings.bodySize),
      ], settings.warmupMs + settings.durationMs + 60_000);
      return fromSummary(s);
    }, natsPids.slice(0, 1));
  });
}

const scenarios: Array<() => Promise<void>> = [];

// ---- environment checks ---------------------------------------------------------------------------

async function checkRuntime(runtime: Runtime): Promise<string | undefined> {
  if (!cli.runtimes.includes(runtime)) return `not selected (--runtimes ${cli.runtimes.join(",")})`;
  if (!(await which(runtime))) return `${runtime} not found on PATH or in .tools/node_modules/.bin`;
  if (runtime === "node") {
    try {
      await Deno.stat(TSX_LOADER);
    } catch {
      log("installing tsx into .tools (Node runs the TypeScript programs through it)");
      const out = await capture("npm", [
        "install",
        "--prefix",
        `${ROOT}/.tools`,
        "--no-audit",
        "--no-fund",
        "tsx@4",
      ]);
      try {
        await Deno.stat(TSX_LOADER);
      } catch {
        return `tsx is missing and could not be installed: ${out.split("\n").at(-1)}`;
      }
    }
    await bundleForNode();
  }
  return undefined;
}

async function checkJava(): Promise<string | undefined> {
  if (!(await which("java"))) return "java not found on PATH (JDK 17 needed)";
  if (!(await which("mvn"))) return "mvn not found on PATH (Maven resolves RocketMQ 5.5.0)";
  return undefined;
}

async function checkNats(): Promise<string | undefined> {
  const [host, port] = NATS_SERVER.split(":");
  try {
    const conn = await Deno.connect({ hostname: host!, port: Number(port) });
    conn.close();
  } catch (err) {
    return `NATS server not reachable on ${NATS_SERVER} (${describe(err)})`;
  }
  try {
    await Deno.stat(`${BENCH_DEPS}/node_modules/@nats-io/transport-node/package.json`);
  } catch {
    log(`installing ${NATS_PACKAGE} into .cache/bench`);
    await Deno.mkdir(BENCH_DEPS, { recursive: true });
    await Deno.writeTextFile(
      `${BENCH_DEPS}/package.json`,
      '{"private":true,"description":"nats.js for tests/bench (not a dependency of the project)"}\n',
    );
    const out = await capture("npm", [
      "install",
      "--prefix",
      BENCH_DEPS,
      "--no-audit",
      "--no-fund",
      NATS_PACKAGE,
    ]);
    try {
      await Deno.stat(`${BENCH_DEPS}/node_modules/@nats-io/transport-node/package.json`);
    } catch {
      return `nats.js could not be installed from npm: ${out.split("\n").at(-1)}`;
    }
  }
  return undefined;
}

// ---- main -------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(
    `bench: ${settings.mode} mode — warm-up ${settings.warmupMs} ms, run ${settings.durationMs} ms, ` +
      `concurrency ${settings.concurrencies.join("/")}, body ${settings.bodySize} B`,
  );
  const runtimeProblems = new Map<Runtime, string | undefined>();
  for (const r of ALL_RUNTIMES) runtimeProblems.set(r, await checkRuntime(r));
  const javaProblem = await checkJava();
  const natsProblem = await checkNats();
  for (const [r, p] of runtimeProblems) if (p) log(`MISSING ${r}: ${p}`);
  if (javaProblem) log(`MISSING Java: ${javaProblem}`);
  if (natsProblem) log(`MISSING NATS: ${natsProblem}`);

  results.meta.machine = {
    cpus: navigator.hardwareConcurrency,
    cpuModel: (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(
      /model name\s*:\s*(.*)/,
    )?.[1] ?? "unknown",
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    loadavgStart: Deno.loadavg(),
    os: `${Deno.build.os} ${Deno.osRelease()}`,
  };
  results.meta.versions = {
    deno: Deno.version.deno,
    bun: runtimeProblems.get("bun") ? "missing" : await capture("bun", ["--version"]),
    node: runtimeProblems.get("node") ? "missing" : await capture("node", ["--version"]),
    java: javaProblem ? "missing" : (await capture("java", ["-version"])).split("\n")[0]!,
    rocketmq: "5.5.0 (broker and Java client)",
    nats: natsProblem ? "missing" : `${NATS_PACKAGE}`,
  };

  // Request-reply scenarios need their brokers; the order keeps one broker up at a time.
  let real: (BrokerTarget & { cluster: RocketMQCluster }) | undefined;
  let realProblem = javaProblem;
  const needReal = wants("rr") || wants("cold") || wants("send") || wants("pull");
  if (!realProblem && needReal) {
    log("starting RocketMQ 5.5.0 (name server + broker) through the interop harness");
    try {
      real = await startRealBroker();
      log(`RocketMQ up at ${real.nameServer} in ${real.cluster.timings.totalMs} ms`);
    } catch (err) {
      realProblem = `RocketMQ did not start: ${describe(err)}`;
      log(`FAILED ${realProblem}`);
    }
  }
  let ours: BrokerTarget | undefined;
  let oursProblem: string | undefined;
  try {
    ours = await startOurBroker();
    log(`our broker up at ${ours.nameServer}`);
  } catch (err) {
    oursProblem = `our broker did not start: ${describe(err)}`;
    log(`FAILED ${oursProblem}`);
  }

  try {
    if (wants("rr")) {
      await requestReply(real, realProblem, ours, oursProblem, runtimeProblems, natsProblem);
    }
    if (wants("cold")) await coldStarts(real, realProblem, ours, oursProblem, runtimeProblems);
    if (wants("send") || wants("pull")) {
      await throughputs(real, realProblem, ours, oursProblem, runtimeProblems);
    }
  } finally {
    await ours?.stop().catch(() => {});
    await real?.stop().catch(() => {});
  }
  if (wants("codec")) await codec();

  results.meta.loadavgEnd = Deno.loadavg();
  results.meta.wallSeconds = Math.round((performance.now() - t0) / 1000);
  const markdown = renderMarkdown(results, await loadBefore());
  console.log(`\n${markdown}`);
  if (cli.write) {
    await Deno.mkdir(RESULTS_DIR, { recursive: true });
    const stamp = results.meta.startedAt.replace(/[:.]/g, "-");
    const json = JSON.stringify(results, null, 2) + "\n";
    await Deno.writeTextFile(`${RESULTS_DIR}/${stamp}.json`, json);
    await Deno.writeTextFile(`${RESULTS_DIR}/latest.json`, json);
    await Deno.writeTextFile(`${RESULTS_DIR}/latest.md`, markdown);
    await Deno.writeTextFile(`${RESULTS_DIR}/latest.svg`, renderSvg(results));
    log(`wrote bench/results/${stamp}.json, latest.json, latest.md, latest.svg`);
  }
  log(`done in ${results.meta.wallSeconds} s`);
}

async function requestReply(
  real: BrokerTarget | undefined,
  realProblem: string | undefined,
  ours: BrokerTarget | undefined,
  oursProblem: string | undefined,
  runtimeProblems: Map<Runtime, string | undefined>,
  natsProblem: string | undefined,
): Promise<void> {
  // 1. Java ↔ Java via RocketMQ (baseline)
  const java: ScenarioDef = {
    id: "java@rocketmq",
    label: "Java requester + Java responder via RocketMQ 5.5.0 (baseline)",
    client: "java",
    runtime: "java",
    broker: "rocketmq",
    brokerLabel: "RocketMQ 5.5.0",
  };
  scenarios.push(async () => {
    if (!wantsScenario(java.id)) return;
    if (!real) return skipAll(java, "skipped", realProblem ?? "RocketMQ not started");
    const topic = uniqueName("rrj");
    await real.createTopic(topic);
    await runScenario(java, javaResponder(real, topic), javaRequester(real, topic), real.pids);
  });
  // 2. ours via RocketMQ
  for (const runtime of ALL_RUNTIMES) {
    const def: ScenarioDef = {
      id: `ours-${runtime}@rocketmq`,
      label: `our requester + responder on ${runtime} via RocketMQ 5.5.0`,
      client: "ours",
      runtime,
      broker: "rocketmq",
      brokerLabel: "RocketMQ 5.5.0",
    };
    scenarios.push(async () => {
      if (!wantsScenario(def.id)) return;
      const problem = runtimeProblems.get(runtime);
      if (problem) return skipAll(def, "skipped", problem);
      if (!real) return skipAll(def, "skipped", realProblem ?? "RocketMQ not started");
      const topic = uniqueName(`rr${runtime[0]}`);
      await real.createTopic(topic);
      await runScenario(
        def,
        ourResponder(runtime, real, topic),
        ourRequester(runtime, real, topic),
        real.pids,
      );
    });
  }
  // 3. via our broker: ours on each runtime, then the Java pair
  for (const runtime of ALL_RUNTIMES) {
    const def: ScenarioDef = {
      id: `ours-${runtime}@ours`,
      label: `our requester + responder on ${runtime} via our broker`,
      client: "ours",
      runtime,
      broker: "ours",
      brokerLabel: "our broker (Deno)",
    };
    scenarios.push(async () => {
      if (!wantsScenario(def.id)) return;
      const problem = runtimeProblems.get(runtime);
      if (problem) return skipAll(def, "skipped", problem);
      if (!ours) return skipAll(def, "skipped", oursProblem ?? "our broker not started");
      const topic = uniqueName(`ro${runtime[0]}`);
      await ours.createTopic(topic);
      await runScenario(
        def,
        ourResponder(runtime, ours, topic),
        ourRequester(runtime, ours, topic),
        ours.pids,
      );
    });
  }
  const javaOurs: ScenarioDef = {
    id: "java@ours",
    label: "Java requester + Java responder via our broker",
    client: "java",
    runtime: "java",
    broker: "ours",
    brokerLabel: "our broker (Deno)",
  };
  scenarios.push(async () => {
    if (!wantsScenario(javaOurs.id)) return;
    if (!ours) return skipAll(javaOurs, "skipped", oursProblem ?? "our broker not started");
    if (realProblem && !real) {
      const jp = await checkJava();
      if (jp) return skipAll(javaOurs, "skipped", jp);
    }
    const topic = uniqueName("roj");
    await ours.createTopic(topic);
    await runScenario(javaOurs, javaResponder(ours, topic), javaRequester(ours, topic), ours.pids);
  });
  // 4. NATS
  for (const runtime of ALL_RUNTIMES) {
    natsScenario(runtime, runtimeProblems.get(runtime) ?? natsProblem);
  }

  for (const scenario of scenarios.splice(0)) {
    try {
      await scenario();
    } catch (err) {
      log(`scenario failed: ${describe(err)}`);
      results.notes.push(`a scenario failed to set up: ${describe(err)}`);
    }
  }
}

async function coldStarts(
  real: BrokerTarget | undefined,
  realProblem: string | undefined,
  ours: BrokerTarget | undefined,
  oursProblem: string | undefined,
  runtimeProblems: Map<Runtime, string | undefined>,
): Promise<void> {
  log(`cold start: process start → first reply (${settings.coldRepeats} runs each, median)`);
  for (const [broker, problem] of [[ours, oursProblem], [real, realProblem]] as const) {
    const brokerKind = broker?.kind ?? (problem === oursProblem ? "ours" : "rocketmq");
    const clients: Array<Runtime | "java"> = [...ALL_RUNTIMES, "java"];
    if (!broker) {
      for (const client of clients) {
        results.coldStart.push({
          client: client === "java" ? "java" : "ours",
          runtime: client,
          broker: brokerKind,
          status: "skipped",
          reason: problem ?? "broker not started",
        });
      }
      continue;
    }
    // Responders: ours (Deno) for our clients, and it answers the Java requester too.
    const topic = uniqueName("cold");
    await broker.createTopic(topic);
    let responder: Responder | undefined;
    try {
      responder = await ourResponder("deno", broker, topic)();
    } catch (err) {
      for (const client of clients) {
        results.coldStart.push({
          client: client === "java" ? "java" : "ours",
          runtime: client,
          broker: broker.kind,
          status: "failed",
          reason: `responder did not start: ${describe(err)}`,
        });
      }
      continue;
    }
    try {
      for (const client of clients) {
        const row: ColdStartResult = {
          client: client === "java" ? "java" : "ours",
          runtime: client,
          broker: broker.kind,
          status: "ok",
        };
        const problemHere = client === "java" ? await checkJava() : runtimeProblems.get(client);
        if (problemHere) {
          results.coldStart.push({ ...row, status: "skipped", reason: problemHere });
          continue;
        }
        try {
          const samples: number[] = [];
          const rss: number[] = [];
          let inProcess: number | undefined;
          // One untimed run first: compilation caches, JIT caches and page cache are warm,
          // as for any service restarted on a machine where it ran before.
          for (let i = 0; i <= settings.coldRepeats; i++) {
            if (client === "java") {
              const before = Date.now();
              const run = await runJavaRequester({
                line: "5",
                nameServer: broker.nameServer,
                topic,
                forms: ["plain"],
                count: 1,
                timeoutMs: 10_000,
                expect: "reverse",
                quiet: true,
              });
              const s = run.summary as unknown as Record<string, number>;
              if (!s.firstReplyEpochMs || run.summary.ok !== 1) {
                throw new Error(`no reply (${run.logTail.split("\n").at(-1)})`);
              }
              if (i > 0) {
                samples.push(s.firstReplyEpochMs - before);
                inProcess = s.firstReplyEpochMs - s.jvmStartEpochMs!;
                if (s.peakRssKb) rss.push(s.peakRssKb);
              }
            } else {
              const s = await runTs(client, "requester.ts", [
                "--namesrv",
                broker.nameServer,
                "--topic",
                topic,
                "--cold",
                "--spawn-epoch-ms",
                String(Date.now()),
              ], 60_000);
              if (s.ok !== true) throw new Error("reply did not match");
              if (i > 0) {
                samples.push(Number(s.coldStartMs));
                inProcess = Number(s.firstReplyEpochMs) - Number(s.loadedEpochMs);
                if (s.peakRssKb) rss.push(Number(s.peakRssKb));
              }
            }
          }
          samples.sort((a, b) => a - b);
          row.coldStartMs = samples[Math.floor(samples.length / 2)];
          row.samplesMs = samples;
          row.afterLoadMs = inProcess;
          if (rss.length) row.peakRssKb = Math.max(...rss);
          log(
            `  ${client} via ${broker.label}: ${row.coldStartMs} ms (samples ${
              samples.join(", ")
            }; ` +
              `${inProcess} ms after ${client === "java" ? "JVM start" : "modules loaded"})`,
          );
        } catch (err) {
          row.status = "failed";
          row.reason = describe(err);
          log(`  ${client} via ${broker.label}: FAILED ${row.reason}`);
        }
        results.coldStart.push(row);
      }
    } finally {
      await responder.stop();
    }
  }
}

async function throughputs(
  real: BrokerTarget | undefined,
  realProblem: string | undefined,
  ours: BrokerTarget | undefined,
  oursProblem: string | undefined,
  runtimeProblems: Map<Runtime, string | undefined>,
): Promise<void> {
  log(
    `throughput: ${settings.sendCount} pipelined sends of 1 KiB (${settings.sendInflight} in flight), ` +
      `then draining a backlog of ${settings.backlog} 1-KiB messages`,
  );
  const javaProblem = await checkJava();
  for (
    const [broker, problem, kind] of [
      [ours, oursProblem, "ours"],
      [real, realProblem, "rocketmq"],
    ] as const
  ) {
    const push = (row: ThroughputResult) => {
      results.throughput.push(row);
      log(
        row.status === "ok"
          ? `  ${row.kind} ${row.client}/${row.runtime} via ${row.broker}: ${
            row.throughputPerSec?.toFixed(0)
          } msg/s, CPU ${row.cpuMsPer1k?.toFixed(0)} ms/1k`
          : `  ${row.kind} ${row.client}/${row.runtime} via ${row.broker}: ${row.status.toUpperCase()} — ${row.reason}`,
      );
    };
    const base = { broker: kind } as const;
    if (!broker) {
      for (const k of ["send", "pull"] as const) {
        for (const [client, runtime] of [["ours", "deno"], ["java", "java"]] as const) {
          if (wants(k)) {
            push({
              ...base,
              kind: k,
              client,
              runtime,
              status: "skipped",
              reason: problem ?? "not started",
            });
          }
        }
      }
      continue;
    }
    // Our sender fills the backlog topic; Java sends to its own topic.
    const backlogTopic = uniqueName("bl");
    await broker.createTopic(backlogTopic);
    const ourProblem = runtimeProblems.get("deno");
    let backlogReady = false;
    if (ourProblem) {
      push({
        ...base,
        kind: "send",
        client: "ours",
        runtime: "deno",
        status: "skipped",
        reason: ourProblem,
      });
    } else {
      try {
        const cpu0 = await Promise.all(broker.pids.map(pidCpuMs));
        const s = await runTs("deno", "throughput.ts", [
          "--role",
          "send",
          "--namesrv",
          broker.nameServer,
          "--topic",
          backlogTopic,
          "--count",
          String(Math.max(settings.sendCount, settings.backlog)),
          "--inflight",
          String(settings.sendInflight),
          "--body-size",
          "1024",
        ], 600_000);
        const cpu1 = await Promise.all(broker.pids.map(pidCpuMs));
        const ok = Number(s.ok);
        backlogReady = ok >= settings.backlog;
        if (wants("send")) {
          push({
            ...base,
            kind: "send",
            client: "ours",
            runtime: "deno",
            status: ok > 0 ? "ok" : "failed",
            ...(ok > 0 ? {} : { reason: String(s.firstError) }),
            count: ok,
            throughputPerSec: Number(s.throughputPerSec),
            cpuMsPer1k: Number(s.cpuMsPer1k),
            brokerCpuMsPer1k: brokerPer1k(cpu0, cpu1, ok),
            rssKb: Number(s.rssKb),
            latencyMs: s.latencyMs as ThroughputResult["latencyMs"],
            errors: Number(s.errors),
          });
        }
      } catch (err) {
        push({
          ...base,
          kind: "send",
          client: "ours",
          runtime: "deno",
          status: "failed",
          reason: describe(err),
        });
      }
    }
    if (wants("send")) {
      if (javaProblem) {
        push({
          ...base,
          kind: "send",
          client: "java",
          runtime: "java",
          status: "skipped",
          reason: javaProblem,
        });
      } else {
        try {
          const topic = uniqueName("sj");
          await broker.createTopic(topic);
          const cpu0 = await Promise.all(broker.pids.map(pidCpuMs));
          const run = await runJavaProducer({
            line: "5",
            nameServer: broker.nameServer,
            topic,
            count: settings.sendCount,
            bodySize: 1024,
            quiet: true,
            extraArgs: ["--inflight", String(settings.sendInflight)],
          });
          const cpu1 = await Promise.all(broker.pids.map(pidCpuMs));
          const s = run.summary as unknown as Record<string, unknown>;
          push({
            ...base,
            kind: "send",
            client: "java",
            runtime: "java",
            status: run.summary.ok > 0 ? "ok" : "failed",
            ...(run.summary.ok > 0 ? {} : { reason: run.logTail.split("\n").at(-1) ?? "" }),
            count: run.summary.ok,
            throughputPerSec: run.summary.throughputPerSec,
            cpuMsPer1k: s.cpuMsPer1k === undefined ? undefined : Number(s.cpuMsPer1k),
            brokerCpuMsPer1k: brokerPer1k(cpu0, cpu1, run.summary.ok),
            rssKb: run.summary.rssKb,
            latencyMs: run.summary.latencyMs as ThroughputResult["latencyMs"],
            errors: run.summary.errors,
          });
        } catch (err) {
          push({
            ...base,
            kind: "send",
            client: "java",
            runtime: "java",
            status: "failed",
            reason: describe(err),
          });
        }
      }
    }
    if (!wants("pull")) continue;
    if (!backlogReady) {
      for (const [client, runtime] of [["ours", "deno"], ["java", "java"]] as const) {
        push({
          ...base,
          kind: "pull",
          client,
          runtime,
          status: "skipped",
          reason: "the backlog could not be filled (see the send row)",
        });
      }
      continue;
    }
    const pullRuntimes = settings.mode === "full" ? cli.runtimes : (["deno"] as Runtime[]);
    for (const runtime of pullRuntimes) {
      const problemHere = runtimeProblems.get(runtime);
      if (problemHere) {
        push({
          ...base,
          kind: "pull",
          client: "ours",
          runtime,
          status: "skipped",
          reason: problemHere,
        });
        continue;
      }
      try {
        const cpu0 = await Promise.all(broker.pids.map(pidCpuMs));
        const s = await runTs(runtime, "throughput.ts", [
          "--role",
          "consume",
          "--namesrv",
          broker.nameServer,
          "--topic",
          backlogTopic,
          "--group",
          uniqueName("pg"),
          "--count",
          String(settings.backlog),
        ], 300_000);
        const cpu1 = await Promise.all(broker.pids.map(pidCpuMs));
        const count = Number(s.count);
        push({
          ...base,
          kind: "pull",
          client: "ours",
          runtime,
          status: s.complete ? "ok" : "failed",
          ...(s.complete
            ? {}
            : { reason: `only ${count} of ${settings.backlog} consumed in time` }),
          count,
          throughputPerSec: Number(s.throughputPerSec),
          cpuMsPer1k: Number(s.cpuMsPer1k),
          brokerCpuMsPer1k: brokerPer1k(cpu0, cpu1, count),
          rssKb: Number(s.rssKb),
        });
      } catch (err) {
        push({
          ...base,
          kind: "pull",
          client: "ours",
          runtime,
          status: "failed",
          reason: describe(err),
        });
      }
    }
    if (javaProblem) {
      push({
        ...base,
        kind: "pull",
        client: "java",
        runtime: "java",
        status: "skipped",
        reason: javaProblem,
      });
      continue;
    }
    try {
      const cpu0 = await Promise.all(broker.pids.map(pidCpuMs));
      const consumer = await startJavaConsumer({
        line: "5",
        nameServer: broker.nameServer,
        topic: backlogTopic,
        group: uniqueName("pj"),
        from: "first",
        threads: 20,
        extraArgs: ["--bench-count", String(settings.backlog)],
      });
      try {
        const s = await consumer.waitFor((e) => e.event === "summary", { timeoutMs: 300_000 });
        const cpu1 = await Promise.all(broker.pids.map(pidCpuMs));
        push({
          ...base,
          kind: "pull",
          client: "java",
          runtime: "java",
          status: "ok",
          count: Number(s.count),
          throughputPerSec: Number(s.throughputPerSec),
          cpuMsPer1k: Number(s.cpuMsPer1k),
          brokerCpuMsPer1k: brokerPer1k(cpu0, cpu1, Number(s.count)),
          rssKb: Number(s.rssKb),
        });
      } finally {
        await consumer.stop();
      }
    } catch (err) {
      push({
        ...base,
        kind: "pull",
        client: "java",
        runtime: "java",
        status: "failed",
        reason: describe(err),
      });
    }
  }
}

function brokerPer1k(
  before: (number | undefined)[],
  after: (number | undefined)[],
  count: number,
): number | undefined {
  if (count <= 0 || before.length === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < before.length; i++) sum += (after[i] ?? 0) - (before[i] ?? 0);
  return (sum / count) * 1000;
}

async function codec(): Promise<void> {
  log("codec micro-benchmarks: deno bench tests/bench/codec_bench.ts");
  try {
    const out = await new Deno.Command("deno", {
      args: ["bench", "--json", `${ROOT}/tests/bench/codec_bench.ts`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { PATH: ENV_PATH },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const report = JSON.parse(text.slice(text.indexOf("{"))) as {
      benches: Array<{
        name: string;
        results: Array<{ ok?: { avg: number; p75: number; p99: number; min: number } }>;
      }>;
    };
    for (const bench of report.benches) {
      const ok = bench.results[0]?.ok;
      if (!ok) continue;
      const avgNs = ok.avg;
      const bytes = Number(/\((\d+) B\)/.exec(bench.name)?.[1] ?? 0);
      const row: CodecResult = {
        name: bench.name,
        avgNs,
        minNs: ok.min,
        p99Ns: ok.p99,
        perSecond: 1e9 / avgNs,
        mbPerSecond: bytes > 0 ? (bytes / 1e6) / (avgNs / 1e9) : undefined,
      };
      results.codec.push(row);
      log(
        `  ${row.name}: ${(row.perSecond / 1000).toFixed(1)} k/s${
          row.mbPerSecond ? `, ${row.mbPerSecond.toFixed(0)} MB/s` : ""
        }`,
      );
    }
  } catch (err) {
    results.notes.push(`codec benchmarks failed: ${describe(err)}`);
    log(`codec benchmarks FAILED: ${describe(err)}`);
  }
}

await main();
Deno.exit(0);
