// Runtime selection of src/transport/default.ts.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { IllegalStateError } from "../../src/errors.ts";
import {
  defaultConnect,
  defaultListen,
  detectRuntime,
  loadAdapter,
} from "../../src/transport/default.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };

describe("detectRuntime()", () => {
  it("recognises Deno, Bun and Node by their globals", () => {
    const node = { process: { versions: { node: "20.20.2" } } };
    assert.equal(detectRuntime(node), "node");
    assert.equal(detectRuntime({ ...node, Bun: { version: "1.4.5" } }), "bun");
    assert.equal(detectRuntime({ process: { versions: { node: "24.3.0", bun: "1.4.5" } } }), "bun");
    assert.equal(detectRuntime({ ...node, Deno: { version: { deno: "2.9.6" } } }), "deno");
    assert.equal(
      detectRuntime({ ...node, Deno: { version: { deno: "2.9.6" } }, Bun: { version: "1" } }),
      "deno",
    );
  });

  it("recognises nothing on other runtimes, or on look-alikes", () => {
    assert.equal(detectRuntime({}), undefined);
    assert.equal(detectRuntime({ Deno: {} }), undefined);
    assert.equal(detectRuntime({ process: { versions: {} } }), undefined);
    assert.equal(detectRuntime({ navigator: { userAgent: "Cloudflare-Workers" } }), undefined);
  });

  it("recognises the running runtime", () => {
    const expected = g.Deno ? "deno" : g.Bun ? "bun" : "node";
    assert.equal(detectRuntime(), expected);
  });
});

describe("loadAdapter()", () => {
  it("loads the running runtime's adapter", async () => {
    const runtime = detectRuntime()!;
    const direct = runtime === "deno"
      ? await import("../../src/transport/deno.ts")
      : runtime === "bun"
      ? await import("../../src/transport/bun.ts")
      : await import("../../src/transport/node.ts");
    const loaded = await loadAdapter();
    assert.equal(loaded.connect, direct.connect);
    assert.equal(loaded.listen, direct.listen);
  });

  it("loads a named adapter", async () => {
    assert.equal(
      (await loadAdapter("node")).connect,
      (await import("../../src/transport/node.ts")).connect,
    );
  });

  it("rejects with IllegalStateError when no runtime is recognised", async () => {
    await assert.rejects(loadAdapter(undefined, {}), IllegalStateError);
  });

  it("imports adapters only lazily", () => {
    const source = readFileSync(new URL("../../src/transport/default.ts", import.meta.url), "utf8");
    const staticImports = [...source.matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) =>
      m[1]
    );
    assert.ok(staticImports.length > 0);
    for (const specifier of staticImports) {
      assert.doesNotMatch(specifier!, /\/(deno|node|bun)\.ts$/, `static import of ${specifier}`);
    }
    assert.match(source, /import\("\.\/node\.ts"\)/);
  });
});

describe("defaultConnect() and defaultListen()", () => {
  it("connect and listen with the runtime's adapter", async () => {
    const listener = await defaultListen({ port: 0 });
    const client = await defaultConnect({ hostname: "127.0.0.1", port: listener.addr.port });
    try {
      const server = (await listener[Symbol.asyncIterator]().next()).value!;
      await client.writable.getWriter().write(new Uint8Array([7]));
      assert.deepEqual((await server.readable.getReader().read()).value, new Uint8Array([7]));
      await server.close();
      await client.closed;
    } finally {
      await client.close();
      await listener.close();
    }
  });
});
