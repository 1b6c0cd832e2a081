/**
 * Which topics an ordinary client may read or write, with or without ACL
 * (RocketMQ lets any client read and write all of them):
 *
 * - system topics (`TBW102`, the reply topic, the schedule topic, the
 *   cluster and broker templates, …) are written by the broker only, and
 *   read only by ACL administrators; the trace topic stays open;
 * - stored replies (`<cluster>_REPLY_TOPIC`) are thus readable only by
 *   administrators: replies reach requesters by push, never by pull;
 * - `%RETRY%<group>` and `%DLQ%<group>` are read only by `<group>` (or an
 *   administrator).
 *
 * Checks are a few set lookups and prefix tests: no allocation per request.
 *
 * @example
 * ```ts
 * import { pullRefusal, sendRefusal } from "./topic_access.ts";
 * import { TopicManager } from "./topics.ts";
 * import type { BrokerContext, Channel } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = { topics: new TopicManager({ clusterName: "DefaultCluster", brokerName: "b" }) } as unknown as BrokerContext;
 * const channel = {} as Channel;
 * assert.match(pullRefusal(ctx, "DefaultCluster_REPLY_TOPIC", "spy", channel) ?? "", /system topic/);
 * assert.match(pullRefusal(ctx, "%RETRY%victims", "spy", channel) ?? "", /belongs to group victims/);
 * assert.equal(pullRefusal(ctx, "%RETRY%victims", "victims", channel), undefined);
 * assert.match(sendRefusal(ctx, "TBW102") ?? "", /system topic/);
 * assert.equal(sendRefusal(ctx, "orders"), undefined);
 * ```
 *
 * @module
 */

import type { BrokerContext, Channel } from "./context.ts";
import { DLQ_TOPIC_PREFIX, RETRY_TOPIC_PREFIX } from "./topics.ts";

const TRACE_TOPIC = "RMQ_SYS_TRACE_TOPIC";

/**
 * Why a pull (or another read) of a topic by a group is refused.
 *
 * @param ctx Broker state (the topic table).
 * @param topic The topic read.
 * @param group The consumer group reading.
 * @param channel The reader's connection (its ACL account, if any).
 * @returns The remark of the refusal, or `undefined` when allowed.
 */
export function pullRefusal(
  ctx: BrokerContext,
  topic: string,
  group: string,
  channel: Channel,
): string | undefined {
  if (channel.principal?.admin === true) return undefined;
  if (topic.charCodeAt(0) === 37 /* % */) {
    const prefix = topic.startsWith(RETRY_TOPIC_PREFIX)
      ? RETRY_TOPIC_PREFIX
      : topic.startsWith(DLQ_TOPIC_PREFIX)
      ? DLQ_TOPIC_PREFIX
      : undefined;
    if (
      prefix !== undefined && topic.length - prefix.length === group.length && topic.endsWith(group)
    ) {
      return undefined;
    }
    if (prefix !== undefined) {
      return `the topic[${topic}] belongs to group ${
        topic.slice(prefix.length)
      }; group ${group} may not read it`;
    }
  }
  if (topic !== TRACE_TOPIC && ctx.topics.isSystemTopic(topic)) {
    return `the topic[${topic}] is a system topic: only administrators may read it`;
  }
  return undefined;
}

/**
 * Why a send (10/310/320) to a topic is refused.
 *
 * @param ctx Broker state (the topic table).
 * @param topic The topic written.
 * @returns The remark of the refusal, or `undefined` when allowed.
 */
export function sendRefusal(ctx: BrokerContext, topic: string): string | undefined {
  if (topic !== TRACE_TOPIC && ctx.topics.isSystemTopic(topic)) {
    return `Sending message to topic[${topic}] is forbidden: it is a system topic`;
  }
  return undefined;
}
