import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkAclConfig, parsePlainAcl } from "../../../src/broker/acl/plain_acl.ts";
import { compileAddressPattern, normalizeIp } from "../../../src/broker/acl/address_pattern.ts";
import { InvalidArgumentError } from "../../../src/errors.ts";

// RocketMQ 4.9.7's distribution/conf/plain_acl.yml, verbatim.
const ROCKETMQ_SAMPLE = `globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      # the group should convert to retry topic
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB

  - accessKey: rocketmq2
    secretKey: 12345678
    whiteRemoteAddress: 192.168.1.*
    # if it is admin, it could access all resources
    admin: true
`;

describe("parsePlainAcl()", () => {
  it("reads RocketMQ's own sample file", async () => {
    const config = await parsePlainAcl(ROCKETMQ_SAMPLE);
    assert.deepEqual(config.globalWhiteRemoteAddresses, ["10.10.103.*", "192.168.0.*"]);
    assert.deepEqual(config.accounts[0], {
      accessKey: "RocketMQ",
      secretKey: "12345678",
      admin: false,
      defaultTopicPerm: "DENY",
      defaultGroupPerm: "SUB",
      topicPerms: ["topicA=DENY", "topicB=PUB|SUB", "topicC=SUB"],
      groupPerms: ["groupA=DENY", "groupB=PUB|SUB", "groupC=SUB"],
    });
    assert.deepEqual(config.accounts[1], {
      accessKey: "rocketmq2",
      secretKey: "12345678",
      whiteRemoteAddress: "192.168.1.*",
      admin: true,
    });
  });

  it("names the offending field of a bad file", async () => {
    const cases: [string, string][] = [
      ["accounts:\n  - accessKey: a\n    secretKey: 123\n", "acl.accounts.0.secretKey"],
      ["accounts:\n  - secretKey: 123456\n", "acl.accounts.0.accessKey"],
      [
        "accounts:\n  - accessKey: a\n    secretKey: 123456\n    defaultTopicPerm: ALL\n",
        "acl.accounts.0.defaultTopicPerm",
      ],
      [
        "accounts:\n  - accessKey: a\n    secretKey: 123456\n    topicPerms: [t]\n",
        "acl.accounts.0.topicPerms.0",
      ],
      [
        "accounts:\n  - {accessKey: a, secretKey: 123456}\n  - {accessKey: a, secretKey: 654321}\n",
        "acl.accounts",
      ],
      ["accounts: [\n", "acl"],
    ];
    for (const [text, path] of cases) {
      await assert.rejects(
        parsePlainAcl(text),
        (e) => e instanceof InvalidArgumentError && e.path === path,
        path,
      );
    }
  });

  it("checks objects given in code the same way", () => {
    assert.deepEqual(checkAclConfig({ accounts: [] }), { accounts: [] });
    assert.throws(() => checkAclConfig({}), InvalidArgumentError);
  });
});

describe("compileAddressPattern()", () => {
  it("matches RocketMQ's pattern forms", () => {
    const cases: [string, string[], string[]][] = [
      ["*", ["1.2.3.4", "::1"], []],
      ["192.168.1.*", ["192.168.1.0", "192.168.1.255", "::ffff:192.168.1.9"], ["192.168.2.1"]],
      ["192.168.*.*", ["192.168.200.3"], ["192.169.0.1"]],
      ["10.0.0.1-10", ["10.0.0.1", "10.0.0.10"], ["10.0.0.11", "10.0.0.0"]],
      ["10.0.0.{1,3}", ["10.0.0.1", "10.0.0.3"], ["10.0.0.2"]],
      ["10.0.0.1,10.0.0.2", ["10.0.0.2"], ["10.0.0.3"]],
      ["127.0.0.1", ["127.0.0.1", "::ffff:127.0.0.1"], ["127.0.0.2"]],
      ["::1", ["::1", "0:0:0:0:0:0:0:1", "[::1]"], ["::2", "127.0.0.1"]],
      ["fe80::{1,2}", ["fe80::2"], ["fe80::3"]],
    ];
    for (const [pattern, yes, no] of cases) {
      const match = compileAddressPattern(pattern);
      for (const ip of yes) assert.equal(match(ip), true, `${pattern} ∋ ${ip}`);
      for (const ip of no) assert.equal(match(ip), false, `${pattern} ∌ ${ip}`);
    }
  });

  it("refuses malformed patterns", () => {
    for (const bad of ["10.0.0.300", "10.0.0", "10.0.0.5-1", "a.b.c.d", "10.0.{1,2}.1", "x,y"]) {
      assert.throws(() => compileAddressPattern(bad), InvalidArgumentError, bad);
    }
  });

  it("normalizes addresses", () => {
    assert.equal(normalizeIp("FE80::0001"), "fe80:0:0:0:0:0:0:1");
    assert.equal(normalizeIp("1:2:3:4:5:6:7:8:9"), undefined);
    assert.equal(normalizeIp("::ffff:1.2.3"), undefined);
  });
});
