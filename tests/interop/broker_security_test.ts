// The official Java client (5.x line: its client ships AclClientRPCHook)
// against OUR broker with ACL and TLS, and the attacks of issue 11 made with
// it: each refused. Plus two Java requesters sharing one instanceName.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startBroker } from "../../src/broker/mod.ts";
import type { AclConfig } from "../../src/broker/acl/plain_acl.ts";
import type { LogFields, Logger } from "../../src/logger.ts";
import {
  createTopic,
  runJavaRequester,
  startJavaConsumer,
  startJavaResponder,
  uniqueName,
} from "./harness.ts";

const LINE = "5" as const;
const read = (name: string) =>
  readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), "utf8");
const TLS = { cert: read("server.pem"), key: read("server.key") };
/** The Java client over TLS, trusting any server certificate (RocketMQ's test mode). */
const JAVA_TLS = ["-Dtls.enable=true", "-Dtls.test.mode.enable=true"];
const creds = (accessKey: string, secretKey: string) => [
  "--access-key",
  accessKey,
  "--secret-key",
  secretKey,
];
const ALICE = creds("alice", "alice-secret");
const MALLORY = creds("mallory", "mallory-secret");
const OPS = creds("ops", "ops-secret");

const ACL: AclConfig = {
  accounts: [
    {
      accessKey: "alice",
      secretKey: "alice-secret",
      topicPerms: ["alice-rpc=PUB|SUB"],
      groupPerms: ["alice-responders=SUB", "alice-responders-reply=SUB"],
    },
    {
      accessKey: "mallory",
      secretKey: "mallory-secret",
      defaultGroupPerm: "SUB",
      topicPerms: ["mallory-rpc=PUB|SUB"],
    },
    { accessKey: "ops", secretKey: "ops-secret", admin: true },
  ],
};

/** Keeps warnings, for failure messages. */
class Problems implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(message: string, fields?: LogFields): void {
    this.lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push(`ERROR ${message} ${JSON.stringify(fields ?? {})}`);
  }
}

describe("Java 5.x client with ACL (AclClientRPCHook) and TLS against the embedded broker", () => {
  it("signed request-reply over TLS; the attacks of a second account are refused", async () => {
    const log = new Problems();
    await using broker = await startBroker({ port: 0, logger: log, acl: ACL, tls: TLS });
    const nameServer = broker.address;
    const topic = "alice-rpc";
    const target = { line: LINE, nameServer, jvmArgs: JAVA_TLS };

    // UPDATE_AND_CREATE_TOPIC: refused for mallory, done for the admin.
    await assert.rejects(createTopic({ ...target, topic, queues: 4, extraArgs: MALLORY }));
    assert.ok(broker.stats.accessDenied > 0);
    const queues = await createTopic({ ...target, topic, queues: 4, extraArgs: OPS });
    assert.equal(queues.length, 4);

    await using responder = await startJavaResponder({
      ...target,
      topic,
      group: "alice-responders",
      mode: "reverse",
      extraArgs: ALICE,
    });
    assert.ok(responder.ready.assigned.length > 0, "alice's responder owns queues");
    // Mallory tries to answer alice's requests, and to read the stored replies.
    await using spoofer = await startJavaResponder({
      ...target,
      topic,
      group: "mallory-g",
      mode: "echo",
      awaitAssignmentMs: 3000,
      extraArgs: MALLORY,
    });
    await using snoop = await startJavaConsumer({
      ...target,
      topic: "DefaultCluster_REPLY_TOPIC",
      group: "mallory-snoop",
      awaitAssignmentMs: 3000,
      extraArgs: MALLORY,
    });

    const run = await runJavaRequester({
      ...target,
      topic,
      count: 10,
      forms: ["plain", "callback", "selector"],
      extraArgs: ALICE,
    });
    assert.equal(run.summary.ok, 30, run.logTail);
    assert.equal(run.summary.mismatches, 0, "every reply is alice's responder's (reversed body)");
    assert.equal(spoofer.requests().length, 0, "mallory never got alice's requests");
    assert.equal(snoop.messages().length, 0, "mallory never read a stored reply");
    assert.ok(broker.stats.repliesPushed >= 30);

    // Wrong credentials get nothing through.
    const wrong = await runJavaRequester({
      ...target,
      topic,
      count: 2,
      forms: ["plain"],
      timeoutMs: 2000,
      extraArgs: creds("alice", "not-the-secret"),
    });
    assert.equal(wrong.summary.ok, 0, wrong.logTail);
    assert.notEqual(wrong.exitCode, 0);
  });
});

describe("two Java clients with one instanceName against the embedded broker", () => {
  it("the second is refused at once while the first holds the id, and served once it left", async () => {
    await using broker = await startBroker({ port: 0, logger: new Problems() });
    const nameServer = broker.address;
    const topic = uniqueName("dup");
    await createTopic({ line: LINE, nameServer, topic, queues: 4 });
    await using responder = await startJavaResponder({ line: LINE, nameServer, topic });
    assert.ok(responder.ready.assigned.length > 0);
    // A long-lived client (a consumer) holds the shared id first.
    const shared = [`-Drocketmq.client.name=${uniqueName("shared")}`];
    const holder = await startJavaConsumer({
      line: LINE,
      nameServer,
      topic,
      group: uniqueName("holder"),
      awaitAssignmentMs: 3000,
      jvmArgs: shared,
    });
    const refused = await runJavaRequester({
      line: LINE,
      nameServer,
      topic,
      count: 5,
      forms: ["plain"],
      timeoutMs: 5000,
      jvmArgs: shared,
    });
    await holder.stop();
    assert.equal(refused.started.clientId, holder.ready.clientId, "one client id");
    // RocketMQ would push the requester's replies to the holder: timeouts.
    // Here each request fails at once, and no reply goes to the holder.
    assert.equal(refused.summary.ok, 0, refused.logTail);
    assert.equal(refused.summary.errors, 5);
    const kinds = Object.keys(refused.summary.forms.plain?.errorKinds ?? {});
    assert.ok(!kinds.includes("RequestTimeoutException"), `refused, not timed out: ${kinds}`);
    assert.ok(broker.stats.clientIdRefused > 0);
    // Once the holder is gone, the id is free.
    const alone = await runJavaRequester({
      line: LINE,
      nameServer,
      topic,
      count: 5,
      forms: ["plain"],
      jvmArgs: shared,
    });
    assert.equal(alone.summary.ok, 5, alone.logTail);
  });
});
