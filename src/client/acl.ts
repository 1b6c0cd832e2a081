/**
 * ACL signing of requests (`AclClientRPCHook`): adds `AccessKey` (and
 * `SecurityToken`) to the header, then `Signature` = Base64(HMAC-SHA1(secret,
 * values of all header fields sorted by key ‖ body)). Uses WebCrypto, so it
 * runs on every runtime.
 *
 * @example
 * ```ts
 * import { createAclSigner } from "./acl.ts";
 * import { createRequest } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const sign = createAclSigner({ accessKey: "AK", secretKey: "SK" });
 * const request = createRequest(105, { topic: "T" });
 * await sign(request);
 * assert.equal(request.extFields.AccessKey, "AK");
 * assert.equal(typeof request.extFields.Signature, "string");
 * ```
 *
 * @module
 */

import type { RemotingCommand } from "../codec/remoting_command.ts";
import { utf8Encode } from "../codec/_utf8.ts";
import { signedContent as codecSignedContent } from "../codec/signature.ts";

/**
 * ACL 1.0 credentials.
 *
 * @example With a security token (STS)
 * ```ts
 * import { createAclSigner, type Credentials } from "./acl.ts";
 * import { createRequest } from "../codec/remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const credentials: Credentials = { accessKey: "AK", secretKey: "SK", securityToken: "STS-1" };
 * const request = createRequest(105, { topic: "T" });
 * await createAclSigner(credentials)(request);
 * assert.equal(request.extFields.SecurityToken, "STS-1");
 * assert.equal(request.extFields.secretKey, undefined); // the secret only keys the signature
 * ```
 */
export interface Credentials {
  /** Access key, sent in clear. */
  accessKey: string;
  /** Secret key, used to sign; never sent. */
  secretKey: string;
  /** Optional security token (STS). */
  securityToken?: string;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/**
 * Build the content that is signed: the values of all header fields except
 * `Signature`, sorted by key in UTF-16 order, concatenated, followed by the
 * body (the codec's {@linkcode codecSignedContent}).
 *
 * @param request The request, with `AccessKey` already in its header.
 * @returns The bytes to sign.
 *
 * @example
 * ```ts
 * import { signedContent } from "./acl.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = signedContent({ extFields: { b: "2", a: "1", Signature: "x" }, body: new Uint8Array([33]) });
 * assert.equal(new TextDecoder().decode(bytes), "12!");
 * ```
 */
export function signedContent(request: Pick<RemotingCommand, "extFields" | "body">): Uint8Array {
  return codecSignedContent(request);
}

/**
 * Create a signer that adds the ACL fields to a request's header.
 *
 * @param credentials Access key, secret key and optional token.
 * @returns An async function that signs a request in place.
 *
 * @example Known signature
 * ```ts
 * import { createAclSigner } from "./acl.ts";
 * import assert from "node:assert/strict";
 *
 * const sign = createAclSigner({ accessKey: "a", secretKey: "s" });
 * const request = { code: 34, language: 0, version: 0, opaque: 0, flag: 0, extFields: {} as Record<string, string>, body: new Uint8Array(), serializeType: 0 as const };
 * await sign(request);
 * // HMAC-SHA1("s", "a") in Base64
 * assert.equal(request.extFields.Signature, "9kUJmuedeRrYUGQeZkrMLCeYfJ0=");
 * ```
 */
export function createAclSigner(
  credentials: Credentials,
): (request: RemotingCommand) => Promise<void> {
  let key: Promise<CryptoKey> | undefined;
  return async (request) => {
    key ??= crypto.subtle.importKey(
      "raw",
      utf8Encode(credentials.secretKey),
      { name: "HMAC", hash: "SHA-1" },
      false,
      ["sign"],
    );
    request.extFields.AccessKey = credentials.accessKey;
    if (credentials.securityToken) request.extFields.SecurityToken = credentials.securityToken;
    const content = signedContent(request);
    const signature = await crypto.subtle.sign(
      "HMAC",
      await key,
      content as Uint8Array<ArrayBuffer>,
    );
    request.extFields.Signature = base64(new Uint8Array(signature));
  };
}
