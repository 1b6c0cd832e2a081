/**
 * A topic's route as the client uses it: the queues it may send to, the
 * queues it may read, and the broker addresses behind them, derived from the
 * name server's `TopicRouteData` the way the Java client derives them.
 *
 * @example
 * ```ts
 * import { TopicRoute } from "./route.ts";
 * import assert from "node:assert/strict";
 *
 * const route = new TopicRoute("orders", {
 *   queueDatas: [{ brokerName: "b", readQueueNums: 2, writeQueueNums: 2, perm: 6 }],
 *   brokerDatas: [{ cluster: "C", brokerName: "b", brokerAddrs: { "0": "127.0.0.1:10911" } }],
 * });
 * assert.equal(route.publishQueues.length, 2);
 * assert.equal(route.masterAddress("b"), "127.0.0.1:10911");
 * assert.deepEqual([...route.clusters], ["C"]);
 * ```
 *
 * @module
 */

import type { MessageQueue } from "./message.ts";

/** Permission bits of a queue (`PermName.java`). */
export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

/** The fields of `TopicRouteData` the client reads. */
export interface RouteData {
  /** `brokerName:count;…` for ordered topics. */
  orderTopicConf?: string | undefined;
  /** Queue counts and permissions per broker. */
  queueDatas: ReadonlyArray<{
    brokerName: string;
    readQueueNums: number;
    writeQueueNums: number;
    perm: number;
  }>;
  /** Broker addresses per broker name (id 0 is the master). */
  brokerDatas: ReadonlyArray<{
    cluster: string;
    brokerName: string;
    brokerAddrs: Readonly<Record<string, string>>;
  }>;
}

/** A topic's route. */
export class TopicRoute {
  /** The topic. */
  readonly topic: string;
  /** The route data as received. */
  readonly data: RouteData;
  /** Queues that accept sends, sorted by broker name then queue id. */
  readonly publishQueues: readonly MessageQueue[];
  /** Queues that may be read. */
  readonly subscribeQueues: readonly MessageQueue[];
  /** Clusters of the brokers of this route. */
  readonly clusters: ReadonlySet<string>;

  /**
   * @param topic The topic.
   * @param data The name server's route data.
   * @param maxQueues Cap on queues per broker (the `TBW102` fallback uses 4, as Java).
   */
  constructor(topic: string, data: RouteData, maxQueues = Infinity) {
    this.topic = topic;
    this.data = data;
    const masters = new Set(
      data.brokerDatas.filter((b) => b.brokerAddrs["0"] !== undefined).map((b) => b.brokerName),
    );
    const publish: MessageQueue[] = [];
    if (data.orderTopicConf) {
      for (const part of data.orderTopicConf.split(";")) {
        const [brokerName, count] = part.split(":");
        const n = Number(count);
        if (!brokerName || !Number.isInteger(n)) continue;
        for (let i = 0; i < n; i++) publish.push({ topic, brokerName, queueId: i });
      }
    } else {
      const queueDatas = [...data.queueDatas].sort((a, b) =>
        a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0
      );
      for (const q of queueDatas) {
        if ((q.perm & Perm.WRITE) === 0 || !masters.has(q.brokerName)) continue;
        const n = Math.min(q.writeQueueNums, maxQueues);
        for (let i = 0; i < n; i++) publish.push({ topic, brokerName: q.brokerName, queueId: i });
      }
    }
    const subscribe: MessageQueue[] = [];
    for (const q of data.queueDatas) {
      if ((q.perm & Perm.READ) === 0) continue;
      const n = Math.min(q.readQueueNums, maxQueues);
      for (let i = 0; i < n; i++) subscribe.push({ topic, brokerName: q.brokerName, queueId: i });
    }
    this.publishQueues = publish;
    this.subscribeQueues = subscribe;
    this.clusters = new Set(data.brokerDatas.map((b) => b.cluster));
  }

  /**
   * The master address of a broker of this route.
   *
   * @param brokerName The broker name.
   * @returns `host:port`, or `undefined`.
   */
  masterAddress(brokerName: string): string | undefined {
    return this.data.brokerDatas.find((b) => b.brokerName === brokerName)?.brokerAddrs["0"];
  }

  /**
   * The cluster a broker of this route belongs to.
   *
   * @param brokerName The broker name.
   * @returns The cluster name, or `undefined`.
   */
  clusterOf(brokerName: string): string | undefined {
    return this.data.brokerDatas.find((b) => b.brokerName === brokerName)?.cluster;
  }

  /** Every broker address of the route (masters and slaves). */
  get addresses(): string[] {
    return this.data.brokerDatas.flatMap((b) => Object.values(b.brokerAddrs));
  }

  /** Master addresses of the route. */
  get masterAddresses(): string[] {
    return this.data.brokerDatas.map((b) => b.brokerAddrs["0"]).filter((a): a is string => !!a);
  }

  /**
   * Whether two routes carry the same data (to skip needless updates).
   *
   * @param other Another route.
   * @returns `true` when equal.
   */
  sameAs(other: TopicRoute): boolean {
    return JSON.stringify(canonical(this.data)) === JSON.stringify(canonical(other.data));
  }
}

function canonical(data: RouteData): unknown {
  return {
    o: data.orderTopicConf ?? "",
    q: [...data.queueDatas].map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm])
      .sort(),
    b: [...data.brokerDatas].map((
      b,
    ) => [b.cluster, b.brokerName, Object.entries(b.brokerAddrs).sort()])
      .sort(),
  };
}
