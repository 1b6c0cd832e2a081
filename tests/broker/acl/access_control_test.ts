import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AccessControl, Permission } from "../../../src/broker/acl/access_control.ts";
import type { Principal } from "../../../src/broker/context.ts";
import { createAclSigner } from "../../../src/client/acl.ts";
import { encodeHeartbeatData } from "../../../src/codec/bodies.ts";
import { createRequest, type RemotingCommand } from "../../../src/codec/remoting_command.ts";
import { subscription } from "../_helpers.ts";

const acl = new AccessControl({
  accounts: [
    {
      accessKey: "app",
      secretKey: "app-secret",
      whiteRemoteAddress: "10.0.0.*",
      defaultGroupPerm: "SUB",
      topicPerms: ["orders=PUB|SUB", "audit=PUB", "secret=DENY"],
      groupPerms: ["other=DENY"],
    },
    { accessKey: "ops", secretKey: "ops-secret", admin: true },
  ],
});
const sign = createAclSigner({ accessKey: "app", secretKey: "app-secret" });

async function principalOf(request: RemotingCommand, ip = "10.0.0.5"): Promise<Principal> {
  const who = await acl.authenticate(request, ip);
  assert.ok("accessKey" in who, JSON.stringify(who));
  return who;
}

describe("AccessControl", () => {
  it("accepts what the client signs, whatever the header and body (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/), fc.string(), {
          maxKeys: 8,
        }),
        fc.uint8Array({ maxLength: 256 }),
        fc.nat({ max: 500 }),
        async (fields, body, version) => {
          delete fields.Signature;
          delete fields.AccessKey;
          const request = { ...createRequest(310, fields, { body }), version };
          await sign(request);
          assert.ok("accessKey" in await acl.authenticate(request, "10.0.0.5"));
          // Any change to what was signed is caught.
          const tampered = { ...request, body: new Uint8Array([...body, 1]) };
          assert.ok("denied" in await acl.authenticate(tampered, "10.0.0.5"));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("refuses missing, unknown and wrongly signed credentials, and other addresses", async () => {
    const plain = createRequest(105, { topic: "T" });
    assert.deepEqual(await acl.authenticate(plain, "10.0.0.5"), {
      denied: "no AccessKey: this broker requires ACL signatures",
    });
    const unknown = createRequest(105, { topic: "T" });
    await createAclSigner({ accessKey: "nobody", secretKey: "whatever" })(unknown);
    assert.deepEqual(await acl.authenticate(unknown, "10.0.0.5"), {
      denied: "no ACL account for AccessKey nobody",
    });
    const wrong = createRequest(105, { topic: "T" });
    await createAclSigner({ accessKey: "app", secretKey: "not-the-secret" })(wrong);
    assert.deepEqual(await acl.authenticate(wrong, "10.0.0.5"), {
      denied: "Check signature failed for accessKey=app",
    });
    const right = createRequest(105, { topic: "T" });
    await sign(right);
    assert.deepEqual(await acl.authenticate(right, "192.168.0.1"), {
      denied: "AccessKey app may not be used from 192.168.0.1",
    });
  });

  it("skips _UNIQUE_KEY_QUERY in the content of clients up to 4.9.3, as RocketMQ does", async () => {
    const request = { ...createRequest(12, { topic: "T" }), version: 399 };
    await sign(request);
    request.extFields._UNIQUE_KEY_QUERY = "true"; // not covered by the signature
    assert.ok("accessKey" in await acl.authenticate(request, "10.0.0.5"));
    const newer = { ...request, version: 400 };
    assert.ok("denied" in await acl.authenticate(newer, "10.0.0.5"));
  });

  it("grants by explicit entry, then default; DENY wins; admins may do anything", async () => {
    const app = await principalOf(await signed(createRequest(105, {})));
    assert.equal(acl.may(app, "topic", "orders", Permission.SUB), true);
    assert.equal(acl.may(app, "topic", "audit", Permission.SUB), false);
    assert.equal(acl.may(app, "topic", "audit", Permission.ANY), true);
    assert.equal(acl.may(app, "topic", "secret", Permission.ANY), false);
    assert.equal(acl.may(app, "topic", "unlisted", Permission.PUB), false, "default DENY");
    assert.equal(acl.may(app, "group", "mine", Permission.SUB), true, "defaultGroupPerm SUB");
    assert.equal(acl.may(app, "group", "other", Permission.SUB), false);
    assert.equal(acl.may(app, "topic", "%RETRY%other", Permission.SUB), false, "retry = group");
    const ops = { accessKey: "ops", admin: true };
    assert.equal(acl.may(ops, "topic", "secret", Permission.SUB), true);
  });

  it("classifies request codes: admin codes, sends, pulls, heartbeats", async () => {
    const app = await principalOf(await signed(createRequest(105, {})));
    const cases: [RemotingCommand, string | undefined][] = [
      [
        createRequest(17, { topic: "orders" }),
        "request code 17 needs an admin account, and accessKey=app is not",
      ],
      [createRequest(310, { a: "PG", b: "orders" }), undefined],
      [createRequest(310, { a: "PG", b: "audit" }), undefined],
      [
        createRequest(320, { a: "PG", b: "secret" }),
        "accessKey=app has no PUB permission on topic secret",
      ],
      [
        createRequest(10, { producerGroup: "PG", topic: "%RETRY%other" }),
        "accessKey=app has no SUB permission on group other",
      ],
      [
        createRequest(11, { topic: "audit", consumerGroup: "mine" }),
        "accessKey=app has no SUB permission on topic audit",
      ],
      [
        createRequest(11, { topic: "orders", consumerGroup: "other" }),
        "accessKey=app has no SUB permission on group other",
      ],
      [createRequest(11, { topic: "orders", consumerGroup: "mine" }), undefined],
      [
        createRequest(361, { topic: "audit", consumerGroup: "mine" }),
        "accessKey=app has no SUB permission on topic audit",
      ],
      [
        createRequest(361, { topic: "orders", consumerGroup: "other" }),
        "accessKey=app has no SUB permission on group other",
      ],
      [createRequest(361, { topic: "orders", consumerGroup: "mine" }), undefined],
      [
        createRequest(30, { topic: "audit", queueId: 0 }),
        "accessKey=app has no SUB permission on topic audit",
      ],
      [createRequest(300, { topic: "audit" }), undefined],
      [
        createRequest(12, {
          topic: "audit",
          key: "k",
          maxNum: 32,
          beginTimestamp: 0,
          endTimestamp: 1,
        }),
        "accessKey=app has no SUB permission on topic audit",
      ],
      [
        createRequest(12, {
          topic: "orders",
          key: "k",
          maxNum: 32,
          beginTimestamp: 0,
          endTimestamp: 1,
        }),
        undefined,
      ],
      [createRequest(33, { topic: "orders", offset: 0 }), undefined],
      [createRequest(33, { offset: 0 }), "no topic named in the request"], // a 4.x client: admins only
      [
        createRequest(38, { consumerGroup: "other" }),
        "accessKey=app has no SUB permission on group other",
      ],
      [createRequest(36, { group: "mine", offset: 1 }), undefined],
      [createRequest(105, { topic: "secret" }), undefined],
      [
        createRequest(34, {}, {
          body: encodeHeartbeatData({
            clientID: "c",
            producerDataSet: [],
            consumerDataSet: [{
              groupName: "mine",
              consumeType: "CONSUME_PASSIVELY",
              messageModel: "CLUSTERING",
              consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
              subscriptionDataSet: [subscription("orders"), subscription("audit")],
              unitMode: false,
            }],
          }),
        }),
        "accessKey=app has no SUB permission on topic audit",
      ],
    ];
    for (const [request, expected] of cases) {
      assert.equal(acl.authorize(app, request), expected, `code ${request.code}`);
    }
    const ops = { accessKey: "ops", admin: true };
    assert.equal(acl.authorize(ops, createRequest(17, { topic: "orders" })), undefined);
  });

  it("limits the whole broker to globalWhiteRemoteAddresses when given", () => {
    const limited = new AccessControl({
      globalWhiteRemoteAddresses: ["127.0.0.1"],
      accounts: [],
    });
    assert.equal(limited.allowsAddress("127.0.0.1"), true);
    assert.equal(limited.allowsAddress("10.0.0.1"), false);
    assert.equal(acl.allowsAddress("10.0.0.1"), true);
  });

  it("replace() swaps accounts and whitelists at once; an invalid configuration changes nothing", async () => {
    const live = new AccessControl({ accounts: [{ accessKey: "app", secretKey: "app-secret" }] });
    const request = async (secretKey: string) => {
      const r = createRequest(105, { topic: "T" });
      await createAclSigner({ accessKey: "app", secretKey })(r);
      return await live.authenticate(r, "10.0.0.5");
    };
    assert.equal((await request("app-secret") as Principal).accessKey, "app");
    live.replace({
      globalWhiteRemoteAddresses: ["10.0.0.*"],
      accounts: [{ accessKey: "app", secretKey: "rotated", admin: true }],
    });
    assert.deepEqual(await request("app-secret"), {
      denied: "Check signature failed for accessKey=app",
    });
    const now = await request("rotated") as Principal;
    assert.deepEqual(now, { accessKey: "app", admin: true });
    assert.equal(live.may(now, "topic", "anything", Permission.PUB), true);
    assert.equal(live.allowsAddress("192.168.0.1"), false);
    assert.throws(
      () => live.replace({ accounts: [{ accessKey: "", secretKey: "x" }] }),
      /accessKey/,
    );
    assert.equal((await request("rotated") as Principal).accessKey, "app", "unchanged");
    assert.equal(live.allowsAddress("192.168.0.1"), false);
  });
});

async function signed(request: RemotingCommand): Promise<RemotingCommand> {
  await sign(request);
  return request;
}
