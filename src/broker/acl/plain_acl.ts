/**
 * ACL configuration of the embedded broker, in the shape of RocketMQ's
 * `plain_acl.yml` (ACL 1.0): accounts with an access key and secret key, an
 * `admin` flag, default and per-topic / per-group permissions (`PUB`, `SUB`,
 * `PUB|SUB`, `DENY`) and optional address whitelists. Read from YAML with the
 * `yaml` package (loaded on first use: a broker without ACL never loads it),
 * checked with valibot; a bad file is an {@linkcode InvalidArgumentError}
 * naming the offending field.
 *
 * @example
 * ```ts
 * import { parsePlainAcl } from "./plain_acl.ts";
 * import assert from "node:assert/strict";
 *
 * const config = await parsePlainAcl(`
 * accounts:
 *   - accessKey: billing
 *     secretKey: s3cr3t-billing
 *     defaultTopicPerm: DENY
 *     topicPerms:
 *       - billing-rpc=PUB|SUB
 *     groupPerms:
 *       - billing-responders=SUB
 * `);
 * assert.equal(config.accounts[0]?.accessKey, "billing");
 * assert.deepEqual(config.accounts[0]?.topicPerms, ["billing-rpc=PUB|SUB"]);
 * ```
 *
 * @module
 */

import * as v from "valibot";
import { InvalidArgumentError } from "../../errors.ts";

/**
 * A permission as written in `plain_acl.yml`.
 *
 * @example
 * ```ts
 * import type { PermText } from "./plain_acl.ts";
 * import assert from "node:assert/strict";
 *
 * const both: PermText = "PUB|SUB";
 * assert.equal(both.split("|").length, 2);
 * ```
 */
export type PermText = "DENY" | "PUB" | "SUB" | "PUB|SUB" | "SUB|PUB";

/**
 * One account of an {@linkcode AclConfig}.
 *
 * @example A responder that may read one topic as one group
 * ```ts
 * import type { AclAccount } from "./plain_acl.ts";
 * import assert from "node:assert/strict";
 *
 * const account: AclAccount = {
 *   accessKey: "pricing-responder",
 *   secretKey: "a-long-random-secret",
 *   topicPerms: ["pricing-rpc=SUB"],
 *   groupPerms: ["pricing-responders=SUB"],
 * };
 * assert.equal(account.admin, undefined); // not an administrator
 * ```
 */
export interface AclAccount {
  /** The access key clients sign with (`AccessKey`). */
  accessKey: string;
  /** The secret key; at least 6 characters, as RocketMQ requires. */
  secretKey: string;
  /**
   * Addresses the account may be used from (RocketMQ's patterns: `*`,
   * `192.168.1.*`, `192.168.1.1-100`, `192.168.1.{1,2}`, a comma list, an
   * exact IPv4 or IPv6 address). Blank: anywhere. Unlike RocketMQ, a match
   * never replaces the signature.
   */
  whiteRemoteAddress?: string | null | undefined;
  /** Administrators may send admin request codes and read system topics. @default {false} */
  admin?: boolean | undefined;
  /** Permission on topics not in `topicPerms`. @default {"DENY"} */
  defaultTopicPerm?: PermText | undefined;
  /** Permission on groups not in `groupPerms`. @default {"DENY"} */
  defaultGroupPerm?: PermText | undefined;
  /** `topic=PERM` entries. */
  topicPerms?: string[] | undefined;
  /** `group=PERM` entries. */
  groupPerms?: string[] | undefined;
}

/**
 * The whole ACL configuration: the content of a `plain_acl.yml`.
 *
 * @example
 * ```ts
 * import type { AclConfig } from "./plain_acl.ts";
 * import assert from "node:assert/strict";
 *
 * const acl: AclConfig = {
 *   globalWhiteRemoteAddresses: ["127.0.0.1"], // only local clients may connect at all
 *   accounts: [{ accessKey: "ops", secretKey: "ops-secret", admin: true }],
 * };
 * assert.equal(acl.accounts.length, 1);
 * ```
 */
export interface AclConfig {
  /**
   * When not empty, only clients from these addresses are served (same
   * patterns as `whiteRemoteAddress`). Unlike RocketMQ, where these
   * addresses skip authentication altogether, they still have to sign.
   */
  globalWhiteRemoteAddresses?: (string | null)[] | null | undefined;
  /** The accounts. */
  accounts: AclAccount[];
}

const PERM_TEXTS = ["DENY", "PUB", "SUB", "PUB|SUB", "SUB|PUB"] as const;

const permText = v.pipe(
  v.string(),
  v.transform((s) => s.trim()),
  v.picklist(PERM_TEXTS, "must be DENY, PUB, SUB or PUB|SUB"),
);
const resourcePerm = v.pipe(
  v.string(),
  v.check((entry) => {
    const parts = entry.split("=");
    return parts.length === 2 && parts[0]!.trim().length > 0 &&
      (PERM_TEXTS as readonly string[]).includes(parts[1]!.trim());
  }, "must be name=PERM with PERM one of DENY, PUB, SUB, PUB|SUB"),
);
// YAML reads an empty `whiteRemoteAddress:` as null and `12345678` as a number.
const text = v.union([v.string(), v.pipe(v.number(), v.transform(String))]);
const optionalList = v.optional(v.nullable(v.array(resourcePerm)));

const accountSchema = v.object({
  accessKey: v.pipe(text, v.minLength(1, "must not be empty")),
  secretKey: v.pipe(text, v.minLength(6, "must have at least 6 characters")),
  whiteRemoteAddress: v.optional(v.nullable(text)),
  admin: v.optional(v.nullable(v.boolean())),
  defaultTopicPerm: v.optional(v.nullable(permText)),
  defaultGroupPerm: v.optional(v.nullable(permText)),
  topicPerms: optionalList,
  groupPerms: optionalList,
});

const configSchema = v.object({
  globalWhiteRemoteAddresses: v.optional(v.nullable(v.array(v.nullable(text)))),
  accounts: v.pipe(
    v.array(accountSchema),
    v.check((accounts) => {
      const keys = accounts.map((a) => a.accessKey);
      return new Set(keys).size === keys.length;
    }, "access keys must be unique"),
  ),
});

function clean<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(o)) if (val !== null && val !== undefined) out[k] = val;
  return out as T;
}

/**
 * Check an ACL configuration given as an object.
 *
 * @param value The configuration, as {@linkcode AclConfig}.
 * @param path Name of the option, for error messages.
 * @returns The configuration with YAML nulls dropped.
 * @throws {InvalidArgumentError} Naming the first invalid field.
 *
 * @example
 * ```ts
 * import { checkAclConfig } from "./plain_acl.ts";
 * import { InvalidArgumentError } from "../../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => checkAclConfig({ accounts: [{ accessKey: "a", secretKey: "short" }] }),
 *   (e) => e instanceof InvalidArgumentError && e.path === "acl.accounts.0.secretKey",
 * );
 * ```
 */
export function checkAclConfig(value: unknown, path = "acl"): AclConfig {
  const result = v.safeParse(configSchema, value);
  if (!result.success) {
    const issue = result.issues[0];
    const dotted = v.getDotPath(issue);
    throw new InvalidArgumentError(dotted ? `${path}.${dotted}` : path, issue.message);
  }
  const out = result.output;
  const config: AclConfig = {
    accounts: out.accounts.map((a) => clean(a) as AclAccount),
  };
  if (out.globalWhiteRemoteAddresses) {
    config.globalWhiteRemoteAddresses = out.globalWhiteRemoteAddresses.filter(
      (a): a is string => typeof a === "string" && a.trim() !== "",
    );
  }
  return config;
}

/**
 * Parse the text of a `plain_acl.yml`.
 *
 * @param yamlText The file's content.
 * @param path Name of the source, for error messages.
 * @returns The configuration.
 * @throws {InvalidArgumentError} When the text is not YAML or a field is invalid (the
 *   promise rejects).
 *
 * @example RocketMQ's sample file
 * ```ts
 * import { parsePlainAcl } from "./plain_acl.ts";
 * import assert from "node:assert/strict";
 *
 * const config = await parsePlainAcl(`
 * globalWhiteRemoteAddresses:
 *   - 10.10.103.*
 * accounts:
 *   - accessKey: RocketMQ
 *     secretKey: 12345678
 *     whiteRemoteAddress:
 *     admin: false
 *     defaultTopicPerm: DENY
 *     defaultGroupPerm: SUB
 *     topicPerms:
 *       - topicA=DENY
 *       - topicB=PUB|SUB
 * `);
 * assert.equal(config.accounts[0]?.secretKey, "12345678");
 * assert.equal(config.accounts[0]?.whiteRemoteAddress, undefined);
 * ```
 */
export async function parsePlainAcl(yamlText: string, path = "acl"): Promise<AclConfig> {
  const { parse: parseYaml } = await import("yaml");
  let value: unknown;
  try {
    value = parseYaml(yamlText);
  } catch (err) {
    throw new InvalidArgumentError(path, `not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (value === null || value === undefined) value = { accounts: [] };
  return checkAclConfig(value, path);
}
