// Shared by the bench programs (requester, responder, NATS peers, throughput
// runs). Runtime-neutral: runs under Deno, Bun and Node (tsx). Not a test.
//
// Every program prints JSON lines on stdout ({"event": ...}), the last one
// being its summary, the way the Java peers of tests/interop do.

// deno-lint-ignore-file no-console
//
// No static `node:*` import: in Deno the first one boots the Node
// compatibility layer (20-45 ms), which would be charged to our client's cold
// start. `process` is only touched where it is needed, after the first reply.

/** The little of Node's `process` used here (Node and Bun have it as a global). */
interface NodeProcess {
  argv: string[];
  pid: number;
  exit(code: number): never;
  cpuUsage(): { user: number; system: number };
  memoryUsage: { rss(): number };
  on(event: string, listener: () => void): void;
  stdin: { on(event: string, listener: () => void): void; resume(): void };
}

/** The Deno global, when running on Deno. */
interface DenoGlobal {
  args: string[];
  pid: number;
  exit(code: number): never;
  readTextFileSync(path: string): string;
}

const deno = (globalThis as { Deno?: DenoGlobal }).Deno;

function nodeProcess(): NodeProcess {
  return (globalThis as unknown as { process: NodeProcess }).process;
}

/** Command-line arguments after the script. */
export function argv(): string[] {
  return deno ? deno.args : nodeProcess().argv.slice(2);
}

/** This process's id. */
export function pid(): number {
  return deno ? deno.pid : nodeProcess().pid;
}

/** Exits the process. */
export function exit(code: number): never {
  return deno ? deno.exit(code) : nodeProcess().exit(code);
}

/** The runtime this process runs on. */
export function runtimeName(): "deno" | "bun" | "node" {
  return "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
}

/** `--name value` / `--name=value` / `--flag` arguments; unknown names are an error. */
export class Args {
  readonly #values = new Map<string, string>();
  readonly #used = new Set<string>();

  constructor(args: readonly string[] = argv()) {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`);
      const eq = arg.indexOf("=");
      if (eq > 0) this.#values.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (i + 1 < args.length && !args[i + 1]!.startsWith("--")) {
        this.#values.set(arg.slice(2), args[++i]!);
      } else this.#values.set(arg.slice(2), "true");
    }
  }

  str(name: string, fallback?: string): string {
    this.#used.add(name);
    const value = this.#values.get(name) ?? fallback;
    if (value === undefined) throw new Error(`missing --${name}`);
    return value;
  }

  num(name: string, fallback?: number): number {
    const text = this.str(name, fallback === undefined ? undefined : String(fallback));
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got ${text}`);
    return value;
  }

  flag(name: string): boolean {
    return ["true", "1", "yes"].includes(this.str(name, "false"));
  }

  /** Fails on a flag nobody asked for (typos). */
  done(): void {
    for (const key of this.#values.keys()) {
      if (!this.#used.has(key)) throw new Error(`unknown flag --${key}`);
    }
  }
}

/** Latency samples (ms) with nearest-rank percentiles, as the Java peers compute them. */
export class Latencies {
  #samples = new Float64Array(1 << 14);
  #n = 0;

  add(ms: number): void {
    if (this.#n === this.#samples.length) {
      const bigger = new Float64Array(this.#n * 2);
      bigger.set(this.#samples);
      this.#samples = bigger;
    }
    this.#samples[this.#n++] = ms;
  }

  get count(): number {
    return this.#n;
  }

  /** `{count, min, mean, p50, p90, p99, p999, max}` in ms. */
  summary(): LatencySummary {
    const n = this.#n;
    if (n === 0) return { count: 0 };
    const s = this.#samples.slice(0, n).sort();
    let sum = 0;
    for (const v of s) sum += v;
    const rank = (q: number) => s[Math.max(0, Math.min(n - 1, Math.ceil(q * n) - 1))]!;
    const r3 = (v: number) => Math.round(v * 1000) / 1000;
    return {
      count: n,
      min: r3(s[0]!),
      mean: r3(sum / n),
      p50: r3(rank(0.5)),
      p90: r3(rank(0.9)),
      p99: r3(rank(0.99)),
      p999: r3(rank(0.999)),
      max: r3(s[n - 1]!),
    };
  }
}

/** Latency figures (ms). */
export interface LatencySummary {
  count: number;
  min?: number;
  mean?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  max?: number;
}

/** CPU time (user + system) this process has used so far, in ms. */
export function cpuMs(): number {
  const { user, system } = nodeProcess().cpuUsage();
  return (user + system) / 1000;
}

/** Resident memory now and at its peak (Linux: /proc/self/status), in KiB. */
export async function memoryKb(): Promise<{ rssKb: number; peakRssKb?: number }> {
  const rssKb = Math.round(nodeProcess().memoryUsage.rss() / 1024);
  try {
    const status = deno
      ? deno.readTextFileSync("/proc/self/status")
      : (await import("node:fs")).readFileSync("/proc/self/status", "utf8");
    const hwm = /^VmHWM:\s+(\d+)/m.exec(status);
    const rss = /^VmRSS:\s+(\d+)/m.exec(status);
    return {
      rssKb: rss ? Number(rss[1]) : rssKb,
      ...(hwm ? { peakRssKb: Number(hwm[1]) } : {}),
    };
  } catch {
    return { rssKb };
  }
}

/** Prints one JSON line. */
export function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

/** Prints a `fatal` line and exits with status 2. */
export function fatal(err: unknown): never {
  emit({
    event: "fatal",
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
  });
  if (err instanceof Error && err.stack) console.error(err.stack);
  exit(2);
}

/**
 * Runs `stop` once on SIGTERM/SIGINT, and with `watchStdin` also when stdin
 * closes (the orchestrator, which holds the other end of the pipe, went away).
 */
export function onStop(stop: () => Promise<void> | void, watchStdin: boolean): void {
  let stopping = false;
  const run = () => {
    if (stopping) return;
    stopping = true;
    Promise.resolve().then(stop).then(
      () => exit(0),
      (err) => fatal(err),
    );
  };
  const process = nodeProcess();
  process.on("SIGTERM", run);
  process.on("SIGINT", run);
  if (!watchStdin) return;
  process.stdin.on("end", run);
  process.stdin.on("close", run);
  process.stdin.on("error", run);
  process.stdin.resume();
}

/** A request body of `size` bytes whose first bytes make it unique. */
export function makeBody(seq: number, size: number): Uint8Array {
  const body = new Uint8Array(size);
  let x = (seq * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    body[i] = x & 0xff;
  }
  new DataView(body.buffer).setUint32(0, seq >>> 0);
  return body;
}

/** Whether `reply` is `request` reversed (the responders reverse). */
export function isReversed(request: Uint8Array, reply: Uint8Array): boolean {
  if (request.length !== reply.length) return false;
  for (let i = 0, j = reply.length - 1; i < request.length; i++, j--) {
    if (request[i] !== reply[j]) return false;
  }
  return true;
}

/**
 * Runs `once` from `concurrency` loops: first for `warmupMs` (unrecorded), then
 * for `durationMs`, recording latencies of successes. Requests that time out
 * or fail are counted as errors.
 */
export async function closedLoop(
  options: { concurrency: number; warmupMs: number; durationMs: number },
  once: (seq: number) => Promise<boolean>,
): Promise<{
  latencies: Latencies;
  ok: number;
  errors: number;
  mismatches: number;
  elapsedMs: number;
  cpuMs: number;
  firstError?: string;
}> {
  let seq = 0;
  const phase = async (ms: number, record?: Latencies) => {
    const until = performance.now() + ms;
    let ok = 0, errors = 0, mismatches = 0;
    let firstError: string | undefined;
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          if (await once(++seq)) {
            record?.add(performance.now() - t0);
            ok++;
          } else mismatches++;
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
      }
    }));
    return { ok, errors, mismatches, firstError };
  };
  if (options.warmupMs > 0) await phase(options.warmupMs);
  // Lets an orchestrator sample other processes' CPU over exactly the measured window.
  emit({ event: "measuring" });
  const latencies = new Latencies();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const r = await phase(options.durationMs, latencies);
  const elapsedMs = performance.now() - t0;
  return {
    latencies,
    ok: r.ok,
    errors: r.errors,
    mismatches: r.mismatches,
    elapsedMs,
    cpuMs: cpuMs() - cpu0,
    ...(r.firstError ? { firstError: r.firstError } : {}),
  };
}
