/**
 * `context.requesterAlive()`: is the client that sent a request still
 * registered with the broker that stored it? A handler asks before expensive
 * work, as RabbitMQ's direct reply-to lets a server check its caller.
 *
 * Every client (this library's and Java's) registers the producer group
 * `CLIENT_INNER_PRODUCER` with every broker it talks to, so the broker's
 * GET_PRODUCER_CONNECTION_LIST for that group lists every live client; a
 * requester that closed or crashed drops off it (at once on close, within
 * the broker's channel expiry on a crash). One call per broker per
 * `cacheMs`, shared by every handler asking meanwhile.
 *
 * @module
 */

import { decodeProducerConnection } from "../codec/admin_bodies.ts";
import { RequestCode, ResponseCode } from "../codec/codes.ts";
import { createRequest } from "../codec/remoting_command.ts";
import { BrokerError } from "../errors.ts";
import { type ClientInstance, INNER_PRODUCER_GROUP } from "./client_instance.ts";

/** Answers "is this client registered with that broker?", with a short cache. */
export class RequesterAliveChecker {
  readonly #instance: ClientInstance;
  readonly #cacheMs: number;
  readonly #lists = new Map<string, { until: number; ids: Promise<Set<string>> }>();

  /**
   * @param instance The asking client.
   * @param cacheMs How long one broker's list is reused (ms).
   */
  constructor(instance: ClientInstance, cacheMs = 1000) {
    this.#instance = instance;
    this.#cacheMs = cacheMs;
  }

  /**
   * Whether `clientId` is registered with the broker at `address`.
   *
   * @param address The broker's address.
   * @param clientId The requester's client id (`REPLY_TO_CLIENT`).
   * @returns `true` while it is.
   * @throws {BrokerError} When the broker refuses the query.
   */
  async isAlive(address: string, clientId: string): Promise<boolean> {
    const now = this.#instance.timers.now();
    let cached = this.#lists.get(address);
    if (!cached || cached.until <= now) {
      const ids = this.#load(address);
      cached = { until: now + this.#cacheMs, ids };
      this.#lists.set(address, cached);
      const entry = cached;
      ids.catch(() => {
        if (this.#lists.get(address) === entry) this.#lists.delete(address);
      });
    }
    return (await cached.ids).has(clientId);
  }

  async #load(address: string): Promise<Set<string>> {
    const response = await this.#instance.remoting.invoke(
      address,
      createRequest(RequestCode.GET_PRODUCER_CONNECTION_LIST, {
        producerGroup: INNER_PRODUCER_GROUP,
      }),
      { timeout: this.#instance.rpcTimeout },
    );
    // No such group on the broker: nobody at all is registered.
    if (response.code === ResponseCode.SYSTEM_ERROR && /not exist/.test(response.remark ?? "")) {
      return new Set();
    }
    if (response.code !== ResponseCode.SUCCESS) {
      throw BrokerError.fromResponse(response, {
        requestCode: RequestCode.GET_PRODUCER_CONNECTION_LIST,
        address,
      });
    }
    return new Set(decodeProducerConnection(response.body).connectionSet.map((c) => c.clientId));
  }
}
