/**
 * The RIP-16 requests a broker stored and whose reply it still expects, by
 * correlation id. RocketMQ keeps no such table: any client can reply to any
 * correlation id it saw, and the broker pushes the reply to whichever
 * connection last announced the `REPLY_TO_CLIENT` id. Here a reply is
 * accepted only for a request this broker stored, from a replier allowed to
 * read the request's topic, once, and only before the request's `TTL`
 * passed; the push goes to the connection that sent the request.
 *
 * A request sent by `requestMany()` (property `RPC_REPLIES=many`) accepts
 * any number of replies until its deadline, or until its requester cancels
 * it (its stream ended).
 *
 * Memory is bounded: an entry lives until its deadline (plus `grace`, during
 * which it takes no reply but still routes its requester's cancel, sent just
 * after the deadline), until its reply was pushed, or until its requester's
 * connection closed, and at most `maxEntries` wait at once (a send beyond
 * that is refused as busy).
 *
 * Generic over the channel type, so that it can be tested with plain objects.
 *
 * @example
 * ```ts
 * import { PendingRequests } from "./pending_requests.ts";
 * import { ManualTimers } from "../remoting/timers.ts";
 * import assert from "node:assert/strict";
 *
 * const timers = new ManualTimers(0);
 * const requests = new PendingRequests<string>({ timers });
 * assert.equal(requests.add("corr-1", { topic: "rpc", replyTo: "10.0.0.5@1", channel: "conn-1", ttl: 3000 }), "added");
 * assert.equal(requests.get("corr-1")?.channel, "conn-1");
 * timers.advance(3000);
 * assert.equal(requests.get("corr-1"), undefined); // its requester gave up: no reply is accepted
 * ```
 *
 * @module
 */

import { systemTimers, type Timers } from "../remoting/timers.ts";

/** A request waiting for its reply. */
export interface PendingRequest<C> {
  /** `CORRELATION_ID` of the request. */
  readonly correlationId: string;
  /** Topic the request was sent to. */
  readonly topic: string;
  /** `REPLY_TO_CLIENT` of the request: the requester's client id. */
  readonly replyTo: string;
  /** The connection that sent the request; the reply is pushed there only. */
  readonly channel: C;
  /** Broker time (ms) after which no reply is accepted. */
  readonly deadline: number;
  /** The queue it was stored in (to route its cancel). */
  readonly queueId: number | undefined;
  /** Whether it takes many replies (`requestMany()`), not one. */
  readonly many: boolean;
}

/**
 * The request property `requestMany()` sets (`RpcProperty.REPLIES` of the
 * client): its request takes many replies.
 *
 * @example
 * ```ts
 * import { MANY_REPLIES_PROPERTY } from "./pending_requests.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MANY_REPLIES_PROPERTY, "RPC_REPLIES");
 * ```
 */
export const MANY_REPLIES_PROPERTY = "RPC_REPLIES";

/** Options of {@linkcode PendingRequests}. */
export interface PendingRequestsOptions {
  /** Clock. @default {systemTimers} */
  timers?: Timers;
  /** Most requests waiting at once. @default {100000} */
  maxEntries?: number;
  /** Wait of a request without a usable `TTL` (ms). @default {60000} */
  defaultTtl?: number;
  /** Longest wait, whatever the `TTL` says (ms). @default {3600000} */
  maxTtl?: number;
  /** How long after its deadline a request still routes its requester's cancel (ms). @default {10000} */
  grace?: number;
}

/** What {@linkcode PendingRequests.add} did. */
export type AddOutcome = "added" | "conflict" | "full";

/** Requests waiting for their reply, by correlation id. */
export class PendingRequests<C> {
  readonly #timers: Timers;
  readonly #maxEntries: number;
  readonly #defaultTtl: number;
  readonly #maxTtl: number;
  readonly #grace: number;
  readonly #entries = new Map<string, PendingRequest<C>>();
  readonly #byChannel = new Map<C, Set<string>>();

  /** @param options Clock and bounds. */
  constructor(options: PendingRequestsOptions = {}) {
    this.#timers = options.timers ?? systemTimers;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#defaultTtl = options.defaultTtl ?? 60_000;
    this.#maxTtl = options.maxTtl ?? 3_600_000;
    this.#grace = options.grace ?? 10_000;
  }

  /** Requests waiting now (expired ones included until the next purge). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Record a stored request. The same connection may record a correlation id
   * again (a retried send); another connection may not take it over.
   *
   * @param correlationId `CORRELATION_ID` of the request.
   * @param request Topic, requester id and connection, and the request's
   *   `TTL` in ms (`undefined` or not positive: `defaultTtl`).
   * @returns `"added"`, `"conflict"` when another live request of another
   *   connection has that id, or `"full"` when `maxEntries` wait.
   */
  add(
    correlationId: string,
    request: {
      topic: string;
      replyTo: string;
      channel: C;
      ttl: number | undefined;
      queueId?: number | undefined;
      many?: boolean | undefined;
    },
  ): AddOutcome {
    const now = this.#timers.now();
    const existing = this.#entries.get(correlationId);
    if (existing && existing.deadline > now && existing.channel !== request.channel) {
      return "conflict";
    }
    if (!existing && this.#entries.size >= this.#maxEntries) {
      this.purge();
      if (this.#entries.size >= this.#maxEntries) return "full";
    }
    if (existing) this.delete(correlationId);
    const ttl = request.ttl !== undefined && request.ttl > 0
      ? Math.min(request.ttl, this.#maxTtl)
      : this.#defaultTtl;
    this.#entries.set(correlationId, {
      correlationId,
      topic: request.topic,
      replyTo: request.replyTo,
      channel: request.channel,
      deadline: now + ttl,
      queueId: request.queueId,
      many: request.many ?? false,
    });
    let ids = this.#byChannel.get(request.channel);
    if (!ids) {
      ids = new Set();
      this.#byChannel.set(request.channel, ids);
    }
    ids.add(correlationId);
    return "added";
  }

  /**
   * The request waiting under a correlation id.
   *
   * @param correlationId The id.
   * @returns The request, or `undefined` when unknown, answered or expired.
   */
  get(correlationId: string): PendingRequest<C> | undefined {
    const entry = this.#entries.get(correlationId);
    if (!entry) return undefined;
    const now = this.#timers.now();
    if (entry.deadline <= now) {
      if (entry.deadline + this.#grace <= now) this.delete(correlationId);
      return undefined;
    }
    return entry;
  }

  /**
   * The request a cancel names: waiting, or past its deadline by less than
   * `grace` (a requester cancels when its timeout, the `TTL`, passes).
   *
   * @param correlationId The id.
   * @returns The request, or `undefined`.
   */
  forCancel(correlationId: string): PendingRequest<C> | undefined {
    const entry = this.#entries.get(correlationId);
    if (!entry || entry.deadline + this.#grace <= this.#timers.now()) return undefined;
    return entry;
  }

  /**
   * Forget a request (its reply was pushed, or its send failed).
   *
   * @param correlationId The id.
   * @returns `true` when it was waiting.
   */
  delete(correlationId: string): boolean {
    const entry = this.#entries.get(correlationId);
    if (!entry) return false;
    this.#entries.delete(correlationId);
    const ids = this.#byChannel.get(entry.channel);
    ids?.delete(correlationId);
    if (ids?.size === 0) this.#byChannel.delete(entry.channel);
    return true;
  }

  /**
   * Forget the requests of a connection that closed: their replies have
   * nowhere to go.
   *
   * @param channel The connection.
   * @returns How many were dropped.
   */
  dropChannel(channel: C): number {
    const ids = this.#byChannel.get(channel);
    if (!ids) return 0;
    this.#byChannel.delete(channel);
    for (const id of ids) this.#entries.delete(id);
    return ids.size;
  }

  /**
   * Forget every request whose deadline passed (housekeeping).
   *
   * @returns How many were dropped.
   */
  purge(): number {
    const now = this.#timers.now();
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.deadline + this.#grace <= now) {
        this.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  /** Forget everything (broker close). */
  clear(): void {
    this.#entries.clear();
    this.#byChannel.clear();
  }
}
