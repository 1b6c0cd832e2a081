/**
 * SQL92 property filters on the broker (`enablePropertyFilter`): compiled
 * once per expression (a bounded cache, as RocketMQ's `SelectorParser`
 * cache), evaluated per message against its properties (user properties and
 * the system ones stored with it: `TAGS`, `KEYS`, `UNIQ_KEY`, …), as
 * `ExpressionMessageFilter.isMatchedByCommitLog` does.
 *
 * @module
 */

import { storedRecordProperties } from "../codec/_stored_properties.ts";
import { compileSql92, type Sql92Filter } from "../codec/sql92.ts";
import { FilterExpressionError } from "../errors.ts";

const CACHE_SIZE = 256;
const cache = new Map<string, Sql92Filter | FilterExpressionError>();

/**
 * The compiled filter of an expression, from a bounded cache.
 *
 * @param expression The SQL92 expression.
 * @returns The compiled filter.
 * @throws {FilterExpressionError} When it does not compile (cached too).
 *
 * @example
 * ```ts
 * import { sqlFilter } from "./sql_filter.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sqlFilter("n > 5"), sqlFilter("n > 5")); // compiled once
 * assert.equal(sqlFilter("n > 5").matches({ n: "6" }), true);
 * ```
 */
export function sqlFilter(expression: string): Sql92Filter {
  let entry = cache.get(expression);
  if (entry !== undefined) {
    cache.delete(expression); // most recently used last
  } else {
    try {
      entry = compileSql92(expression);
    } catch (err) {
      if (!(err instanceof FilterExpressionError)) throw err;
      entry = err;
    }
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(expression, entry);
  if (entry instanceof FilterExpressionError) throw entry;
  return entry;
}

/**
 * Whether a stored record matches a compiled filter. A record whose
 * properties cannot be read, or whose evaluation fails, does not match (as
 * RocketMQ: the error is logged there and the message is not delivered).
 *
 * @param filter The compiled filter.
 * @param record One stored record.
 * @returns Whether the record is delivered.
 *
 * @example
 * ```ts
 * import { recordMatches, sqlFilter } from "./sql_filter.ts";
 * import { encodeStoredMessage } from "../codec/message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const record = (properties: Record<string, string>) => encodeStoredMessage({
 *   queueId: 0, flag: 0, queueOffset: 0, commitLogOffset: 0, sysFlag: 0, bornTimestamp: 0, storeTimestamp: 0,
 *   bornHost: { address: "127.0.0.1", port: 1 }, storeHost: { address: "127.0.0.1", port: 2 },
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array(0), topic: "T", properties,
 * });
 * const filter = sqlFilter("TAGS = 'paid' AND n > 5");
 * assert.equal(recordMatches(filter, record({ TAGS: "paid", n: "6" })), true);
 * assert.equal(recordMatches(filter, record({ TAGS: "paid", n: "x" })), false);
 * ```
 */
export function recordMatches(filter: Sql92Filter, record: Uint8Array): boolean {
  let properties: Record<string, string>;
  try {
    properties = storedRecordProperties(record);
  } catch {
    return false;
  }
  return filter.matches(properties);
}
