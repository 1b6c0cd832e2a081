// An in-memory process for the CLI's main(): output captured, signals sent by
// the test, the real shell for --exec. Shared by tests/cli and tests/interop.
import { type CliIO, processIO } from "../../src/cli/_io.ts";

/** An in-memory process: output captured, signals sent by the test, a real shell. */
/** A process a test drives. */
export interface FakeProcess {
  io: CliIO;
  /** stdout so far, as text. */
  readonly out: string;
  /** stderr so far. */
  readonly err: string;
  /** Sends SIGINT. */
  interrupt(): void;
  /** Resolves once stderr matches. */
  waitForErr(pattern: RegExp): Promise<void>;
}

export function fakeIO(env: Record<string, string> = {}, stdin = ""): FakeProcess {
  const out: Uint8Array[] = [];
  let err = "";
  const handlers = new Set<() => void>();
  const waiters: Array<() => void> = [];
  const io: CliIO = {
    out: (data) => void out.push(typeof data === "string" ? new TextEncoder().encode(data) : data),
    err: (text) => {
      err += text;
      for (const wake of waiters.splice(0)) wake();
    },
    env: (name) => env[name],
    stdin: () => Promise.resolve(new TextEncoder().encode(stdin)),
    onSignal(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    exec: processIO().exec,
  };
  return {
    io,
    get out() {
      return new TextDecoder().decode(
        out.reduce((a, b) => {
          const c = new Uint8Array(a.length + b.length);
          c.set(a);
          c.set(b, a.length);
          return c;
        }, new Uint8Array()),
      );
    },
    get err() {
      return err;
    },
    /** Sends SIGINT. */
    interrupt: () => handlers.forEach((h) => h()),
    /** Resolves once stderr matches. */
    async waitForErr(pattern: RegExp): Promise<void> {
      while (!pattern.test(err)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
