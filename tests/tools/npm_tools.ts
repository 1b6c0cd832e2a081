/**
 * Tools from npm that tasks need besides Deno (tsx, Bun, esbuild, workerd),
 * found in `.tools/node_modules` or installed there with npm on first use, so
 * every task runs by itself on a fresh clone (`.ci/run` installs some of
 * them up front; nothing depends on it having run).
 *
 *   const tsx = await npmTool("tsx"); // path of .tools/node_modules/tsx, installed if missing
 *
 * @module
 */

/** The repository root (with a trailing slash). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** Where the tools are installed. */
export const TOOLS_DIR = `${ROOT}.tools`;

/** The tools and the version ranges installed when missing. */
export const NPM_TOOLS = {
  tsx: "tsx@4",
  bun: "bun@1",
  esbuild: "esbuild@0.28",
  workerd: "workerd@1.20261123.1",
} as const;

/** A tool this module knows. */
export type NpmToolName = keyof typeof NPM_TOOLS;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const installs = new Map<NpmToolName, Promise<void>>();

/**
 * The package directory of a tool in `.tools/node_modules`, installed with
 * npm when missing.
 *
 * @param name The tool.
 * @returns Its package directory.
 * @throws {Error} With one line saying what to run when npm is missing or fails.
 */
export async function npmTool(name: NpmToolName): Promise<string> {
  const dir = `${TOOLS_DIR}/node_modules/${name}`;
  if (await exists(`${dir}/package.json`)) return dir;
  let install = installs.get(name);
  if (!install) {
    install = (async () => {
      const spec = NPM_TOOLS[name];
      const hint = `npm i --prefix .tools ${spec}`;
      let output: Deno.CommandOutput;
      try {
        output = await new Deno.Command("npm", {
          args: [
            "install",
            "--prefix",
            TOOLS_DIR,
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            spec,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
      } catch {
        throw new Error(
          `${name} is missing and npm is not on PATH: install Node.js, then run ${hint}`,
        );
      }
      if (!output.success || !(await exists(`${dir}/package.json`))) {
        const tail = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
        throw new Error(`installing ${spec} into .tools failed (${tail}); run ${hint}`);
      }
    })();
    installs.set(name, install);
    install.catch(() => installs.delete(name));
  }
  await install;
  return dir;
}

/**
 * The executable of a tool (`.tools/node_modules/.bin/<name>`), installed
 * with npm when missing.
 *
 * @param name The tool.
 * @returns The executable's path.
 */
export async function npmToolBin(name: NpmToolName): Promise<string> {
  await npmTool(name);
  return `${TOOLS_DIR}/node_modules/.bin/${name}`;
}
