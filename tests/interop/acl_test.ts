// ACL 1.0 signing (AclClientRPCHook's algorithm) against a real RocketMQ 4.9.7
// broker with aclEnable=true: signed requests are accepted, a wrong secret or
// no credentials are refused with the broker's error. Then ACL 2.0 and TLS
// against RocketMQ 5.5.0.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bodyText, BrokerError, Producer, PushConsumer } from "../../mod.ts";
import { type RocketMQCluster, startRocketMQ, uniqueName } from "./harness.ts";

const ACCESS_KEY = "rpc-client";
const SECRET_KEY = "s3cr3t-Key_42";

const PLAIN_ACL = `globalWhiteRemoteAddresses: []
accounts:
  - accessKey: ${ACCESS_KEY}
    secretKey: ${SECRET_KEY}
    whiteRemoteAddress:
    admin: true
`;

describe("ACL signing against RocketMQ 4.9.7 with aclEnable=true", () => {
  let cluster: RocketMQCluster;

  before(async () => {
    cluster = await startRocketMQ({
      line: "4",
      brokerConfig: { aclEnable: "true" },
      brokerHomeFiles: { "conf/plain_acl.yml": PLAIN_ACL },
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  it("signed sends and request-reply go through", async () => {
    const topic = uniqueName("acl");
    const credentials = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
    await using producer = new Producer({ nameServer: cluster.nameServer, credentials });
    await producer.start();
    const sent = await producer.send({ topic, body: "signed", tags: "t", keys: ["k1", "k2"] });
    assert.equal(sent.status, "SEND_OK");
    await using responder = new PushConsumer({
      nameServer: cluster.nameServer,
      group: `${topic}_g`,
      credentials,
    });
    responder.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
    await responder.start();
    const deadline = Date.now() + 30_000;
    while (!responder.assignedQueues.some((q) => q.topic === topic)) {
      if (Date.now() > deadline) throw new Error("no queue assigned");
      await new Promise((r) => setTimeout(r, 20));
    }
    const reply = await producer.request({ topic, body: "ping" }, { timeout: 10_000 });
    assert.equal(bodyText(reply), "re:ping");
  });

  it("a wrong secret key is refused by the broker", async () => {
    await using producer = new Producer({
      nameServer: cluster.nameServer,
      credentials: { accessKey: ACCESS_KEY, secretKey: "not-the-secret" },
      retryTimes: 0,
    });
    await producer.start();
    const err = await producer.send({ topic: uniqueName("acl_bad"), body: "x" }).catch((e) => e);
    assert.ok(err instanceof BrokerError, String(err));
    assert.match(err.remark ?? "", /signature|Signature/);
  });

  it("no credentials are refused by the broker", async () => {
    await using producer = new Producer({ nameServer: cluster.nameServer, retryTimes: 0 });
    await producer.start();
    const err = await producer.send({ topic: uniqueName("acl_none"), body: "x" }).catch((e) => e);
    assert.ok(err instanceof BrokerError, String(err));
  });
});

// ACL 2.0 (RocketMQ 5.5.0: authenticationEnabled / authorizationEnabled with the
// local metadata providers) and TLS (permissive, with our test certificate):
// a super user made by initAuthenticationUser, and a normal user migrated from
// a plain_acl.yml (migrateAuthFromV1Enabled), whose only right is PUB on one topic.
const SUPER = { accessKey: "rocketmq-super", secretKey: "super-Secret-8" };
const NORMAL = { accessKey: "rpc-requester", secretKey: "requester-Secret-9" };
const ACL2_TOPIC = "rpc_acl2";
const V1_FILE = `accounts:
  - accessKey: ${NORMAL.accessKey}
    secretKey: ${NORMAL.secretKey}
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: DENY
    topicPerms:
      - ${ACL2_TOPIC}=PUB
`;

describe("ACL 2.0 and TLS against RocketMQ 5.5.0", () => {
  let cluster: RocketMQCluster;
  const fixture = (name: string) =>
    fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));
  const tls = { caCerts: [readFileSync(fixture("ca.pem"), "utf8")] };

  before(async () => {
    cluster = await startRocketMQ({
      line: "5",
      tlsMode: "permissive",
      jvmArgs: [
        "-Dtls.test.mode.enable=false",
        `-Dtls.server.certPath=${fixture("server.pem")}`,
        `-Dtls.server.keyPath=${fixture("server.key")}`,
      ],
      brokerConfig: {
        authenticationEnabled: "true",
        authenticationProvider:
          "org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider",
        authenticationMetadataProvider:
          "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider",
        authorizationEnabled: "true",
        authorizationProvider:
          "org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider",
        authorizationMetadataProvider:
          "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider",
        initAuthenticationUser: JSON.stringify({
          username: SUPER.accessKey,
          password: SUPER.secretKey,
        }),
        innerClientAuthenticationCredentials: JSON.stringify(SUPER),
        migrateAuthFromV1Enabled: "true",
      },
      brokerHomeFiles: { "conf/plain_acl.yml": V1_FILE },
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  it("a normal user's signed requests over TLS get replies from a super user's responder", async () => {
    await using admin = new Producer({ nameServer: cluster.nameServer, credentials: SUPER, tls });
    await admin.start();
    // The super user's send creates the topic (autoCreateTopicEnable).
    assert.equal((await admin.send({ topic: ACL2_TOPIC, body: "create" })).status, "SEND_OK");
    await using responder = new PushConsumer({
      nameServer: cluster.nameServer,
      group: uniqueName("acl2_g"),
      credentials: SUPER,
      tls,
    });
    responder.subscribe(ACL2_TOPIC, "*", (m) => `re:${bodyText(m)}`);
    await responder.start();
    const deadline = Date.now() + 30_000;
    while (!responder.assignedQueues.some((q) => q.topic === ACL2_TOPIC)) {
      if (Date.now() > deadline) throw new Error("no queue assigned");
      await new Promise((r) => setTimeout(r, 20));
    }
    await using requester = new Producer({
      nameServer: cluster.nameServer,
      credentials: NORMAL,
      tls,
    });
    await requester.start();
    for (let i = 0; i < 3; i++) {
      const reply = await requester.request({ topic: ACL2_TOPIC, body: `q${i}` }, {
        timeout: 10_000,
      });
      assert.equal(bodyText(reply), `re:q${i}`);
    }
  });

  it("refuses the normal user outside its rights, and a wrong password", async () => {
    await using requester = new Producer({
      nameServer: cluster.nameServer,
      credentials: NORMAL,
      tls,
      retryTimes: 0,
    });
    await requester.start();
    const denied = await requester.send({ topic: "TBW102_not_mine", body: "x" }).catch((e) => e);
    assert.ok(denied instanceof BrokerError, String(denied));
    assert.equal(denied.responseCode, 16, denied.message);
    await using impostor = new Producer({
      nameServer: cluster.nameServer,
      credentials: { ...NORMAL, secretKey: "guessed" },
      tls,
      retryTimes: 0,
    });
    await impostor.start();
    const err = await impostor.send({ topic: ACL2_TOPIC, body: "x" }).catch((e) => e);
    assert.ok(err instanceof BrokerError, String(err));
    assert.equal(err.responseCode, 16, err.message);
  });
});
