// The per-request cost of the broker's security checks (not tests; numbers
// depend on the machine):
//
//   deno bench tests/bench/security_bench.ts
//
// - ACL on: authenticate (HMAC-SHA1 over a SEND_MESSAGE_V2-like request's
//   header values and its 1 KiB body, WebCrypto) and authorize (map lookups);
// - with or without ACL: the topic rules of a pull (pullRefusal) and the
//   bookkeeping of one RIP-16 request (record, look up, forget).

import { AccessControl } from "../../src/broker/acl/access_control.ts";
import { PendingRequests } from "../../src/broker/pending_requests.ts";
import { pullRefusal } from "../../src/broker/topic_access.ts";
import { TopicManager } from "../../src/broker/topics.ts";
import type { BrokerContext, Channel } from "../../src/broker/context.ts";
import { createAclSigner } from "../../src/client/acl.ts";
import { encodeSendHeaderV2 } from "../../src/codec/message.ts";
import { encodeProperties } from "../../src/codec/properties.ts";
import { createRequest } from "../../src/codec/remoting_command.ts";

const acl = new AccessControl({
  accounts: [{ accessKey: "bench", secretKey: "bench-secret", topicPerms: ["BenchTopic=PUB|SUB"] }],
});
const request = createRequest(
  310,
  encodeSendHeaderV2({
    producerGroup: "bench_producer",
    topic: "BenchTopic",
    defaultTopic: "TBW102",
    defaultTopicQueueNums: 4,
    queueId: 0,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    flag: 0,
    properties: encodeProperties({
      UNIQ_KEY: "7F0000010D4C18B4AAC2748A1F9F0000",
      CORRELATION_ID: "1b4e28ba-2fa1-4d2e-883f-0016d3cca427",
      REPLY_TO_CLIENT: "127.0.0.1@4242#1234567890",
      TTL: "3000",
    }),
  }),
  { body: new Uint8Array(1024).map((_, i) => (i * 31) & 0xff) },
);
await createAclSigner({ accessKey: "bench", secretKey: "bench-secret" })(request);
const principal = await acl.authenticate(request, "127.0.0.1");
if (!("accessKey" in principal)) throw new Error("bench request does not authenticate");

Deno.bench("ACL authenticate (HMAC-SHA1, 1 KiB body)", async () => {
  await acl.authenticate(request, "127.0.0.1");
});

Deno.bench("ACL authorize (send)", () => {
  acl.authorize(principal, request);
});

const ctx = {
  topics: new TopicManager({ clusterName: "DefaultCluster", brokerName: "broker-a" }),
} as unknown as BrokerContext;
const channel = {} as Channel;
Deno.bench("pull topic rules (user topic)", () => {
  pullRefusal(ctx, "BenchTopic", "bench_group", channel);
});
Deno.bench("pull topic rules (own %RETRY% topic)", () => {
  pullRefusal(ctx, "%RETRY%bench_group", "bench_group", channel);
});

const requests = new PendingRequests<Channel>();
let n = 0;
Deno.bench("pending request: record, look up, forget", () => {
  const id = `corr-${n++}`;
  requests.add(id, { topic: "BenchTopic", replyTo: "127.0.0.1@1", channel, ttl: 3000 });
  requests.get(id);
  requests.delete(id);
});
