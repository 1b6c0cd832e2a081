/**
 * Queue allocation among the consumers of a group, identical to the Java
 * client's `AllocateMessageQueueAveragely`, so TypeScript and Java consumers
 * of one group agree on who reads which queue.
 *
 * @example
 * ```ts
 * import { allocateAveragely } from "./rebalance.ts";
 * import assert from "node:assert/strict";
 *
 * const queues = [0, 1, 2, 3, 4].map((queueId) => ({ topic: "t", brokerName: "b", queueId }));
 * assert.deepEqual(allocateAveragely(queues, ["c1", "c2"], "c1").map((q) => q.queueId), [0, 1, 2]);
 * assert.deepEqual(allocateAveragely(queues, ["c1", "c2"], "c2").map((q) => q.queueId), [3, 4]);
 * ```
 *
 * @module
 */

import type { MessageQueue } from "./message.ts";

/**
 * Compare queues by topic, broker name, then queue id (Java's
 * `MessageQueue.compareTo`).
 *
 * @param a A queue.
 * @param b Another queue.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareQueues } from "./rebalance.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(compareQueues({ topic: "t", brokerName: "a", queueId: 9 }, { topic: "t", brokerName: "b", queueId: 0 }) < 0);
 * ```
 */
export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/**
 * The queues `me` should read: queues and client ids are sorted, then split
 * into contiguous ranges, the first `n % k` clients taking one more.
 *
 * @param queues All readable queues of the topic.
 * @param clientIds All client ids of the group.
 * @param me This client's id.
 * @returns This client's queues (empty when `me` is not in the list).
 */
export function allocateAveragely(
  queues: readonly MessageQueue[],
  clientIds: readonly string[],
  me: string,
): MessageQueue[] {
  const sortedQueues = [...queues].sort(compareQueues);
  const sortedIds = [...clientIds].sort();
  const index = sortedIds.indexOf(me);
  if (index < 0 || sortedQueues.length === 0) return [];
  const n = sortedQueues.length;
  const k = sortedIds.length;
  const mod = n % k;
  const size = n <= k ? 1 : (mod > 0 && index < mod ? Math.floor(n / k) + 1 : Math.floor(n / k));
  const start = mod > 0 && index < mod ? index * size : index * size + mod;
  const count = Math.min(size, n - start);
  return count > 0 ? sortedQueues.slice(start, start + count) : [];
}

/**
 * A stable key for a queue, for maps.
 *
 * @param queue The queue.
 * @returns `topic@brokerName@queueId`.
 *
 * @example
 * ```ts
 * import { queueKey } from "./rebalance.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(queueKey({ topic: "t", brokerName: "b", queueId: 3 }), "t@b@3");
 * ```
 */
export function queueKey(queue: MessageQueue): string {
  return `${queue.topic}@${queue.brokerName}@${queue.queueId}`;
}
