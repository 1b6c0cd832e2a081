// Our client in a real Cloudflare Worker: tests/edge/worker.js is bundled the
// way a Worker is (esbuild, platform "neutral": a node: import anywhere in the
// graph fails the bundle) and run in workerd (npm package `workerd`) WITHOUT
// nodejs_compat. The Worker does request-reply with requestOnce() and with one
// producer over cloudflare:sockets, against the embedded broker on loopback,
// with a responder in this process. Needs npm (esbuild and workerd are
// installed into .tools on first use): `deno task test:edge`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { startBroker } from "../../src/broker/mod.ts";
import type { BrokerHandle } from "../../src/broker/mod.ts";
import { PushConsumer } from "../../src/client/push_consumer.ts";
import { Producer } from "../../src/client/producer.ts";
import { bodyText } from "../../src/client/message.ts";
import { compressBody } from "../../src/codec/compression.ts";
import { npmToolBin, ROOT } from "../tools/npm_tools.ts";

/** workerd's compatibility date: the one of the installed release, so no flag is implied. */
const COMPATIBILITY_DATE = "2026-11-23";

async function bundleWorker(dir: string): Promise<string> {
  const out = `${dir}/worker.mjs`;
  const result = await new Deno.Command(await npmToolBin("esbuild"), {
    args: [
      `${ROOT}tests/edge/worker.js`,
      "--bundle",
      "--format=esm",
      "--platform=neutral",
      "--target=es2022",
      "--conditions=workerd,worker,browser",
      "--main-fields=module,main",
      "--external:cloudflare:*",
      `--outfile=${out}`,
      "--log-level=warning",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(result.stderr);
  assert.ok(result.success, `esbuild could not bundle the Worker:\n${log}`);
  return out;
}

/** A port nothing listens on right now, for workerd to bind. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

interface Workerd {
  url: string;
  log(): string;
  stop(): Promise<void>;
}

async function startWorkerd(dir: string, bundle: string): Promise<Workerd> {
  const port = freePort();
  const config = `${dir}/config.capnp`;
  // No compatibilityFlags: in particular no nodejs_compat. Sockets go out
  // through a network service that allows loopback (the default denies it).
  await Deno.writeTextFile(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "net", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "${bundle.slice(dir.length + 1)}")],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  globalOutbound = "net",
);
`,
  );
  const child = new Deno.Command(await npmToolBin("workerd"), {
    args: ["serve", config, "--verbose"],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let onLine: (() => void) | undefined;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      output += text;
      onLine?.();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status;
  // Ready when workerd says it listens (an event, not a delay); a start
  // failure ends the process first.
  const ready = new Promise<void>((resolve) => {
    onLine = () => {
      if (output.includes(`Listening on http://127.0.0.1:${port}`)) resolve();
    };
    onLine();
  });
  const first = await Promise.race([ready.then(() => "ready"), exited.then(() => "exited")]);
  if (first !== "ready") {
    await pumps;
    throw new Error(`workerd did not start:\n${output}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => output,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await exited;
      await pumps;
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

describe("a Cloudflare Worker (workerd, no nodejs_compat) doing request-reply", () => {
  let dir: string;
  let broker: BrokerHandle;
  let responder: PushConsumer;
  let workerd: Workerd;
  const topic = "edge_rpc";
  /** Requests the Worker compresses: the responder records their sysFlag. */
  const compressedTopic = "edge_compressed";
  const seen: number[] = [];

  before(async () => {
    dir = await Deno.makeTempDir({ prefix: "rocketmq-rpc-edge-" });
    const bundle = await bundleWorker(dir);
    broker = await startBroker({ port: 0 });
    const creator = new Producer({ nameServer: broker.address });
    await creator.start();
    await creator.send({ topic, body: "create the topic" });
    await creator.send({ topic: compressedTopic, body: "create the topic" });
    await creator.close();
    responder = new PushConsumer({ nameServer: broker.address, group: "edge_responder" });
    responder.subscribe(topic, "*", (m) => `edge:${bodyText(m)}`);
    responder.subscribe(compressedTopic, "*", (m) => {
      seen.push(m.sysFlag);
      return `${m.body.length} bytes, ${new Set(bodyText(m)).size} distinct`;
    });
    await responder.start();
    const owned = (t: string) => responder.assignedQueues.filter((q) => q.topic === t).length;
    while (owned(topic) < 4 || owned(compressedTopic) < 4) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    workerd = await startWorkerd(dir, bundle);
  });

  after(async () => {
    await workerd?.stop();
    await responder?.close();
    await broker?.close();
    if (dir) await Deno.remove(dir, { recursive: true });
  });

  async function call(path: string, body?: Uint8Array): Promise<Record<string, unknown>> {
    const response = await fetch(
      `${workerd.url}${path}`,
      body ? { method: "POST", body: body.slice() } : undefined,
    );
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`not JSON (${response.status}): ${text}\n${workerd.log()}`);
    }
  }

  it("requestOnce(): connect, register, request, close within one invocation", async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const result = await call(
        `/once?namesrv=${broker.address}&topic=${topic}&body=hello${i}`,
      );
      times.push(performance.now() - started);
      assert.deepEqual(result, { ok: true, body: `edge:hello${i}` }, workerd.log());
    }
    assert.equal(responder.stats.replied >= 5, true);
    process.stderr.write(
      `[edge] workerd one-shot request-reply (fetch → connect, register, request, close): median ${
        median(times).toFixed(1)
      } ms over ${times.length}\n`,
    );
  });

  it("one producer, many requests in one invocation", async () => {
    const n = 50;
    const started = performance.now();
    const result = await call(`/many?namesrv=${broker.address}&topic=${topic}&n=${n}`);
    const wall = performance.now() - started;
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(result.bodies, Array.from({ length: n }, (_, i) => `edge:m${i}`));
    process.stderr.write(
      `[edge] workerd round trip on a started producer: ${
        ((result.ms as number) / n).toFixed(2)
      } ms per request (${n} in ${result.ms} ms by the Worker's clock; ${
        wall.toFixed(0)
      } ms for the whole invocation)\n`,
    );
  });

  it("errors reach the Worker typed (branded across the bundle)", async () => {
    const result = await call(
      `/once?namesrv=${broker.address}&topic=edge_nobody&body=x&timeout=300`,
    );
    // Stored (the broker creates the topic), nobody consumes it.
    assert.deepEqual(
      { ok: result.ok, name: result.name, code: result.code },
      { ok: false, name: "RequestTimeoutError", code: "ERR_REQUEST_TIMEOUT" },
      JSON.stringify(result),
    );
  });

  it("the Worker decodes LZ4 and zstd bodies (pure JavaScript)", async () => {
    const text = "edge ".repeat(5000);
    for (const type of ["lz4", "zstd"] as const) {
      const compressed = await compressBody(new TextEncoder().encode(text), { type });
      const result = await call(`/decode?type=${type}`, compressed);
      assert.deepEqual(result, { ok: true, body: text }, workerd.log());
    }
  });

  it("a request the Worker compresses with LZ4 is decoded by the responder", async () => {
    const result = await call(
      `/compressed?namesrv=${broker.address}&topic=${compressedTopic}&type=lz4`,
    );
    assert.deepEqual(result, { ok: true, body: "10000 bytes, 1 distinct" }, workerd.log());
    assert.equal(seen.at(-1)! & 0x701, 0x101);
  });

  it("zstd compression in the Worker fails with a CodecError that says why", async () => {
    // Workers refuse to compile WebAssembly at run time (the zstd encoder is WASM).
    const result = await call(
      `/compressed?namesrv=${broker.address}&topic=${compressedTopic}&type=zstd`,
    );
    assert.equal(result.ok, false, JSON.stringify(result));
    assert.equal(result.code, "ERR_CODEC", JSON.stringify(result));
    assert.match(String(result.message), /WebAssembly/);
  });
});
