/**
 * What a subscription selects: tags (a string, `*` or `tagA || tagB`) or a
 * SQL92 expression on message properties (`{ sql: "n > 5" }`, RocketMQ's
 * `MessageSelector.bySql`), and the start-up check the Java client makes for
 * SQL92 subscriptions (CHECK_CLIENT_CONFIG).
 *
 * @module
 */

import { buildSubscriptionData, ExpressionType, type SubscriptionData } from "../codec/bodies.ts";
import { RequestCode } from "../codec/codes.ts";
import { encodeBody, subscriptionJson } from "../codec/_json_body.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { compileSql92 } from "../codec/sql92.ts";
import {
  BrokerError,
  ConnectionError,
  IllegalStateError,
  InvalidArgumentError,
  RemotingTimeoutError,
} from "../errors.ts";
import type { ClientInstance } from "./client_instance.ts";

/**
 * A SQL92 selector: the consumer receives the messages whose properties
 * match `sql` (evaluated by the broker; RocketMQ needs
 * `enablePropertyFilter=true`, the embedded broker always filters).
 *
 * @example
 * ```ts
 * import type { SqlSelector } from "./selector.ts";
 *
 * const selector: SqlSelector = { sql: "n > 5 AND region IN ('eu', 'us')" };
 * // consumer.subscribe("orders", selector, handler)
 * ```
 */
export interface SqlSelector {
  /** The SQL92 expression over message properties (user properties, `TAGS`, `KEYS`, …). */
  readonly sql: string;
}

/**
 * What `subscribe` accepts as its expression: tags as a string (`*`,
 * `tagA || tagB`) or a {@linkcode SqlSelector}.
 *
 * @example
 * ```ts
 * import type { MessageSelector } from "./selector.ts";
 *
 * const all: MessageSelector = "*";
 * const paid: MessageSelector = "paid || refunded";
 * const big: MessageSelector = { sql: "amount > 1000" };
 * ```
 */
export type MessageSelector = string | SqlSelector;

/**
 * Build the subscription data for a selector, checking a SQL92 expression
 * here (so a bad one fails `subscribe`, not a pull).
 *
 * @param topic The topic.
 * @param selector Tags or `{ sql }`.
 * @param subVersion Version of the subscription (ms).
 * @returns The subscription data heartbeats carry.
 * @throws {InvalidArgumentError} When the selector is neither.
 * @throws {FilterExpressionError} When the SQL92 expression does not compile.
 *
 * @example
 * ```ts
 * import { subscriptionFor } from "./selector.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(subscriptionFor("T", "a || b", 1).expressionType, "TAG");
 * const sql = subscriptionFor("T", { sql: "n > 5" }, 1);
 * assert.deepEqual([sql.expressionType, sql.subString, sql.tagsSet], ["SQL92", "n > 5", []]);
 * assert.throws(() => subscriptionFor("T", { sql: "n >" }, 1), /position 3/);
 * ```
 */
export function subscriptionFor(
  topic: string,
  selector: MessageSelector,
  subVersion: number,
): SubscriptionData {
  if (typeof selector === "string") return buildSubscriptionData(topic, selector, subVersion);
  if (typeof selector !== "object" || selector === null || typeof selector.sql !== "string") {
    throw new InvalidArgumentError(
      "expression",
      "must be a tag expression (string) or { sql: string }",
    );
  }
  compileSql92(selector.sql);
  return buildSubscriptionData(topic, selector.sql, subVersion, ExpressionType.SQL92);
}

/** RocketMQ 4.1.0's version ordinal: brokers before it cannot filter by SQL92. */
const V4_1_0_SNAPSHOT = 232;

/**
 * Ask a broker of each SQL92 subscription's topic whether it accepts the
 * expression (CHECK_CLIENT_CONFIG, as `MQClientInstance.checkClientInBroker`
 * at start), and that it is recent enough (4.1.0+) to filter by SQL92.
 * Topics without a route yet are skipped, as in Java. A broker that cannot
 * be reached is logged and skipped (its pulls will say more).
 *
 * @param instance The client instance.
 * @param group The consumer group.
 * @param subscriptions The consumer's subscriptions.
 * @throws {BrokerError} When a broker refuses an expression (RocketMQ
 *   without `enablePropertyFilter`: SYSTEM_ERROR; an expression it cannot
 *   parse: SUBSCRIPTION_PARSE_FAILED).
 * @throws {IllegalStateError} When the broker is older than 4.1.0.
 */
export async function checkSqlSubscriptions(
  instance: ClientInstance,
  group: string,
  subscriptions: Iterable<SubscriptionData>,
): Promise<void> {
  const checks: Promise<void>[] = [];
  for (const sub of subscriptions) {
    if (sub.expressionType === ExpressionType.TAG) continue;
    const address = instance.cachedRoute(sub.topic)?.masterAddresses[0];
    if (address === undefined) continue;
    checks.push((async () => {
      const body = encodeBody({
        clientId: instance.clientId,
        group,
        subscriptionData: subscriptionJson(sub),
      });
      let response;
      try {
        response = await instance.call(
          address,
          createRequest(RequestCode.CHECK_CLIENT_CONFIG, {}, { body }),
        );
      } catch (err) {
        if (err instanceof BrokerError) throw err;
        if (err instanceof ConnectionError || err instanceof RemotingTimeoutError) {
          instance.logger.warn("SQL92 subscription not checked: broker unreachable", {
            topic: sub.topic,
            address,
            error: err,
          });
          return;
        }
        throw err;
      }
      if (response.version < V4_1_0_SNAPSHOT) {
        throw new IllegalStateError(
          `the broker at ${address} (version ordinal ${response.version}) is older than 4.1.0 and cannot filter messages by ${sub.expressionType}`,
        );
      }
    })());
  }
  const results = await Promise.allSettled(checks);
  for (const result of results) {
    if (result.status === "rejected") throw result.reason;
  }
}
