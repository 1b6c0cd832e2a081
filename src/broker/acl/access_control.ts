/**
 * Access control of the embedded broker, compatible with RocketMQ's ACL:
 * requests are signed as `AclClientRPCHook` signs them (HMAC-SHA1 of the
 * sorted header values and the body, keyed by the account's secret), so the
 * official Java client and this package's client both work unchanged.
 *
 * Each request is checked before its handler runs:
 *
 * 1. the peer's address against `globalWhiteRemoteAddresses` (when given);
 * 2. authentication: `AccessKey` names an account, `Signature` matches, the
 *    account may be used from the peer's address (`whiteRemoteAddress`);
 *    a connection keeps the account of its first request;
 * 3. admin request codes need an `admin` account;
 * 4. the resources the request touches, as RocketMQ 5's
 *    `DefaultAuthorizationContextBuilder` lists them (topics and groups,
 *    `PUB` or `SUB`), against the account's permissions (ACL 1.0 rules:
 *    `DENY` wins, then the explicit entry, then the default).
 *
 * Safer than RocketMQ where RocketMQ is weak: a whitelisted address never
 * replaces the signature, anonymous requests are refused whatever their
 * address, every request code is classified (RocketMQ 4's ACL checks no
 * resource of batch sends, replies or offset queries), and an account
 * cannot change on a connection.
 *
 * @example
 * ```ts
 * import { AccessControl } from "./access_control.ts";
 * import { createAclSigner } from "../../client/acl.ts";
 * import { createRequest } from "../../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const acl = new AccessControl({ accounts: [{ accessKey: "app", secretKey: "app-secret", topicPerms: ["orders=PUB"] }] });
 * const request = createRequest(30, { topic: "orders", queueId: 0 }); // GET_MAX_OFFSET needs SUB
 * await createAclSigner({ accessKey: "app", secretKey: "app-secret" })(request);
 * const principal = await acl.authenticate(request, "127.0.0.1");
 * assert.ok("accessKey" in principal);
 * assert.match(acl.authorize(principal, request) ?? "", /no SUB permission on topic orders/);
 * ```
 *
 * @module
 */

import { decodeHeartbeatData, decodeLockBatchRequestBody } from "../../codec/bodies.ts";
import { RequestCode } from "../../codec/codes.ts";
import { parseFastJson } from "../../codec/fastjson.ts";
import type { RemotingCommand } from "../../codec/remoting_command.ts";
import { ACCESS_KEY_FIELD, SIGNATURE_FIELD, signedContent } from "../../codec/signature.ts";
import { utf8Decode, utf8Encode } from "../../codec/_utf8.ts";
import type { Principal } from "../context.ts";
import { type AddressMatcher, compileAddressPattern } from "./address_pattern.ts";
import { type AclConfig, checkAclConfig, type PermText } from "./plain_acl.ts";

/**
 * Permission bits (RocketMQ's `Permission`).
 *
 * @example
 * ```ts
 * import { Permission } from "./access_control.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(Permission.PUB | Permission.SUB, 12);
 * ```
 */
export const Permission = {
  /** Nothing, and it wins over everything else. */
  DENY: 1,
  /** Either PUB or SUB is enough (asked for, never granted). */
  ANY: 2,
  /** Send. */
  PUB: 4,
  /** Consume. */
  SUB: 8,
} as const;

/**
 * Request codes that need an admin account (RocketMQ's `Permission.ADMIN_CODE`
 * plus the other admin calls this broker serves).
 *
 * @example
 * ```ts
 * import { ADMIN_REQUEST_CODES } from "./access_control.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(ADMIN_REQUEST_CODES.has(17)); // UPDATE_AND_CREATE_TOPIC
 * ```
 */
export const ADMIN_REQUEST_CODES: ReadonlySet<number> = new Set([
  RequestCode.UPDATE_AND_CREATE_TOPIC, // 17
  25, // UPDATE_BROKER_CONFIG
  26, // GET_BROKER_CONFIG
  215, // DELETE_TOPIC_IN_BROKER
  216, // DELETE_TOPIC_IN_NAMESRV
  200, // UPDATE_AND_CREATE_SUBSCRIPTIONGROUP
  207, // DELETE_SUBSCRIPTIONGROUP
  220, // INVOKE_BROKER_TO_RESET_OFFSET
  222, // INVOKE_BROKER_TO_GET_CONSUMER_STATUS
  50, // UPDATE_AND_CREATE_ACL_CONFIG
  51, // DELETE_ACL_CONFIG
]);

const RETRY = "%RETRY%";
const TRACE_TOPIC = "RMQ_SYS_TRACE_TOPIC";
/** `MQVersion.V4_9_3`: up to this client version `_UNIQUE_KEY_QUERY` is not signed. */
const V4_9_3 = 399;
const UNIQUE_KEY_QUERY = ["_UNIQUE_KEY_QUERY"];

function parsePerm(text: PermText | undefined): number {
  switch (text) {
    case "PUB":
      return Permission.PUB;
    case "SUB":
      return Permission.SUB;
    case "PUB|SUB":
    case "SUB|PUB":
      return Permission.PUB | Permission.SUB;
    default:
      return Permission.DENY;
  }
}

/**
 * RocketMQ's `Permission.checkPermission`.
 *
 * @param needed The permission asked for.
 * @param owned The permission held.
 * @returns Whether `owned` grants `needed`.
 *
 * @example
 * ```ts
 * import { checkPermission, Permission } from "./access_control.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkPermission(Permission.SUB, Permission.PUB | Permission.SUB), true);
 * assert.equal(checkPermission(Permission.ANY, Permission.PUB), true);
 * assert.equal(checkPermission(Permission.PUB, Permission.DENY), false);
 * ```
 */
export function checkPermission(needed: number, owned: number): boolean {
  if ((owned & Permission.DENY) !== 0) return false;
  if ((needed & Permission.ANY) !== 0) {
    return (owned & (Permission.PUB | Permission.SUB)) !== 0;
  }
  return (needed & owned) !== 0;
}

interface Account {
  readonly accessKey: string;
  readonly admin: boolean;
  readonly principal: Principal;
  readonly secret: Uint8Array;
  key: Promise<CryptoKey> | undefined;
  readonly allowedFrom: AddressMatcher | undefined;
  readonly defaultTopicPerm: number;
  readonly defaultGroupPerm: number;
  readonly topics: ReadonlyMap<string, number>;
  readonly groups: ReadonlyMap<string, number>;
}

function entries(list: readonly string[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of list ?? []) {
    const eq = entry.indexOf("=");
    out.set(entry.slice(0, eq).trim(), parsePerm(entry.slice(eq + 1).trim() as PermText));
  }
  return out;
}

/** Why a request was refused. */
export interface Denial {
  /** The remark sent back (`NO_PERMISSION`). */
  readonly denied: string;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/** Compare two strings in time that depends on their length only. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Accounts, their permissions and the checks of every request. */
export class AccessControl {
  #accounts = new Map<string, Account>();
  #global: AddressMatcher | undefined;

  /**
   * Build the access control of a configuration.
   *
   * @param config Accounts and whitelists (checked again here).
   * @throws {InvalidArgumentError} When the configuration is invalid.
   */
  constructor(config: AclConfig) {
    this.replace(config);
  }

  /**
   * Take a new configuration at once (RocketMQ reloads its `plain_acl.yml`
   * the same way): the next request of every connection is checked against
   * it; a connection keeps working while its account remains. An invalid
   * configuration changes nothing.
   *
   * @param config Accounts and whitelists.
   * @throws {InvalidArgumentError} When the configuration is invalid.
   */
  replace(config: AclConfig): void {
    const checked = checkAclConfig(config);
    const global = (checked.globalWhiteRemoteAddresses ?? [])
      .filter((p): p is string => typeof p === "string")
      .map((p) => compileAddressPattern(p));
    const accounts = new Map<string, Account>();
    for (const a of checked.accounts) {
      const white = a.whiteRemoteAddress?.trim();
      const admin = a.admin === true;
      accounts.set(a.accessKey, {
        accessKey: a.accessKey,
        admin,
        principal: Object.freeze({ accessKey: a.accessKey, admin }),
        secret: utf8Encode(a.secretKey),
        key: undefined,
        allowedFrom: white ? compileAddressPattern(white) : undefined,
        defaultTopicPerm: parsePerm(a.defaultTopicPerm),
        defaultGroupPerm: parsePerm(a.defaultGroupPerm),
        topics: entries(a.topicPerms),
        groups: entries(a.groupPerms),
      });
    }
    this.#global = global.length > 0 ? (ip) => global.some((m) => m(ip)) : undefined;
    this.#accounts = accounts;
  }

  /** Number of accounts. */
  get size(): number {
    return this.#accounts.size;
  }

  /**
   * Whether connections from an address are served at all
   * (`globalWhiteRemoteAddresses`; always when the list is empty).
   *
   * @param ip The peer's IP address.
   * @returns `true` when allowed.
   */
  allowsAddress(ip: string): boolean {
    return this.#global === undefined || this.#global(ip);
  }

  /**
   * Check a request's signature.
   *
   * @param request The request.
   * @param ip The peer's IP address.
   * @returns The account, or why the request is refused.
   */
  async authenticate(request: RemotingCommand, ip: string): Promise<Principal | Denial> {
    const accessKey = request.extFields[ACCESS_KEY_FIELD];
    if (accessKey === undefined) {
      return { denied: "no AccessKey: this broker requires ACL signatures" };
    }
    const account = this.#accounts.get(accessKey);
    if (!account) return { denied: `no ACL account for AccessKey ${accessKey}` };
    if (account.allowedFrom && !account.allowedFrom(ip)) {
      return { denied: `AccessKey ${accessKey} may not be used from ${ip}` };
    }
    const signature = request.extFields[SIGNATURE_FIELD];
    if (signature === undefined) return { denied: `no Signature for AccessKey ${accessKey}` };
    account.key ??= crypto.subtle.importKey(
      "raw",
      account.secret as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-1" },
      false,
      ["sign"],
    );
    const content = signedContent(
      request,
      request.version <= V4_9_3 ? UNIQUE_KEY_QUERY : undefined,
    );
    const mac = await crypto.subtle.sign(
      "HMAC",
      await account.key,
      content as Uint8Array<ArrayBuffer>,
    );
    if (!constantTimeEqual(base64(new Uint8Array(mac)), signature)) {
      return { denied: `Check signature failed for accessKey=${accessKey}` };
    }
    return account.principal;
  }

  /**
   * Whether an account may use a topic or a group.
   *
   * @param principal The account.
   * @param kind `"topic"` or `"group"`.
   * @param name The topic or group name (`%RETRY%<group>` counts as its group).
   * @param needed The permission needed ({@linkcode Permission}).
   * @returns `true` when allowed.
   */
  may(principal: Principal, kind: "topic" | "group", name: string, needed: number): boolean {
    const account = this.#accounts.get(principal.accessKey);
    if (!account) return false;
    if (account.admin) return true;
    if (kind === "topic" && name.startsWith(RETRY)) {
      kind = "group";
      name = name.slice(RETRY.length);
    }
    const table = kind === "topic" ? account.topics : account.groups;
    const owned = table.get(name) ??
      (kind === "topic" ? account.defaultTopicPerm : account.defaultGroupPerm);
    return checkPermission(needed, owned);
  }

  /**
   * Check what an authenticated request asks for: admin request codes, and
   * the topics and groups it touches.
   *
   * @param principal The account.
   * @param request The request.
   * @returns `undefined` when allowed, else the remark of the refusal.
   * @throws {CodecError} When a body the check needs is malformed.
   */
  authorize(principal: Principal, request: RemotingCommand): string | undefined {
    const code = request.code;
    if (ADMIN_REQUEST_CODES.has(code)) {
      return principal.admin ? undefined : `request code ${code} needs an admin account, ` +
        `and accessKey=${principal.accessKey} is not`;
    }
    if (principal.admin) return undefined;
    const ext = request.extFields;
    switch (code) {
      case RequestCode.SEND_MESSAGE:
        return this.#send(principal, ext.topic, ext.producerGroup);
      case RequestCode.SEND_MESSAGE_V2:
      case RequestCode.SEND_BATCH_MESSAGE:
        return this.#send(principal, ext.b, ext.a);
      case RequestCode.CONSUMER_SEND_MSG_BACK:
        return this.#need(principal, "group", ext.group, Permission.SUB);
      case RequestCode.PULL_MESSAGE:
      case RequestCode.LITE_PULL_MESSAGE:
      case RequestCode.QUERY_CONSUMER_OFFSET:
      case RequestCode.UPDATE_CONSUMER_OFFSET:
        return this.#need(principal, "topic", ext.topic, Permission.SUB) ??
          this.#need(principal, "group", ext.consumerGroup, Permission.SUB);
      case RequestCode.QUERY_MESSAGE:
      case RequestCode.VIEW_MESSAGE_BY_ID: // a 4.x client names no topic: admin accounts only
      case RequestCode.SEARCH_OFFSET_BY_TIMESTAMP:
      case RequestCode.GET_MAX_OFFSET:
      case RequestCode.GET_MIN_OFFSET:
      case RequestCode.GET_EARLIEST_MSG_STORETIME:
        return this.#need(principal, "topic", ext.topic, Permission.SUB);
      case RequestCode.QUERY_TOPIC_CONSUME_BY_WHO:
        return this.#need(principal, "topic", ext.topic, Permission.ANY);
      case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
        return this.#need(principal, "group", ext.consumerGroup, Permission.SUB);
      case RequestCode.UNREGISTER_CLIENT:
        return ext.consumerGroup === undefined
          ? undefined
          : this.#need(principal, "group", ext.consumerGroup, Permission.SUB);
      case RequestCode.HEART_BEAT: {
        const data = decodeHeartbeatData(request.body);
        for (const consumer of data.consumerDataSet) {
          const denied = this.#need(principal, "group", consumer.groupName, Permission.SUB);
          if (denied) return denied;
          for (const sub of consumer.subscriptionDataSet) {
            const d = this.#need(principal, "topic", sub.topic, Permission.SUB);
            if (d) return d;
          }
        }
        return undefined;
      }
      case RequestCode.LOCK_BATCH_MQ:
      case RequestCode.UNLOCK_BATCH_MQ: {
        const body = decodeLockBatchRequestBody(request.body);
        const denied = this.#need(principal, "group", body.consumerGroup, Permission.SUB);
        if (denied) return denied;
        for (const mq of body.mqSet) {
          const d = this.#need(principal, "topic", mq.topic, Permission.SUB);
          if (d) return d;
        }
        return undefined;
      }
      case RequestCode.CHECK_CLIENT_CONFIG: {
        if (request.body.length === 0) return undefined;
        const parsed = parseFastJson(utf8Decode(request.body)) as { group?: unknown } | null;
        const group = typeof parsed?.group === "string" ? parsed.group : undefined;
        return group === undefined
          ? undefined
          : this.#need(principal, "group", group, Permission.SUB);
      }
      default:
        // Name server queries, replies (checked against the request they
        // answer), and codes this broker does not serve.
        return undefined;
    }
  }

  #send(
    principal: Principal,
    topic: string | undefined,
    group: string | undefined,
  ): string | undefined {
    if (topic?.startsWith(RETRY)) {
      // A consumer's own fallback for a failed send-back: its group's retry topic.
      return this.#need(principal, "group", topic.slice(RETRY.length) || group, Permission.SUB);
    }
    if (topic === TRACE_TOPIC) return undefined; // message traces, as RocketMQ allows
    return this.#need(principal, "topic", topic, Permission.PUB);
  }

  #need(
    principal: Principal,
    kind: "topic" | "group",
    name: string | undefined,
    needed: number,
  ): string | undefined {
    if (name === undefined || name === "") return `no ${kind} named in the request`;
    if (this.may(principal, kind, name, needed)) return undefined;
    const what = needed === Permission.ANY
      ? "PUB or SUB"
      : needed === Permission.PUB
      ? "PUB"
      : "SUB";
    return `accessKey=${principal.accessKey} has no ${what} permission on ${kind} ${name}`;
  }
}
