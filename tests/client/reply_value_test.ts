// Reply values: what a responder's handler returns, on the wire and back.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeReplyValue,
  jsonSerializer,
  type ReplySerializer,
  type ReplyValue,
  RpcProperty,
  toReplyParts,
} from "../../src/client/message.ts";
import { InvalidArgumentError } from "../../src/errors.ts";

const isEnvelopeLike = (v: unknown) =>
  typeof v === "object" && v !== null && !Array.isArray(v) && "body" in v;

test("toReplyParts → decodeReplyValue returns any JSON value (as JSON itself would)", () => {
  fc.assert(
    fc.property(fc.jsonValue().filter((v) => !isEnvelopeLike(v)), (value) => {
      const parts = toReplyParts(value as ReplyValue);
      const back = decodeReplyValue(
        parts.body,
        parts.properties[RpcProperty.CONTENT_TYPE],
        jsonSerializer,
      );
      assert.deepEqual(back, JSON.parse(JSON.stringify(value)));
    }),
  );
});

test("bytes pass through untouched and name no content type (a Java requester's view)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const parts = toReplyParts(bytes);
      assert.equal(parts.body, bytes);
      assert.deepEqual(parts.properties, {});
      assert.equal(decodeReplyValue(parts.body, undefined, jsonSerializer), parts.body);
    }),
  );
});

test("{ body, properties } is the envelope; an object with more keys is a JSON value", () => {
  const envelope = toReplyParts({ body: "x", properties: { a: "1" } });
  assert.deepEqual(envelope.properties, { a: "1" });
  const json = toReplyParts({ body: "x", extra: 1 });
  assert.equal(new TextDecoder().decode(json.body), '{"body":"x","extra":1}');
  assert.equal(json.properties[RpcProperty.CONTENT_TYPE], "application/json");
});

test("values JSON cannot carry are refused with InvalidArgumentError naming the cause", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const value of [10n, cyclic, () => 1, Symbol("s")]) {
    assert.throws(
      () => toReplyParts(value as unknown as ReplyValue),
      (e) =>
        e instanceof InvalidArgumentError &&
        /cannot be serialized as application\/json/.test(e.message),
    );
  }
});

test("a pluggable serializer encodes values and the requester decodes them back", () => {
  const lines: ReplySerializer = {
    contentType: "text/x-lines",
    serialize: (v) => new TextEncoder().encode((v as string[]).join("\n")),
    deserialize: (b) => new TextDecoder().decode(b).split("\n"),
  };
  const parts = toReplyParts(["a", "b"], lines);
  assert.equal(parts.properties[RpcProperty.CONTENT_TYPE], "text/x-lines");
  assert.deepEqual(decodeReplyValue(parts.body, "text/x-lines", lines), ["a", "b"]);
  // JSON replies are still understood by a requester with another serializer.
  const json = toReplyParts({ n: 1 });
  assert.deepEqual(decodeReplyValue(json.body, "application/json", lines), { n: 1 });
  // An unknown content type leaves the bytes as they are.
  assert.equal(decodeReplyValue(parts.body, "application/other", lines), parts.body);
});
