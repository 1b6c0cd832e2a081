// watchAclFile: the broker's --acl file reloaded while it runs, over a real file.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { watchAclFile } from "../../../src/broker/acl/watch.ts";
import type { AclConfig } from "../../../src/broker/acl/plain_acl.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import type { LogFields, Logger } from "../../../src/logger.ts";

class Lines implements Logger {
  readonly lines: Array<[string, string]> = [];
  debug(): void {}
  info(message: string, _fields?: LogFields): void {
    this.lines.push(["info", message]);
  }
  warn(message: string, _fields?: LogFields): void {
    this.lines.push(["warn", message]);
  }
  error(message: string, _fields?: LogFields): void {
    this.lines.push(["error", message]);
  }
}

const yaml = (key: string) => `accounts:\n  - accessKey: ${key}\n    secretKey: ${key}-secret\n`;

describe("watchAclFile", () => {
  it("hands over each new valid version; keeps the one in force through bad ones", async () => {
    const dir = await mkdtemp(`${tmpdir()}/acl-watch-`);
    const path = `${dir}/plain_acl.yml`;
    await writeFile(path, yaml("a"));
    const timers = new ManualTimers(0);
    const logger = new Lines();
    const seen: AclConfig[] = [];
    const watch = await watchAclFile({ path, timers, logger, onChange: (c) => void seen.push(c) });
    const tick = async () => {
      timers.advance(2000);
      await watch.idle();
    };
    try {
      await tick();
      assert.equal(seen.length, 0, "the file as at the start is not handed over");

      await writeFile(path, yaml("b"));
      await tick();
      assert.deepEqual(seen.map((c) => c.accounts.map((a) => a.accessKey)), [["b"]]);
      await tick();
      assert.equal(seen.length, 1, "unchanged: nothing handed over again");

      await writeFile(path, "accounts: [ {accessKey: c"); // broken YAML
      await tick();
      await tick();
      assert.equal(seen.length, 1);
      assert.equal(logger.lines.filter(([l]) => l === "error").length, 1, "logged once");
      assert.match(logger.lines.at(-1)![1], /invalid; the ACL in force stays/);

      await writeFile(path, "accounts:\n  - accessKey: d\n"); // no secretKey: refused
      await tick();
      assert.equal(seen.length, 1);

      await rm(path);
      await tick();
      assert.match(logger.lines.at(-1)![1], /cannot read the ACL file/);

      await writeFile(path, yaml("e"));
      await tick();
      assert.deepEqual(seen.at(-1)!.accounts.map((a) => a.accessKey), ["e"]);
      assert.match(logger.lines.at(-1)![1], /reloaded/);
    } finally {
      watch.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("logs a configuration its receiver refuses, and stops reading once closed", async () => {
    const dir = await mkdtemp(`${tmpdir()}/acl-watch-`);
    const path = `${dir}/plain_acl.yml`;
    await writeFile(path, yaml("a"));
    const timers = new ManualTimers(0);
    const logger = new Lines();
    let calls = 0;
    const watch = await watchAclFile({
      path,
      timers,
      logger,
      intervalMs: 100,
      onChange: () => {
        calls++;
        throw new Error("no");
      },
    });
    try {
      await writeFile(path, yaml("b"));
      timers.advance(100);
      await watch.idle();
      assert.equal(calls, 1);
      assert.match(logger.lines.at(-1)![1], /refused; the ACL in force stays/);
      watch.close();
      await writeFile(path, yaml("c"));
      timers.advance(1000);
      await watch.idle();
      assert.equal(calls, 1);
    } finally {
      watch.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
