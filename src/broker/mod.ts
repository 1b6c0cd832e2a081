/**
 * The embedded RocketMQ-compatible broker: a name server and a broker on one
 * port, faithful enough for the official Java client (producer with
 * `request()`, push consumers clustering concurrently and orderly) and for
 * this package's client. Messages live in memory (bounded) or, with
 * `dataDir`, in files.
 *
 * @example
 * ```ts
 * import { startBroker } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using broker = await startBroker({ port: 0 });
 * assert.equal(broker.stats.connections, 0);
 * assert.ok(broker.address.startsWith("127.0.0.1:"));
 * ```
 *
 * @module
 */

export {
  Broker,
  type BrokerHandle,
  type BrokerOptions,
  type BrokerStats,
  startBroker,
  type StartBrokerOptions,
} from "./broker.ts";
export type { BrokerCounters } from "./context.ts";
export {
  type AclAccount,
  type AclConfig,
  checkAclConfig,
  parsePlainAcl,
  type PermText,
} from "./acl/plain_acl.ts";
export { DELAY_LEVELS } from "./delay.ts";
export { MemoryStore, type MemoryStoreOptions } from "./store/memory_store.ts";
export type {
  ArrivalListener,
  BoundaryType,
  GetResult,
  GetStatus,
  MessageFilter,
  MessageStore,
  PutMessageInput,
  PutResult,
  QueryMessageResult,
} from "./store/types.ts";
export type { TopicConfig, TopicManager, TopicManagerOptions } from "./topics.ts";
export type { HostAddress } from "../codec/message_ext.ts";
export type { LogFields, Logger, LogLevel } from "../logger.ts";
export type { TimerHandle, Timers } from "../remoting/timers.ts";
export type {
  Connect,
  ConnectOptions,
  Listen,
  Listener,
  ListenOptions,
  NetAddr,
  TlsOptions,
  Transport,
} from "../transport/types.ts";
