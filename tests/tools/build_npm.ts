// deno-lint-ignore-file no-console
/**
 * `deno task build:npm`: the npm package `@rocketmq-rpc/core` in dist/npm/,
 * built from the same sources JSR publishes, by the TypeScript compiler (from
 * npm: deno.json's import map, pinned in deno.lock): ES2022 JavaScript modules (what Node 20 runs;
 * `await using` and other newer syntax is lowered), `.d.ts` files with the
 * documentation, source maps with the sources inlined, and a package.json
 * whose `exports` mirror deno.json's, plus the `rocketmq-rpc` executable.
 *
 *   deno task build:npm            # then: cd dist/npm && npm pack
 *
 * @module
 */

import ts from "typescript";

const ROOT = new URL("../../", import.meta.url).pathname;
const OUT = `${ROOT}dist/npm`;

/** The oldest Node the package supports: process.getBuiltinModule (Node adapter) came in 20.16. */
export const NODE_ENGINES = ">=20.16";

interface DenoJson {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
}

const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as DenoJson;
const BIN = "src/cli/bin.ts";
const entries = [...new Set([...Object.values(deno.exports), `./${BIN}`])].map((e) =>
  `${ROOT}${e.replace(/^\.\//, "")}`
);

const base: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  rootDir: ROOT,
  outDir: OUT,
  // deno check has type-checked these sources already (with Deno's types,
  // which this compiler does not have); here they are only emitted.
  noCheck: true,
  allowImportingTsExtensions: true,
  rewriteRelativeImportExtensions: true,
  strict: true,
  skipLibCheck: true,
  types: [],
  newLine: ts.NewLineKind.LineFeed,
};

function emit(options: ts.CompilerOptions): void {
  const program = ts.createProgram(entries, { ...base, ...options });
  const result = program.emit();
  const diagnostics = [...program.getOptionsDiagnostics(), ...result.diagnostics];
  if (diagnostics.length > 0 || result.emitSkipped) {
    console.error(ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => "\n",
    }));
    Deno.exit(1);
  }
}

await Deno.remove(OUT, { recursive: true }).catch(() => {});
// JavaScript without comments (the .d.ts files carry the documentation) and
// maps that embed the TypeScript sources, so stack traces and debuggers show
// them although the package ships no .ts file.
emit({ removeComments: true, sourceMap: true, inlineSources: true });
emit({ declaration: true, emitDeclarationOnly: true });

// Bare imports of the emitted JavaScript are the package's dependencies,
// with the versions deno.json's import map gives them. Those only an optional
// entry point imports (./otel: the OpenTelemetry adapter) are optional peer
// dependencies instead, so the core installs without them.
const OPTIONAL_PEERS: ReadonlySet<string> = new Set(["@opentelemetry/api"]);
const dependencies: Record<string, string> = {};
const peerDependencies: Record<string, string> = {};
const walk = async (dir: string): Promise<string[]> => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await walk(path));
    else files.push(path);
  }
  return files;
};
const files = await walk(OUT);
for (const file of files.filter((f) => f.endsWith(".js"))) {
  const code = await Deno.readTextFile(file);
  if (/\bawait using\b|^\s*using\s+\w+\s*=/m.test(code)) {
    console.error(`${file}: explicit resource management left in the output (Node 20 lacks it)`);
    Deno.exit(1);
  }
  // Static and dynamic imports, as the compiler reads them.
  for (const { fileName: specifier } of ts.preProcessFile(code, true, true).importedFiles) {
    if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
    const name = specifier.startsWith("@")
      ? specifier.split("/").slice(0, 2).join("/")
      : specifier.split("/")[0]!;
    const mapped = deno.imports[name];
    const match = mapped?.match(/^npm:(@?[^@]+)@(.+)$/);
    if (!match) {
      console.error(`${file}: imports ${specifier}, which deno.json does not map to npm`);
      Deno.exit(1);
    }
    (OPTIONAL_PEERS.has(match[1]!) ? peerDependencies : dependencies)[match[1]!] = match[2]!;
  }
}

// The zstd encoder (@hpcc-js/wasm-zstd) embeds ~240 KiB of WebAssembly, which a
// runtime that refuses to compile WebAssembly at run time cannot use: Cloudflare
// Workers (condition "workerd") and Vercel's Edge Runtime ("edge-light"). Bundlers
// inline dynamic imports, so without this every Worker would carry it (71 -> 271 KiB
// gzipped). The import goes through the package's own `imports` map instead, which
// under those conditions names a stub that fails as the real module fails there,
// and the encoder otherwise. Only the npm package: JSR has no conditional imports.
const ZSTD_WASM = "@hpcc-js/wasm-zstd";
const ZSTD_ALIAS = "#zstd-wasm";
const ZSTD_STUB = "./src/codec/_zstd_wasm_unavailable.js";
{
  const file = `${OUT}/src/codec/_zstd.js`;
  const code = await Deno.readTextFile(file);
  const parts = code.split(`import("${ZSTD_WASM}")`);
  if (parts.length !== 2) {
    console.error(`${file}: expected one import("${ZSTD_WASM}"), found ${parts.length - 1}`);
    Deno.exit(1);
  }
  await Deno.writeTextFile(file, parts.join(`import("${ZSTD_ALIAS}")`));
  const stub = `${OUT}/${ZSTD_STUB.slice(2)}`;
  await Deno.writeTextFile(
    stub,
    `// ${ZSTD_WASM} as this package's "workerd" and "edge-light" builds see it: those
// runtimes cannot compile WebAssembly at run time, so zstd compression fails there
// with a CodecError (LZ4 and zlib work; zstd bodies are still read, by fzstd).
export const Zstd = {
  load() {
    return Promise.reject(new Error("WebAssembly cannot be compiled at run time on this edge runtime"));
  },
};
`,
  );
  files.push(stub);
}
const packageImports = {
  [ZSTD_ALIAS]: { workerd: ZSTD_STUB, "edge-light": ZSTD_STUB, default: ZSTD_WASM },
};

const js = (path: string) => path.replace(/^\.\//, "./").replace(/\.ts$/, ".js");
const exportsMap: Record<string, { types: string; default: string }> = {};
for (const [subpath, file] of Object.entries(deno.exports)) {
  exportsMap[subpath] = { types: js(file).replace(/\.js$/, ".d.ts"), default: js(file) };
}
const packageJson = {
  name: deno.name,
  version: deno.version,
  description:
    "Request-reply (RPC) over Apache RocketMQ's remoting protocol (RIP-16) for Node, Bun, Deno and edge runtimes, with an embedded RocketMQ-compatible broker and a CLI",
  license: deno.license,
  keywords: ["rocketmq", "rpc", "request-reply", "rip-16", "message-queue", "broker"],
  type: "module",
  main: exportsMap["."]!.default,
  types: exportsMap["."]!.types,
  exports: { ...exportsMap, "./package.json": "./package.json" },
  imports: packageImports,
  bin: { "rocketmq-rpc": js(`./${BIN}`) },
  engines: { node: NODE_ENGINES },
  sideEffects: false,
  dependencies,
  peerDependencies,
  peerDependenciesMeta: Object.fromEntries(
    Object.keys(peerDependencies).map((name) => [name, { optional: true }]),
  ),
};
await Deno.writeTextFile(`${OUT}/package.json`, `${JSON.stringify(packageJson, null, 2)}\n`);
await Deno.copyFile(`${ROOT}README.md`, `${OUT}/README.md`);
await Deno.copyFile(`${ROOT}LICENSE`, `${OUT}/LICENSE`);
await Deno.chmod(`${OUT}/${js(BIN)}`, 0o755);

const bytes = (await Promise.all(files.map((f) => Deno.stat(f)))).reduce((n, s) => n + s.size, 0);
console.log(
  `dist/npm: ${packageJson.name}@${packageJson.version}, ${files.length} files, ${
    (bytes / 1024).toFixed(0)
  } KiB; exports ${Object.keys(exportsMap).join(" ")}; dependencies ${
    JSON.stringify(dependencies)
  }; optional peers ${JSON.stringify(peerDependencies)}; engines node ${NODE_ENGINES}`,
);
