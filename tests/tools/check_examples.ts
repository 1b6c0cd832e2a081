// deno-lint-ignore-file no-console
/**
 * House rule check (part of `deno task check`): every symbol exported from a
 * published entry point has a JSDoc comment with at least one `@example`.
 * `deno doc --lint` checks that docs exist; this checks the examples.
 *
 *   deno run -A tests/tools/check_examples.ts
 */
const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
const entries = Object.values(config.exports as Record<string, string>);
const output = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--json", ...entries],
  stdout: "piped",
  stderr: "inherit",
  cwd: new URL("../../", import.meta.url),
}).output();
if (!output.success) Deno.exit(1);

interface Tag {
  kind: string;
}
interface Declaration {
  location: { filename: string; line: number };
  jsDoc?: { doc?: string; tags?: Tag[] };
}
interface SymbolDoc {
  name: string;
  declarations: Declaration[];
}
const doc = JSON.parse(new TextDecoder().decode(output.stdout)) as {
  nodes: Record<string, { symbols?: SymbolDoc[] }>;
};

// A re-export (`export { X } from "./x.ts"`) appears as its own declaration
// without docs: a name counts as documented when any declaration of it, in
// any module, has an example.
const documented = new Set<string>();
const seen = new Map<string, string>();
for (const node of Object.values(doc.nodes)) {
  for (const symbol of node.symbols ?? []) {
    for (const declaration of symbol.declarations) {
      if (declaration.jsDoc?.tags?.some((t) => t.kind === "example")) documented.add(symbol.name);
      if (declaration.jsDoc && !seen.has(symbol.name)) {
        const where = declaration.location;
        seen.set(
          symbol.name,
          `${where.filename.replace(/^file:\/\/.*?\/(src|mod)/, "$1")}:${where.line}`,
        );
      }
    }
    if (!seen.has(symbol.name)) {
      seen.set(symbol.name, symbol.declarations[0]?.location.filename ?? "?");
    }
  }
}
const missing = new Map<string, string>();
for (const [name, where] of seen) {
  if (!documented.has(name)) missing.set(`${name} (${where})`, where);
}
if (missing.size > 0) {
  console.error(`${missing.size} exported symbols have no @example:`);
  for (const name of [...missing.keys()].sort()) console.error(`  ${name}`);
  Deno.exit(1);
}
console.log(`every exported symbol of ${entries.length} entry points has an @example`);
