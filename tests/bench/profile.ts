// deno-lint-ignore-file no-console
/**
 * Where the CPU of a brokered request goes: runs our broker (Deno), a
 * responder and a requester (each its own process, on the chosen runtime)
 * under a CPU profiler at a fixed number of requests in flight, then prints a
 * Markdown summary per process: CPU per request from the process counters
 * over the measured window, the busiest functions by self time, the files
 * they live in, and the share of the garbage collector.
 *
 *   deno run -A tests/bench/profile.ts [--runtime deno|bun|node] [--concurrency 16]
 *       [--warmup-ms 3000] [--duration-ms 10000] [--top 20] [--out bench/results/tmp/profile]
 *       [--no-prof 1]   (counters only: the profiler's signals cost a few µs per request)
 *       [--broker rocketmq]   (RocketMQ 5.5.0 through the interop harness instead of ours)
 *
 * The raw profiles (.cpuprofile, open them in Chrome DevTools) stay in --out.
 * Not a test; the machine should be quiet for the counters to mean much, while
 * the profiles' proportions hold up under load.
 *
 * @module
 */

import { remotingCall, startRocketMQ } from "../interop/harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const PATH = `${ROOT}/.tools/node_modules/.bin:${Deno.env.get("PATH") ?? ""}`;

type Runtime = "deno" | "bun" | "node";

const flags = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) {
  flags.set(Deno.args[i]!.replace(/^--/, ""), Deno.args[i + 1] ?? "");
}
const runtime = (flags.get("runtime") ?? "deno") as Runtime;
const concurrency = Number(flags.get("concurrency") ?? 16);
const warmupMs = Number(flags.get("warmup-ms") ?? 3000);
const durationMs = Number(flags.get("duration-ms") ?? 10_000);
const top = Number(flags.get("top") ?? 20);
const out = flags.get("out") ?? `${ROOT}/bench/results/tmp/profile/${runtime}`;
const profiling = !flags.has("no-prof");
const brokerKind = flags.get("broker") === "rocketmq" ? "rocketmq" : "ours";

// ---- processes ----------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: Deno.ChildProcess;
  lines: string[];
  wait(test: (line: string) => boolean, what: string, ms?: number): Promise<string>;
}

function spawn(name: string, cmd: string, args: string[]): Proc {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: { PATH },
  }).spawn();
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        lines.push(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
      for (const w of waiters) w();
    }
    exited = true;
    for (const w of waiters) w();
  })();
  return {
    name,
    child,
    lines,
    async wait(test, what, ms = 60_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const line = lines.find(test);
        if (line !== undefined) return line;
        if (exited) throw new Error(`${name} exited before ${what}:\n${lines.join("\n")}`);
        if (Date.now() > deadline) throw new Error(`${name}: no ${what} within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const done = () => {
            waiters.delete(done);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, 500);
          waiters.add(done);
        });
      }
    },
  };
}

async function stop(proc: Proc): Promise<void> {
  await proc.child.stdin.close().catch(() => {});
  try {
    proc.child.kill("SIGTERM");
  } catch { /* gone */ }
  await proc.child.status;
}

/** CPU time (user + system, all threads) of a process, in ms, from /proc/<pid>/stat. */
async function pidCpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Times the process's threads went to sleep (voluntary context switches):
 * the main thread's, and all threads'. On a VM every sleep and wake-up costs
 * tens of µs of CPU, so these say much of the cost per request.
 */
async function sleeps(pid: number): Promise<{ main: number; all: number }> {
  const count = async (path: string) =>
    Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(await Deno.readTextFile(path))?.[1] ?? 0);
  let all = 0;
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    all += await count(`/proc/${pid}/task/${task.name}/status`).catch(() => 0);
  }
  return { main: await count(`/proc/${pid}/task/${pid}/status`), all };
}

const SOCKET_CALLS = {
  writes: ["sendto", "sendmsg", "write", "writev"],
  reads: ["recvfrom", "recvmsg", "read", "readv"],
  polls: ["epoll_wait", "epoll_pwait", "epoll_pwait2"],
};

/**
 * Counts a process's read and write system calls with `perf stat` until
 * `stop()` (undefined counts when perf is unavailable or not permitted).
 */
function countSyscalls(
  pid: number,
  file: string,
): () => Promise<{ reads: number; writes: number; polls: number } | undefined> {
  const events = [...SOCKET_CALLS.writes, ...SOCKET_CALLS.reads, ...SOCKET_CALLS.polls]
    .map((call) => `syscalls:sys_enter_${call}`)
    .join(",");
  let perf: Deno.ChildProcess | undefined;
  try {
    perf = new Deno.Command("perf", {
      args: ["stat", "-x", ",", "-e", events, "-p", String(pid), "-o", file],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    return () => Promise.resolve(undefined);
  }
  return async () => {
    try {
      perf.kill("SIGINT");
    } catch { /* gone */ }
    await perf.status;
    const text = await Deno.readTextFile(file).catch(() => "");
    const count = (calls: string[]) =>
      calls.reduce((sum, call) => {
        const line = text.split("\n").find((l) => l.includes(`sys_enter_${call},`));
        return sum + (line ? Number(line.split(",")[0]) || 0 : 0);
      }, 0);
    const writes = count(SOCKET_CALLS.writes);
    const reads = count(SOCKET_CALLS.reads);
    const polls = count(SOCKET_CALLS.polls);
    return writes + reads > 0 ? { reads, writes, polls } : undefined;
  };
}

async function nodeBundle(script: string): Promise<string> {
  const file = `${out}/${script.replace(/\.ts$/, ".mjs")}`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", file, `${ROOT}/tests/bench/${script}`],
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return file;
}

/**
 * The profiler flags, unless --no-prof: the profiler's own signals cost each
 * process a few µs per request (several system calls per sample), so CPU
 * figures meant for comparison with the bench come from a run without it.
 */
function prof(dir: string): string[] {
  return profiling ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

async function command(script: string, dir: string, args: string[]): Promise<[string, string[]]> {
  switch (runtime) {
    case "deno":
      return [Deno.execPath(), [
        "run",
        "-A",
        ...prof(dir),
        `${ROOT}/tests/bench/${script}`,
        ...args,
      ]];
    case "bun":
      return ["bun", [
        ...prof(dir),
        `${ROOT}/tests/bench/${script}`,
        ...args,
      ]];
    case "node":
      return ["node", [...prof(dir), await nodeBundle(script), ...args]];
  }
}

// ---- profiles -----------------------------------------------------------------------------------

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const at = url.indexOf(ROOT);
  if (at >= 0) return url.slice(at + ROOT.length + 1);
  return url.replace(/^.*\/node_modules\//, "npm:").replace(/^node:internal\//, "node:");
}

function frameName(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  const url = shortUrl(frame.url);
  return url ? `${name} ${url}:${frame.lineNumber + 1}` : name;
}

interface Summary {
  busyMs: number;
  gcPct: number;
  self: [string, number][];
  files: [string, number][];
  inclusive: [string, number][];
}

function summarize(profile: CpuProfile): Summary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let gc = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    // Every sample counts the same: Bun records none while idle, so the time
    // deltas around an idle stretch would charge it to the next busy frame.
    const dt = 1;
    const name = node.callFrame.functionName;
    if (name === "(idle)" || name === "(root)") continue;
    busy += dt;
    if (name === "(garbage collector)") gc += dt;
    const key = frameName(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const file = shortUrl(node.callFrame.url) || name;
    files.set(file, (files.get(file) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!frame.url.includes(ROOT)) continue;
      const k = frameName(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    busyMs: busy, // samples, 1 ms apart
    gcPct: busy > 0 ? (gc / busy) * 100 : 0,
    self: sorted(self).map(([k, v]) => [k, (v / busy) * 100]),
    files: sorted(files).map(([k, v]) => [k, (v / busy) * 100]),
    inclusive: sorted(inclusive).map(([k, v]) => [k, (v / busy) * 100]),
  };
}

async function readProfile(dir: string): Promise<CpuProfile> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".cpuprofile")) {
      return JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
    }
  }
  throw new Error(`no .cpuprofile in ${dir}`);
}

// ---- the run ------------------------------------------------------------------------------------

const resummarize = flags.has("summarize");
/** Socket reads and writes (system calls) per request, by process. */
type Syscalls = Record<
  string,
  { reads?: number; writes?: number; polls?: number; sleeps?: number; threadSleeps?: number }
>;
let usPerRequest: { requester: number; responder: number; broker: number };
let syscalls: Syscalls | undefined;
let summary: {
  ok: number;
  elapsedMs: number;
  throughputPerSec: number;
  latencyMs: { p50: number };
};
if (resummarize) {
  ({ usPerRequest, summary, syscalls } = JSON.parse(
    await Deno.readTextFile(`${out}/counters.json`),
  ));
} else {
  ({ usPerRequest, summary, syscalls } = await run());
  await Deno.writeTextFile(
    `${out}/counters.json`,
    JSON.stringify({ usPerRequest, summary, syscalls }),
  );
}

interface BrokerSide {
  address: string;
  pids: number[];
  createTopic(topic: string): Promise<void>;
  stop(): Promise<void>;
}

async function ourBroker(): Promise<BrokerSide> {
  const broker = spawn("broker", Deno.execPath(), [
    "run",
    "-A",
    ...prof(`${out}/broker`),
    `${ROOT}/src/broker/cli.ts`,
    "--port",
    "0",
    "--log-level",
    "warn",
  ]);
  const address = /listening on (\S+)/.exec(
    await broker.wait((l) => /listening on/.test(l), "listening line"),
  )![1]!;
  return {
    address,
    pids: [broker.child.pid],
    async createTopic(topic) {
      const created = await remotingCall(address, 17, {
        topic,
        defaultTopic: "TBW102",
        readQueueNums: "4",
        writeQueueNums: "4",
        perm: "6",
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: "0",
        order: "false",
      });
      if (created.code !== 0) throw new Error(`cannot create ${topic}: ${created.remark}`);
    },
    stop: () => stop(broker),
  };
}

/** RocketMQ 5.5.0 (name server + broker) through the interop harness; not profiled. */
async function realBroker(): Promise<BrokerSide> {
  const cluster = await startRocketMQ({ line: "5", brokerHeapMb: 1024 });
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (cmd.includes(cluster.baseDir) && /BrokerStartup|NamesrvStartup/.test(cmd)) {
      pids.push(Number(entry.name));
    }
  }
  return {
    address: cluster.nameServer,
    pids,
    createTopic: async (topic) => void await cluster.createTopic(topic, { queues: 4 }),
    stop: () => cluster.stop(),
  };
}

async function run() {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  for (const name of ["broker", "responder", "requester"]) {
    await Deno.mkdir(`${out}/${name}`, { recursive: true });
  }

  const side = brokerKind === "rocketmq" ? await realBroker() : await ourBroker();
  const address = side.address;
  const topic = `Profile${Date.now()}`;
  await side.createTopic(topic);

  const responder = spawn(
    "responder",
    ...await command("responder.ts", `${out}/responder`, [
      "--namesrv",
      address,
      "--topic",
      topic,
      "--concurrency",
      "20",
      "--queues",
      "4",
    ]),
  );
  await responder.wait((l) => l.includes('"ready"'), "ready line", 90_000);

  const requester = spawn(
    "requester",
    ...await command("requester.ts", `${out}/requester`, [
      "--namesrv",
      address,
      "--topic",
      topic,
      "--concurrency",
      String(concurrency),
      "--warmup-ms",
      String(warmupMs),
      "--duration-ms",
      String(durationMs),
    ]),
  );
  await requester.wait((l) => l.includes('"measuring"'), "measuring line", 90_000);
  // The broker's figures cover every pid it has (RocketMQ: broker and name server).
  const pids = [[requester.child.pid], [responder.child.pid], side.pids];
  const cpu = (group: number[]) =>
    Promise.all(group.map(pidCpuMs)).then((ms) => ms.reduce((a, b) => a + b, 0));
  const before = await Promise.all(pids.map(cpu));
  const sleeps0 = await Promise.all(pids.map((group) => sleeps(group[0]!)));
  const stopCounting = pids.map((group, i) =>
    countSyscalls(group[0]!, `${out}/perf-${["requester", "responder", "broker"][i]}.txt`)
  );
  const summaryLine = await requester.wait(
    (l) => l.includes('"summary"'),
    "summary line",
    durationMs + 60_000,
  );
  const after = await Promise.all(pids.map(cpu));
  const sleeps1 = await Promise.all(pids.map((group) => sleeps(group[0]!)));
  const calls = await Promise.all(stopCounting.map((stop) => stop()));
  const summary = JSON.parse(summaryLine);
  if (!(summary.ok > 0)) throw new Error(`no successful request: ${summaryLine}`);
  await requester.child.status;
  await stop(responder);
  await side.stop();

  const ok = Number(summary.ok);
  const usPerRequest = {
    requester: (Number(summary.runCpuMs) / ok) * 1000,
    responder: ((after[1]! - before[1]!) / ok) * 1000,
    broker: ((after[2]! - before[2]!) / ok) * 1000,
  };
  const syscalls: Syscalls = {};
  ["requester", "responder", "broker"].forEach((name, i) => {
    if (name === "broker" && brokerKind === "rocketmq") return; // a JVM: counts mean little
    const c = calls[i];
    syscalls[name] = {
      ...(c ? { reads: c.reads / ok, writes: c.writes / ok, polls: c.polls / ok } : {}),
      sleeps: (sleeps1[i]!.main - sleeps0[i]!.main) / ok,
      threadSleeps: (sleeps1[i]!.all - sleeps0[i]!.all) / ok,
    };
  });
  return { usPerRequest, summary, syscalls };
}

const total = usPerRequest.requester + usPerRequest.responder + usPerRequest.broker;
const md: string[] = [];
md.push(
  `### ${runtime}: requester and responder on ${runtime}, our broker on Deno, ${concurrency} in flight`,
  "",
  `${summary.ok} requests in ${(summary.elapsedMs / 1000).toFixed(1)} s ` +
    `(${Math.round(summary.throughputPerSec)} req/s, p50 ${summary.latencyMs.p50} ms). ` +
    `CPU per request from the process counters over the measured window: ` +
    `requester ${usPerRequest.requester.toFixed(0)} µs + responder ${
      usPerRequest.responder.toFixed(0)
    } µs + broker ${usPerRequest.broker.toFixed(0)} µs = **${total.toFixed(0)} µs**.`,
  "",
);
for (const name of ["requester", "responder", "broker"] as const) {
  const s = profiling && !(name === "broker" && brokerKind === "rocketmq")
    ? summarize(await readProfile(`${out}/${name}`))
    : undefined;
  const us = usPerRequest[name];
  const row = ([k, pct]: [string, number]) =>
    `| ${k.replaceAll("|", "\\|")} | ${pct.toFixed(1)} | ${((pct / 100) * us).toFixed(1)} |`;
  const io = syscalls?.[name];
  md.push(
    `#### ${name} (${us.toFixed(0)} µs/request${
      io?.reads !== undefined
        ? `; ${io.reads.toFixed(2)} reads, ${io.writes!.toFixed(2)} writes and ${
          io.polls!.toFixed(2)
        } event-loop polls per request`
        : ""
    }${
      io?.sleeps !== undefined
        ? `; the main thread slept ${io.sleeps.toFixed(2)} times per request (all threads ${
          io.threadSleeps!.toFixed(2)
        })`
        : ""
    }${
      s
        ? `; main thread busy ${s.busyMs.toFixed(0)} ms in the profile, GC ${s.gcPct.toFixed(1)} %`
        : ""
    })`,
    "",
  );
  if (!s) continue;
  md.push(
    "Self time, top functions:",
    "",
    "| function | % | ≈µs/req |",
    "|---|---:|---:|",
    ...s.self.slice(0, top).map(row),
    "",
    "Self time by file:",
    "",
    "| file | % | ≈µs/req |",
    "|---|---:|---:|",
    ...s.files.slice(0, 12).map(row),
    "",
    "Inclusive time, our functions:",
    "",
    "| function | % | ≈µs/req |",
    "|---|---:|---:|",
    ...s.inclusive.slice(0, top).map(row),
    "",
  );
}
console.log(md.join("\n"));
await Deno.writeTextFile(`${out}/summary.md`, md.join("\n"));
