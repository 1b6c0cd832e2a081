// The npm package as users get it: `deno task build:npm`, `npm pack`, then
// the tarball installed into fresh temporary projects, outside the
// repository, with no tsx and no Deno: request-reply against the embedded
// broker under plain Node (ESM, and CommonJS through require), under Bun after
// `bun add <tarball>`, the `rocketmq-rpc` executable, a consumer type-checked
// by tsc against the shipped .d.ts, and the client entry bundled for a Worker.
// Needs npm and the registry (valibot, typescript, @types/node); Bun and
// esbuild come from .tools (installed there when missing).
//
//   deno task test:package
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { npmToolBin, ROOT } from "../tools/npm_tools.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Runs a command; fails the test with its output when it fails. */
async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      cwd,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      `${command} is not on PATH: the package test needs Node.js (node, npm) and tar`,
    );
  }
  const result = {
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
    ms: performance.now() - started,
  };
  assert.equal(
    output.code,
    0,
    `${command} ${
      args.join(" ")
    } (in ${cwd}) exited with ${output.code}:\n${result.stdout}\n${result.stderr}`,
  );
  return result;
}

/** A fresh project directory with a package.json. */
async function project(root: string, name: string, extra: object = {}): Promise<string> {
  const dir = `${root}/${name}`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ name, private: true, type: "module", ...extra }, null, 2),
  );
  return dir;
}

const NPM_FLAGS = ["--no-audit", "--no-fund", "--loglevel=error"];

// One program for Node (ESM) and Bun: broker, responder, requester, all from
// the package. Node 20 has no `await using`: close in finally, as users there do.
const REQUEST_REPLY = `
import { bodyText, Producer, PushConsumer, requestOnce, startBroker } from "@rocketmq-rpc/core";
const broker = await startBroker({ port: 0 });
const responder = new PushConsumer({ nameServer: broker.address, group: "pkg_responder" });
const requester = new Producer({ nameServer: broker.address, group: "pkg_requester" });
try {
  responder.subscribe("pkg", "*", (m) => "re:" + bodyText(m));
  await responder.start();
  await requester.start();
  const reply = await requester.request({ topic: "pkg", body: "hello" }, { timeout: 10000 });
  const once = await requestOnce({ nameServer: broker.address }, { topic: "pkg", body: "once" });
  console.log(JSON.stringify({ reply: bodyText(reply), once: bodyText(once) }));
} finally {
  await requester.close();
  await responder.close();
  await broker.close();
}
`;

// Every entry point loads (on Node 20: no syntax it lacks anywhere in the package).
const ENTRIES = [
  "",
  "/client",
  "/codec",
  "/transport",
  "/transport/deno",
  "/transport/node",
  "/transport/bun",
  "/transport/cloudflare",
  "/broker",
  "/cli",
];
const LOAD_ALL = `
const loaded = [];
for (const entry of ${JSON.stringify(ENTRIES)}) {
  const m = await import("@rocketmq-rpc/core" + entry);
  loaded.push(entry + ":" + Object.keys(m).length);
}
console.log(JSON.stringify(loaded));
`;

const CJS = `
const assert = require("node:assert/strict");
// require() of the ES module package (Node 20.19+ and 22.12+ load ES modules
// without top-level await synchronously); import() works on every version.
const core = require("@rocketmq-rpc/core");
assert.equal(typeof core.Producer, "function");
assert.equal(new core.InvalidArgumentError("x", "y").code, "ERR_INVALID_ARGUMENT");
(async () => {
  const { startBroker, Producer, PushConsumer, bodyText } = await import("@rocketmq-rpc/core");
  const broker = await startBroker({ port: 0 });
  const responder = new PushConsumer({ nameServer: broker.address, group: "cjs_responder" });
  responder.subscribe("cjs", "*", (m) => "cjs:" + bodyText(m));
  await responder.start();
  const requester = new core.Producer({ nameServer: broker.address });
  await requester.start();
  const reply = await requester.request({ topic: "cjs", body: "hi" }, { timeout: 10000 });
  await requester.close();
  await responder.close();
  await broker.close();
  console.log(JSON.stringify({ reply: bodyText(reply), sameClass: Producer === core.Producer }));
})();
`;

// A consumer type-checked against the shipped declarations.
const CONSUMER_TS = `
import {
  bodyText,
  InvalidArgumentError,
  Producer,
  type ProducerOptions,
  PushConsumer,
  type ReplyMessage,
  requestOnce,
  RequestTimeoutError,
  startBroker,
} from "@rocketmq-rpc/core";
import { cloudflareConnect, type CloudflareSocketConnect } from "@rocketmq-rpc/core/transport/cloudflare";
import { connect as nodeConnect } from "@rocketmq-rpc/core/transport/node";
import { encodeCommand, type RemotingCommand } from "@rocketmq-rpc/core/codec";
import { main } from "@rocketmq-rpc/core/cli";

export async function typed(socketConnect: CloudflareSocketConnect): Promise<string> {
  const broker = await startBroker({ port: 0 });
  const options: ProducerOptions = { nameServer: broker.address, connect: nodeConnect };
  const producer = new Producer(options);
  // @ts-expect-error an unknown option is a type error too
  new Producer({ nameserver: broker.address });
  const consumer = new PushConsumer({ nameServer: broker.address, group: "g", concurrency: 2 });
  consumer.subscribe("t", "*", (m) => bodyText(m));
  const reply: ReplyMessage = await requestOnce(
    { nameServer: broker.address, connect: cloudflareConnect(socketConnect) },
    { topic: "t", body: "x" },
    { timeout: 1000 },
  );
  try {
    await producer.request({ topic: "t", body: new Uint8Array([1]) });
  } catch (error) {
    if (error instanceof RequestTimeoutError) return error.stage;
    if (error instanceof InvalidArgumentError) return error.path;
  }
  const command: RemotingCommand | undefined = undefined;
  void command;
  void encodeCommand;
  const code: number = await main(["--help"]);
  return bodyText(reply) + code;
}
`;

describe("the npm package, installed from its tarball", () => {
  let tmp: string;
  let tarball: string;
  const figures: string[] = [];

  before(async () => {
    await run(Deno.execPath(), ["run", "-A", `${ROOT}tests/tools/build_npm.ts`], ROOT);
    tmp = await Deno.makeTempDir({ prefix: "rocketmq-rpc-package-" });
    const packed = await run(
      "npm",
      ["pack", "--pack-destination", tmp, ...NPM_FLAGS],
      `${ROOT}dist/npm`,
    );
    tarball = `${tmp}/${packed.stdout.trim().split("\n").at(-1)}`;
    const size = (await Deno.stat(tarball)).size;
    figures.push(`tarball ${(size / 1024).toFixed(0)} KiB`);
  });

  after(async () => {
    if (figures.length > 0) process.stderr.write(`[package] ${figures.join("; ")}\n`);
    if (tmp) await Deno.remove(tmp, { recursive: true });
  });

  it("the tarball holds JavaScript, declarations, maps and the manifest, and no TypeScript source", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball], tmp);
    const files = stdout.trim().split("\n");
    for (
      const file of [
        "package/package.json",
        "package/README.md",
        "package/LICENSE",
        "package/mod.js",
        "package/mod.d.ts",
        "package/mod.js.map",
        "package/src/cli/bin.js",
        "package/src/client/mod.js",
        "package/src/transport/cloudflare.d.ts",
      ]
    ) assert.ok(files.includes(file), `${file} missing`);
    assert.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), []);
    const manifest = JSON.parse(
      (await run("tar", ["-xzOf", tarball, "package/package.json"], tmp)).stdout,
    );
    assert.equal(manifest.name, "@rocketmq-rpc/core");
    assert.equal(manifest.type, "module");
    assert.equal(manifest.sideEffects, false);
    assert.deepEqual(manifest.bin, { "rocketmq-rpc": "./src/cli/bin.js" });
    assert.match(manifest.engines.node, /^>=20/);
    // valibot for option and header checks; yaml for the broker's --acl file only; LZ4
    // (lz4js) and zstd (fzstd to read, @hpcc-js/wasm-zstd to write) bodies, loaded on first use.
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), [
      "@hpcc-js/wasm-zstd",
      "fzstd",
      "lz4js",
      "valibot",
      "yaml",
    ]);
    // The OpenTelemetry adapter (./otel) needs @opentelemetry/api; the core does not.
    assert.deepEqual(Object.keys(manifest.peerDependencies), ["@opentelemetry/api"]);
    assert.deepEqual(manifest.peerDependenciesMeta, { "@opentelemetry/api": { optional: true } });
    assert.deepEqual(manifest.exports["./transport/cloudflare"], {
      types: "./src/transport/cloudflare.d.ts",
      default: "./src/transport/cloudflare.js",
    });
  });

  it("plain Node: npm install <tarball>, request-reply (ESM), every entry loads, the CLI runs", async () => {
    const dir = await project(tmp, "node-esm");
    const install = await run("npm", ["install", tarball, ...NPM_FLAGS], dir);
    figures.push(`npm install ${(install.ms / 1000).toFixed(1)} s`);
    await Deno.writeTextFile(`${dir}/app.mjs`, REQUEST_REPLY);
    const { stdout } = await run("node", ["app.mjs"], dir);
    assert.deepEqual(JSON.parse(stdout), { reply: "re:hello", once: "re:once" });
    // LZ4 and zstd through the installed dependencies (CommonJS lz4js, ESM fzstd, WASM zstd).
    await Deno.writeTextFile(
      `${dir}/compress.mjs`,
      `import { compressBody, compressionSysFlag, decompressBody } from "@rocketmq-rpc/core/codec";
const body = new TextEncoder().encode("npm ".repeat(3000));
const out = {};
for (const type of ["lz4", "zstd"]) {
  const c = await compressBody(body, { type });
  const d = await decompressBody(c, compressionSysFlag(type));
  out[type] = c.length < body.length && d.length === body.length;
}
console.log(JSON.stringify(out));`,
    );
    assert.deepEqual(JSON.parse((await run("node", ["compress.mjs"], dir)).stdout), {
      lz4: true,
      zstd: true,
    });
    await Deno.writeTextFile(`${dir}/load.mjs`, LOAD_ALL);
    const loaded = JSON.parse((await run("node", ["load.mjs"], dir)).stdout) as string[];
    assert.equal(loaded.length, ENTRIES.length);
    // ./otel needs its optional peer: without it the entry cannot load, with it it does.
    await Deno.writeTextFile(
      `${dir}/otel.mjs`,
      `const m = await import("@rocketmq-rpc/core/otel"); console.log(typeof m.otelSpanHooks);`,
    );
    await assert.rejects(run("node", ["otel.mjs"], dir), /@opentelemetry\/api/);
    await run("npm", ["install", "@opentelemetry/api@^1.9.0", ...NPM_FLAGS], dir);
    assert.equal((await run("node", ["otel.mjs"], dir)).stdout.trim(), "function");
    // The executable npm linked, run by Node through its shebang.
    const help = await run(`${dir}/node_modules/.bin/rocketmq-rpc`, ["request", "--help"], dir);
    assert.match(help.stdout, /^Usage: rocketmq-rpc request <topic> <body>/);
    const bench = await run(`${dir}/node_modules/.bin/rocketmq-rpc`, [
      "bench",
      "--count",
      "100",
      "--warmup",
      "10",
    ], dir);
    assert.match(
      bench.stdout,
      /100 requests, 1 in flight.*\n.*req\/s; round trip p50 .*; 0 errors/,
    );
  });

  it("plain Node, CommonJS: require() and import() of the package", async () => {
    const dir = await project(tmp, "node-cjs", { type: "commonjs" });
    await run("npm", ["install", tarball, ...NPM_FLAGS], dir);
    await Deno.writeTextFile(`${dir}/app.cjs`, CJS);
    const { stdout } = await run("node", ["app.cjs"], dir);
    assert.deepEqual(JSON.parse(stdout), { reply: "cjs:hi", sameClass: true });
  });

  it("Bun: bun add <tarball>, request-reply from TypeScript, the CLI under Bun", async () => {
    const bun = await npmToolBin("bun");
    const dir = await project(tmp, "bun");
    const install = await run(bun, ["add", tarball], dir);
    figures.push(`bun add ${(install.ms / 1000).toFixed(1)} s`);
    await Deno.writeTextFile(`${dir}/app.ts`, REQUEST_REPLY);
    const { stdout } = await run(bun, ["app.ts"], dir);
    assert.deepEqual(JSON.parse(stdout), { reply: "re:hello", once: "re:once" });
    const bench = await run(bun, [
      "node_modules/@rocketmq-rpc/core/src/cli/bin.js",
      "bench",
      "--count",
      "100",
      "--warmup",
      "10",
    ], dir);
    assert.match(bench.stdout, /; 0 errors/);
  });

  it("tsc type-checks a consumer against the shipped .d.ts (nodenext and bundler resolution)", async () => {
    const dir = await project(tmp, "types");
    await run("npm", ["install", tarball, "typescript@6.0.3", "@types/node@20", ...NPM_FLAGS], dir);
    await Deno.writeTextFile(`${dir}/consumer.ts`, CONSUMER_TS);
    for (const resolution of ["nodenext", "bundler"]) {
      const module = resolution === "nodenext" ? "nodenext" : "esnext";
      await Deno.writeTextFile(
        `${dir}/tsconfig.json`,
        JSON.stringify({
          compilerOptions: {
            strict: true,
            target: "es2022",
            lib: ["es2022", "esnext.disposable"],
            module,
            moduleResolution: resolution,
            types: ["node"],
            skipLibCheck: false,
            noEmit: true,
          },
          files: ["consumer.ts"],
        }),
      );
      await run("node", ["node_modules/typescript/bin/tsc", "-p", "."], dir);
    }
  });

  it("the client entry bundles for a Worker (no node: module anywhere)", async () => {
    const dir = await project(tmp, "worker");
    await run("npm", ["install", tarball, ...NPM_FLAGS], dir);
    await Deno.writeTextFile(
      `${dir}/worker.js`,
      `import { connect } from "cloudflare:sockets";
import { requestOnce } from "@rocketmq-rpc/core/client";
import { cloudflareConnect } from "@rocketmq-rpc/core/transport/cloudflare";
export default {
  async fetch() {
    const reply = await requestOnce({ nameServer: "127.0.0.1:9876", connect: cloudflareConnect(connect) }, { topic: "t", body: "x" });
    return new Response(reply.body);
  },
};
`,
    );
    await run(await npmToolBin("esbuild"), [
      "worker.js",
      "--bundle",
      "--format=esm",
      "--platform=neutral",
      "--conditions=workerd,worker,browser",
      "--main-fields=module,main",
      "--external:cloudflare:*",
      "--outfile=bundle.mjs",
      "--log-level=warning",
    ], dir);
    const bundle = await Deno.readTextFile(`${dir}/bundle.mjs`);
    assert.doesNotMatch(bundle, /from\s*"node:|import\("node:/);
    // The "workerd" condition swaps the zstd encoder (WebAssembly a Worker cannot compile)
    // for a stub: its ~240 KiB stay out of the bundle.
    assert.ok(bundle.includes("cannot be compiled at run time on this edge runtime"), "zstd stub");
    assert.ok(!bundle.includes("emscripten"), "the zstd encoder (Emscripten) is in the bundle");
    const gzipped = await new Response(
      new Blob([bundle]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    figures.push(
      `Worker bundle ${(bundle.length / 1024).toFixed(0)} KiB unminified, ${
        (gzipped.byteLength / 1024).toFixed(0)
      } KiB gzipped`,
    );
  });
});
