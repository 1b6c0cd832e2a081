// The rocketmq-rpc executable as a shell user runs it (here `deno run
// src/cli/bin.ts`, as `deno task cli` does; tests/package runs the npm
// build's bin under Node and Bun): separate processes for the broker, the
// responder and the requester, exit codes, SIGTERM. Deno only.
import { describe, it } from "node:test";
import assert from "node:assert/strict";

const BIN = new URL("../../src/cli/bin.ts", import.meta.url).pathname;

function cli(args: string[], options: { env?: Record<string, string> } = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BIN, ...args],
    env: options.env ?? {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** A long-running command: its output so far, a wait for a line, a stop. */
function spawn(args: string[]) {
  const child = cli(args).spawn();
  let out = "";
  let wake: (() => void) | undefined;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      out += text;
      wake?.();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status;
  return {
    get output() {
      return out;
    },
    async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
      while (!pattern.test(out)) {
        const ended = await Promise.race([
          new Promise<boolean>((resolve) => wake = () => resolve(false)),
          status.then(() => true),
        ]);
        if (ended && !pattern.test(out)) throw new Error(`exited before ${pattern}:\n${out}`);
      }
      return out.match(pattern)!;
    },
    async stop(): Promise<number> {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      const { code } = await status;
      await pumps;
      return code;
    },
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("rocketmq-rpc (the executable)", () => {
  it("broker, reply and request in their own processes; SIGTERM stops them with 0", async () => {
    const broker = spawn(["broker", "--port", "0", "--log-level", "warn"]);
    try {
      const [, address] = await broker.waitFor(/broker listening on (\S+) /);
      const responder = spawn(["reply", "cli_bin", "--echo", "--namesrv", address!]);
      try {
        await responder.waitFor(/^ready: replying to cli_bin/m);
        const result = await cli(["request", "cli_bin", "over processes"], {
          env: { NAMESRV_ADDR: address! },
        }).output();
        assert.equal(result.code, 0, text(result.stderr));
        assert.equal(text(result.stdout), "over processes\n");
        assert.match(text(result.stderr), /^reply 1 in [\d.]+ ms/);
      } finally {
        assert.equal(await responder.stop(), 0, responder.output);
      }
    } finally {
      assert.equal(await broker.stop(), 0, broker.output);
    }
  });

  it("broker --help is the broker's own usage (its flags, delegated)", async () => {
    const result = await cli(["broker", "--help"]).output();
    assert.equal(result.code, 0);
    assert.match(text(result.stdout), /--data-dir <dir>/);
  });

  it("exit code 3 and a hint when nothing listens at the name server address", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const result = await cli(["request", "t", "x", "--namesrv", `127.0.0.1:${port}`]).output();
    assert.equal(result.code, 3);
    assert.equal(text(result.stdout), "");
    assert.match(text(result.stderr), /\[ERR_CONNECTION\]\n {2}hint: is a name server/);
  });

  it("exit code 2 and the usage for a bad command line", async () => {
    const result = await cli(["request"]).output();
    assert.equal(result.code, 2);
    assert.match(text(result.stderr), /expected <topic> <body>, got 0 argument/);
  });
});
