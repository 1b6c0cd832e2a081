// The attacks of issue 11 against the embedded broker, over real loopback TCP:
// our own clients as victims, raw remoting connections (and our clients with
// other credentials) as attackers. Each attack is shown refused. Runtime-neutral.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  BrokerError,
  ClientIdConflictError,
  IllegalStateError,
  InvalidArgumentError,
  Producer,
  PushConsumer,
  RequestTimeoutError,
} from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { emptyTopic } from "../broker/_helpers.ts";
import { encodeHeartbeatData } from "../../src/codec/bodies.ts";
import { encodeSendHeaderV2 } from "../../src/codec/message.ts";
import { encodeProperties } from "../../src/codec/properties.ts";
import {
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../src/codec/remoting_command.ts";
import { createAclSigner, type Credentials } from "../../src/client/acl.ts";
import { RemotingClient } from "../../src/remoting/remoting_client.ts";
import type { LogFields, Logger } from "../../src/logger.ts";
import { until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;
const REPLY_TOPIC = "DefaultCluster_REPLY_TOPIC";

/** Keeps warnings and errors, for assertions. */
class Lines implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(message: string, _fields?: LogFields): void {
    this.lines.push(message);
  }
  error(message: string, _fields?: LogFields): void {
    this.lines.push(message);
  }
}

/** A raw remoting client, optionally signing, that records what the broker pushes to it. */
function attacker(credentials?: Credentials) {
  const pushes: RemotingCommand[] = [];
  const client = new RemotingClient({
    onRequest: (req) => {
      pushes.push(req);
      return createResponse(req, 0);
    },
    ...(credentials ? { beforeRequest: createAclSigner(credentials) } : {}),
  });
  return { client, pushes };
}

function heartbeat(clientID: string, consumer?: { group: string; topic: string }): RemotingCommand {
  return createRequest(34, {}, {
    body: encodeHeartbeatData({
      clientID,
      producerDataSet: [{ groupName: "PG" }],
      consumerDataSet: consumer
        ? [{
          groupName: consumer.group,
          consumeType: "CONSUME_PASSIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [{
            topic: consumer.topic,
            subString: "*",
            tagsSet: [],
            codeSet: [],
            subVersion: 1,
            expressionType: "TAG",
          }],
          unitMode: false,
        }]
        : [],
    }),
  });
}

function sendRequest(
  code: number,
  topic: string,
  properties: Record<string, string>,
  body = "x",
): RemotingCommand {
  return createRequest(
    code,
    encodeSendHeaderV2({
      producerGroup: "PG",
      topic,
      defaultTopic: "TBW102",
      defaultTopicQueueNums: 4,
      queueId: 0,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      flag: 0,
      properties: encodeProperties(properties),
    }),
    { body: new TextEncoder().encode(body) },
  );
}

function pullRequest(topic: string, group: string): RemotingCommand {
  return createRequest(11, {
    consumerGroup: group,
    topic,
    queueId: 0,
    queueOffset: 0,
    maxMsgNums: 32,
    sysFlag: 0,
    commitOffset: 0,
    suspendTimeoutMillis: 0,
    subVersion: 0,
  });
}

/** Create a topic directly in the broker's table (4 queues). */
function createTopic(broker: BrokerHandle, topic: string): void {
  emptyTopic(broker.broker, topic, 4);
}

async function responder(
  broker: BrokerHandle,
  topic: string,
  options: { group?: string; credentials?: Credentials } = {},
): Promise<PushConsumer> {
  createTopic(broker, topic);
  const consumer = new PushConsumer({
    nameServer: broker.address,
    group: options.group ?? unique("g"),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  consumer.subscribe(topic, "*", (m) => `re:${bodyText(m)}`);
  await consumer.start();
  await until(
    () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
    "queues assigned",
  );
  return consumer;
}

describe("attacks on the embedded broker without ACL", () => {
  let broker: BrokerHandle;
  const logger = new Lines();

  before(async () => {
    broker = await startBroker({ port: 0, logger });
  });
  after(async () => {
    await broker?.close();
  });

  it("hijack: a heartbeat announcing a requester's client id is refused, and its replies stay with it", async () => {
    const topic = unique("hijack");
    await using victim = new Producer({ nameServer: broker.address });
    await victim.start();
    await using _consumer = await responder(broker, topic);
    assert.equal(
      bodyText(await victim.request({ topic, body: "warm-up" }, { timeout: 5000 })),
      "re:warm-up",
    );
    const thief = attacker();
    try {
      const refused = await thief.client.invoke(broker.address, heartbeat(victim.clientId), {
        timeout: 5000,
      });
      assert.equal(refused.code, 16);
      assert.equal(refused.extFields.CLIENT_ID_IN_USE, "true");
      // Nor may it send requests whose replies would go to the victim's id.
      const spoofed = await thief.client.invoke(
        broker.address,
        sendRequest(310, topic, {
          CORRELATION_ID: "x1",
          REPLY_TO_CLIENT: victim.clientId,
          TTL: "3000",
        }),
        { timeout: 5000 },
      );
      assert.equal(spoofed.code, 16);
      const replies = await Promise.all(
        Array.from(
          { length: 8 },
          (_, i) => victim.request({ topic, body: `r${i}` }, { timeout: 5000 }),
        ),
      );
      assert.deepEqual(replies.map(bodyText), Array.from({ length: 8 }, (_, i) => `re:r${i}`));
      assert.equal(thief.pushes.filter((p) => p.code === 326).length, 0);
      assert.ok(broker.stats.clientIdRefused >= 2);
      assert.ok(logger.lines.includes("heartbeat refused: client id in use"));
    } finally {
      await thief.client.close();
    }
  });

  it("spoof: a client of another group, on another process, cannot answer a request", async () => {
    const topic = unique("spoof");
    await using requester = new Producer({ nameServer: broker.address });
    await requester.start();
    const held: string[] = [];
    createTopic(broker, topic);
    const consumer = new PushConsumer({ nameServer: broker.address, group: unique("g") });
    consumer.subscribe(topic, "*", (m, ctx) => {
      if (ctx.isRequest) held.push(m.properties.CORRELATION_ID!);
    });
    await consumer.start();
    await until(
      () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4,
      "the responder's 4 queues",
    );
    const spy = attacker();
    try {
      // The spoofer registers as its own process, in a group of another topic.
      await spy.client.invoke(
        broker.address,
        heartbeat("127.0.0.1@6666#1", { group: "spies", topic: "other" }),
        {
          timeout: 5000,
        },
      );
      const pending = requester.request({ topic, body: "q" }, { timeout: 3000 });
      await until(() => held.length === 1, "the request reached its responder");
      const fake = await spy.client.invoke(
        broker.address,
        sendRequest(325, REPLY_TOPIC, {
          MSG_TYPE: "reply",
          CORRELATION_ID: held[0]!,
          REPLY_TO_CLIENT: requester.clientId,
          TTL: "3000",
        }, "spoofed"),
        { timeout: 5000 },
      );
      assert.equal(fake.code, 16);
      assert.match(fake.remark!, /not in a consumer group subscribed to topic/);
      // A reply nobody asked for is refused too.
      const unasked = await spy.client.invoke(
        broker.address,
        sendRequest(325, REPLY_TOPIC, {
          MSG_TYPE: "reply",
          CORRELATION_ID: "made-up",
          REPLY_TO_CLIENT: requester.clientId,
        }),
        { timeout: 5000 },
      );
      assert.equal(unasked.code, 1);
      // The genuine responder never answered: the request times out; no spoof got in.
      const outcome = await pending.catch((e) => e);
      assert.ok(outcome instanceof RequestTimeoutError, String(outcome));
      assert.equal(requester.stats.replied, 0);
    } finally {
      await spy.client.close();
      await consumer.close();
    }
  });

  it("cross-group reads: stored replies, another group's %RETRY%; sends to the reply topic and TBW102", async () => {
    const spy = attacker();
    try {
      const call = (r: RemotingCommand) => spy.client.invoke(broker.address, r, { timeout: 5000 });
      const replies = await call(pullRequest(REPLY_TOPIC, "spies"));
      assert.deepEqual([replies.code, replies.body.length], [16, 0]);
      const retry = await call(pullRequest("%RETRY%victims", "spies"));
      assert.equal(retry.code, 16);
      const dlq = await call(pullRequest("%DLQ%victims", "spies"));
      assert.equal(dlq.code, 16);
      assert.equal((await call(sendRequest(310, REPLY_TOPIC, { MSG_TYPE: "reply" }))).code, 16);
      assert.equal((await call(sendRequest(310, "TBW102", {}))).code, 16);
    } finally {
      await spy.client.close();
    }
  });

  it("two producers with one instanceName: the second fails loudly, in-process and across processes", async () => {
    const instanceName = unique("shared");
    await using first = new Producer({ nameServer: broker.address, instanceName });
    await first.start();
    const second = new Producer({ nameServer: broker.address, instanceName });
    await assert.rejects(second.start(), ClientIdConflictError);
    await second.close();
    // Another process (a raw connection here) holding the id: the broker refuses
    // our heartbeat, and the first request fails with the typed error.
    const topic = unique("dup");
    await using _consumer = await responder(broker, topic);
    const other = attacker();
    try {
      const id = `127.0.0.1@${unique("proc")}`;
      assert.equal(
        (await other.client.invoke(broker.address, heartbeat(id), { timeout: 5000 })).code,
        0,
      );
      await using late = new Producer({
        nameServer: broker.address,
        instanceName: id.slice("127.0.0.1@".length),
        clientIP: "127.0.0.1",
      });
      await late.start();
      const err = await late.request({ topic, body: "q" }, { timeout: 5000 }).catch((e) => e);
      assert.ok(err instanceof ClientIdConflictError, String(err));
      assert.equal(err.clientId, id);
      assert.equal(err.address, broker.address);
    } finally {
      await other.client.close();
    }
  });
});

const ALICE = { accessKey: "alice", secretKey: "alice-secret" };
const MALLORY = { accessKey: "mallory", secretKey: "mallory-secret" };
const OPS = { accessKey: "ops", secretKey: "ops-secret" };

describe("attacks on the embedded broker with ACL", () => {
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker({
      port: 0,
      logger: new Lines(),
      acl: {
        accounts: [
          {
            ...ALICE,
            topicPerms: ["alice-rpc=PUB|SUB"],
            groupPerms: ["alice-responders=SUB"],
          },
          {
            ...MALLORY,
            defaultGroupPerm: "SUB",
            topicPerms: ["mallory-rpc=PUB|SUB"],
          },
          { ...OPS, admin: true },
        ],
      },
    });
  });
  after(async () => {
    await broker?.close();
  });

  it("signed request-reply works; wrong and missing credentials are refused", async () => {
    await using consumer = await responder(broker, "alice-rpc", {
      group: "alice-responders",
      credentials: ALICE,
    });
    await using requester = new Producer({ nameServer: broker.address, credentials: ALICE });
    await requester.start();
    assert.equal(
      bodyText(await requester.request({ topic: "alice-rpc", body: "hi" }, { timeout: 5000 })),
      "re:hi",
    );
    void consumer;
    for (const credentials of [{ ...ALICE, secretKey: "guessed-wrong" }, undefined]) {
      await using p = new Producer({
        nameServer: broker.address,
        retryTimes: 0,
        ...(credentials ? { credentials } : {}),
      });
      await p.start();
      const err = await p.send({ topic: "alice-rpc", body: "x" }).catch((e) => e);
      assert.ok(err instanceof BrokerError, String(err));
      assert.equal(err.responseCode, 16);
      assert.match(err.remark ?? "", credentials ? /Check signature failed/ : /no AccessKey/);
    }
  });

  it("admin request codes need an admin account", async () => {
    const mallory = attacker(MALLORY), ops = attacker(OPS);
    try {
      const create = () =>
        createRequest(17, {
          topic: "alice-rpc",
          defaultTopic: "TBW102",
          readQueueNums: 1,
          writeQueueNums: 1,
          perm: 0,
          topicFilterType: "SINGLE_TAG",
          order: false,
        });
      const refused = await mallory.client.invoke(broker.address, create(), { timeout: 5000 });
      assert.deepEqual([refused.code, refused.remark], [
        16,
        "request code 17 needs an admin account, and accessKey=mallory is not",
      ]);
      assert.equal(
        broker.broker.topics.get("alice-rpc")?.perm ?? 6,
        6,
        "the victim's topic is untouched",
      );
      const created = await ops.client.invoke(
        broker.address,
        createRequest(17, {
          topic: "ops-made",
          defaultTopic: "TBW102",
          readQueueNums: 2,
          writeQueueNums: 2,
          perm: 6,
          topicFilterType: "SINGLE_TAG",
          order: false,
        }),
        { timeout: 5000 },
      );
      assert.equal(created.code, 0, created.remark);
    } finally {
      await mallory.client.close();
      await ops.client.close();
    }
  });

  it("another account cannot read, subscribe to, answer or hijack alice's requests", async () => {
    const held: string[] = [];
    createTopic(broker, "alice-rpc");
    const consumer = new PushConsumer({
      nameServer: broker.address,
      group: "alice-responders",
      credentials: ALICE,
    });
    consumer.subscribe("alice-rpc", "*", (m, ctx) => {
      if (ctx.isRequest) held.push(m.properties.CORRELATION_ID!);
    });
    await consumer.start();
    await until(
      () => consumer.assignedQueues.filter((q) => q.topic === "alice-rpc").length === 4,
      "alice's responder's 4 queues",
    );
    const requester = new Producer({ nameServer: broker.address, credentials: ALICE });
    await requester.start();
    const mallory = attacker(MALLORY);
    const call = (r: RemotingCommand) =>
      mallory.client.invoke(broker.address, r, { timeout: 5000 });
    try {
      const pending = requester.request({ topic: "alice-rpc", body: "secret question" }, {
        timeout: 4000,
      });
      await until(() => held.length === 1, "alice's request at her responder");
      // Read alice's requests, or subscribe to them.
      assert.equal((await call(pullRequest("alice-rpc", "mallory-g"))).code, 16);
      const subscribe = await call(
        heartbeat("127.0.0.1@mallory#1", { group: "mallory-g", topic: "alice-rpc" }),
      );
      assert.deepEqual([subscribe.code, subscribe.remark], [
        16,
        "accessKey=mallory has no SUB permission on topic alice-rpc",
      ]);
      // Answer one (it learnt the correlation id somehow).
      const spoof = await call(
        sendRequest(325, REPLY_TOPIC, {
          MSG_TYPE: "reply",
          CORRELATION_ID: held[0]!,
          REPLY_TO_CLIENT: requester.clientId,
        }, "spoofed"),
      );
      assert.equal(spoof.code, 16);
      assert.match(spoof.remark!, /accessKey=mallory may not read topic alice-rpc/);
      // Take alice's client id, now and after alice's requester left.
      assert.equal((await call(heartbeat(requester.clientId))).code, 16);
      const aliceId = requester.clientId;
      const outcome = await pending.catch((e) => e);
      assert.ok(outcome instanceof RequestTimeoutError, "the only reply offered was a spoof");
      await requester.close();
      await until(() => broker.stats.connections <= 2, "alice's requester gone");
      const reclaim = await call(heartbeat(aliceId));
      assert.equal(reclaim.code, 16);
      assert.match(reclaim.remark!, /account alice \(reserved after its connection closed\)/);
      // Stored replies: not even alice may read them; the admin may.
      const alice = attacker(ALICE);
      try {
        assert.equal(
          (await alice.client.invoke(broker.address, pullRequest(REPLY_TOPIC, "alice-responders"), {
            timeout: 5000,
          }))
            .code,
          16,
        );
      } finally {
        await alice.client.close();
      }
      const ops = attacker(OPS);
      try {
        const read = await ops.client.invoke(broker.address, pullRequest(REPLY_TOPIC, "audit"), {
          timeout: 5000,
        });
        assert.notEqual(read.code, 16, read.remark);
      } finally {
        await ops.client.close();
      }
    } finally {
      await mallory.client.close();
      await requester.close();
      await consumer.close();
    }
  });

  it("updateAcl: a rotated secret counts at once; a kept account's open connections go on", async () => {
    const accounts = (mallorySecret: string) => ({
      accounts: [
        { ...ALICE, topicPerms: ["alice-rpc=PUB|SUB"], groupPerms: ["alice-responders=SUB"] },
        { ...MALLORY, secretKey: mallorySecret, topicPerms: ["mallory-rpc=PUB|SUB"] },
      ],
    });
    await using rotating = await startBroker({
      port: 0,
      logger: new Lines(),
      acl: accounts(MALLORY.secretKey),
    });
    await using _responder = await responder(rotating, "alice-rpc", {
      group: "alice-responders",
      credentials: ALICE,
    });
    await using alice = new Producer({ nameServer: rotating.address, credentials: ALICE });
    await alice.start();
    await using mallory = new Producer({
      nameServer: rotating.address,
      credentials: MALLORY,
      retryTimes: 0,
    });
    await mallory.start();
    const ask = async (body: string) =>
      bodyText(await alice.request({ topic: "alice-rpc", body }, { timeout: 10_000 }));
    assert.equal(await ask("before"), "re:before");
    await mallory.send({ topic: "mallory-rpc", body: "before" });

    rotating.broker.updateAcl(accounts("mallory-rotated"));
    // alice's requester and responder keep their connections, and are served on them.
    assert.equal(await ask("after"), "re:after");
    // mallory's old secret is refused on the connection it had.
    const err = await mallory.send({ topic: "mallory-rpc", body: "old key" }).catch((e) => e);
    assert.ok(err instanceof BrokerError, String(err));
    assert.equal(err.responseCode, 16);
    assert.match(err.remark ?? "", /Check signature failed for accessKey=mallory/);
    await using rotated = new Producer({
      nameServer: rotating.address,
      credentials: { ...MALLORY, secretKey: "mallory-rotated" },
    });
    await rotated.start();
    await rotated.send({ topic: "mallory-rpc", body: "new key" });

    // A bad configuration changes nothing; a broker without ACL cannot take one.
    assert.throws(
      () => rotating.broker.updateAcl({ accounts: [{ accessKey: "", secretKey: "x" }] }),
      InvalidArgumentError,
    );
    assert.equal(await ask("still"), "re:still");
    await using open = await startBroker({ port: 0, logger: new Lines() });
    assert.throws(() => open.broker.updateAcl(accounts("x")), IllegalStateError);
  });

  it("only clients from globalWhiteRemoteAddresses are served", async () => {
    await using fenced = await startBroker({
      port: 0,
      logger: new Lines(),
      acl: { globalWhiteRemoteAddresses: ["10.1.2.3"], accounts: [{ ...ALICE }] },
    });
    const a = attacker(ALICE);
    try {
      const res = await a.client.invoke(
        fenced.address,
        createRequest(105, { topic: "alice-rpc" }),
        {
          timeout: 5000,
        },
      );
      assert.deepEqual([res.code, res.remark], [
        16,
        "address 127.0.0.1 is not in globalWhiteRemoteAddresses",
      ]);
    } finally {
      await a.client.close();
    }
  });
});
