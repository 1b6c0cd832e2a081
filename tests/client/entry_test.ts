// The `./client` entry bundles for runtimes without Node compatibility: no
// module its code reaches, by static or dynamic import, is a `node:` module
// (a Worker bundle naming one fails to load without nodejs_compat), and the
// broker stays out of it. Reads the module graph with `deno info --json`
// (Deno only); tests/edge/workerd_test.ts runs the result on workerd.
import { describe, it } from "node:test";
import assert from "node:assert/strict";

interface Dependency {
  specifier: string;
  code?: { specifier: string };
}
interface GraphModule {
  specifier: string;
  dependencies?: Dependency[];
}

/** Every module reached from `entry` through code imports (static and dynamic), with a path to it. */
async function codeGraph(entry: string): Promise<Map<string, string[]>> {
  const root = new URL(`../../${entry}`, import.meta.url).href;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(output.success, `deno info ${entry} failed`);
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: GraphModule[];
    redirects: Record<string, string>;
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const reached = new Map<string, string[]>([[root, [entry]]]);
  const queue = [root];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const dependency of modules.get(from)?.dependencies ?? []) {
      const to = dependency.code?.specifier;
      if (!to) continue; // a type-only import: erased from the JavaScript
      const target = graph.redirects[to] ?? to;
      if (reached.has(target)) continue;
      reached.set(target, [...reached.get(from)!, dependency.specifier]);
      queue.push(target);
    }
  }
  return reached;
}

describe("edge-safe entries", () => {
  for (const entry of ["src/client/mod.ts", "src/transport/cloudflare.ts"]) {
    it(`${entry} reaches no node: module and no broker code`, async () => {
      const graph = await codeGraph(entry);
      for (const [specifier, path] of graph) {
        assert.ok(!specifier.startsWith("node:"), `${specifier} via ${path.join(" → ")}`);
        assert.ok(!specifier.includes("/src/broker/"), `${specifier} via ${path.join(" → ")}`);
      }
      if (entry === "src/client/mod.ts") {
        // The runtime default and its adapters are in the graph: the check is not vacuous.
        assert.ok([...graph.keys()].some((s) => s.endsWith("/src/transport/node.ts")));
      }
    });
  }
});
