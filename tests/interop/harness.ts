/**
 * Interop harness: a real Apache RocketMQ (name server + broker, 5.5.0 or 4.9.7) and the official Java
 * client's peers (requester, responder, producer, consumer), for tests that check our client and our
 * broker against the real thing.
 *
 * Everything comes from Maven Central (`tests/interop/java/pom.xml`); the first {@linkcode ensureArtifacts}
 * per line resolves it into `.cache/interop/rmq<line>/` (gitignored) and later calls only compare a stamp.
 * Runs on Deno only (`Deno.Command`); `java` (JDK 11+, 17 tested) and `mvn` must be on `PATH`.
 *
 * Every process this module starts is a JVM wrapped by `rocketmq.interop.Launch`, which exits cleanly when
 * its stdin pipe closes; so even if the test process dies hard, no broker is left behind. Normal cleanup is
 * `stop()` / `await using`.
 *
 * Typical use, for a test of our TypeScript requester against a real broker and the Java responder:
 *
 * ```ts
 * import { startJavaResponder, startRocketMQ, uniqueName } from "./harness.ts";
 *
 * await using cluster = await startRocketMQ({ line: "5" });
 * const topic = uniqueName("rr");
 * await cluster.createTopic(topic, { queues: 4 });
 * await using responder = await startJavaResponder({ cluster, topic, mode: "reverse" });
 * // ... point our client at cluster.nameServer, send requests on `topic`, expect reversed bodies ...
 * ```
 *
 * The Java peers live in `tests/interop/java/peers/src/main/java/rocketmq/interop/` (flags and output are
 * documented at the top of each): `Requester` (all six `DefaultMQProducer.request` forms, reply checks,
 * latency percentiles, CPU and RSS), `Responder` (`MessageUtil.createReplyMessage` + `send`), `Producer`,
 * `Consumer` (concurrently/orderly), `Admin` (create-topic/route). Each prints one JSON object per line on
 * stdout. To run one by hand against any name server (ours included):
 * `java -cp '.cache/interop/rmq5/peers/classes:.cache/interop/rmq5/peers/lib/*' rocketmq.interop.Requester
 * --namesrv 127.0.0.1:9876 --topic T --count 5`.
 *
 * Environment: `ROCKETMQ_INTEROP_CACHE` (artifact cache root, default `<repo>/.cache/interop`),
 * `ROCKETMQ_INTEROP_TMP` (where clusters and peers keep stores and logs, default the system temp dir),
 * `ROCKETMQ_INTEROP_KEEP=1` (keep those directories after stop, for post-mortems),
 * `ROCKETMQ_INTEROP_VERBOSE=1` (progress lines on stderr), `ROCKETMQ_INTEROP_JAVA` (java launcher to use,
 * default `java` on `PATH`; Maven uses its own `JAVA_HOME`).
 *
 * @module
 */

/** The RocketMQ release lines the harness can run: `"5"` is 5.5.0, `"4"` is 4.9.7. */
export type RocketMQLine = "5" | "4";

/** Exact version per line. 5.5.1 is not usable (rocketmq-srvutil 5.5.1 is missing from Central). */
export const ROCKETMQ_VERSIONS: Readonly<Record<RocketMQLine, string>> = Object.freeze({
  "5": "5.5.0",
  "4": "4.9.7",
});

/** Both lines, newest first, for tests that loop over them. */
export const ROCKETMQ_LINES: readonly RocketMQLine[] = Object.freeze(["5", "4"] as const);

const HERE = new URL(".", import.meta.url).pathname;
const JAVA_PROJECT = `${HERE}java`;
const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const DEFAULT_GRACE_MS = 30_000;

/**
 * The one error type of the harness. Its message is a single line that says what to do; `detail` holds
 * log excerpts (also appended to `message` after a newline, so a failing test shows them).
 */
export class InteropError extends Error {
  /** Log excerpts or other context; empty when there is none. */
  readonly detail: string;
  /**
   * @param summary one line, starting with `interop:`
   * @param detail log excerpts appended below the summary
   */
  constructor(summary: string, detail = "") {
    super(detail ? `${summary}\n${detail}` : summary);
    this.name = "InteropError";
    this.detail = detail;
  }
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function verbose(message: string): void {
  if (env("ROCKETMQ_INTEROP_VERBOSE") === "1") {
    Deno.stderr.writeSync(new TextEncoder().encode(`[interop] ${message}\n`));
  }
}

function keepDirs(): boolean {
  return env("ROCKETMQ_INTEROP_KEEP") === "1";
}

/** Root of the artifact cache (`<repo>/.cache/interop` unless `ROCKETMQ_INTEROP_CACHE` is set). */
export function interopCacheDir(): string {
  return env("ROCKETMQ_INTEROP_CACHE") ?? `${REPO_ROOT}/.cache/interop`;
}

// ---------------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------------

/** What {@linkcode checkTools} found. */
export interface ToolInfo {
  /** Path or name of the `java` launcher used for every JVM. */
  java: string;
  /** Java feature version, e.g. 17. */
  javaMajor: number;
  /** First line of `mvn -v`. */
  maven: string;
}

let toolsPromise: Promise<ToolInfo> | undefined;

async function runCapture(
  cmd: string,
  args: string[],
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" });
  const res = await child.output();
  const dec = new TextDecoder();
  return { code: res.code, out: dec.decode(res.stdout) + dec.decode(res.stderr) };
}

/**
 * Checks that `java` (11 or newer) and `mvn` are on `PATH`. Cached per process.
 *
 * @returns the tools found
 * @throws {InteropError} `interop: java not found on PATH; install a JDK 17` (or the `mvn` equivalent)
 * @example
 * ```ts
 * import { checkTools } from "./harness.ts";
 * const tools = await checkTools(); // throws one clear line when java or mvn is missing
 * console.log(tools.javaMajor);
 * ```
 */
export function checkTools(): Promise<ToolInfo> {
  toolsPromise ??= (async () => {
    const java = env("ROCKETMQ_INTEROP_JAVA") ?? "java";
    let javaOut: string;
    try {
      javaOut = (await runCapture(java, ["-version"])).out;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new InteropError("interop: java not found on PATH; install a JDK 17");
      }
      throw e;
    }
    const m = /version "(\d+)(?:\.(\d+))?/.exec(javaOut);
    let major = m ? Number(m[1]) : 0;
    if (major === 1 && m?.[2]) major = Number(m[2]);
    if (major < 11) {
      throw new InteropError(`interop: java ${major || "?"} is too old; install a JDK 17`);
    }
    let mvnOut: string;
    try {
      mvnOut = (await runCapture("mvn", ["-v"])).out;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new InteropError("interop: mvn not found on PATH; install Maven 3.8+");
      }
      throw e;
    }
    // deno-lint-ignore no-control-regex
    const maven = (mvnOut.split("\n")[0] ?? "").replace(/\x1b\[[0-9;]*m/g, "").trim();
    return { java, javaMajor: major, maven };
  })();
  toolsPromise.catch(() => toolsPromise = undefined);
  return toolsPromise;
}

// ---------------------------------------------------------------------------------------------------
// Artifacts
// ---------------------------------------------------------------------------------------------------

/** Resolved jars and compiled peers for one line. */
export interface InteropArtifacts {
  /** The line. */
  line: RocketMQLine;
  /** Exact RocketMQ version. */
  version: string;
  /** `.cache/interop/rmq<line>`. */
  dir: string;
  /** Classpath of the name server and broker (plus the harness's tiny launcher). */
  serverClasspath: string;
  /** Classpath of the Java peers: their classes plus the official client and its dependencies. */
  peersClasspath: string;
  /** True when nothing had to be built (the stamp matched). */
  cached: boolean;
  /** Time this call took, in ms (Maven resolution and compilation when not cached). */
  coldMs: number;
}

const artifactsPromises = new Map<RocketMQLine, Promise<InteropArtifacts>>();

async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function listFiles(dir: string, suffix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await listFiles(p, suffix));
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

async function projectStamp(line: RocketMQLine): Promise<string> {
  const files = [
    `${JAVA_PROJECT}/pom.xml`,
    `${JAVA_PROJECT}/server/pom.xml`,
    `${JAVA_PROJECT}/peers/pom.xml`,
    ...await listFiles(`${JAVA_PROJECT}/peers/src`, ".java"),
  ];
  const parts: string[] = [`line=${line}`, `version=${ROCKETMQ_VERSIONS[line]}`];
  for (const f of files) {
    parts.push(`${f.slice(JAVA_PROJECT.length)}=${await sha256Hex(await Deno.readFile(f))}`);
  }
  return await sha256Hex(parts.join("\n"));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Cross-process lock: a directory created atomically, holding the owner's pid. */
async function withLock<T>(path: string, fn: () => Promise<T>, maxWaitMs: number): Promise<T> {
  const deadline = Date.now() + maxWaitMs;
  while (true) {
    try {
      await Deno.mkdir(path);
      await Deno.writeTextFile(`${path}/pid`, String(Deno.pid));
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const pid = Number(await Deno.readTextFile(`${path}/pid`).catch(() => "0"));
      if (pid > 0 && !pidAlive(pid)) {
        await Deno.remove(path, { recursive: true }).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) {
        throw new InteropError(`interop: timed out waiting for lock ${path} (held by pid ${pid})`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await Deno.remove(path, { recursive: true }).catch(() => {});
  }
}

async function tailFile(path: string, lines = 60): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    const all = text.split("\n");
    return all.slice(Math.max(0, all.length - lines - 1)).join("\n");
  } catch {
    return `(no ${path})`;
  }
}

/**
 * Resolves the name server, broker and client of one line from Maven Central and compiles the Java
 * peers against that client (`mvn -B -q ... compile dependency:copy-dependencies`), into
 * `.cache/interop/rmq<line>/`. Cached: a later call (in any process) only hashes the Java project and
 * returns at once. Concurrent callers share one build (in-process promise, cross-process lock).
 *
 * @param line `"5"` (5.5.0) or `"4"` (4.9.7)
 * @returns classpaths and timing
 * @throws {InteropError} when java/mvn is missing or Maven fails (the message includes Maven's log tail;
 *   the full log is `.cache/interop/mvn-rmq<line>.log`)
 * @example
 * ```ts
 * import { ensureArtifacts } from "./harness.ts";
 * const art = await ensureArtifacts("4");
 * console.log(art.version, art.cached, art.coldMs); // "4.9.7" true 12
 * ```
 */
export async function ensureArtifacts(line: RocketMQLine): Promise<InteropArtifacts> {
  if (!(line in ROCKETMQ_VERSIONS)) {
    throw new InteropError(`interop: unknown RocketMQ line ${String(line)}`);
  }
  const t0 = performance.now();
  let p = artifactsPromises.get(line);
  const first = p === undefined;
  if (!p) {
    p = buildArtifacts(line);
    artifactsPromises.set(line, p);
    p.catch(() => artifactsPromises.delete(line));
  }
  const art = await p;
  // A later call in the same process found everything built: report it as cached, with its own time.
  return first ? art : { ...art, cached: true, coldMs: Math.round(performance.now() - t0) };
}

async function buildArtifacts(line: RocketMQLine): Promise<InteropArtifacts> {
  const t0 = performance.now();
  await checkTools();
  const root = interopCacheDir();
  const dir = `${root}/rmq${line}`;
  await Deno.mkdir(root, { recursive: true });
  const stamp = await projectStamp(line);
  const result = (cached: boolean): InteropArtifacts => ({
    line,
    version: ROCKETMQ_VERSIONS[line],
    dir,
    serverClasspath: `${dir}/server/lib/*:${dir}/peers/classes`,
    peersClasspath: `${dir}/peers/classes:${dir}/peers/lib/*`,
    cached,
    coldMs: Math.round(performance.now() - t0),
  });
  const isFresh = async () =>
    (await Deno.readTextFile(`${dir}/stamp`).catch(() => "")) === stamp &&
    await exists(`${dir}/server/lib`) && await exists(`${dir}/peers/classes`);
  if (await isFresh()) return result(true);

  return await withLock(`${dir}.lock`, async () => {
    if (await isFresh()) return result(true);
    verbose(`resolving RocketMQ ${ROCKETMQ_VERSIONS[line]} with Maven into ${dir}`);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    const log = `${root}/mvn-rmq${line}.log`;
    const args = [
      "-B",
      "-q",
      "-f",
      `${JAVA_PROJECT}/pom.xml`,
      `-Prmq${line}`,
      `-Dinterop.out=${dir}`,
      "compile",
      "dependency:copy-dependencies",
    ];
    const res = await new Deno.Command("mvn", {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    await Deno.writeTextFile(
      log,
      `$ mvn ${args.join(" ")}\n${dec.decode(res.stdout)}${
        dec.decode(res.stderr)
      }\nexit ${res.code}\n`,
    );
    if (res.code !== 0) {
      throw new InteropError(
        `interop: Maven failed to resolve/build RocketMQ ${
          ROCKETMQ_VERSIONS[line]
        } (exit ${res.code}); full log: ${log}`,
        await tailFile(log, 80),
      );
    }
    await Deno.writeTextFile(`${dir}/stamp`, stamp);
    return result(false);
  }, 15 * 60_000);
}

// ---------------------------------------------------------------------------------------------------
// Ports, temp dirs, names
// ---------------------------------------------------------------------------------------------------

function portFree(port: number): boolean {
  try {
    const l = Deno.listen({ hostname: "0.0.0.0", port, transport: "tcp" });
    l.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A base port `p` such that `p + offset` is free for every offset. Picks below Linux's ephemeral
 * range (32768+) so outgoing connections cannot steal it between the check and the JVM's bind.
 */
function findPorts(offsets: number[]): number {
  for (let i = 0; i < 200; i++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    if (offsets.every((o) => portFree(base + o))) return base;
  }
  throw new InteropError("interop: no free loopback ports found in 20000-32767");
}

let tmpRootPromise: Promise<string> | undefined;

/** A per-process scratch root; stale roots of dead processes are swept on first use. */
function tmpRoot(): Promise<string> {
  tmpRootPromise ??= (async () => {
    const base = env("ROCKETMQ_INTEROP_TMP") ?? env("TMPDIR") ?? "/tmp";
    await Deno.mkdir(base, { recursive: true });
    for await (const e of Deno.readDir(base)) {
      const m = /^rocketmq-interop-(\d+)$/.exec(e.name);
      if (m && e.isDirectory && Number(m[1]) !== Deno.pid && !pidAlive(Number(m[1]))) {
        if (!keepDirs()) {
          await Deno.remove(`${base}/${e.name}`, { recursive: true }).catch(() => {});
        }
      }
    }
    const root = `${base}/rocketmq-interop-${Deno.pid}`;
    await Deno.mkdir(root, { recursive: true });
    return root;
  })();
  return tmpRootPromise;
}

async function makeRunDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ dir: await tmpRoot(), prefix: `${prefix}-` });
}

let nameCounter = 0;

/**
 * A fresh topic or group name, valid for RocketMQ (`[A-Za-z0-9_-]`, short), unique across processes.
 *
 * @param prefix readable part, e.g. `"rr"`
 * @returns e.g. `rr_lq3k9w_1_a3f9`
 * @example
 * ```ts
 * import { uniqueName } from "./harness.ts";
 * import assert from "node:assert/strict";
 * assert.match(uniqueName("rr"), /^rr_[a-z0-9]+_\d+_[a-z0-9]+$/);
 * ```
 */
export function uniqueName(prefix: string): string {
  const rand = Math.floor(Math.random() * 36 ** 4).toString(36);
  return `${prefix}_${Date.now().toString(36)}_${++nameCounter}_${rand}`;
}

// ---------------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------------

const liveProcesses = new Set<Deno.ChildProcess>();
let unloadHooked = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  // Last resort when a test run ends without stop(): SIGTERM lets each JVM run its shutdown hooks.
  // (The JVMs also exit on their own when their stdin pipe closes with this process.)
  globalThis.addEventListener("unload", () => {
    for (const p of liveProcesses) {
      try {
        p.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
  });
}

type Waiter = { test: () => boolean; resolve: () => void };

/** One JVM started by the harness: stdout lines (JSON events or text), stderr to a file, clean stop. */
class JvmProcess {
  readonly name: string;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  readonly child: Deno.ChildProcess;
  /** Parsed JSON lines from stdout (peers). */
  readonly events: Record<string, unknown>[] = [];
  /** Raw stdout lines that are not JSON. */
  readonly textLines: string[] = [];
  exitCode: number | undefined;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pumps: Promise<unknown>;
  readonly #status: Promise<Deno.CommandStatus>;
  #waiters: Waiter[] = [];
  #stdoutLog: Deno.FsFile;

  private constructor(
    name: string,
    child: Deno.ChildProcess,
    stdoutLog: Deno.FsFile,
    stderrLog: Deno.FsFile,
    stdoutFile: string,
    stderrFile: string,
  ) {
    this.name = name;
    this.child = child;
    this.stdoutFile = stdoutFile;
    this.stderrFile = stderrFile;
    this.#stdoutLog = stdoutLog;
    this.#stdin = child.stdin.getWriter();
    this.#status = child.status.then((s) => {
      this.exitCode = s.code;
      liveProcesses.delete(child);
      this.#notify();
      return s;
    });
    this.#pumps = Promise.all([
      this.#readStdout(child.stdout),
      child.stderr.pipeTo(stderrLog.writable).catch(() => {}),
    ]);
  }

  static async spawn(opts: {
    name: string;
    java: string;
    classpath: string;
    jvmArgs: string[];
    mainClass: string;
    args: string[];
    logDir: string;
    env?: Record<string, string>;
    cwd?: string;
  }): Promise<JvmProcess> {
    const stdoutFile = `${opts.logDir}/${opts.name}.stdout.log`;
    const stderrFile = `${opts.logDir}/${opts.name}.stderr.log`;
    const stdoutLog = await Deno.open(stdoutFile, { write: true, create: true, append: true });
    const stderrLog = await Deno.open(stderrFile, { write: true, create: true, append: true });
    const args = [
      ...opts.jvmArgs,
      "-cp",
      opts.classpath,
      "rocketmq.interop.Launch",
      opts.mainClass,
      ...opts.args,
    ];
    await stdoutLog.write(new TextEncoder().encode(`$ ${opts.java} ${args.join(" ")}\n`));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(opts.java, {
        args,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
      }).spawn();
    } catch (e) {
      stdoutLog.close();
      stderrLog.close();
      throw e;
    }
    liveProcesses.add(child);
    hookUnload();
    verbose(`started ${opts.name} (pid ${child.pid})`);
    return new JvmProcess(opts.name, child, stdoutLog, stderrLog, stdoutFile, stderrFile);
  }

  async #readStdout(stream: ReadableStream<Uint8Array>): Promise<void> {
    const enc = new TextEncoder();
    let buf = "";
    const onLine = (line: string) => {
      if (line.startsWith("{")) {
        try {
          this.events.push(JSON.parse(line) as Record<string, unknown>);
          this.#notify();
          return;
        } catch {
          // fall through: not JSON after all
        }
      }
      this.textLines.push(line);
      this.#notify();
    };
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.#stdoutLog.writeSync(enc.encode(chunk));
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, nl).replace(/\r$/, ""));
          buf = buf.slice(nl + 1);
        }
      }
      if (buf) onLine(buf);
    } finally {
      this.#stdoutLog.close();
    }
  }

  #notify(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (w.test()) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** Resolves once `test()` holds (checked on every stdout line and at exit), or rejects on timeout. */
  until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const w: Waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(
          new InteropError(
            `interop: ${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  /** Resolves when the process has exited and its output is drained. */
  async exited(): Promise<number> {
    const s = await this.#status;
    await this.#pumps;
    return s.code;
  }

  /** Closes stdin, sends SIGTERM, and SIGKILL after `graceMs`. Idempotent. */
  async stop(graceMs = DEFAULT_GRACE_MS): Promise<number> {
    if (this.exitCode === undefined) {
      try {
        this.child.kill("SIGTERM");
      } catch {
        // exited meanwhile
      }
    }
    await this.#stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (this.exitCode === undefined) {
          verbose(`${this.name} ignored SIGTERM for ${graceMs} ms; SIGKILL`);
          try {
            this.child.kill("SIGKILL");
          } catch {
            // gone
          }
        }
        resolve();
      }, graceMs);
    });
    const code = await Promise.race([
      this.#status.then((s) => s.code),
      killed.then(() => this.#status.then((s) => s.code)),
    ]);
    clearTimeout(timer);
    await this.#pumps;
    return code;
  }

  /** The last lines of stdout and stderr, for error messages. */
  async logTail(lines = 40): Promise<string> {
    return `--- ${this.stdoutFile}\n${await tailFile(
      this.stdoutFile,
      lines,
    )}\n--- ${this.stderrFile}\n${await tailFile(
      this.stderrFile,
      lines,
    )}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// A minimal, independent remoting client (readiness checks and route queries only)
// ---------------------------------------------------------------------------------------------------

/** A decoded response of {@linkcode remotingCall}. */
export interface RemotingReply {
  /** Response code (0 = success, 17 = topic not exist, ...). */
  code: number;
  /** Remark, if any. */
  remark?: string;
  /** extFields of the response header. */
  extFields: Record<string, string>;
  /** Response body (may be empty). */
  body: Uint8Array;
}

/**
 * Sends one JSON-serialized remoting request to `address` ("host:port") on a fresh connection and returns
 * the response. Written here from the protocol reference, deliberately independent of `src/` (the harness
 * must not trust the code it tests). Used for readiness checks; handy for debugging tests too.
 *
 * @param address `"127.0.0.1:9876"`
 * @param code request code (e.g. 105 GET_ROUTEINFO_BY_TOPIC)
 * @param extFields custom header fields
 * @param timeoutMs overall timeout
 * @returns the response
 * @throws {InteropError} on connection failure, timeout or a malformed reply
 * @example
 * ```ts
 * import { remotingCall } from "./harness.ts";
 * const r = await remotingCall("127.0.0.1:9876", 105, { topic: "TBW102" });
 * console.log(r.code); // 0 when the topic is routable
 * ```
 */
export async function remotingCall(
  address: string,
  code: number,
  extFields: Record<string, string> = {},
  timeoutMs = 3000,
): Promise<RemotingReply> {
  const idx = address.lastIndexOf(":");
  const hostname = address.slice(0, idx);
  const port = Number(address.slice(idx + 1));
  const opaque = Math.floor(Math.random() * 0x7fffffff);
  const header = new TextEncoder().encode(JSON.stringify({
    code,
    extFields,
    flag: 0,
    language: "JAVA",
    opaque,
    serializeTypeCurrentRPC: "JSON",
    version: 500, // >= V4_9_4 (401): route bodies come back as standard JSON
  }));
  const frame = new Uint8Array(8 + header.length);
  const dv = new DataView(frame.buffer);
  dv.setUint32(0, 4 + header.length);
  dv.setUint32(4, header.length); // serialize type 0 (JSON) in the high byte
  frame.set(header, 8);

  let conn: Deno.TcpConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new InteropError(`interop: no reply from ${address} to request ${code} in ${timeoutMs} ms`),
      );
      try {
        conn?.close();
      } catch {
        // closed
      }
      conn = undefined;
    }, timeoutMs);
  });
  const work = (async (): Promise<RemotingReply> => {
    try {
      conn = await Deno.connect({ hostname, port });
    } catch (e) {
      throw new InteropError(`interop: cannot connect to ${address}: ${(e as Error).message}`);
    }
    await conn.write(frame);
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    while (true) {
      while (buf.length >= 4) {
        const len = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
        if (len > 64 * 1024 * 1024) {
          throw new InteropError(`interop: bad frame length ${len} from ${address}`);
        }
        if (buf.length < 4 + len) break;
        const f = buf.subarray(4, 4 + len);
        buf = buf.slice(4 + len);
        const word = new DataView(f.buffer, f.byteOffset).getUint32(0);
        const type = word >>> 24;
        const hlen = word & 0xffffff;
        if (type !== 0) {
          throw new InteropError(`interop: unexpected serialize type ${type} from ${address}`);
        }
        const h = JSON.parse(new TextDecoder().decode(f.subarray(4, 4 + hlen))) as {
          code: number;
          opaque: number;
          flag: number;
          remark?: string;
          extFields?: Record<string, string>;
        };
        if ((h.flag & 1) === 1 && h.opaque === opaque) {
          return {
            code: h.code,
            ...(h.remark !== undefined ? { remark: h.remark } : {}),
            extFields: h.extFields ?? {},
            body: f.slice(4 + hlen),
          };
        }
      }
      const n = await conn!.read(chunk);
      if (n === null) throw new InteropError(`interop: ${address} closed the connection`);
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
    }
  })();
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // closed by the timeout
    }
    await work.catch(() => {});
  }
}

/** A topic route as the name server returns it (standard-JSON `TopicRouteData`). */
export interface TopicRoute {
  /** Queue data per broker name. */
  queueDatas: {
    brokerName: string;
    readQueueNums: number;
    writeQueueNums: number;
    perm: number;
    topicSysFlag?: number;
  }[];
  /** Brokers: id "0" is the master. */
  brokerDatas: { cluster: string; brokerName: string; brokerAddrs: Record<string, string> }[];
  /** Anything else the name server sent. */
  [key: string]: unknown;
}

/**
 * Asks a name server (ours or the real one) for a topic's route (GET_ROUTEINFO_BY_TOPIC, 105).
 *
 * @param nameServer `"127.0.0.1:9876"`
 * @param topic topic name
 * @returns the route, or `null` when the name server answers TOPIC_NOT_EXIST (17)
 * @throws {InteropError} on other response codes or I/O failure
 * @example
 * ```ts
 * import { queryRoute } from "./harness.ts";
 * const route = await queryRoute("127.0.0.1:9876", "TBW102");
 * console.log(route?.brokerDatas[0]?.brokerAddrs["0"]);
 * ```
 */
export async function queryRoute(
  nameServer: string,
  topic: string,
  timeoutMs = 3000,
): Promise<TopicRoute | null> {
  const r = await remotingCall(
    nameServer,
    105,
    { topic, acceptStandardJsonOnly: "true" },
    timeoutMs,
  );
  if (r.code === 17) return null;
  if (r.code !== 0) {
    throw new InteropError(
      `interop: route query for ${topic} got code ${r.code}: ${r.remark ?? ""}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(r.body)) as TopicRoute;
}

// ---------------------------------------------------------------------------------------------------
// Real RocketMQ cluster
// ---------------------------------------------------------------------------------------------------

/** Options of {@linkcode startRocketMQ}. */
export interface StartRocketMQOptions {
  /** Release line: `"5"` (5.5.0) or `"4"` (4.9.7). */
  line: RocketMQLine;
  /**
   * Broker config keys (BrokerConfig / MessageStoreConfig / NettyServerConfig setter names), merged over
   * the harness defaults (see {@linkcode defaultBrokerConfig}). Ports and paths are managed; overriding
   * `listenPort`, `namesrvAddr` or `storePathRootDir` is allowed but then yours to keep consistent.
   */
  brokerConfig?: Record<string, string>;
  /** Name server config keys, merged over `{ listenPort }`. */
  namesrvConfig?: Record<string, string>;
  /** @default "DefaultCluster" */
  clusterName?: string;
  /** @default "broker-a" */
  brokerName?: string;
  /** Broker max heap in MiB (the name server gets 256). @default 512 */
  brokerHeapMb?: number;
  /**
   * The servers' TLS mode (`-Dtls.server.mode`). RocketMQ's own default is `permissive` (plain and TLS on
   * the same port, told apart by the first byte; identical for plain-text clients) but building its
   * self-signed context costs 2-4 s per JVM start, so the harness defaults to `disabled`.
   * @default "disabled"
   */
  tlsMode?: "permissive" | "disabled";
  /** Extra JVM flags for both servers (appended). */
  jvmArgs?: string[];
  /**
   * Files to write under the broker's `ROCKETMQ_HOME` before it starts, by relative path (for
   * example `conf/plain_acl.yml` for an ACL test).
   */
  brokerHomeFiles?: Record<string, string>;
  /** How long to wait for readiness. @default 120000 */
  readyTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL on stop (a 5.x broker takes 6-15 s to shut down). @default 30000 */
  stopGraceMs?: number;
}

/** Start-up timings of a cluster, in ms. */
export interface ClusterTimings {
  /** {@linkcode ensureArtifacts} (large when Maven had to resolve: the cold case). */
  artifactsMs: number;
  /** Whether the artifacts were already cached. */
  artifactsCached: boolean;
  /** Name server spawn → answering requests. */
  namesrvMs: number;
  /** Broker spawn → routable through the name server and answering requests. */
  brokerMs: number;
  /** From the call to ready, everything included. */
  totalMs: number;
}

/** A running name server + broker. Dispose with `stop()` or `await using`. */
export interface RocketMQCluster extends AsyncDisposable {
  /** Line and exact version. */
  readonly line: RocketMQLine;
  readonly version: string;
  /** Name server address, `"127.0.0.1:<port>"` — what clients get as namesrvAddr. */
  readonly nameServer: string;
  /** Broker main address as published in routes, `"127.0.0.1:<listenPort>"`. */
  readonly brokerAddress: string;
  readonly brokerName: string;
  readonly clusterName: string;
  /** `<clusterName>_REPLY_TOPIC`, the topic replies travel on. */
  readonly replyTopic: string;
  /** Broker store root (kept across {@linkcode RocketMQCluster.restartBroker}). */
  readonly storeDir: string;
  /** Directory of this cluster: configs, homes (RocketMQ's own logs under `<home>/logs`), stdout/stderr. */
  readonly baseDir: string;
  /** The broker config actually written (defaults + overrides). */
  readonly brokerConfig: Readonly<Record<string, string>>;
  /** JVM flags used for the broker and the name server. */
  readonly jvmArgs: { readonly broker: readonly string[]; readonly namesrv: readonly string[] };
  /** Timings of the initial start. */
  readonly timings: ClusterTimings;
  /** Artifacts (classpaths) of this line. */
  readonly artifacts: InteropArtifacts;
  /**
   * Creates (or updates) a topic on the broker with UPDATE_AND_CREATE_TOPIC (17, sent by the harness's own
   * {@linkcode remotingCall}, as the admin tools do) and waits until the name server routes it with the
   * requested queue count. Returns the queues as `"brokerName:queueId"`. Create topics before starting
   * consumers: a consumer subscribed to a topic without a route only notices it on its next rebalance
   * (up to 20 s later). {@linkcode createTopic} does the same through the official Java client.
   */
  createTopic(
    topic: string,
    options?: { queues?: number; perm?: number; order?: boolean },
  ): Promise<string[]>;
  /** {@linkcode queryRoute} against this name server. */
  route(topic: string): Promise<TopicRoute | null>;
  /**
   * Stops the broker (SIGTERM, then SIGKILL after the grace period); the name server stays up.
   * `cleanShutdown` is false when the store was left marked aborted (RocketMQ deletes `<store>/abort` at
   * the end of a clean shutdown), i.e. the next start runs abnormal recovery.
   */
  stopBroker(): Promise<{ exitCode: number; cleanShutdown: boolean; ms: number }>;
  /** Starts the broker again on the same port and store; resolves when it is ready again. */
  startBroker(): Promise<void>;
  /** `stopBroker()` then `startBroker()`; returns the restart time in ms. */
  restartBroker(): Promise<number>;
  /** Last lines of the servers' stdout/stderr and RocketMQ log files, for failure messages. */
  logTail(lines?: number): Promise<string>;
  /** Stops broker then name server and deletes `baseDir` (unless ROCKETMQ_INTEROP_KEEP=1). Idempotent. */
  stop(): Promise<void>;
}

/**
 * The broker config the harness writes, before your overrides: a small single-node test broker
 * (16 MiB commit-log files, small consume-queue files, no timer wheel, no index, auto-create topics).
 *
 * @param p cluster/broker names, ports and paths
 * @returns the key/value pairs
 * @example
 * ```ts
 * import { defaultBrokerConfig } from "./harness.ts";
 * import assert from "node:assert/strict";
 * const c = defaultBrokerConfig({
 *   clusterName: "C", brokerName: "b", nameServer: "127.0.0.1:1", listenPort: 2, storeDir: "/tmp/s",
 * });
 * assert.equal(c.autoCreateTopicEnable, "true");
 * ```
 */
export function defaultBrokerConfig(p: {
  clusterName: string;
  brokerName: string;
  nameServer: string;
  listenPort: number;
  storeDir: string;
}): Record<string, string> {
  return {
    brokerClusterName: p.clusterName,
    brokerName: p.brokerName,
    brokerId: "0",
    brokerRole: "ASYNC_MASTER",
    flushDiskType: "ASYNC_FLUSH",
    namesrvAddr: p.nameServer,
    listenPort: String(p.listenPort),
    brokerIP1: "127.0.0.1",
    storePathRootDir: p.storeDir,
    storePathCommitLog: `${p.storeDir}/commitlog`,
    autoCreateTopicEnable: "true",
    autoCreateSubscriptionGroup: "true",
    mappedFileSizeCommitLog: String(16 * 1024 * 1024),
    mappedFileSizeConsumeQueue: "60000",
    timerWheelEnable: "false",
    messageIndexEnable: "false",
  };
}

function toProperties(obj: Record<string, string>): string {
  return Object.entries(obj).map(([k, v]) => `${k}=${v.replace(/\\/g, "\\\\")}`).join("\n") + "\n";
}

/** Minimal logback config for 4.x, whose startup classes demand `$ROCKETMQ_HOME/conf/logback_*.xml`. */
function logbackXml(file: string): string {
  return `<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>\${user.home}/logs/rocketmqlogs/${file}</file>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5p [%t] %c{0} - %m%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
`;
}

/**
 * JVM flags a line's servers need on Java 9+ (beyond heap and paths). 4.9.x's `MappedFile.clean` calls
 * `DirectByteBuffer.attachment()`/`cleaner()` and `jdk.internal.ref.Cleaner.clean()` reflectively (on
 * shutdown, when deleting or truncating store files): without these opens a SIGTERM leaves the store
 * "aborted" and the next start fails in abnormal recovery. 5.x frees buffers through Netty and needs
 * nothing; the `sun.nio.ch` export is only defensive (5.x casts to `sun.nio.ch.DirectBuffer` in optional
 * store paths such as mlock warm-up).
 */
export const JAVA17_SERVER_FLAGS: Readonly<Record<RocketMQLine, readonly string[]>> = Object.freeze(
  {
    "4": Object.freeze([
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
    ]),
    "5": Object.freeze(["--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"]),
  },
);

function serverJvmArgs(
  line: RocketMQLine,
  javaMajor: number,
  heapMb: number,
  home: string,
  tlsMode: string,
  extra: string[],
): string[] {
  return [
    ...(javaMajor >= 9 ? JAVA17_SERVER_FLAGS[line] : []),
    `-Xms${Math.min(128, heapMb)}m`,
    `-Xmx${heapMb}m`,
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+IgnoreUnrecognizedVMOptions",
    `-Duser.home=${home}`,
    `-Drocketmq.home.dir=${home}`,
    `-Dtls.server.mode=${tlsMode}`,
    "-Dfile.encoding=UTF-8",
    ...extra,
  ];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

class Cluster implements RocketMQCluster {
  readonly line: RocketMQLine;
  readonly version: string;
  readonly nameServer: string;
  readonly brokerAddress: string;
  readonly brokerName: string;
  readonly clusterName: string;
  readonly replyTopic: string;
  readonly storeDir: string;
  readonly baseDir: string;
  readonly brokerConfig: Readonly<Record<string, string>>;
  readonly jvmArgs: { readonly broker: readonly string[]; readonly namesrv: readonly string[] };
  timings!: ClusterTimings;
  readonly artifacts: InteropArtifacts;
  readonly #java: string;
  readonly #readyTimeoutMs: number;
  readonly #graceMs: number;
  #namesrv: JvmProcess | undefined;
  #broker: JvmProcess | undefined;
  #brokerStarts = 0;
  #stopped = false;

  constructor(p: {
    line: RocketMQLine;
    artifacts: InteropArtifacts;
    java: string;
    nameServer: string;
    brokerAddress: string;
    brokerName: string;
    clusterName: string;
    storeDir: string;
    baseDir: string;
    brokerConfig: Record<string, string>;
    jvmArgs: { broker: string[]; namesrv: string[] };
    readyTimeoutMs: number;
    graceMs: number;
  }) {
    this.line = p.line;
    this.version = ROCKETMQ_VERSIONS[p.line];
    this.artifacts = p.artifacts;
    this.#java = p.java;
    this.nameServer = p.nameServer;
    this.brokerAddress = p.brokerAddress;
    this.brokerName = p.brokerName;
    this.clusterName = p.clusterName;
    this.replyTopic = `${p.clusterName}_REPLY_TOPIC`;
    this.storeDir = p.storeDir;
    this.baseDir = p.baseDir;
    this.brokerConfig = Object.freeze({ ...p.brokerConfig });
    this.jvmArgs = p.jvmArgs;
    this.#readyTimeoutMs = p.readyTimeoutMs;
    this.#graceMs = p.graceMs;
  }

  async startNamesrv(): Promise<number> {
    const t0 = performance.now();
    this.#namesrv = await JvmProcess.spawn({
      name: "namesrv",
      java: this.#java,
      classpath: this.artifacts.serverClasspath,
      jvmArgs: this.jvmArgs.namesrv as string[],
      mainClass: "org.apache.rocketmq.namesrv.NamesrvStartup",
      args: ["-c", `${this.baseDir}/namesrv.properties`],
      logDir: this.baseDir,
    });
    const ns = this.#namesrv;
    await this.#poll("name server", ns, async () => {
      // Any answer (17 TOPIC_NOT_EXIST for a fresh name server) means it serves requests.
      const r = await remotingCall(this.nameServer, 105, { topic: "TBW102" }, 1000).catch(() =>
        null
      );
      return r !== null;
    });
    return Math.round(performance.now() - t0);
  }

  async startBroker(): Promise<void> {
    await this.bootBroker();
  }

  /** Starts the broker and waits until ready; returns the time that took in ms. */
  async bootBroker(): Promise<number> {
    if (this.#stopped) throw new InteropError("interop: cluster already stopped");
    if (this.#broker && this.#broker.exitCode === undefined) {
      throw new InteropError("interop: broker is already running");
    }
    const t0 = performance.now();
    this.#brokerStarts++;
    this.#broker = await JvmProcess.spawn({
      name: `broker-${this.#brokerStarts}`,
      java: this.#java,
      classpath: this.artifacts.serverClasspath,
      jvmArgs: this.jvmArgs.broker as string[],
      mainClass: "org.apache.rocketmq.broker.BrokerStartup",
      args: ["-c", `${this.baseDir}/broker.properties`],
      logDir: this.baseDir,
    });
    const b = this.#broker;
    await this.#poll("broker", b, async () => {
      // Ready = the name server routes TBW102 and the reply topic to this broker, and the broker itself
      // answers GET_BROKER_RUNTIME_INFO (28).
      for (const topic of ["TBW102", this.replyTopic]) {
        const route = await queryRoute(this.nameServer, topic, 1000).catch(() => null);
        const addrs = route?.brokerDatas.flatMap((d) => Object.values(d.brokerAddrs)) ?? [];
        if (!addrs.includes(this.brokerAddress)) return false;
      }
      const info = await remotingCall(this.brokerAddress, 28, {}, 1000).catch(() => null);
      // With ACL (1.0 or 2.0) on, the harness's unsigned call is refused: any answer means it is up.
      return info !== null &&
        (info.code === 0 || this.brokerConfig.aclEnable === "true" ||
          this.brokerConfig.authenticationEnabled === "true");
    });
    return Math.round(performance.now() - t0);
  }

  async #poll(what: string, proc: JvmProcess, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.#readyTimeoutMs;
    while (true) {
      if (proc.exitCode !== undefined) {
        await proc.exited();
        throw new InteropError(
          `interop: RocketMQ ${this.version} ${what} exited with code ${proc.exitCode} before it was ready; logs in ${this.baseDir}`,
          await this.logTail(),
        );
      }
      if (await ready()) return;
      if (Date.now() > deadline) {
        const tail = await this.logTail();
        await this.stop();
        throw new InteropError(
          `interop: RocketMQ ${this.version} ${what} not ready after ${this.#readyTimeoutMs} ms`,
          tail,
        );
      }
      await sleep(150);
    }
  }

  async stopBroker(): Promise<{ exitCode: number; cleanShutdown: boolean; ms: number }> {
    const t0 = performance.now();
    const b = this.#broker;
    if (!b) throw new InteropError("interop: broker was never started");
    const exitCode = await b.stop(this.#graceMs);
    const cleanShutdown = !(await exists(`${this.storeDir}/abort`));
    return { exitCode, cleanShutdown, ms: Math.round(performance.now() - t0) };
  }

  async restartBroker(): Promise<number> {
    const t0 = performance.now();
    const stopped = await this.stopBroker();
    verbose(
      `broker stopped in ${stopped.ms} ms (exit ${stopped.exitCode}, clean ${stopped.cleanShutdown})`,
    );
    await this.bootBroker();
    return Math.round(performance.now() - t0);
  }

  async createTopic(
    topic: string,
    options: { queues?: number; perm?: number; order?: boolean } = {},
  ): Promise<string[]> {
    const queues = options.queues ?? 4;
    const r = await remotingCall(this.brokerAddress, 17, {
      topic,
      defaultTopic: "TBW102",
      readQueueNums: String(queues),
      writeQueueNums: String(queues),
      perm: String(options.perm ?? 6),
      topicFilterType: "SINGLE_TAG",
      topicSysFlag: "0",
      order: String(options.order ?? false),
    });
    if (r.code !== 0) {
      throw new InteropError(
        `interop: creating topic ${topic} failed: code ${r.code} ${r.remark ?? ""}`,
      );
    }
    const deadline = Date.now() + 15_000;
    while (true) {
      const route = await queryRoute(this.nameServer, topic).catch(() => null);
      const qd = route?.queueDatas.find((q) => q.brokerName === this.brokerName);
      if (qd && qd.writeQueueNums === queues && qd.readQueueNums === queues) {
        return Array.from({ length: queues }, (_, i) => `${this.brokerName}:${i}`);
      }
      if (Date.now() > deadline) {
        throw new InteropError(`interop: topic ${topic} created but not routed after 15 s`);
      }
      await sleep(50);
    }
  }

  route(topic: string): Promise<TopicRoute | null> {
    return queryRoute(this.nameServer, topic);
  }

  async logTail(lines = 30): Promise<string> {
    const parts: string[] = [];
    for (const p of [this.#namesrv, this.#broker]) if (p) parts.push(await p.logTail(lines));
    for (
      const f of [
        "namesrv-home/logs/rocketmqlogs/namesrv.log",
        "broker-home/logs/rocketmqlogs/broker.log",
      ]
    ) {
      parts.push(`--- ${this.baseDir}/${f}\n${await tailFile(`${this.baseDir}/${f}`, lines)}`);
    }
    return parts.join("\n");
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Broker first, so it can unregister from a live name server.
    const t0 = performance.now();
    if (this.#broker) await this.#broker.stop(this.#graceMs);
    const t1 = performance.now();
    if (this.#namesrv) await this.#namesrv.stop(this.#graceMs);
    verbose(
      `stop: broker ${Math.round(t1 - t0)} ms, name server ${
        Math.round(performance.now() - t1)
      } ms`,
    );
    if (!keepDirs()) await Deno.remove(this.baseDir, { recursive: true }).catch(() => {});
    verbose(`stopped RocketMQ ${this.version} (${this.nameServer})`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Starts a real name server and one broker (master) of the given line on free ports, with a throwaway
 * store, and resolves once the broker is routable through the name server and answers requests.
 * The broker binds `listenPort`, `listenPort - 2` (fast/VIP port) and `listenPort + 1` (HA).
 * Resolves artifacts first ({@linkcode ensureArtifacts}).
 *
 * JVM flags: {@linkcode JAVA17_SERVER_FLAGS} for the line, then `-Xms128m -Xmx<heap> -XX:+UseG1GC
 * -XX:-OmitStackTraceInFastThrow -XX:+IgnoreUnrecognizedVMOptions -Duser.home=<home>
 * -Drocketmq.home.dir=<home> -Dtls.server.mode=<mode>`; the broker also gets `-XX:MaxDirectMemorySize=256m`.
 * 4.x also needs `$ROCKETMQ_HOME/conf/logback_{namesrv,broker}.xml`, which the harness writes.
 *
 * @param options line, config overrides, timeouts
 * @returns the running cluster
 * @throws {InteropError} when tools are missing, Maven fails, or a server does not become ready (the
 *   message then carries the log tails)
 * @example
 * ```ts
 * import { startRocketMQ } from "./harness.ts";
 * await using cluster = await startRocketMQ({ line: "4", brokerConfig: { storeReplyMessageEnable: "false" } });
 * console.log(cluster.nameServer, cluster.brokerAddress, cluster.timings.totalMs);
 * ```
 */
export async function startRocketMQ(options: StartRocketMQOptions): Promise<RocketMQCluster> {
  const t0 = performance.now();
  const line = options.line;
  const tools = await checkTools();
  const artifacts = await ensureArtifacts(line);
  const baseDir = await makeRunDir(`rmq${line}`);
  try {
    const clusterName = options.clusterName ?? "DefaultCluster";
    const brokerName = options.brokerName ?? "broker-a";
    const storeDir = `${baseDir}/store`;
    const nsHome = `${baseDir}/namesrv-home`;
    const brokerHome = `${baseDir}/broker-home`;
    for (const d of [storeDir, `${nsHome}/conf`, `${brokerHome}/conf`]) {
      await Deno.mkdir(d, { recursive: true });
    }
    if (line === "4") {
      await Deno.writeTextFile(`${nsHome}/conf/logback_namesrv.xml`, logbackXml("namesrv.log"));
      await Deno.writeTextFile(`${brokerHome}/conf/logback_broker.xml`, logbackXml("broker.log"));
    }
    for (const [path, text] of Object.entries(options.brokerHomeFiles ?? {})) {
      const file = `${brokerHome}/${path}`;
      await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(file, text);
    }
    // Name server N; broker L-2 (fast), L (main), L+1 (HA). Choose them together: N = base, L = base + 3.
    const base = findPorts([0, 1, 3, 4]);
    const nsPort = base;
    const brokerPort = base + 3;
    const nameServer = `127.0.0.1:${nsPort}`;
    const brokerConfig = {
      ...defaultBrokerConfig({
        clusterName,
        brokerName,
        nameServer,
        listenPort: brokerPort,
        storeDir,
      }),
      ...options.brokerConfig,
    };
    const namesrvConfig = { listenPort: String(nsPort), ...options.namesrvConfig };
    await Deno.writeTextFile(`${baseDir}/broker.properties`, toProperties(brokerConfig));
    await Deno.writeTextFile(`${baseDir}/namesrv.properties`, toProperties(namesrvConfig));
    const tls = options.tlsMode ?? "disabled";
    const extra = options.jvmArgs ?? [];
    const cluster = new Cluster({
      line,
      artifacts,
      java: tools.java,
      nameServer,
      brokerAddress: `${brokerConfig.brokerIP1 ?? "127.0.0.1"}:${
        brokerConfig.listenPort ?? brokerPort
      }`,
      brokerName,
      clusterName,
      storeDir: brokerConfig.storePathRootDir ?? storeDir,
      baseDir,
      brokerConfig,
      jvmArgs: {
        namesrv: serverJvmArgs(line, tools.javaMajor, 256, nsHome, tls, extra),
        broker: serverJvmArgs(line, tools.javaMajor, options.brokerHeapMb ?? 512, brokerHome, tls, [
          "-XX:MaxDirectMemorySize=256m",
          ...extra,
        ]),
      },
      readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
      graceMs: options.stopGraceMs ?? DEFAULT_GRACE_MS,
    });
    let namesrvMs: number;
    let brokerMs: number;
    try {
      namesrvMs = await cluster.startNamesrv();
      brokerMs = await cluster.bootBroker();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    const totalMs = Math.round(performance.now() - t0);
    cluster.timings = {
      artifactsMs: artifacts.coldMs,
      artifactsCached: artifacts.cached,
      namesrvMs,
      brokerMs,
      totalMs,
    };
    verbose(
      `RocketMQ ${cluster.version} ready in ${totalMs} ms (name server ${nameServer}, broker ${cluster.brokerAddress})`,
    );
    return cluster;
  } catch (e) {
    if (!keepDirs()) await Deno.remove(baseDir, { recursive: true }).catch(() => {});
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------
// Java peers (official client)
// ---------------------------------------------------------------------------------------------------

/** The six `DefaultMQProducer.request` overloads, as the Requester names them. */
export type RequestForm =
  | "plain"
  | "callback"
  | "selector"
  | "selector-callback"
  | "mq"
  | "mq-callback";

/** All six forms, in the order the Requester runs them. */
export const REQUEST_FORMS: readonly RequestForm[] = Object.freeze(
  [
    "plain",
    "callback",
    "selector",
    "selector-callback",
    "mq",
    "mq-callback",
  ] as const,
);

/**
 * How the Java Responder builds a reply body from a request body: `reverse` = the bytes in reverse
 * order, `echo` = unchanged, `none` = consume but never reply (requests time out).
 */
export type ReplyMode = "reverse" | "echo" | "none";

/**
 * The reply body the Java Responder sends for `request` in `mode` (so TypeScript requesters can check).
 *
 * @param mode reply mode
 * @param request request body
 * @returns the expected reply body, or `null` for `none`
 * @example
 * ```ts
 * import { expectedReply } from "./harness.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(expectedReply("reverse", new Uint8Array([1, 2, 3])), new Uint8Array([3, 2, 1]));
 * ```
 */
export function expectedReply(mode: ReplyMode, request: Uint8Array): Uint8Array | null {
  if (mode === "none") return null;
  return mode === "echo" ? request.slice() : request.slice().reverse();
}

/** Any JSON line a peer printed. Every line has `event`. */
export interface PeerEvent {
  /** Line kind: `ready`, `reply`, `error`, `summary`, `message`, `sent`, `assignment`, ... */
  event: string;
  [key: string]: unknown;
}

/** Latency figures (ms, nearest-rank percentiles) of successful operations. */
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

/** Requester: one per reply received. `ok` = correlation id and body both matched. */
export interface ReplyEvent extends PeerEvent {
  event: "reply";
  form: RequestForm;
  seq: number;
  ok: boolean;
  latencyMs: number;
  correlationId: string;
  correlationMatches: boolean;
  bodyMatches: boolean;
  replyTopic: string;
  replyBodySize: number;
  /**
   * Properties of the reply as the requester received it (sorted): the ones `createReplyMessage` set
   * (`MSG_TYPE`, `CORRELATION_ID`, `REPLY_TO_CLIENT`, `TTL`), the replier's (`UNIQ_KEY`, ...), the broker's
   * `PUSH_REPLY_TIME` (stamped when it pushes PUSH_REPLY_MESSAGE_TO_CLIENT, 326) and the client's
   * `ARRIVE_TIME`.
   */
  replyProperties: Record<string, string>;
}

/** Requester: one per failed request; `error` is `"<SimpleClassName>: <message>"`. */
export interface RequestErrorEvent extends PeerEvent {
  event: "error";
  form: RequestForm;
  seq: number;
  /** True only for the timeouts expected with `expect: "none"`. */
  ok: boolean;
  latencyMs: number;
  correlationId: string | null;
  error: string;
}

/** Requester: per-form part of the summary. */
export interface FormSummary {
  sent: number;
  ok: number;
  errors: number;
  mismatches: number;
  /** Callback requests that never completed (no reply, no exception) within timeout + 5 s. */
  lost: number;
  errorKinds: Record<string, number>;
  elapsedMs: number;
  throughputPerSec: number;
  latencyMs: LatencySummary;
}

/** Requester: the final line. */
export interface RequesterSummary extends PeerEvent {
  event: "summary";
  run: string;
  allOk: boolean;
  sent: number;
  ok: number;
  errors: number;
  mismatches: number;
  lost: number;
  /** A callback invoked twice with a reply or exception (must be 0). */
  duplicateCompletions: number;
  /** `onSuccess(null)` calls: `request(msg, callback, timeout)` reports the send that way (4.9.4+). */
  nullCallbacks: number;
  elapsedMs: number;
  throughputPerSec: number;
  latencyMs: LatencySummary;
  /** JVM start → producer started. */
  startupMs: number;
  forms: Record<string, FormSummary>;
  /** Process CPU time (user + system) at the end. */
  cpuMs?: number;
  rssKb?: number;
  peakRssKb?: number;
}

/** Responder/Consumer: printed once started and owning queues (or after the wait ran out). */
export interface ReadyEvent extends PeerEvent {
  event: "ready";
  clientId: string;
  group: string;
  topic: string;
  /** Owned queues as `"brokerName:queueId"`; empty if none were assigned within the wait. */
  assigned: string[];
  startupMs: number;
}

/** Responder/Consumer: the owned queue set changed (rebalance). */
export interface AssignmentEvent extends PeerEvent {
  event: "assignment";
  clientId: string;
  topic: string;
  queues: string[];
}

/** Responder: one per request handled. */
export interface ResponderRequestEvent extends PeerEvent {
  event: "request";
  topic: string;
  queueId: number;
  queueOffset: number;
  msgId: string;
  correlationId: string | null;
  replyToClient: string | null;
  /** The `CLUSTER` property the broker stamped on the request. */
  cluster: string | null;
  ttl: string | null;
  bodySize: number;
  /** The request's user property `n`, if any (SQL92 filter tests). */
  n?: string | null;
  reconsumeTimes: number;
  replied: boolean;
  replyTopic?: string;
  sendStatus?: string;
  replyMsgId?: string;
  replySendMs?: number;
  error?: string;
}

/** Consumer: one per delivery. */
export interface ConsumerMessageEvent extends PeerEvent {
  event: "message";
  clientId: string;
  mode: "concurrently" | "orderly";
  topic: string;
  queueId: number;
  queueOffset: number;
  msgId: string;
  keys: string | null;
  tags: string | null;
  bodySize: number;
  bodySha256: string;
  /** The message's sysFlag as the Java client reports it after decoding. */
  sysFlag: number;
  reconsumeTimes: number;
  bornTimestamp: number;
  storeTimestamp: number;
  thread: string;
  /** `success`, or `retry` when `failAttempts` made the listener fail this delivery. */
  result: "success" | "retry";
  /** All message properties (system and user), sorted by key. */
  properties: Record<string, string>;
}

/** Producer: one per successful send call. */
export interface SentEvent extends PeerEvent {
  event: "sent";
  index: number;
  ok: boolean;
  status: string;
  msgId: string;
  offsetMsgId: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  keys: string | null;
  tags: string | null;
  orderKey: string | null;
  bodySha256: string;
  latencyMs: number;
}

/** Producer: the final line. */
export interface ProducerSummary extends PeerEvent {
  event: "summary";
  run: string;
  allOk: boolean;
  sent: number;
  ok: number;
  errors: number;
  elapsedMs: number;
  throughputPerSec: number;
  latencyMs: LatencySummary;
  startupMs: number;
  cpuMs?: number;
  rssKb?: number;
  peakRssKb?: number;
}

/** Where a peer connects: a harness cluster, or an explicit line + name server (e.g. our broker). */
export interface PeerTarget {
  /** Take `line` and `nameServer` from this cluster. */
  cluster?: RocketMQCluster;
  /** Client version line; required without `cluster`. */
  line?: RocketMQLine;
  /** Name server address; overrides the cluster's (point it at our broker's single port). */
  nameServer?: string;
  /** JVM flags appended to the defaults (`-Xms64m -Xmx512m -XX:+UseG1GC`). */
  jvmArgs?: string[];
  /** Raw extra program flags, appended (see the Java sources for all flags). */
  extraArgs?: string[];
}

function resolveTarget(t: PeerTarget): { line: RocketMQLine; nameServer: string } {
  const line = t.line ?? t.cluster?.line;
  const nameServer = t.nameServer ?? t.cluster?.nameServer;
  if (!line) throw new InteropError("interop: peer needs `cluster` or `line`");
  if (!nameServer) throw new InteropError("interop: peer needs `cluster` or `nameServer`");
  return { line, nameServer };
}

function flags(obj: Record<string, string | number | boolean | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === false) continue;
    out.push(`--${k}`, v === true ? "true" : String(v));
  }
  return out;
}

/** A running Java peer (responder or consumer). */
export interface JavaPeer extends AsyncDisposable {
  /** `responder`, `consumer`, ... plus a counter. */
  readonly name: string;
  readonly pid: number;
  /** Every JSON line printed so far, in order. */
  readonly events: readonly PeerEvent[];
  /** Exit code once exited. */
  readonly exitCode: number | undefined;
  /** Directory with the peer's stdout/stderr and the client's own logs (`logs/rocketmqlogs`). */
  readonly dir: string;
  /** Resolves with the first event (already seen or future) that matches. */
  waitFor<T extends PeerEvent = PeerEvent>(
    match: (e: PeerEvent) => boolean,
    options?: { timeoutMs?: number; what?: string },
  ): Promise<T>;
  /** Resolves with all matching events once there are at least `count`. */
  waitForCount<T extends PeerEvent = PeerEvent>(
    match: (e: PeerEvent) => boolean,
    count: number,
    options?: { timeoutMs?: number; what?: string },
  ): Promise<T[]>;
  /** SIGTERM (the JVM shuts the client down cleanly, persisting offsets, and prints `stopped`). */
  stop(): Promise<number>;
  /** Last lines of stdout/stderr. */
  logTail(lines?: number): Promise<string>;
}

let peerCounter = 0;

class Peer implements JavaPeer {
  readonly name: string;
  readonly dir: string;
  readonly #proc: JvmProcess;
  #stopped = false;

  constructor(name: string, dir: string, proc: JvmProcess) {
    this.name = name;
    this.dir = dir;
    this.#proc = proc;
  }

  get pid(): number {
    return this.#proc.child.pid;
  }

  get events(): readonly PeerEvent[] {
    return this.#proc.events as PeerEvent[];
  }

  get exitCode(): number | undefined {
    return this.#proc.exitCode;
  }

  get proc(): JvmProcess {
    return this.#proc;
  }

  async waitFor<T extends PeerEvent = PeerEvent>(
    match: (e: PeerEvent) => boolean,
    options: { timeoutMs?: number; what?: string } = {},
  ): Promise<T> {
    return (await this.waitForCount<T>(match, 1, options))[0]!;
  }

  async waitForCount<T extends PeerEvent = PeerEvent>(
    match: (e: PeerEvent) => boolean,
    count: number,
    options: { timeoutMs?: number; what?: string } = {},
  ): Promise<T[]> {
    const what = options.what ?? `${count} matching event(s)`;
    // Count incrementally: `until` re-runs the test on every stdout line.
    let scanned = 0;
    let matched = 0;
    const test = () => {
      const ev = this.events;
      for (; scanned < ev.length; scanned++) if (match(ev[scanned]!)) matched++;
      return matched >= count || this.#proc.exitCode !== undefined;
    };
    await this.#proc.until(test, options.timeoutMs ?? 60_000, what).catch(async (e) => {
      throw new InteropError((e as Error).message, await this.logTail());
    });
    if (matched < count) {
      await this.#proc.exited(); // drain stdout: the lines may still be in the pipe
      test();
    }
    if (matched < count) {
      throw new InteropError(
        `interop: ${this.name} exited (code ${this.#proc.exitCode}) before ${what} (${matched}/${count})`,
        await this.logTail(),
      );
    }
    return this.events.filter(match) as T[];
  }

  async stop(): Promise<number> {
    return await this.stopKeeping(false);
  }

  /** Stops; `keepDir` leaves the peer's directory (logs) in place for a post-mortem. */
  async stopKeeping(keepDir: boolean): Promise<number> {
    const code = await this.#proc.stop();
    if (!this.#stopped) {
      this.#stopped = true;
      if (!keepDir && !keepDirs()) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
    return code;
  }

  /**
   * Asks the JVM for a thread dump (SIGQUIT; HotSpot prints it on stdout) and returns the `main` thread
   * and the first threads of it, for diagnosing a hang. Empty when the process has exited.
   */
  async threadDump(maxLines = 150): Promise<string> {
    if (this.exitCode !== undefined) return "";
    const from = this.#proc.textLines.length;
    try {
      this.#proc.child.kill("SIGQUIT");
    } catch {
      return "";
    }
    await sleep(1500);
    const lines = this.#proc.textLines.slice(from);
    const start = lines.findIndex((l) => l.startsWith("Full thread dump"));
    if (start < 0) return "";
    const dump = lines.slice(start);
    const mainAt = dump.findIndex((l) => l.startsWith('"main"'));
    const mainEnd = mainAt < 0 ? -1 : dump.findIndex((l, i) => i > mainAt && l.trim() === "");
    const main = mainAt < 0 ? [] : dump.slice(mainAt, mainEnd < 0 ? undefined : mainEnd);
    return `--- thread dump of ${this.name} (main thread, then the first ${maxLines} lines; full dump in ${this.#proc.stdoutFile})\n${
      main.join("\n")
    }\n...\n${dump.slice(0, maxLines).join("\n")}`;
  }

  logTail(lines = 40): Promise<string> {
    return this.#proc.logTail(lines);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function spawnPeer(
  kind: string,
  mainClass: string,
  target: PeerTarget,
  programArgs: string[],
): Promise<Peer> {
  const { line } = resolveTarget(target);
  const tools = await checkTools();
  const art = await ensureArtifacts(line);
  const name = `${kind}-${++peerCounter}`;
  const dir = await makeRunDir(name);
  try {
    const proc = await JvmProcess.spawn({
      name,
      java: tools.java,
      classpath: art.peersClasspath,
      jvmArgs: [
        "-Xms64m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:-OmitStackTraceInFastThrow",
        `-Duser.home=${dir}`,
        "-Dfile.encoding=UTF-8",
        ...(target.jvmArgs ?? []),
      ],
      mainClass,
      args: [...programArgs, ...(target.extraArgs ?? [])],
      logDir: dir,
    });
    return new Peer(name, dir, proc);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** For a peer that missed a deadline: thread dump, stop (keeping its logs), and the error to throw. */
async function diagnoseHang(peer: Peer, cause: unknown): Promise<InteropError> {
  const dump = await peer.threadDump();
  const tail = await peer.logTail();
  await peer.stopKeeping(true);
  const message = cause instanceof InteropError
    ? cause.message.split("\n")[0]!
    : `interop: ${peer.name}: ${String(cause)}`;
  return new InteropError(`${message}; logs kept in ${peer.dir}`, `${tail}\n${dump}`);
}

/** Fails with the peer's `fatal` line and log tail if it printed one or exited. */
async function failIfFatal(peer: Peer, what: string): Promise<never> {
  const fatal = peer.events.find((e) => e.event === "fatal");
  const tail = await peer.logTail();
  await peer.stop();
  throw new InteropError(
    `interop: ${peer.name} failed before ${what}: ${
      String(fatal?.error ?? `exit ${peer.exitCode}`)
    }`,
    tail,
  );
}

/** Options of {@linkcode startJavaResponder}. */
export interface JavaResponderOptions extends PeerTarget {
  /** Request topic (create it first with `cluster.createTopic`). */
  topic: string;
  /** Consumer group; the reply producer uses `<group>-reply`. @default `interop-responder-<topic>` */
  group?: string;
  /** @default "reverse" */
  mode?: ReplyMode;
  /** Sleep before replying, per request. @default 0 */
  delayMs?: number;
  /** Subscription expression. @default "*" */
  tags?: string;
  /** A SQL92 subscription instead of tags (`MessageSelector.bySql`). */
  sql?: string;
  /** Consume threads. @default 4 */
  threads?: number;
  /** Do not print a line per request (errors are still printed). */
  quiet?: boolean;
  /** Max wait for a queue assignment before `ready`. @default 20000 */
  awaitAssignmentMs?: number;
  /**
   * Re-send the client's heartbeat after each rebalance, working around an official-client race that
   * otherwise stalls pulls (SUBSCRIPTION_NOT_LATEST) for up to 30 s; see `Assignments.java`.
   * @default true
   */
  rebalanceHeartbeat?: boolean;
  /** Max wait for `ready`. @default 60000 */
  readyTimeoutMs?: number;
}

/** A running Java Responder. */
export interface JavaResponder extends JavaPeer {
  /** The `ready` line. */
  readonly ready: ReadyEvent;
  /** Request lines so far. */
  requests(): ResponderRequestEvent[];
}

/**
 * Starts the Java Responder (official `DefaultMQPushConsumer` + `MessageUtil.createReplyMessage` +
 * `DefaultMQProducer.send`) and resolves when it is subscribed and owns queues (`ready`).
 *
 * @param options target, topic, reply mode
 * @returns the running responder
 * @throws {InteropError} when it fails to start or is not ready in time
 * @example
 * ```ts
 * import { startJavaResponder } from "./harness.ts";
 * await using responder = await startJavaResponder({ line: "5", nameServer: "127.0.0.1:9876", topic: "T" });
 * console.log(responder.ready.assigned);
 * ```
 */
export async function startJavaResponder(options: JavaResponderOptions): Promise<JavaResponder> {
  const { nameServer } = resolveTarget(options);
  const peer = await spawnPeer(
    "responder",
    "rocketmq.interop.Responder",
    options,
    flags({
      namesrv: nameServer,
      topic: options.topic,
      group: options.group,
      mode: options.mode,
      "delay-ms": options.delayMs,
      tags: options.tags,
      sql: options.sql,
      threads: options.threads,
      quiet: options.quiet,
      "await-assignment-ms": options.awaitAssignmentMs,
      "rebalance-heartbeat": options.rebalanceHeartbeat === false ? "false" : undefined,
    }),
  );
  let ready: ReadyEvent;
  try {
    ready = await peer.waitFor<ReadyEvent>((e) => e.event === "ready" || e.event === "fatal", {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      what: "ready",
    });
  } catch (e) {
    throw await diagnoseHang(peer, e);
  }
  if (ready.event !== "ready") return await failIfFatal(peer, "ready");
  return Object.assign(peer, {
    ready,
    requests: () => peer.events.filter((e) => e.event === "request") as ResponderRequestEvent[],
  });
}

/** Options of {@linkcode startJavaConsumer}. */
export interface JavaConsumerOptions extends PeerTarget {
  topic: string;
  group: string;
  /** @default "concurrently" */
  mode?: "concurrently" | "orderly";
  /** Message model (broadcasting keeps offsets in a temporary directory). @default "clustering" */
  model?: "clustering" | "broadcasting";
  /** Subscription expression. @default "*" */
  tags?: string;
  /** ConsumeFromWhere for a group without offsets. @default "first" */
  from?: "first" | "last";
  /** @default 4 */
  threads?: number;
  /** Sleep per message inside the listener. @default 0 */
  delayMs?: number;
  /** Fail deliveries whose reconsumeTimes is below this (exercises redelivery). @default 0 */
  failAttempts?: number;
  /** Max wait for a queue assignment before `ready` (a group member may legitimately get none). */
  awaitAssignmentMs?: number;
  /**
   * Re-send the client's heartbeat after each rebalance, working around an official-client race that
   * otherwise stalls pulls (SUBSCRIPTION_NOT_LATEST) for up to 30 s; see `Assignments.java`.
   * @default true
   */
  rebalanceHeartbeat?: boolean;
  /** Max wait for `ready`. @default 60000 */
  readyTimeoutMs?: number;
}

/** A running Java Consumer. */
export interface JavaConsumer extends JavaPeer {
  readonly ready: ReadyEvent;
  /** Deliveries so far. */
  messages(): ConsumerMessageEvent[];
  /** The latest owned queues (`"brokerName:queueId"`). */
  assignment(): string[];
  /** Resolves with all deliveries once there are at least `count` successful ones. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ConsumerMessageEvent[]>;
}

/**
 * Starts the Java Consumer (official clustering `DefaultMQPushConsumer`, concurrently or orderly) and
 * resolves at `ready`.
 *
 * @param options target, topic, group, mode
 * @returns the running consumer
 * @throws {InteropError} when it fails to start or is not ready in time
 * @example
 * ```ts
 * import { startJavaConsumer } from "./harness.ts";
 * await using c = await startJavaConsumer({ line: "5", nameServer: "127.0.0.1:9876", topic: "T", group: "G" });
 * const got = await c.waitForMessages(10);
 * console.log(got.map((m) => m.queueOffset));
 * ```
 */
export async function startJavaConsumer(options: JavaConsumerOptions): Promise<JavaConsumer> {
  const { nameServer } = resolveTarget(options);
  const peer = await spawnPeer(
    "consumer",
    "rocketmq.interop.Consumer",
    options,
    flags({
      namesrv: nameServer,
      topic: options.topic,
      group: options.group,
      mode: options.mode,
      model: options.model,
      tags: options.tags,
      from: options.from,
      threads: options.threads,
      "delay-ms": options.delayMs,
      "fail-attempts": options.failAttempts,
      "await-assignment-ms": options.awaitAssignmentMs,
      "rebalance-heartbeat": options.rebalanceHeartbeat === false ? "false" : undefined,
    }),
  );
  let ready: ReadyEvent;
  try {
    ready = await peer.waitFor<ReadyEvent>((e) => e.event === "ready" || e.event === "fatal", {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      what: "ready",
    });
  } catch (e) {
    throw await diagnoseHang(peer, e);
  }
  if (ready.event !== "ready") return await failIfFatal(peer, "ready");
  const isMsg = (e: PeerEvent) => e.event === "message";
  return Object.assign(peer, {
    ready,
    messages: () => peer.events.filter(isMsg) as ConsumerMessageEvent[],
    assignment: () => {
      const a = peer.events.filter((e) => e.event === "assignment").at(-1) as
        | AssignmentEvent
        | undefined;
      return a?.queues ?? ready.assigned;
    },
    waitForMessages: async (count: number, timeoutMs = 60_000) => {
      await peer.waitForCount(
        (e) => isMsg(e) && (e as ConsumerMessageEvent).result === "success",
        count,
        { timeoutMs, what: `${count} messages` },
      );
      return peer.events.filter(isMsg) as ConsumerMessageEvent[];
    },
  });
}

/** Options of {@linkcode runJavaRequester}. */
export interface JavaRequesterOptions extends PeerTarget {
  topic: string;
  /** Forms to run, one after another. @default all six */
  forms?: readonly RequestForm[];
  /** Requests per form (0 with `durationMs` = time-bound only). @default 10 */
  count?: number;
  /** Per form: stop after this long (benchmarks). @default 0 (off) */
  durationMs?: number;
  /** Requests in flight at once. @default 1 */
  concurrency?: number;
  /** Per-request timeout passed to `request(...)`. @default 3000 */
  timeoutMs?: number;
  /** Request body size in bytes (at least the unique `run:seq:` prefix). @default 64 */
  bodySize?: number;
  /** Body filler. @default "binary" */
  body?: "binary" | "text";
  /** The reply mode the responder runs; `none` makes timeouts the expected outcome. @default "reverse" */
  expect?: ReplyMode;
  /** mq forms: fixed queue id (default round-robin). */
  queueId?: number;
  /** Untimed warm-up requests (plain form) before the run. @default 0 */
  warmup?: number;
  /** Producer group. @default random */
  group?: string;
  /** Tags on request messages. */
  tags?: string;
  /** Only the summary line (for benchmarks). */
  quiet?: boolean;
  /** Kill the requester if it has not finished by then. @default derived from the workload + 60 s */
  processTimeoutMs?: number;
}

/** Outcome of {@linkcode runJavaRequester}. */
export interface RequesterRun {
  /** 0 = every request got a matching reply (or timed out, with `expect: "none"`). */
  exitCode: number;
  /** The `started` line (`clientId` = the REPLY_TO_CLIENT value). */
  started: PeerEvent;
  replies: ReplyEvent[];
  errors: RequestErrorEvent[];
  summary: RequesterSummary;
  events: PeerEvent[];
  /** Stdout/stderr tail, for assertion messages. */
  logTail: string;
}

/**
 * Runs the Java Requester to completion: `DefaultMQProducer.request` in each chosen form, every reply
 * checked (correlation id, and body = the `expect` transformation of the request body).
 *
 * @param options target, topic, workload
 * @returns parsed lines and the summary (does not throw for failed requests: assert on the result)
 * @throws {InteropError} when the requester crashes or prints no summary
 * @example
 * ```ts
 * import { runJavaRequester } from "./harness.ts";
 * import assert from "node:assert/strict";
 * const run = await runJavaRequester({ line: "5", nameServer: "127.0.0.1:9876", topic: "T", count: 5 });
 * assert.equal(run.summary.ok, run.summary.sent, run.logTail);
 * ```
 */
export async function runJavaRequester(options: JavaRequesterOptions): Promise<RequesterRun> {
  const { nameServer } = resolveTarget(options);
  const forms = options.forms ?? REQUEST_FORMS;
  const timeoutMs = options.timeoutMs ?? 3000;
  const count = options.count ?? 10;
  const conc = options.concurrency ?? 1;
  const perForm = (options.durationMs ?? 0) > 0
    ? options.durationMs! + timeoutMs + 5000
    : Math.ceil(count / conc) * (timeoutMs + 1000) + 5000;
  const processTimeoutMs = options.processTimeoutMs ?? 60_000 + forms.length * perForm;
  const peer = await spawnPeer(
    "requester",
    "rocketmq.interop.Requester",
    options,
    flags({
      namesrv: nameServer,
      topic: options.topic,
      forms: forms.join(","),
      count,
      "duration-ms": options.durationMs,
      concurrency: options.concurrency,
      "timeout-ms": timeoutMs,
      "body-size": options.bodySize,
      body: options.body,
      expect: options.expect,
      "queue-id": options.queueId,
      warmup: options.warmup,
      group: options.group,
      tags: options.tags,
      quiet: options.quiet,
    }),
  );
  return await finishRun(peer, processTimeoutMs, (events, exitCode, logTail) => {
    const summary = events.find((e) => e.event === "summary") as RequesterSummary | undefined;
    const started = events.find((e) => e.event === "started");
    if (!summary || !started) return undefined;
    return {
      exitCode,
      started,
      replies: events.filter((e) => e.event === "reply") as ReplyEvent[],
      errors: events.filter((e) => e.event === "error") as RequestErrorEvent[],
      summary,
      events,
      logTail,
    };
  });
}

async function finishRun<T>(
  peer: Peer,
  processTimeoutMs: number,
  build: (events: PeerEvent[], exitCode: number, logTail: string) => T | undefined,
): Promise<T> {
  try {
    await peer.proc.until(() => peer.exitCode !== undefined, processTimeoutMs, "exit");
  } catch {
    const tail = await peer.logTail();
    await peer.stop();
    throw new InteropError(
      `interop: ${peer.name} did not finish within ${processTimeoutMs} ms`,
      tail,
    );
  }
  const exitCode = await peer.proc.exited();
  const tail = await peer.logTail(20);
  const events = [...peer.events];
  await peer.stop();
  const result = build(events, exitCode, tail);
  if (result === undefined) {
    const fatal = events.find((e) => e.event === "fatal");
    throw new InteropError(
      `interop: ${peer.name} exited with code ${exitCode} without a summary${
        fatal ? `: ${String(fatal.error)}` : ""
      }`,
      tail,
    );
  }
  return result;
}

/** Options of {@linkcode runJavaProducer}. */
export interface JavaProducerOptions extends PeerTarget {
  topic: string;
  /** @default 10 */
  count?: number;
  /** @default 64 */
  bodySize?: number;
  /** @default "binary" */
  body?: "binary" | "text";
  /** Keys pattern; `{i}` = message index. */
  keys?: string;
  /** Tags pattern; `{i}` = message index. */
  tags?: string;
  /** Producer group. @default random */
  group?: string;
  /** N > 0: message i has order key `ok-(i mod N)` and goes to that key's queue. */
  orderKeys?: number;
  /** Send every message to this queue id. */
  queueId?: number;
  /** Send timeout. @default 3000 */
  timeoutMs?: number;
  /** Pause between sends. @default 0 */
  intervalMs?: number;
  /** Only the summary (and errors). */
  quiet?: boolean;
  /** 5.x only: `setCompressType` (bodies over `compressOver` are compressed with it). */
  compressType?: "ZLIB" | "LZ4" | "ZSTD";
  /** `setCompressMsgBodyOverHowmuch`. @default 4096 (Java's) */
  compressOver?: number;
  /** 5.x only: `setCompressLevel`. @default 5 (Java's) */
  compressLevel?: number;
  /** @default derived from the workload + 60 s */
  processTimeoutMs?: number;
}

/** Outcome of {@linkcode runJavaProducer}. */
export interface ProducerRun {
  exitCode: number;
  sent: SentEvent[];
  errors: PeerEvent[];
  summary: ProducerSummary;
  events: PeerEvent[];
  logTail: string;
}

/**
 * Runs the Java Producer to completion (synchronous `DefaultMQProducer.send`, one message at a time).
 *
 * @param options target, topic, workload
 * @returns parsed lines and the summary
 * @throws {InteropError} when the producer crashes or prints no summary
 * @example
 * ```ts
 * import { runJavaProducer } from "./harness.ts";
 * const run = await runJavaProducer({ line: "4", nameServer: "127.0.0.1:9876", topic: "T", count: 3, keys: "k-{i}" });
 * console.log(run.sent.map((s) => s.msgId));
 * ```
 */
export async function runJavaProducer(options: JavaProducerOptions): Promise<ProducerRun> {
  const { nameServer } = resolveTarget(options);
  const count = options.count ?? 10;
  const processTimeoutMs = options.processTimeoutMs ??
    60_000 + count * ((options.timeoutMs ?? 3000) + (options.intervalMs ?? 0));
  const peer = await spawnPeer(
    "producer",
    "rocketmq.interop.Producer",
    options,
    flags({
      namesrv: nameServer,
      topic: options.topic,
      count,
      "body-size": options.bodySize,
      body: options.body,
      keys: options.keys,
      tags: options.tags,
      group: options.group,
      "order-keys": options.orderKeys,
      "queue-id": options.queueId,
      "timeout-ms": options.timeoutMs,
      "interval-ms": options.intervalMs,
      quiet: options.quiet,
      "compress-type": options.compressType,
      "compress-over": options.compressOver,
      "compress-level": options.compressLevel,
    }),
  );
  return await finishRun(peer, processTimeoutMs, (events, exitCode, logTail) => {
    const summary = events.find((e) => e.event === "summary") as ProducerSummary | undefined;
    if (!summary) return undefined;
    return {
      exitCode,
      sent: events.filter((e) => e.event === "sent") as SentEvent[],
      errors: events.filter((e) => e.event === "error"),
      summary,
      events,
      logTail,
    };
  });
}

/** Options of {@linkcode createTopic}. */
export interface CreateTopicOptions extends PeerTarget {
  topic: string;
  /** Read and write queue count. @default 4 */
  queues?: number;
}

/**
 * Creates a topic through the official client (`createTopic` on the template topic TBW102: an
 * UPDATE_AND_CREATE_TOPIC to every master broker) and waits until the name server routes it.
 *
 * @param options target, topic, queue count
 * @returns the publish queues as `"brokerName:queueId"`
 * @throws {InteropError} when the admin call fails
 * @example
 * ```ts
 * import { createTopic } from "./harness.ts";
 * const queues = await createTopic({ line: "5", nameServer: "127.0.0.1:9876", topic: "T", queues: 2 });
 * console.log(queues); // ["broker-a:0", "broker-a:1"]
 * ```
 */
export async function createTopic(options: CreateTopicOptions): Promise<string[]> {
  const { nameServer } = resolveTarget(options);
  const peer = await spawnPeer("admin", "rocketmq.interop.Admin", options, [
    "create-topic",
    ...flags({ namesrv: nameServer, topic: options.topic, queues: options.queues }),
  ]);
  return await finishRun(peer, 60_000, (events, exitCode) => {
    const created = events.find((e) => e.event === "created");
    if (!created || exitCode !== 0) return undefined;
    return created.queues as string[];
  });
}

// ---------------------------------------------------------------------------------------------------
// mqadmin (rocketmq-tools)
// ---------------------------------------------------------------------------------------------------

/** Options of {@linkcode runMqAdmin}. */
export interface MqAdminOptions extends PeerTarget {
  /** The sub-command and its flags, e.g. `["consumerStatus", "-g", "CG", "-i", clientId]` (`-n` is added). */
  args: string[];
  /** Give up (and stop the JVM) after this long. @default 120000 */
  timeoutMs?: number;
}

/** Outcome of {@linkcode runMqAdmin}. */
export interface MqAdminRun {
  /** JVM exit code. */
  exitCode: number;
  /** What the command printed on stdout. */
  output: string;
  /** Stdout and stderr tails, for assertion messages. */
  logTail: string;
}

/**
 * Runs the official `mqadmin` (`org.apache.rocketmq.tools.command.MQAdminStartup` from the
 * `rocketmq-tools` artifact, on the server classpath of the line) against a name server: ours or a
 * harness cluster's. Its working directory is a fresh run directory (consumerStatus writes its files
 * there).
 *
 * @param options target, sub-command, timeout
 * @returns exit code and output
 * @throws {InteropError} when the command does not finish in time
 * @example
 * ```ts
 * import { runMqAdmin } from "./harness.ts";
 * const run = await runMqAdmin({ line: "5", nameServer: "127.0.0.1:9876", args: ["consumerStatus", "-g", "CG"] });
 * console.log(run.output);
 * ```
 */
export async function runMqAdmin(options: MqAdminOptions): Promise<MqAdminRun> {
  const { line, nameServer } = resolveTarget(options);
  const tools = await checkTools();
  const art = await ensureArtifacts(line);
  const name = `mqadmin-${++peerCounter}`;
  const dir = await makeRunDir(name);
  // 4.x's MQAdminStartup reads ${rocketmq.home.dir}/conf/logback_tools.xml and stops without it.
  await Deno.mkdir(`${dir}/conf`, { recursive: true });
  await Deno.writeTextFile(`${dir}/conf/logback_tools.xml`, logbackXml("tools.log"));
  const proc = await JvmProcess.spawn({
    name,
    java: tools.java,
    classpath: art.serverClasspath,
    jvmArgs: [
      "-Xms64m",
      "-Xmx256m",
      "-XX:+UseSerialGC",
      `-Duser.home=${dir}`,
      `-Drocketmq.home.dir=${dir}`,
      "-Dfile.encoding=UTF-8",
      ...(options.jvmArgs ?? []),
    ],
    mainClass: "org.apache.rocketmq.tools.command.MQAdminStartup",
    args: [...options.args, "-n", nameServer, ...(options.extraArgs ?? [])],
    logDir: dir,
    cwd: dir,
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    proc.exited().then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    const tail = await proc.logTail();
    await proc.stop(5000);
    throw new InteropError(
      `interop: mqadmin ${options.args[0]} did not finish in ${timeoutMs} ms`,
      tail,
    );
  }
  const run = {
    exitCode: proc.exitCode ?? -1,
    output: proc.textLines.join("\n"),
    logTail: await proc.logTail(),
  };
  if (!keepDirs()) await Deno.remove(dir, { recursive: true }).catch(() => {});
  return run;
}

// ---------------------------------------------------------------------------------------------------
// DefaultLitePullConsumer
// ---------------------------------------------------------------------------------------------------

/** Options of {@linkcode runJavaLitePull} (see LitePull.java for the flags). */
export interface JavaLitePullOptions extends PeerTarget {
  topic: string;
  /** Consumer group (its committed offsets are what a restart resumes from). */
  group: string;
  /** `subscribe(topic, "*")` or `assign(fetchMessageQueues(topic))`. @default "subscribe" */
  mode?: "subscribe" | "assign";
  /** Messages to send before the consumer starts. @default 0 */
  send?: number;
  /**
   * Phases run in order once every queue is assigned: seek every queue (`begin`, `end` or an offset),
   * send `send` more messages, poll until `expect` messages came. @default `[{ expect: 0 }]`
   */
  phases?: LitePullPhase[];
  /** `commitSync()` after each non-empty poll, auto commit, or neither. @default "sync" */
  commit?: "sync" | "auto" | "none";
  /** Per phase. @default 60000 */
  timeoutMs?: number;
  /** After the expected count: keep polling this long, to catch extra messages. @default 1500 */
  idleMs?: number;
}

/** One phase of {@linkcode runJavaLitePull}. */
export interface LitePullPhase {
  /** `seekToBegin`, `seekToEnd` or `seek(mq, n)` on every queue first. */
  seek?: "begin" | "end" | number;
  /** Then send this many messages. */
  send?: number;
  /** Then poll until this many messages came (and 1.5 s more, to catch extras). */
  expect?: number;
}

/** One `message` line of the LitePull peer. */
export interface LitePullMessage extends PeerEvent {
  phase: number;
  /** `brokerName:queueId` */
  queue: string;
  queueOffset: number;
  msgId: string;
  keys: string;
  body: string;
}

/** Outcome of {@linkcode runJavaLitePull}. */
export interface LitePullRun {
  /** 0 = every phase polled its count in time. */
  exitCode: number;
  /** `sent` lines: `index`, `body`, `queue`, `queueOffset`. */
  sent: PeerEvent[];
  messages: LitePullMessage[];
  /** `committed(mq)` per `brokerName:queueId` before shutdown (the client's view, memory first). */
  committed: Record<string, number>;
  events: PeerEvent[];
  logTail: string;
}

/**
 * Runs the Java LitePull peer to completion: optionally sends messages, then polls them with the
 * official `DefaultLitePullConsumer` (subscribe or assign mode, with seeks and commits), and shuts the
 * consumer down (persisting its offsets).
 *
 * @param options target, topic, group, workload
 * @returns parsed lines (does not throw when too few messages came: assert on `exitCode`/`messages`)
 * @throws {InteropError} when the peer crashes or prints no summary
 * @example
 * ```ts
 * import { runJavaLitePull } from "./harness.ts";
 * const run = await runJavaLitePull({
 *   line: "5", nameServer: "127.0.0.1:9876", topic: "T", group: "G", send: 3,
 *   phases: [{ expect: 3 }, { seek: "begin", expect: 3 }],
 * });
 * console.log(run.messages.length);
 * ```
 */
export async function runJavaLitePull(options: JavaLitePullOptions): Promise<LitePullRun> {
  const { nameServer } = resolveTarget(options);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const peer = await spawnPeer(
    "litepull",
    "rocketmq.interop.LitePull",
    options,
    flags({
      namesrv: nameServer,
      topic: options.topic,
      group: options.group,
      mode: options.mode,
      send: options.send,
      plan: (options.phases ?? [{ expect: 0 }]).map((p) =>
        Object.entries(p).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(",")
      ).join(";"),
      commit: options.commit,
      "timeout-ms": timeoutMs,
      "idle-ms": options.idleMs,
    }),
  );
  return await finishRun(
    peer,
    60_000 + (options.phases?.length ?? 1) * timeoutMs,
    (events, exitCode, logTail) => {
      const summary = events.find((e) => e.event === "summary");
      if (!summary) return undefined;
      return {
        exitCode,
        sent: events.filter((e) => e.event === "sent"),
        messages: events.filter((e) => e.event === "message") as LitePullMessage[],
        committed: summary.committed as Record<string, number>,
        events,
        logTail,
      };
    },
  );
}

/** One command's outcome in {@linkcode runMqAdminBatch}. */
export interface MqAdminBatchResult {
  /** The command as run (with `-n`). */
  args: string[];
  /** What it printed on stdout. */
  output: string;
  /** 0, or the status of a `System.exit` it tried (a command-line error), -1 when it threw. */
  exit: number;
  /** How long it took in the JVM, ms. */
  ms: number;
  /** What it threw, if it did. */
  error?: string;
}

/** Outcome of {@linkcode runMqAdminBatch}. */
export interface MqAdminBatchRun {
  /** One result per command, in order. */
  results: MqAdminBatchResult[];
  /** Wall time of the JVM, start to exit, ms. */
  totalMs: number;
  /** Stdout and stderr tails, for assertion messages. */
  logTail: string;
}

/**
 * Runs several `mqadmin` commands in one JVM (`rocketmq.interop.MqAdminBatch`, which calls
 * `MQAdminStartup.main` for each and captures its output): one JVM start instead of one per command.
 *
 * @param options target, the commands (each a sub-command and its flags; `-n` is added), timeout
 * @returns each command's output, and the JVM's wall time
 * @throws {InteropError} when the batch does not finish in time or stops early
 * @example
 * ```ts
 * import { runMqAdminBatch } from "./harness.ts";
 * const run = await runMqAdminBatch({ line: "5", nameServer: "127.0.0.1:9876", commands: [["clusterList"], ["topicList"]] });
 * console.log(run.results.map((r) => r.output));
 * ```
 */
export async function runMqAdminBatch(
  options: PeerTarget & { commands: string[][]; timeoutMs?: number },
): Promise<MqAdminBatchRun> {
  const { line, nameServer } = resolveTarget(options);
  const tools = await checkTools();
  const art = await ensureArtifacts(line);
  const name = `mqadmin-batch-${++peerCounter}`;
  const dir = await makeRunDir(name);
  await Deno.mkdir(`${dir}/conf`, { recursive: true });
  await Deno.writeTextFile(`${dir}/conf/logback_tools.xml`, logbackXml("tools.log"));
  const args: string[] = [];
  options.commands.forEach((command, i) => {
    if (i > 0) args.push("--next");
    args.push(...command, "-n", nameServer);
  });
  const started = performance.now();
  const proc = await JvmProcess.spawn({
    name,
    java: tools.java,
    classpath: art.serverClasspath,
    jvmArgs: [
      "-Xms64m",
      "-Xmx256m",
      "-XX:+UseSerialGC",
      `-Duser.home=${dir}`,
      `-Drocketmq.home.dir=${dir}`,
      "-Dfile.encoding=UTF-8",
      "-Djava.security.manager=allow",
      ...(options.jvmArgs ?? []),
    ],
    mainClass: "rocketmq.interop.MqAdminBatch",
    args,
    logDir: dir,
    cwd: dir,
  });
  const timeoutMs = options.timeoutMs ?? 180_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    proc.exited().then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
  ]);
  clearTimeout(timer);
  const logTail = await proc.logTail();
  if (!exited) {
    await proc.stop(5000);
    throw new InteropError(`interop: mqadmin batch did not finish in ${timeoutMs} ms`, logTail);
  }
  const totalMs = Math.round(performance.now() - started);
  const results = proc.events.filter((e) =>
    e.event === "mqadmin"
  ) as unknown as MqAdminBatchResult[];
  if (!proc.events.some((e) => e.event === "done") || results.length !== options.commands.length) {
    throw new InteropError(
      `interop: mqadmin batch stopped after ${results.length} of ${options.commands.length} commands`,
      logTail,
    );
  }
  if (!keepDirs()) await Deno.remove(dir, { recursive: true }).catch(() => {});
  return { results, totalMs, logTail };
}

/** Options of {@linkcode runJavaLookup}. */
export interface JavaLookupOptions extends PeerTarget {
  topic: string;
  /** An offset message id (`SendResult.offsetMsgId`) for `viewMessage(topic, offsetMsgId)`. */
  offsetMsgId: string;
  /** A message id (`SendResult.msgId`, the unique key) for `viewMessage(topic, msgId)`. */
  msgId: string;
  /** A key for `queryMessage(topic, key, 32, 0, Long.MAX_VALUE)`. */
  key: string;
}

/** Outcome of {@linkcode runJavaLookup}: the peer's `view`, `query` and `error` events. */
export interface JavaLookupRun {
  /** `viewMessage(topic, offsetMsgId)`'s message, if found. */
  byOffset?: PeerEvent;
  /** `viewMessage(topic, msgId)`'s message, if found. */
  byUnique?: PeerEvent;
  /** `queryMessage`'s messages (`msgIds`, `bodies`), if any. */
  query?: PeerEvent;
  /** The steps that threw, with the exception. */
  errors: PeerEvent[];
}

/**
 * Looks messages up with the official Java client (`rocketmq.interop.Lookup`: `viewMessage` by offset
 * message id and by message id, `queryMessage` by key) against a name server: ours or a harness
 * cluster's.
 *
 * @param options target, topic, ids and key
 * @returns what each lookup found, and the errors
 * @throws {InteropError} when the peer does not finish
 * @example
 * ```ts
 * import { runJavaLookup } from "./harness.ts";
 * const run = await runJavaLookup({ line: "5", nameServer: "127.0.0.1:9876", topic: "T",
 *   offsetMsgId: "7F00000100002A9F0000000000000000", msgId: "0A000005...", key: "order-1" });
 * console.log(run.byOffset?.body);
 * ```
 */
export async function runJavaLookup(options: JavaLookupOptions): Promise<JavaLookupRun> {
  const { nameServer } = resolveTarget(options);
  const peer = await spawnPeer("lookup", "rocketmq.interop.Lookup", options, [
    ...flags({
      namesrv: nameServer,
      topic: options.topic,
      "offset-msg-id": options.offsetMsgId,
      "msg-id": options.msgId,
      key: options.key,
    }),
  ]);
  return await finishRun(peer, 90_000, (events) => {
    if (!events.some((e) => e.event === "done")) return undefined;
    const view = (by: string) => events.find((e) => e.event === "view" && e.by === by);
    return {
      ...(view("offset") ? { byOffset: view("offset")! } : {}),
      ...(view("unique") ? { byUnique: view("unique")! } : {}),
      ...(events.find((e) => e.event === "query")
        ? { query: events.find((e) => e.event === "query")! }
        : {}),
      errors: events.filter((e) => e.event === "error"),
    };
  });
}
