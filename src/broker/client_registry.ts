/**
 * Who is connected to the broker, after RocketMQ's `ProducerManager` and
 * `ConsumerManager`: producer groups and consumer groups (with their
 * subscriptions) by channel, filled by HEART_BEAT and emptied by
 * UNREGISTER_CLIENT, by the channel closing, or by 120 s without a
 * heartbeat.
 *
 * A client id belongs to the first live channel that registered it (and,
 * when an account is given, to that account): a registration that claims a
 * client id held by another live channel is refused, so that nobody can
 * take another client's replies by announcing its id. With an account, the
 * id stays reserved for that account for `reserveMillis` after its channel
 * closed, so that a reconnecting client finds it free and nobody else can
 * claim it in between.
 *
 * Generic over the channel type, so that it can be tested with plain objects.
 *
 * @example
 * ```ts
 * import { ClientRegistry } from "./client_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new ClientRegistry<string>();
 * registry.registerProducer("PG", "conn-1", "10.0.0.5@1");
 * assert.equal(registry.findClientChannel("10.0.0.5@1"), "conn-1");
 * registry.removeChannel("conn-1");
 * assert.equal(registry.findClientChannel("10.0.0.5@1"), undefined);
 * ```
 *
 * @module
 */

import type { SubscriptionData } from "../codec/bodies.ts";
import { systemTimers, type TimerHandle, type Timers } from "../remoting/timers.ts";

/** One channel's registration in a group (`ClientChannelInfo`). */
export interface ChannelRegistration<C> {
  /** The channel (connection). */
  channel: C;
  /** Client id the channel announced in its heartbeat. */
  clientId: string;
  /** Language code of the client's heartbeat command. */
  language: number;
  /** Version ordinal of the client's heartbeat command. */
  version: number;
  /** Time of the last heartbeat (ms). */
  lastUpdate: number;
  /** Topics of the channel's last heartbeat with subscriptions (none yet: unknown). */
  topics?: ReadonlySet<string> | undefined;
}

/** A consumer group (`ConsumerGroupInfo`). */
export interface ConsumerGroupInfo<C> {
  /** Group name. */
  groupName: string;
  /** `CONSUME_PASSIVELY` (push), `CONSUME_ACTIVELY` (pull) or `CONSUME_POP`. */
  consumeType: string;
  /** `CLUSTERING` or `BROADCASTING`. */
  messageModel: string;
  /** Where a new consumer starts. */
  consumeFromWhere: string;
  /** Registered channels. */
  readonly channels: Map<C, ChannelRegistration<C>>;
  /** Subscriptions by topic. */
  readonly subscriptions: Map<string, SubscriptionData>;
}

/** What a consumer heartbeat changed. */
export interface ConsumerRegistration {
  /** The channel joined the group now. */
  channelAdded: boolean;
  /** A subscribed topic was added or removed. */
  subscriptionsChanged: boolean;
}

/** Identity of a client on one channel. */
export interface ClientIdentity {
  /** Language code. */
  language?: number;
  /** Version ordinal. */
  version?: number;
}

/** Options of {@linkcode ClientRegistry}. */
export interface ClientRegistryOptions {
  /** Clock and timers. @default {systemTimers} */
  timers?: Timers;
  /**
   * How long a client id registered under an account stays reserved for
   * that account once its channel closed (ms).
   * @default {120000}
   */
  reserveMillis?: number;
  /**
   * Most client ids one channel may hold (a client holds one; a connection
   * announcing ids by the thousand only fills memory).
   * @default {16}
   */
  maxIdsPerChannel?: number;
}

/**
 * The outcome of {@linkcode ClientRegistry.claim}: `ok`, or who holds the
 * id (a live channel, or an account that registered it recently), or
 * neither when the claiming channel already holds `maxIdsPerChannel` ids.
 */
export type ClaimResult<C> =
  | { ok: true }
  | { ok: false; owner: C; account: string | undefined }
  | { ok: false; owner: undefined; account: string }
  | { ok: false; owner: undefined; account: undefined };

interface Owner<C> {
  channel: C;
  account: string | undefined;
}

const EMPTY: ReadonlySet<string> = new Set();

interface Waiter<C> {
  resolve(channel: C | undefined): void;
  timer: TimerHandle;
}

/**
 * The registry of producers and consumers of one broker.
 *
 * @typeParam C The channel type.
 *
 * @example Consumers of a group
 * ```ts
 * import { ClientRegistry } from "./client_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new ClientRegistry<object>();
 * const a = {}, b = {};
 * const sub = { topic: "T", subString: "*", tagsSet: [], codeSet: [], subVersion: 1, expressionType: "TAG" };
 * const info = { consumeType: "CONSUME_PASSIVELY", messageModel: "CLUSTERING", consumeFromWhere: "CONSUME_FROM_LAST_OFFSET" };
 * assert.deepEqual(registry.registerConsumer("CG", a, "c1", info, [sub]), { channelAdded: true, subscriptionsChanged: true });
 * registry.registerConsumer("CG", b, "c2", info, [sub]);
 * assert.deepEqual(registry.consumerIds("CG"), ["c1", "c2"]);
 * assert.deepEqual(registry.removeChannel(a), { groups: ["CG"], clientIds: ["c1"] });
 * assert.deepEqual(registry.consumerIds("CG"), ["c2"]);
 * ```
 */
export class ClientRegistry<C> {
  readonly #timers: Timers;
  readonly #producers = new Map<string, Map<C, ChannelRegistration<C>>>();
  readonly #consumers = new Map<string, ConsumerGroupInfo<C>>();
  readonly #topicGroups = new Map<string, Set<string>>();
  readonly #waiters = new Map<string, Set<Waiter<C>>>();
  readonly #owners = new Map<string, Owner<C>>();
  readonly #channelIds = new Map<C, Set<string>>();
  readonly #reserved = new Map<string, { account: string; until: number }>();
  readonly #reserveMillis: number;
  readonly #maxIdsPerChannel: number;

  /** @param options Clock, timers, how long ids stay reserved, ids per channel. */
  constructor(options: ClientRegistryOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#reserveMillis = options.reserveMillis ?? 120_000;
    this.#maxIdsPerChannel = options.maxIdsPerChannel ?? 16;
  }

  /**
   * Claim a client id for a channel: granted when nobody holds it, or the
   * channel already does; refused when another live channel holds it, or
   * when an account registered it lately and `account` is another one.
   * {@linkcode ClientRegistry.registerProducer} and
   * {@linkcode ClientRegistry.registerConsumer} claim too; call this first
   * to refuse a heartbeat as a whole.
   *
   * @param clientId The client id.
   * @param channel The channel that announces it.
   * @param account The account the channel authenticated as, if any.
   * @returns Whether the channel holds the id now, else who does.
   *
   * @example
   * ```ts
   * import { ClientRegistry } from "./client_registry.ts";
   * import assert from "node:assert/strict";
   *
   * const registry = new ClientRegistry<string>();
   * assert.deepEqual(registry.claim("10.0.0.5@1", "conn-1"), { ok: true });
   * assert.deepEqual(registry.claim("10.0.0.5@1", "conn-2"), { ok: false, owner: "conn-1", account: undefined });
   * registry.removeChannel("conn-1");
   * assert.deepEqual(registry.claim("10.0.0.5@1", "conn-2"), { ok: true });
   * ```
   */
  claim(clientId: string, channel: C, account?: string): ClaimResult<C> {
    const owner = this.#owners.get(clientId);
    if (owner) {
      if (owner.channel === channel) return { ok: true };
      return { ok: false, owner: owner.channel, account: owner.account };
    }
    const reserved = this.#reserved.get(clientId);
    if (reserved) {
      if (reserved.until > this.#timers.now() && reserved.account !== account) {
        return { ok: false, owner: undefined, account: reserved.account };
      }
      this.#reserved.delete(clientId);
    }
    let ids = this.#channelIds.get(channel);
    if (!ids) {
      ids = new Set();
      this.#channelIds.set(channel, ids);
    }
    if (ids.size >= this.#maxIdsPerChannel) {
      return { ok: false, owner: undefined, account: undefined };
    }
    this.#owners.set(clientId, { channel, account });
    ids.add(clientId);
    return { ok: true };
  }

  /**
   * The live channel that holds a client id.
   *
   * @param clientId The client id.
   * @returns The channel, or `undefined`.
   */
  ownerOf(clientId: string): C | undefined {
    return this.#owners.get(clientId)?.channel;
  }

  /**
   * The client ids a channel holds.
   *
   * @param channel The channel.
   * @returns The ids (empty when it registered none).
   */
  clientIdsOf(channel: C): ReadonlySet<string> {
    return this.#channelIds.get(channel) ?? EMPTY;
  }

  /**
   * Forget reservations whose time passed (housekeeping).
   *
   * @returns How many were dropped.
   */
  purgeReservations(): number {
    const now = this.#timers.now();
    let dropped = 0;
    for (const [id, r] of this.#reserved) {
      if (r.until <= now) {
        this.#reserved.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  /** Numbers of groups and registrations, for statistics. */
  get counts(): { producerGroups: number; consumerGroups: number; waiters: number } {
    let waiters = 0;
    for (const set of this.#waiters.values()) waiters += set.size;
    return { producerGroups: this.#producers.size, consumerGroups: this.#consumers.size, waiters };
  }

  /**
   * Register (or refresh) a producer group on a channel. Nothing is
   * registered when another channel holds the client id (see
   * {@linkcode ClientRegistry.claim}).
   *
   * @param group Producer group.
   * @param channel The channel.
   * @param clientId The client id of the heartbeat.
   * @param identity Language and version of the heartbeat command.
   */
  registerProducer(
    group: string,
    channel: C,
    clientId: string,
    identity: ClientIdentity = {},
  ): void {
    if (!this.claim(clientId, channel).ok) return;
    let channels = this.#producers.get(group);
    if (!channels) {
      channels = new Map();
      this.#producers.set(group, channels);
    }
    const now = this.#timers.now();
    const existing = channels.get(channel);
    if (existing && existing.clientId === clientId) {
      existing.lastUpdate = now;
    } else {
      channels.set(channel, {
        channel,
        clientId,
        language: identity.language ?? 0,
        version: identity.version ?? 0,
        lastUpdate: now,
      });
    }
    this.#wake(clientId, channel);
  }

  /**
   * Remove a producer group's registration of a channel.
   *
   * @param group Producer group.
   * @param channel The channel.
   * @returns `true` when it was registered.
   */
  unregisterProducer(group: string, channel: C): boolean {
    const channels = this.#producers.get(group);
    if (!channels?.delete(channel)) return false;
    if (channels.size === 0) this.#producers.delete(group);
    return true;
  }

  /**
   * The channel of a client id (`ProducerManager.findChannel`): the live
   * channel that holds it (see {@linkcode ClientRegistry.claim}).
   *
   * @param clientId The client id.
   * @returns The channel, or `undefined`.
   */
  findClientChannel(clientId: string): C | undefined {
    return this.#owners.get(clientId)?.channel;
  }

  /**
   * Wait until a client id is registered, at most `timeout` ms.
   *
   * @param clientId The client id.
   * @param timeout Milliseconds to wait.
   * @param signal Ends the wait early (resolves `undefined`).
   * @returns The channel, or `undefined` when none registered in time.
   */
  waitForClient(clientId: string, timeout: number, signal?: AbortSignal): Promise<C | undefined> {
    const found = this.findClientChannel(clientId);
    if (found !== undefined || timeout <= 0 || signal?.aborted) return Promise.resolve(found);
    return new Promise((resolve) => {
      let set = this.#waiters.get(clientId);
      if (!set) {
        set = new Set();
        this.#waiters.set(clientId, set);
      }
      const waiters = set;
      const onAbort = (): void => finish(undefined);
      const finish = (channel: C | undefined): void => {
        if (!waiters.delete(waiter)) return;
        if (waiters.size === 0 && this.#waiters.get(clientId) === waiters) {
          this.#waiters.delete(clientId);
        }
        this.#timers.clearTimeout(waiter.timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(channel);
      };
      const waiter: Waiter<C> = {
        resolve: finish,
        timer: this.#timers.setTimeout(() => finish(undefined), timeout),
      };
      waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #wake(clientId: string, channel: C): void {
    const waiters = this.#waiters.get(clientId);
    if (!waiters) return;
    for (const waiter of [...waiters]) waiter.resolve(channel);
  }

  /**
   * Register (or refresh) a consumer group on a channel
   * (`ConsumerManager.registerConsumer`). Nothing is registered when another
   * channel holds the client id (see {@linkcode ClientRegistry.claim}).
   *
   * @param group Consumer group.
   * @param channel The channel.
   * @param clientId The client id of the heartbeat.
   * @param info Consume type, message model and where to start.
   * @param subscriptions The group's subscriptions; `undefined` keeps the
   *   known ones (heartbeat v2 `withoutSub`).
   * @param identity Language and version of the heartbeat command.
   * @returns What changed.
   */
  registerConsumer(
    group: string,
    channel: C,
    clientId: string,
    info: { consumeType: string; messageModel: string; consumeFromWhere: string },
    subscriptions: readonly SubscriptionData[] | undefined,
    identity: ClientIdentity = {},
  ): ConsumerRegistration {
    if (!this.claim(clientId, channel).ok) {
      return { channelAdded: false, subscriptionsChanged: false };
    }
    let groupInfo = this.#consumers.get(group);
    if (!groupInfo) {
      groupInfo = {
        groupName: group,
        consumeType: info.consumeType,
        messageModel: info.messageModel,
        consumeFromWhere: info.consumeFromWhere,
        channels: new Map(),
        subscriptions: new Map(),
      };
      this.#consumers.set(group, groupInfo);
    }
    groupInfo.consumeType = info.consumeType;
    groupInfo.messageModel = info.messageModel;
    groupInfo.consumeFromWhere = info.consumeFromWhere;

    const now = this.#timers.now();
    let channelAdded = false;
    const existing = groupInfo.channels.get(channel);
    if (!existing) {
      channelAdded = true;
      groupInfo.channels.set(channel, {
        channel,
        clientId,
        language: identity.language ?? 0,
        version: identity.version ?? 0,
        lastUpdate: now,
      });
    } else {
      existing.clientId = clientId;
      existing.lastUpdate = now;
    }

    let subscriptionsChanged = false;
    if (subscriptions) {
      const topics = new Set<string>();
      for (const sub of subscriptions) {
        topics.add(sub.topic);
        const old = groupInfo.subscriptions.get(sub.topic);
        if (!old) {
          groupInfo.subscriptions.set(sub.topic, sub);
          subscriptionsChanged = true;
        } else if (sub.subVersion > old.subVersion) {
          groupInfo.subscriptions.set(sub.topic, sub);
        }
      }
      const registration = groupInfo.channels.get(channel)!;
      registration.topics = topics;
      // A topic leaves the group when no member subscribes it any more: one
      // member's unsubscribe does not make the others' replies unauthorized.
      const wanted = (topic: string) =>
        topics.has(topic) ||
        [...groupInfo.channels.values()].some((r) => r !== registration && r.topics?.has(topic));
      for (const topic of [...groupInfo.subscriptions.keys()]) {
        if (!wanted(topic)) {
          groupInfo.subscriptions.delete(topic);
          this.#topicGroups.get(topic)?.delete(group);
          subscriptionsChanged = true;
        }
      }
    }
    for (const topic of groupInfo.subscriptions.keys()) {
      let groups = this.#topicGroups.get(topic);
      if (!groups) {
        groups = new Set();
        this.#topicGroups.set(topic, groups);
      }
      groups.add(group);
    }
    if (channelAdded) this.#wake(clientId, channel);
    return { channelAdded, subscriptionsChanged };
  }

  /**
   * Remove a channel from a consumer group (`UNREGISTER_CLIENT`).
   *
   * @param group Consumer group.
   * @param channel The channel.
   * @returns `true` when it was registered.
   */
  unregisterConsumer(group: string, channel: C): boolean {
    const groupInfo = this.#consumers.get(group);
    if (!groupInfo?.channels.delete(channel)) return false;
    if (groupInfo.channels.size === 0) this.#dropGroup(groupInfo);
    return true;
  }

  #dropGroup(groupInfo: ConsumerGroupInfo<C>): void {
    this.#consumers.delete(groupInfo.groupName);
    for (const topic of groupInfo.subscriptions.keys()) {
      const groups = this.#topicGroups.get(topic);
      groups?.delete(groupInfo.groupName);
      if (groups?.size === 0) this.#topicGroups.delete(topic);
    }
  }

  /**
   * A consumer group.
   *
   * @param group Group name.
   * @returns The group, or `undefined` when no channel is registered.
   */
  consumerGroup(group: string): Readonly<ConsumerGroupInfo<C>> | undefined {
    return this.#consumers.get(group);
  }

  /**
   * The registrations of a producer group (`getGroupChannelTable().get(group)`).
   *
   * @param group Producer group.
   * @returns Its channels' registrations, or `undefined` when none is registered.
   */
  producerGroup(group: string): ReadonlyMap<C, Readonly<ChannelRegistration<C>>> | undefined {
    return this.#producers.get(group);
  }

  /**
   * Client ids of a consumer group's channels, in registration order.
   *
   * @param group Group name.
   * @returns The ids (empty for an unknown group).
   */
  consumerIds(group: string): string[] {
    const groupInfo = this.#consumers.get(group);
    return groupInfo ? [...groupInfo.channels.values()].map((r) => r.clientId) : [];
  }

  /**
   * Channels of a consumer group.
   *
   * @param group Group name.
   * @returns The channels.
   */
  consumerChannels(group: string): C[] {
    const groupInfo = this.#consumers.get(group);
    return groupInfo ? [...groupInfo.channels.keys()] : [];
  }

  /**
   * Groups with a live subscription to a topic
   * (`ConsumerManager.queryTopicConsumeByWho`).
   *
   * @param topic The topic.
   * @returns Group names.
   */
  groupsByTopic(topic: string): string[] {
    return [...(this.#topicGroups.get(topic) ?? [])];
  }

  /**
   * Registrations of the members of every consumer group subscribed to a
   * topic.
   *
   * @param topic The topic.
   * @returns The registrations (channel and client id), group by group.
   */
  *subscribers(topic: string): IterableIterator<Readonly<ChannelRegistration<C>>> {
    const groups = this.#topicGroups.get(topic);
    if (!groups) return;
    for (const group of groups) {
      const info = this.#consumers.get(group);
      if (info) yield* info.channels.values();
    }
  }

  /**
   * Whether a channel is registered under a client id in any group.
   *
   * @param clientId The client id.
   * @returns `true` when some live registration has that id.
   */
  hasClient(clientId: string): boolean {
    return this.findClientChannel(clientId) !== undefined;
  }

  /**
   * Forget a channel everywhere (it closed).
   *
   * @param channel The channel.
   * @returns Consumer groups that lost a member and still have members
   *   (their other members must rebalance), and the client ids the channel
   *   was registered under.
   */
  removeChannel(channel: C): { groups: string[]; clientIds: string[] } {
    const clientIds = new Set<string>();
    const owned = this.#channelIds.get(channel);
    if (owned) {
      this.#channelIds.delete(channel);
      const until = this.#timers.now() + this.#reserveMillis;
      for (const id of owned) {
        const owner = this.#owners.get(id);
        if (owner?.channel !== channel) continue;
        this.#owners.delete(id);
        if (owner.account !== undefined) this.#reserved.set(id, { account: owner.account, until });
      }
    }
    for (const [group, channels] of this.#producers) {
      const reg = channels.get(channel);
      if (!reg) continue;
      clientIds.add(reg.clientId);
      channels.delete(channel);
      if (channels.size === 0) this.#producers.delete(group);
    }
    const groups: string[] = [];
    for (const groupInfo of [...this.#consumers.values()]) {
      const reg = groupInfo.channels.get(channel);
      if (!reg) continue;
      clientIds.add(reg.clientId);
      groupInfo.channels.delete(channel);
      if (groupInfo.channels.size === 0) this.#dropGroup(groupInfo);
      else groups.push(groupInfo.groupName);
    }
    return { groups, clientIds: [...clientIds] };
  }

  /**
   * Channels whose registrations were not refreshed for `maxIdle` ms
   * (`scanNotActiveChannel`); the caller closes them, which removes them.
   *
   * @param maxIdle Milliseconds without a heartbeat.
   * @returns The expired channels.
   */
  expired(maxIdle: number): C[] {
    const now = this.#timers.now();
    const out = new Set<C>();
    for (const channels of this.#producers.values()) {
      for (const reg of channels.values()) if (now - reg.lastUpdate > maxIdle) out.add(reg.channel);
    }
    for (const groupInfo of this.#consumers.values()) {
      for (const reg of groupInfo.channels.values()) {
        if (now - reg.lastUpdate > maxIdle) out.add(reg.channel);
      }
    }
    return [...out];
  }

  /** Release every waiter (on broker close). */
  close(): void {
    for (const waiters of [...this.#waiters.values()]) {
      for (const waiter of [...waiters]) waiter.resolve(undefined);
    }
  }
}
