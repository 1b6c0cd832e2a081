// What the CLI needs from the process: output, environment, stdin, signals,
// and running a shell command. `processIO()` implements it with Node's APIs,
// which Deno and Bun provide too; tests pass their own.

import process from "node:process";
import { spawn } from "node:child_process";

/**
 * What a shell command printed and how it ended.
 *
 * @example
 * ```ts
 * import type { ExecResult } from "./main.ts";
 * import assert from "node:assert/strict";
 *
 * const result: ExecResult = { code: 0, stdout: new TextEncoder().encode("ABC"), stderr: "", timedOut: false };
 * assert.equal(new TextDecoder().decode(result.stdout), "ABC");
 * ```
 */
export interface ExecResult {
  /** Exit code, or `undefined` when killed by a signal. */
  code: number | undefined;
  /** Everything it wrote to stdout. */
  stdout: Uint8Array;
  /** The end of what it wrote to stderr. */
  stderr: string;
  /** Killed after the time allowed. */
  timedOut: boolean;
}

/**
 * The process as the CLI sees it; `main()` takes one, so it runs in-process
 * (tests, embedding) as well as from a shell.
 *
 * @example Capture what a command prints
 * ```ts
 * import { type CliIO, main } from "./main.ts";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const io: CliIO = {
 *   out: (data) => void (out += typeof data === "string" ? data : new TextDecoder().decode(data)),
 *   err: () => {},
 *   env: (name) => name === "NAMESRV_ADDR" ? "127.0.0.1:9876" : undefined,
 *   stdin: () => Promise.resolve(new Uint8Array()),
 *   onSignal: () => () => {},
 *   exec: () => Promise.reject(new Error("no shell here")),
 * };
 * assert.equal(await main(["bench", "--help"], io), 0);
 * assert.match(out, /^Usage: rocketmq-rpc bench/);
 * ```
 */
export interface CliIO {
  /** Writes to stdout. */
  out(data: string | Uint8Array): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** An environment variable. */
  env(name: string): string | undefined;
  /** All of stdin. */
  stdin(): Promise<Uint8Array>;
  /** Calls `handler` on SIGINT or SIGTERM; returns the unsubscribe. */
  onSignal(handler: () => void): () => void;
  /** Runs `command` in the shell with `input` on its stdin. */
  exec(
    command: string,
    input: Uint8Array,
    env: Record<string, string>,
    timeout: number,
  ): Promise<ExecResult>;
}

const STDERR_TAIL = 2000;

/** The real process (Node, Bun, or Deno through its Node APIs). */
export function processIO(): CliIO {
  return {
    out: (data) => void process.stdout.write(data),
    err: (text) => void process.stderr.write(text),
    env: (name) => process.env[name],
    async stdin() {
      const chunks: Uint8Array[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Uint8Array);
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
    onSignal(handler) {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
    exec(command, input, env, timeout) {
      return new Promise((resolve, reject) => {
        const child = spawn(command, {
          shell: true,
          env: { ...process.env, ...env },
          stdio: ["pipe", "pipe", "pipe"],
        });
        const out: Uint8Array[] = [];
        let err = "";
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, timeout);
        child.stdout.on("data", (chunk: Uint8Array) => out.push(chunk));
        child.stderr.on("data", (chunk: Uint8Array) => {
          err = (err + new TextDecoder().decode(chunk)).slice(-STDERR_TAIL);
        });
        child.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.on("close", (code) => {
          clearTimeout(timer);
          const stdout = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
          let at = 0;
          for (const c of out) {
            stdout.set(c, at);
            at += c.length;
          }
          resolve({ code: code ?? undefined, stdout, stderr: err, timedOut });
        });
        // A command that does not read its stdin closes the pipe early.
        child.stdin.on("error", () => {});
        child.stdin.end(input);
      });
    },
  };
}

/** Exits with `code` once stdout and stderr are flushed (a piped stdout is written asynchronously). */
export async function exitWith(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
  process.exit(code);
}
