// ACL 1.0 signing (AclClientRPCHook's algorithm) against a real RocketMQ 4.9.7
// broker with aclEnable=true: signed requests are accepted, a wrong secret or
// no credentials are refused with the broker's error.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
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
