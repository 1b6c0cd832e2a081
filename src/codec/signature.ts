/**
 * The content RocketMQ's ACL signs (`AclUtils.combineRequestContent`): the
 * values of a request's header fields, sorted by key in UTF-16 order and
 * concatenated, followed by the body. The client signs it with HMAC-SHA1
 * (`AclClientRPCHook`); a broker rebuilds it to check the signature. Pure:
 * no I/O, no crypto.
 *
 * @example
 * ```ts
 * import { signedContent } from "./signature.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = signedContent({ extFields: { b: "2", a: "1", Signature: "x" }, body: new Uint8Array([33]) });
 * assert.equal(new TextDecoder().decode(bytes), "12!");
 * ```
 *
 * @module
 */

import { utf8Encode } from "./_utf8.ts";

/** Header field that carries the signature; never part of the content. */
export const SIGNATURE_FIELD = "Signature";
/** Header field of the access key. */
export const ACCESS_KEY_FIELD = "AccessKey";
/** Header field of an STS security token. */
export const SECURITY_TOKEN_FIELD = "SecurityToken";

/**
 * Build the content that is signed: the values of all header fields except
 * `Signature` (and the keys in `skip`), sorted by key in UTF-16 order,
 * concatenated, followed by the body.
 *
 * @param request Header fields (with `AccessKey` already set) and body.
 * @param skip More header fields to leave out (a broker leaves out
 *   `_UNIQUE_KEY_QUERY` for clients up to 4.9.3, as RocketMQ does).
 * @returns The bytes to sign.
 *
 * @example
 * ```ts
 * import { signedContent } from "./signature.ts";
 * import assert from "node:assert/strict";
 *
 * const request = { extFields: { AccessKey: "ak", topic: "T", _UNIQUE_KEY_QUERY: "true" }, body: new Uint8Array() };
 * assert.equal(new TextDecoder().decode(signedContent(request, ["_UNIQUE_KEY_QUERY"])), "akT");
 * ```
 */
export function signedContent(
  request: { readonly extFields: Readonly<Record<string, string>>; readonly body: Uint8Array },
  skip?: readonly string[],
): Uint8Array {
  const keys = Object.keys(request.extFields)
    .filter((k) => k !== SIGNATURE_FIELD && !skip?.includes(k))
    .sort();
  let text = "";
  for (const key of keys) text += request.extFields[key];
  const head = utf8Encode(text);
  if (request.body.length === 0) return head;
  const out = new Uint8Array(head.length + request.body.length);
  out.set(head);
  out.set(request.body, head.length);
  return out;
}
