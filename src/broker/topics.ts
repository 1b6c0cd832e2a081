/**
 * Topic configuration of the embedded broker, after RocketMQ's
 * `TopicConfigManager`: the system topics every broker creates at start
 * (`TBW102`, the reply topic, the schedule topic, …), auto-creation of a
 * topic from its template on first send, `%RETRY%<group>` and `%DLQ%<group>`
 * topics, and the name checks of `TopicValidator`.
 *
 * @example
 * ```ts
 * import { Perm, TopicManager } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * const topics = new TopicManager({ clusterName: "DefaultCluster", brokerName: "broker-a" });
 * assert.equal(topics.get("TBW102")?.perm, Perm.INHERIT | Perm.READ | Perm.WRITE);
 * const created = topics.createFromTemplate("orders", "TBW102", 4);
 * assert.equal(created?.writeQueueNums, 4);
 * assert.equal(created?.perm, Perm.READ | Perm.WRITE);
 * ```
 *
 * @module
 */

/** Permission bits of a topic (`PermName.java`). */
export const Perm = {
  /** The topic is a template: sends may create topics from it. */
  INHERIT: 1,
  /** Producers may send. */
  WRITE: 2,
  /** Consumers may pull. */
  READ: 4,
  /** Priority (unused by clients). */
  PRIORITY: 8,
} as const;

/**
 * One topic's configuration (`TopicConfig.java`).
 *
 * @example Create a topic and persist it
 * ```ts
 * import { Perm, type TopicConfig, TopicManager } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * const orders: TopicConfig = {
 *   topicName: "orders", readQueueNums: 8, writeQueueNums: 8, perm: Perm.READ | Perm.WRITE,
 *   topicFilterType: "SINGLE_TAG", topicSysFlag: 0, order: false,
 * };
 * const topics = new TopicManager({ clusterName: "DefaultCluster", brokerName: "broker-a" });
 * assert.equal(topics.update(orders), true);
 * assert.deepEqual(topics.persistent(), [orders]); // system topics are recreated, not persisted
 * ```
 */
export interface TopicConfig {
  /** Topic name. */
  topicName: string;
  /** Queues consumers read. */
  readQueueNums: number;
  /** Queues producers write. */
  writeQueueNums: number;
  /** {@linkcode Perm} bits. */
  perm: number;
  /** `SINGLE_TAG` (the only filter type this broker implements) or `MULTI_TAG`. */
  topicFilterType: string;
  /** Topic sys flag (unit mode bits). */
  topicSysFlag: number;
  /** Whether the topic is ordered (informational). */
  order: boolean;
}

/** Name of the auto-create template topic. */
export const AUTO_CREATE_TOPIC = "TBW102";
/** Topic where delayed messages wait (`TopicValidator.RMQ_SYS_SCHEDULE_TOPIC`). */
export const SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX";
/** Prefix of retry topics (`MixAll.RETRY_GROUP_TOPIC_PREFIX`). */
export const RETRY_TOPIC_PREFIX = "%RETRY%";
/** Prefix of dead-letter topics (`MixAll.DLQ_GROUP_TOPIC_PREFIX`). */
export const DLQ_TOPIC_PREFIX = "%DLQ%";
/** Number of delay levels, hence of queues of the schedule topic. */
export const SCHEDULE_QUEUE_NUMS = 18;

const SELF_TEST_TOPIC = "SELF_TEST_TOPIC";
const OFFSET_MOVED_EVENT = "OFFSET_MOVED_EVENT";
const NOT_ALLOWED_SEND = new Set([
  SCHEDULE_TOPIC,
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT,
]);
const FIXED_SYSTEM_TOPICS = new Set([
  AUTO_CREATE_TOPIC,
  SCHEDULE_TOPIC,
  "BenchmarkTest",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRACE_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT,
  "CHECKPOINT_TOPIC",
]);

/**
 * Options of {@linkcode TopicManager}.
 *
 * @example
 * ```ts
 * import { TopicManager, type TopicManagerOptions } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * let changes = 0;
 * const options: TopicManagerOptions = {
 *   clusterName: "DefaultCluster", brokerName: "broker-a", defaultQueueNums: 4, onChange: () => changes++,
 * };
 * const topics = new TopicManager(options);
 * assert.equal(topics.createFromTemplate("orders", "TBW102", 16)?.writeQueueNums, 4); // capped by TBW102
 * assert.equal(changes, 1);
 * ```
 */
export interface TopicManagerOptions {
  /** Cluster name; names the reply topic `<cluster>_REPLY_TOPIC`. */
  clusterName: string;
  /** Broker name. */
  brokerName: string;
  /**
   * Whether sends may create topics from `TBW102`.
   * @default {true}
   */
  autoCreateTopics?: boolean;
  /**
   * Queues of `TBW102`, hence the most an auto-created topic gets (Java's
   * `defaultTopicQueueNums`).
   * @default {8}
   */
  defaultQueueNums?: number;
  /** Told after every change of a persistent (non-system) topic. */
  onChange?: () => void;
  /** Told when a topic that did not exist is created (not at restore). */
  onCreated?: (topic: string) => void;
}

function config(
  topicName: string,
  queues: number,
  perm: number = Perm.READ | Perm.WRITE,
  topicSysFlag = 0,
): TopicConfig {
  return {
    topicName,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm,
    topicFilterType: "SINGLE_TAG",
    topicSysFlag,
    order: false,
  };
}

/**
 * The reply topic of a cluster (`<cluster>_REPLY_TOPIC`).
 *
 * @param clusterName The cluster name.
 * @returns The topic name.
 *
 * @example
 * ```ts
 * import { replyTopic } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(replyTopic("DefaultCluster"), "DefaultCluster_REPLY_TOPIC");
 * ```
 */
export function replyTopic(clusterName: string): string {
  return `${clusterName}_REPLY_TOPIC`;
}

/**
 * Check a topic name like `TopicValidator.validateTopic`.
 *
 * @param topic The topic.
 * @returns `undefined` when valid, else Java's remark.
 *
 * @example
 * ```ts
 * import { validateTopic } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(validateTopic("orders"), undefined);
 * assert.match(validateTopic("a b") ?? "", /illegal characters/);
 * ```
 */
export function validateTopic(topic: string): string | undefined {
  if (topic.trim() === "") return "The specified topic is blank.";
  if (!/^[%|a-zA-Z0-9_-]+$/.test(topic)) {
    return `The specified topic: ${topic}, contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  if (topic.startsWith(RETRY_TOPIC_PREFIX) || topic.startsWith(DLQ_TOPIC_PREFIX)) {
    if (topic.length > 255) {
      return `The specified topic is DLQ or Retry topic: ${topic}, and it's longer than topic max length: 255`;
    }
  } else if (topic.length > 127) {
    return `The specified topic: ${topic}, is longer than topic max length: 127`;
  }
  return undefined;
}

/**
 * Whether clients may not send to a topic (`TopicValidator.isNotAllowedSendTopic`).
 *
 * @param topic The topic.
 * @returns `true` for the schedule, transaction and a few other system topics.
 *
 * @example
 * ```ts
 * import { isNotAllowedSendTopic } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isNotAllowedSendTopic("SCHEDULE_TOPIC_XXXX"), true);
 * assert.equal(isNotAllowedSendTopic("orders"), false);
 * ```
 */
export function isNotAllowedSendTopic(topic: string): boolean {
  return NOT_ALLOWED_SEND.has(topic);
}

/**
 * The topic table of one broker.
 *
 * @example Retry and dead-letter topics
 * ```ts
 * import { TopicManager } from "./topics.ts";
 * import assert from "node:assert/strict";
 *
 * const topics = new TopicManager({ clusterName: "C", brokerName: "b" });
 * assert.equal(topics.ensureGroupTopic("%RETRY%g").readQueueNums, 1);
 * assert.ok(topics.isSystemTopic("C_REPLY_TOPIC"));
 * assert.deepEqual(topics.persistent().map((t) => t.topicName), ["%RETRY%g"]);
 * ```
 */
export class TopicManager {
  readonly #topics = new Map<string, TopicConfig>();
  readonly #system = new Set<string>();
  readonly #options: TopicManagerOptions;

  /**
   * Create the table with the system topics of a broker.
   *
   * @param options Names, auto-creation and the change callback.
   */
  constructor(options: TopicManagerOptions) {
    this.#options = options;
    const { clusterName, brokerName } = options;
    this.#addSystem(config(SELF_TEST_TOPIC, 1));
    if (options.autoCreateTopics ?? true) {
      this.#addSystem(
        config(
          AUTO_CREATE_TOPIC,
          options.defaultQueueNums ?? 8,
          Perm.INHERIT | Perm.READ | Perm.WRITE,
        ),
      );
    }
    this.#addSystem(config(clusterName, 16, Perm.INHERIT | Perm.READ | Perm.WRITE));
    this.#addSystem(config(brokerName, 1, Perm.INHERIT | Perm.READ | Perm.WRITE));
    this.#addSystem(config(OFFSET_MOVED_EVENT, 1));
    this.#addSystem(config(SCHEDULE_TOPIC, SCHEDULE_QUEUE_NUMS));
    this.#addSystem(config(replyTopic(clusterName), 1));
  }

  #addSystem(topic: TopicConfig): void {
    this.#topics.set(topic.topicName, topic);
    this.#system.add(topic.topicName);
  }

  /** Number of topics. */
  get size(): number {
    return this.#topics.size;
  }

  /**
   * A topic's configuration.
   *
   * @param topic The topic.
   * @returns A copy of its configuration, or `undefined`.
   */
  get(topic: string): TopicConfig | undefined {
    const found = this.#topics.get(topic);
    return found ? { ...found } : undefined;
  }

  /**
   * Whether a topic is one the broker created itself (or a fixed system
   * name); such topics cannot be created by `UPDATE_AND_CREATE_TOPIC`.
   *
   * @param topic The topic.
   * @returns `true` for system topics.
   */
  isSystemTopic(topic: string): boolean {
    return this.#system.has(topic) || FIXED_SYSTEM_TOPICS.has(topic) ||
      topic.startsWith("rmq_sys_");
  }

  /**
   * Every topic's configuration.
   *
   * @returns Copies, in insertion order.
   */
  all(): TopicConfig[] {
    return [...this.#topics.values()].map((t) => ({ ...t }));
  }

  /**
   * The topics worth persisting: everything but the system topics, which
   * are recreated at every start.
   *
   * @returns Copies, in insertion order.
   */
  persistent(): TopicConfig[] {
    return this.all().filter((t) => !this.#system.has(t.topicName));
  }

  /**
   * Create `topic` from the template `defaultTopic` when the template
   * exists and has the INHERIT bit (`createTopicInSendMessageMethod`). The
   * new topic gets `min(clientQueueNums, template write queues)` queues and
   * the template's permission without INHERIT.
   *
   * @param topic The topic to create.
   * @param defaultTopic The template named by the producer (`TBW102`).
   * @param clientQueueNums Queues the producer asks for.
   * @param topicSysFlag Topic sys flag.
   * @returns The topic's configuration (also when it already existed), or
   *   `undefined` when it cannot be created.
   */
  createFromTemplate(
    topic: string,
    defaultTopic: string,
    clientQueueNums: number,
    topicSysFlag = 0,
  ): TopicConfig | undefined {
    const existing = this.get(topic);
    if (existing) return existing;
    const template = this.#topics.get(defaultTopic);
    if (!template || (template.perm & Perm.INHERIT) === 0) return undefined;
    const queues = Math.max(0, Math.min(clientQueueNums, template.writeQueueNums));
    const created = config(topic, queues, template.perm & ~Perm.INHERIT, topicSysFlag);
    created.topicFilterType = template.topicFilterType;
    this.#put(created);
    return { ...created };
  }

  /**
   * Make sure a retry or dead-letter topic exists with one queue, read and
   * write permission (`createTopicInSendMessageBackMethod`).
   *
   * @param topic `%RETRY%<group>` or `%DLQ%<group>`.
   * @param queueNums Queues when created.
   * @param topicSysFlag Topic sys flag when created.
   * @returns The topic's configuration.
   */
  ensureGroupTopic(topic: string, queueNums = 1, topicSysFlag = 0): TopicConfig {
    const existing = this.get(topic);
    if (existing) return existing;
    const created = config(topic, queueNums, Perm.READ | Perm.WRITE, topicSysFlag);
    this.#put(created);
    return { ...created };
  }

  /**
   * Create or replace a topic's configuration (`UPDATE_AND_CREATE_TOPIC`).
   *
   * @param topic The configuration.
   * @returns `false` when nothing changed.
   */
  update(topic: TopicConfig): boolean {
    const existing = this.#topics.get(topic.topicName);
    if (existing && sameConfig(existing, topic)) return false;
    this.#put({ ...topic });
    return true;
  }

  /**
   * Restore persisted topics (at start). System topics are not replaced.
   *
   * @param topics Configurations read back.
   */
  restore(topics: readonly TopicConfig[]): void {
    for (const topic of topics) {
      if (this.#system.has(topic.topicName)) continue;
      this.#topics.set(topic.topicName, { ...topic });
    }
  }

  #put(topic: TopicConfig): void {
    const created = !this.#topics.has(topic.topicName);
    this.#topics.set(topic.topicName, topic);
    if (!this.#system.has(topic.topicName)) this.#options.onChange?.();
    if (created) this.#options.onCreated?.(topic.topicName);
  }
}

function sameConfig(a: TopicConfig, b: TopicConfig): boolean {
  return a.readQueueNums === b.readQueueNums && a.writeQueueNums === b.writeQueueNums &&
    a.perm === b.perm && a.topicFilterType === b.topicFilterType &&
    a.topicSysFlag === b.topicSysFlag && a.order === b.order;
}
