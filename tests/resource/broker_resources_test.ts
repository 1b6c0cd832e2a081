// deno-lint-ignore-file no-console
// The broker's resource limits under attack and load, measured on a broker in
// a process of its own (src/broker/cli.ts) so that its RSS is its own:
//
//   1. 2,000 idle connections (each served one request): RSS per connection;
//   2. 60 s of steady request-reply load, during which
//   3. 100 connections each send half of a frame declared at 16 MiB, and
//   4. 20 connections trickle a frame a byte at a time (slowloris);
//   5. the broker stays up, every request gets its reply, the attackers'
//      connections are closed by the frame deadline, and the broker's RSS
//      stays within 2 x its store bound plus a fixed overhead, with the store
//      full (its oldest records dropped) for most of the run.
//
// Run by `deno task test:resource` (once in CI, not part of `deno task test`:
// it takes about 90 s and wants ~4,500 file descriptors). Linux only (reads
// /proc). The figures are printed at the end; `BROKER_RUNTIME=node|bun` runs
// the broker on Node (tsx) or Bun instead of Deno, for comparison.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Producer, PushConsumer, silentLogger } from "../../mod.ts";
import { RequestCode } from "../../src/codec/codes.ts";
import { encodeGetMinOffsetRequestHeader } from "../../src/codec/ext_fields.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";
import { RemotingConnection } from "../../src/remoting/connection.ts";
import { connect } from "../../src/transport/deno.ts";

const MiB = 1024 * 1024;
const STORE_BOUND = 64 * MiB;
/**
 * What the broker may hold beyond twice its store bound: the runtime
 * (~65 MiB), 2,000 idle connections (~70 MiB) and what request-reply keeps
 * in flight and awaiting the garbage collector (~100-150 MiB). Measured on
 * Deno: ~330 MiB for this run, against 2 x 64 + 256 = 384 MiB; main
 * (7bfd987): ~550 MiB.
 */
const FIXED_OVERHEAD = 256 * MiB;
const IDLE_CONNECTIONS = 2000;
const HALF_FRAMES = 100;
const SLOWLORIS = 20;
const FRAME_TIMEOUT = 5000;
const PARTIAL_FRAME_BUDGET = 128 * MiB; // the default
const LOAD_MS = 60_000;
const CONCURRENCY = 32;
const BODY_SIZE = 256;
const TOPIC = "ResourceTest";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The soft limit on open files of this process (the broker inherits it). */
function openFileLimit(): number {
  const limits = Deno.readTextFileSync("/proc/self/limits");
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft === undefined || soft === "unlimited" ? Infinity : Number(soft);
}

interface BrokerProcess {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  /** Log lines so far (stderr). */
  readonly lines: string[];
  /** Resident set size now, and its peak since start (VmHWM), in bytes. */
  memory(): { rss: number; peak: number };
  /** Whether the process is still running. */
  readonly running: boolean;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

async function spawnBroker(args: string[]): Promise<BrokerProcess> {
  const runtime = Deno.env.get("BROKER_RUNTIME") ?? "deno";
  const cli = `${root}src/broker/cli.ts`;
  const command = runtime === "node"
    ? ["node", "--import", `file://${root}.tools/node_modules/tsx/dist/loader.mjs`, cli]
    : runtime === "bun"
    ? ["bun", cli]
    : [Deno.execPath(), "run", "-A", cli];
  const child = new Deno.Command(command[0]!, {
    args: [...command.slice(1), ...args],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let running = true;
  const status = child.status.then((s) => {
    running = false;
    return s.code;
  });
  const lines: string[] = [];
  void (async () => {
    let rest = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  })();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let match: RegExpExecArray | null = null;
  while (!(match = /listening on (\S+):(\d+)/.exec(text))) {
    const { value, done } = await stdout.read();
    if (done) throw new Error(`the broker exited before listening:\n${lines.join("\n")}`);
    text += value;
  }
  void (async () => {
    while (!(await stdout.read()).done);
  })();
  const memory = () => {
    const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)![1]);
    return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
  };
  return {
    address: `${match[1]}:${match[2]}`,
    port: Number(match[2]),
    pid: child.pid,
    lines,
    memory,
    get running() {
      return running;
    },
    async stop() {
      if (running) child.kill("SIGTERM");
      return await status;
    },
  };
}

/** Resolves when `conn` is closed by the peer (its read side ends or fails). */
async function closedByPeer(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(1024);
  try {
    while ((await conn.read(buffer)) !== null);
  } catch {
    // reset by the peer: closed too
  }
}

/** Rejects if `promise` has not settled after `ms`: a guard against hanging, not a clock. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => (bytes / MiB).toFixed(0);

describe("broker resources (the CLI in a process of its own, loopback TCP)", () => {
  it("2,000 connections, 100 half-sent 16 MiB frames, slowloris and 60 s of request-reply: bounded, up, serving", async () => {
    const needed = 2 * IDLE_CONNECTIONS + HALF_FRAMES + SLOWLORIS + 200;
    assert.ok(
      openFileLimit() >= needed,
      `needs ${needed} open files (ulimit -n is ${openFileLimit()}): run \`ulimit -n ${needed}\` first`,
    );
    const broker = await spawnBroker([
      "--port=0",
      "--log-level=warn",
      `--memory-limit=${STORE_BOUND}`,
      `--max-connections=${IDLE_CONNECTIONS + 500}`,
      `--frame-timeout=${FRAME_TIMEOUT}`,
      "--idle-timeout=900000", // the idle connections stay for the whole run, however slow
    ]);
    const figures: Record<string, string> = {};
    const idle: RemotingConnection[] = [];
    const attackers: Deno.Conn[] = [];
    let consumer: PushConsumer | undefined;
    let producer: Producer | undefined;
    let stopLoad: (() => void) | undefined;
    let load: Promise<LoadResult> | undefined;
    try {
      // Responder and requester, warmed up.
      consumer = new PushConsumer({
        nameServer: broker.address,
        group: "resource_responder",
        concurrency: 20,
        logger: silentLogger,
      });
      consumer.subscribe(TOPIC, "*", (m) => m.body.slice().reverse());
      await consumer.start();
      producer = new Producer({
        nameServer: broker.address,
        group: "resource_requester",
        logger: silentLogger,
      });
      await producer.start();
      await producer.send({ topic: TOPIC, body: "create the topic" });
      await within(
        (async () => {
          while (consumer.assignedQueues.filter((q) => q.topic === TOPIC).length < 4) {
            await sleep(20);
          }
        })(),
        60_000,
        "the responder owns the topic's queues",
      );
      for (let i = 0; i < 200; i++) {
        await producer.request({ topic: TOPIC, body: new Uint8Array(BODY_SIZE) }, {
          timeout: 10_000,
        });
      }
      const base = broker.memory().rss;
      figures["broker RSS, started and warmed up"] = `${mib(base)} MiB`;

      // 1. 2,000 connections, each served one request, then left idle.
      for (let i = 0; i < IDLE_CONNECTIONS; i++) {
        const conn = new RemotingConnection(
          await connect({ hostname: "127.0.0.1", port: broker.port }),
        );
        idle.push(conn);
      }
      await Promise.all(idle.map(async (conn) => {
        const res = await conn.invoke(createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), {
          timeout: 30_000,
        });
        assert.equal(res.code, 0);
      }));
      await sleep(1000); // let the broker settle (allocations only; nothing is awaited)
      const withIdle = broker.memory().rss;
      const perConnection = (withIdle - base) / IDLE_CONNECTIONS;
      figures[`broker RSS with ${IDLE_CONNECTIONS} idle connections`] = `${mib(withIdle)} MiB (${
        (perConnection / 1024).toFixed(1)
      } KiB per connection)`;

      // 2. Steady request-reply (at least 60 s in all): alone until the store
      // is full and has been dropping its oldest records for 15 s.
      const admin = idle[0]!;
      const droppedReplies = async () => {
        const res = await admin.invoke(
          createRequest(
            RequestCode.GET_MIN_OFFSET,
            encodeGetMinOffsetRequestHeader({ topic: "DefaultCluster_REPLY_TOPIC", queueId: 0 }),
          ),
          { timeout: 10_000 },
        );
        return Number(res.extFields.offset);
      };
      load = runLoad(producer, new Promise<void>((resolve) => stopLoad = resolve));
      const loadStarted = performance.now();
      await within(
        (async () => {
          while (await droppedReplies() === 0) await sleep(500);
        })(),
        300_000,
        "the store filled up",
      );
      figures["store full (oldest records dropped) after"] = `${
        ((performance.now() - loadStarted) / 1000).toFixed(0)
      } s of request-reply`;
      await sleep(15_000);
      const steadyPeak = broker.memory().peak; // VmHWM: the peak since the broker started
      figures["broker RSS peak under request-reply, idle connections open, store full"] = `${
        mib(steadyPeak)
      } MiB; bound ${mib(2 * STORE_BOUND + FIXED_OVERHEAD)} MiB (2 x ${
        mib(STORE_BOUND)
      } MiB store + ${mib(FIXED_OVERHEAD)} MiB)`;

      // 3. 100 connections each send half of a frame declared at 16 MiB.
      const beforeHalf = broker.memory().rss;
      const header = new Uint8Array(4);
      new DataView(header.buffer).setInt32(0, 16 * MiB - 4);
      const piece = new Uint8Array(64 * 1024).fill(0x7b);
      const halfStarted = performance.now();
      const halfClosed = await Promise.all(
        Array.from({ length: HALF_FRAMES }, async () => {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: broker.port });
          attackers.push(conn);
          const closed = closedByPeer(conn);
          try {
            await conn.write(header);
            for (let sent = 0; sent < 8 * MiB; sent += piece.length) await conn.write(piece);
          } catch {
            // closed by the broker (partialFrameBudget) while sending
          }
          return closed;
        }),
      );
      const halfPeak = broker.memory().rss;
      figures[`broker RSS with ${HALF_FRAMES} frames declared at 16 MiB, 8 MiB of each sent`] = `${
        mib(halfPeak)
      } MiB (+${mib(halfPeak - beforeHalf)} MiB; partialFrameBudget ${
        mib(PARTIAL_FRAME_BUDGET)
      } MiB)`;
      await within(Promise.all(halfClosed), 30 * FRAME_TIMEOUT, "half-frame connections closed");
      figures["half-sent frames: every connection closed after"] = `${
        ((performance.now() - halfStarted) / 1000).toFixed(1)
      } s (frameTimeout ${FRAME_TIMEOUT / 1000} s)`;

      // 4. Slowloris: a frame a byte every 500 ms, never finished in time.
      const slowStarted = performance.now();
      const slow = await Promise.all(
        Array.from(
          { length: SLOWLORIS },
          () => Deno.connect({ hostname: "127.0.0.1", port: broker.port }),
        ),
      );
      attackers.push(...slow);
      const slowClosed = slow.map(async (conn) => {
        const ended = closedByPeer(conn);
        let done = false;
        void ended.then(() => done = true);
        const frame = new Uint8Array([0, 0, 1, 0, ...new Uint8Array(256)]);
        for (let i = 0; i < frame.length && !done; i++) {
          await conn.write(frame.subarray(i, i + 1)).catch(() => done = true);
          await Promise.race([sleep(500), ended]);
        }
        await ended;
      });
      await within(Promise.all(slowClosed), 30 * FRAME_TIMEOUT, "slowloris connections closed");
      figures["slowloris connections closed after"] = `${
        ((performance.now() - slowStarted) / 1000).toFixed(1)
      } s`;
      const attackPeak = broker.memory().peak;

      await sleep(Math.max(0, LOAD_MS - (performance.now() - loadStarted)));
      stopLoad!();
      const result = await load;
      assert.ok(broker.running, "the broker is still running");
      const dropped = await droppedReplies();

      // The idle connections are still served.
      const still = await Promise.all(
        idle.slice(0, 50).map((conn) =>
          conn.invoke(createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), { timeout: 30_000 })
        ),
      );
      figures["request-reply during the run"] = `${result.ok} replies in ${
        (result.elapsedMs / 1000).toFixed(0)
      } s (${
        (result.ok / result.elapsedMs * 1000).toFixed(0)
      }/s, ${CONCURRENCY} in flight, ${BODY_SIZE}-byte bodies), ${result.errors} errors, slowest 5-s window ${result.minWindow} replies`;
      figures["replies dropped from the store by its bound"] = String(dropped);
      figures["broker RSS peak (VmHWM) over the whole run, attacks included"] = `${
        mib(attackPeak)
      } MiB`;
      figures["broker RSS at the end of the load"] = `${mib(broker.memory().rss)} MiB`;
      figures["broker warnings: frames late / connections refused"] = `${
        broker.lines.filter((l) => l.includes("closing a connection whose frame is late")).length
      } / ${broker.lines.filter((l) => l.includes("connection refused")).length}`;

      assert.ok(still.every((r) => r.code === 0), "idle connections still served");
      assert.equal(result.errors, 0, `request-reply failed: ${result.firstError}`);
      assert.ok(result.minWindow > 0, "replies in every 5-s window of the run");
      assert.ok(perConnection <= 48 * 1024, `${perConnection} bytes per idle connection`);
      assert.ok(
        steadyPeak <= 2 * STORE_BOUND + FIXED_OVERHEAD,
        `RSS peak under steady load ${mib(steadyPeak)} MiB`,
      );
      // Live bytes of the half-sent frames are at most the budget plus 64 KiB
      // per connection; the allocator keeps the pages they used once freed
      // (reused by a second attack, not returned to the system), and up to
      // that much again waits for the garbage collector: 3x, not 16 MiB each.
      assert.ok(
        attackPeak - steadyPeak <= 3 * (PARTIAL_FRAME_BUDGET + HALF_FRAMES * 64 * 1024),
        `half-sent frames cost ${mib(attackPeak - steadyPeak)} MiB`,
      );
      assert.ok(
        broker.lines.some((l) => l.includes("closing a connection whose frame is late")),
        "the frame deadline closed connections",
      );
      assert.ok(
        broker.lines.some((l) => l.includes("frames still arriving exceed partialFrameBudget")),
        "the partial-frame budget closed connections",
      );
    } finally {
      figures["broker still running"] = String(broker.running);
      console.log(
        `\nbroker resources (${Deno.env.get("BROKER_RUNTIME") ?? "deno"} broker):\n` +
          Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join("\n"),
      );
      stopLoad?.();
      await load;
      for (const conn of attackers) {
        try {
          conn.close();
        } catch { /* closed by the broker */ }
      }
      await Promise.all(idle.map((c) => c.close()));
      await producer?.close();
      await consumer?.close();
      const code = await broker.stop();
      assert.equal(code, 0, `broker exit code\n${broker.lines.slice(-20).join("\n")}`);
    }
  });
});

interface LoadResult {
  ok: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** Fewest replies in any 5-s window. */
  minWindow: number;
}

/** Request-reply in closed loops until `stop` resolves. */
async function runLoad(producer: Producer, stop: Promise<void>): Promise<LoadResult> {
  const started = performance.now();
  let stopped = false;
  void stop.then(() => stopped = true);
  const windows: number[] = [];
  const result: LoadResult = { ok: 0, errors: 0, elapsedMs: 0, minWindow: 0 };
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, worker) => {
    let seq = 0;
    while (!stopped) {
      const body = new Uint8Array(BODY_SIZE);
      new DataView(body.buffer).setUint32(0, worker);
      new DataView(body.buffer).setUint32(4, seq++);
      try {
        const reply = await producer.request({ topic: TOPIC, body }, { timeout: 10_000 });
        assert.deepEqual(reply.body, body.slice().reverse());
        result.ok++;
        const w = Math.floor((performance.now() - started) / 5000);
        while (windows.length <= w) windows.push(0);
        windows[w]!++;
      } catch (err) {
        result.errors++;
        result.firstError ??= String(err);
      }
    }
  }));
  result.elapsedMs = performance.now() - started;
  // The last window is cut short by the stop: not counted.
  result.minWindow = Math.min(...windows.slice(0, -1));
  return result;
}
