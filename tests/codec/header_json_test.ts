// The JSON command header: fastjson-compatible quoting, and what the decoder accepts
// from Java and other clients (numeric strings, language names or numbers, scalar
// extFields values) and refuses (with CodecError only, the opaque salvaged if possible).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeJsonHeader,
  encodeJsonHeader,
  quoteJsonString,
} from "../../src/codec/header_json.ts";
import { LanguageCode } from "../../src/codec/codes.ts";
import { CodecError } from "../../src/errors.ts";
import { commandArb, normalised, onlyCodecError, textArb } from "./_commands.ts";
import { SerializeType } from "../../src/codec/codes.ts";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Any UTF-16 string, lone surrogates included. */
const utf16Arb = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
  maxLength: 24,
});

describe("quoteJsonString", () => {
  it("JSON.parse reads back any string, lone surrogates included", () => {
    fc.assert(
      fc.property(fc.oneof(utf16Arb, textArb, fc.string({ unit: "binary" })), (s) => {
        assert.equal(JSON.parse(quoteJsonString(s)), s);
      }),
      { numRuns: 1000 },
    );
  });

  it("leaves no character raw that fastjson 1.2.83 escapes", () => {
    fc.assert(
      fc.property(utf16Arb, (s) => {
        const quoted = quoteJsonString(s).slice(1, -1);
        // deno-lint-ignore no-control-regex
        assert.doesNotMatch(quoted, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        assert.doesNotMatch(quoted.replaceAll("\\\\", "").replaceAll('\\"', ""), /"/);
      }),
      { numRuns: 500 },
    );
  });

  it("uses the short escapes and upper-case hex", () => {
    assert.equal(
      quoteJsonString('"\\\b\f\n\r\t\u0000\u001f\u007f\u0080\u009f\u00a0\u2028\u2029é'),
      '"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001F\\u007F\\u0080\\u009F\u00a0\\u2028\\u2029é"',
    );
  });
});

describe("encodeJsonHeader / decodeJsonHeader", () => {
  it("round-trip every header field", () => {
    fc.assert(
      fc.property(commandArb(SerializeType.JSON), (command) => {
        const header = decodeJsonHeader(encodeJsonHeader(command));
        const { body: _b, serializeType: _s, ...expected } = normalised(command);
        assert.deepEqual(header, expected);
      }),
      { numRuns: 400 },
    );
  });

  it("keys in fastjson's alphabetical order, language by name, no null fields", () => {
    const text = new TextDecoder().decode(encodeJsonHeader({
      code: 0,
      language: LanguageCode.GO,
      version: 1,
      opaque: 2,
      flag: 1,
      remark: "r",
      extFields: { b: "1", a: "2" },
    }));
    assert.equal(
      text,
      '{"code":0,"extFields":{"b":"1","a":"2"},"flag":1,"language":"GO","opaque":2,"remark":"r",' +
        '"serializeTypeCurrentRPC":"JSON","version":1}',
    );
  });

  it("an unknown language code is written as a number and read back", () => {
    const bytes = encodeJsonHeader({
      code: 0,
      language: 200,
      version: 0,
      opaque: 0,
      flag: 0,
      extFields: {},
    });
    assert.match(new TextDecoder().decode(bytes), /"language":200/);
    assert.equal(decodeJsonHeader(bytes).language, 200);
  });

  it("reads what fastjson and other clients send", () => {
    const header = decodeJsonHeader(utf8(
      '{"code":"105","language":9,"version":null,"opaque":"-7","flag":1,"remark":null,' +
        '"extFields":{"n":12,"t":true,"z":null,"s":"x"},"unknown":{"deep":[1,2]},' +
        '"serializeTypeCurrentRPC":"ROCKETMQ"}',
    ));
    assert.deepEqual(header, {
      code: 105,
      language: LanguageCode.GO,
      version: 0,
      opaque: -7,
      flag: 1,
      extFields: { n: "12", t: "true", s: "x" },
    });
  });

  it("an unknown language name decodes as OTHER", () => {
    assert.equal(
      decodeJsonHeader(utf8('{"code":1,"language":"COBOL"}')).language,
      LanguageCode.OTHER,
    );
    assert.equal(
      decodeJsonHeader(utf8('{"code":1,"language":"toString"}')).language,
      LanguageCode.OTHER,
    );
  });

  it("extFields keys such as __proto__ stay own data, without touching prototypes", () => {
    const header = decodeJsonHeader(
      utf8('{"code":1,"extFields":{"__proto__":"x","constructor":"y"}}'),
    );
    assert.equal(Object.getPrototypeOf(header.extFields), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(header.extFields, "__proto__")?.value, "x");
    assert.equal(header.extFields.constructor, "y");
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it("malformed UTF-8 is replaced, as Java's new String(bytes, UTF_8) does", () => {
    const bytes = utf8('{"code":1,"remark":"a?b"}');
    bytes[bytes.indexOf(0x3f)] = 0xff;
    assert.equal(decodeJsonHeader(bytes).remark, "a\ufffdb");
  });

  const invalid: [string, string][] = [
    ["not JSON", '{"code":1,"opaque":5'],
    ["an array", "[1,2]"],
    ["a string", '"x"'],
    ["no code", '{"opaque":5}'],
    ["a fractional code", '{"code":1.5,"opaque":5}'],
    ["a code beyond 32 bits", '{"code":2147483648,"opaque":5}'],
    ["a code that is not a number", '{"code":"abc","opaque":5}'],
    ["a remark that is a number", '{"code":1,"remark":7,"opaque":5}'],
    ["extFields that are a list", '{"code":1,"extFields":["a"],"opaque":5}'],
    ["a nested extFields value", '{"code":1,"extFields":{"a":{"b":1}},"opaque":5}'],
  ];
  for (const [what, text] of invalid) {
    it(`refuses ${what} with CodecError, salvaging the opaque`, () => {
      const err = onlyCodecError(() => decodeJsonHeader(utf8(text)));
      assert.ok(err instanceof CodecError, "should have thrown");
      if (text.includes('"opaque":5')) assert.equal(err.opaque, 5);
    });
  }

  it("any JSON document: only CodecError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ unit: "binary" })), (text) => {
        onlyCodecError(() => decodeJsonHeader(utf8(text)));
      }),
      { numRuns: 1000 },
    );
  });
});
