import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  offsetMessageId,
  parseOffsetMessageId,
  parseUniqueKey,
  UniqueKeyGenerator,
} from "../../src/codec/message_id.ts";
import { CodecError, InvalidArgumentError } from "../../src/errors.ts";
import { onlyCodecError } from "./_fuzz.ts";

describe("offset message ids", () => {
  it("are hex of store IP | port | commit-log offset (§4.6)", () => {
    // 127.0.0.1 = 7F000001, port 10911 = 00002A9F, offset 0x1234 = 0000000000001234
    assert.equal(
      offsetMessageId({ address: "127.0.0.1", port: 10911 }, 0x1234),
      "7F000001" + "00002A9F" + "0000000000001234",
    );
    assert.equal(
      offsetMessageId({ address: "fe80::1", port: 10911 }, 2 ** 40),
      "FE800000000000000000000000000001" + "00002A9F" + "0000010000000000",
    );
    // Java's InetAddress turns an IPv4-mapped IPv6 address into IPv4.
    assert.equal(offsetMessageId({ address: "::ffff:10.0.0.1", port: 1 }, 0).length, 32);
  });

  it("parse back, in either case", () => {
    assert.deepEqual(parseOffsetMessageId("0a00000100002a9f00000000000004d2"), {
      storeHost: { address: "10.0.0.1", port: 10911 },
      commitLogOffset: 1234,
    });
    assert.deepEqual(
      parseOffsetMessageId("FE800000000000000000000000000001" + "00002A9F" + "0000010000000000"),
      {
        storeHost: { address: "fe80:0:0:0:0:0:0:1", port: 10911 },
        commitLogOffset: 2 ** 40,
      },
    );
  });

  it("reject bad input with CodecError('message-id')", () => {
    for (
      const bad of [
        "",
        "7F00000100002A9F000000000000123",
        "7F00000100002A9F000000000000123G",
        "X".repeat(56),
      ]
    ) {
      assert.throws(
        () => parseOffsetMessageId(bad),
        (e) => e instanceof CodecError && e.reason === "message-id",
        bad,
      );
    }
    assert.throws(
      () => parseOffsetMessageId("7F000001" + "FFFFFFFF" + "0000000000000000"),
      /port -1/,
    );
    assert.throws(
      () => offsetMessageId({ address: "localhost", port: 1 }, 0),
      InvalidArgumentError,
    );
    assert.throws(
      () => offsetMessageId({ address: "1.2.3.4", port: 1 }, 1.5),
      InvalidArgumentError,
    );
  });

  it("round-trip for IPv4 and IPv6 store hosts", () => {
    const host = fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => b.join(".")),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
        .filter((g) => !(g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff))
        .map((g) => g.map((x) => x.toString(16)).join(":")),
    );
    fc.assert(
      fc.property(
        host,
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        (address, port, offset) => {
          const id = offsetMessageId({ address, port }, offset);
          assert.match(id, /^[0-9A-F]+$/);
          assert.equal(id.length, address.includes(":") ? 56 : 32);
          assert.deepEqual(parseOffsetMessageId(id), {
            storeHost: { address, port },
            commitLogOffset: offset,
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it("random strings produce only CodecError", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.string({
            unit: fc.constantFrom(..."0123456789abcdefABCDEFxyz"),
            minLength: 30,
            maxLength: 58,
          }),
        ),
        (s) => onlyCodecError(() => parseOffsetMessageId(s)),
      ),
      { numRuns: 500 },
    );
  });
});

describe("UNIQ_KEY", () => {
  // 10 January 2024 00:00:00.000 local time: 9 days into the month.
  const jan10 = new Date(2024, 0, 10).getTime();
  const nineDays = 9 * 86_400_000; // 777600000 = 0x2E593C00

  it("UniqueKeyGenerator follows MessageClientIDSetter's layout", () => {
    let now = jan10;
    const gen = new UniqueKeyGenerator({
      ip: new Uint8Array([192, 168, 1, 20]),
      pid: 0x12345, // low 16 bits: 0x2345
      seed: -1,
      now: () => now,
    });
    assert.equal(gen.next(), "C0A80114" + "2345" + "FFFFFFFF" + "2E593C00" + "0000");
    now += 10;
    assert.equal(gen.next(), "C0A80114" + "2345" + "FFFFFFFF" + "2E593C0A" + "0001");
  });

  it("is 56 characters with an IPv6 address", () => {
    const gen = new UniqueKeyGenerator({
      ip: new Uint8Array(16).fill(0xab),
      pid: 1,
      seed: 2,
      now: () => jan10,
    });
    assert.equal(gen.next(), "AB".repeat(16) + "0001" + "00000002" + "2E593C00" + "0000");
    assert.equal(
      parseUniqueKey(gen.next(), jan10 + 1).ip,
      "abab:abab:abab:abab:abab:abab:abab:abab",
    );
  });

  it("wraps the counter at 16 bits", () => {
    const gen = new UniqueKeyGenerator({
      ip: new Uint8Array(4),
      pid: 0,
      seed: 0,
      now: () => jan10,
    });
    const ids: string[] = [];
    for (let i = 0; i < 65537; i++) ids.push(gen.next());
    assert.equal(ids[65535]!.slice(-4), "FFFF");
    assert.equal(ids[65536]!.slice(-4), "0000");
  });

  it("writes the month offset as a Java int: negative after ~24.8 days", () => {
    const jan31 = new Date(2024, 0, 31).getTime(); // 30 days = 2592000000 ms > 2^31
    const gen = new UniqueKeyGenerator({
      ip: new Uint8Array(4),
      pid: 0,
      seed: 0,
      now: () => jan31,
    });
    const key = gen.next();
    assert.equal(key.slice(20, 28), "9A7EC800");
    // The reader takes the offset as unsigned, so the time comes back right.
    assert.equal(parseUniqueKey(key, jan31 + 5).timestamp, jan31);
  });

  it("restarts the month offset when a new month begins", () => {
    let now = new Date(2024, 0, 31, 23, 59, 59, 999).getTime();
    const gen = new UniqueKeyGenerator({ ip: new Uint8Array(4), pid: 0, seed: 0, now: () => now });
    gen.next();
    now = new Date(2024, 1, 1, 0, 0, 0, 7).getTime();
    assert.equal(gen.next().slice(20, 28), "00000007");
  });

  it("clamps a small backwards clock step to 0, as Java does", () => {
    let now = new Date(2024, 0, 1, 0, 0, 0, 100).getTime();
    const gen = new UniqueKeyGenerator({ ip: new Uint8Array(4), pid: 0, seed: 0, now: () => now });
    now -= 500; // into the previous month, by less than 1000000 ms
    assert.equal(gen.next().slice(20, 28), "00000000");
  });

  it("parseUniqueKey() reads the parts and the approximate time", () => {
    const key = "0A000005" + "0FA1" + "11223344" + "2E593C00" + "002A";
    assert.deepEqual(parseUniqueKey(key, jan10 + 60_000), {
      ip: "10.0.0.5",
      pid: 0x0fa1,
      timestamp: jan10,
      counter: 42,
    });
    // An offset that would lie in the future belongs to the previous month.
    assert.equal(
      parseUniqueKey(key, jan10 - 1).timestamp,
      new Date(2023, 11, 1).getTime() + nineDays,
    );
  });

  it("parseUniqueKey() rejects bad input", () => {
    for (const bad of ["", "0A0000050FA1", "Z".repeat(32), "0".repeat(33)]) {
      assert.throws(
        () => parseUniqueKey(bad),
        (e) => e instanceof CodecError && e.reason === "message-id",
        bad,
      );
    }
  });

  it("generator options are validated", () => {
    assert.throws(() => new UniqueKeyGenerator({ ip: new Uint8Array(5) }), InvalidArgumentError);
    assert.throws(() => new UniqueKeyGenerator({ pid: 1.5 }), InvalidArgumentError);
    assert.match(new UniqueKeyGenerator().next(), /^[0-9A-F]{32}$/);
  });

  it("round-trips ip, pid, counter and time", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer(),
        fc.integer({ min: new Date(2020, 0, 1).getTime(), max: new Date(2030, 0, 1).getTime() }),
        fc.integer({ min: 1, max: 3_600_000 }),
        (ip, pid, seed, now, later) => {
          const gen = new UniqueKeyGenerator({ ip, pid, seed, now: () => now });
          const info = parseUniqueKey(gen.next(), now + later);
          assert.deepEqual(info, { ip: ip.join("."), pid, timestamp: now, counter: 0 });
        },
      ),
      { numRuns: 300 },
    );
  });
});
