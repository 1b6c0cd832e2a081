import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseFastJson, stringifyJson } from "../../src/codec/fastjson.ts";
import { CodecError, InvalidArgumentError } from "../../src/errors.ts";
import { onlyCodecError } from "./_fuzz.ts";

describe("parseFastJson()", () => {
  it("reads fastjson's unquoted Long map keys (§3.15, GET_BROKER_CLUSTER_INFO)", () => {
    const text =
      '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},' +
      '"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}},' +
      '"clusterAddrTable":{"DefaultCluster":["broker-a"]}}';
    assert.deepEqual(parseFastJson(text), {
      brokerAddrTable: {
        "broker-a": {
          brokerAddrs: { "0": "127.0.0.1:10911", "1": "127.0.0.1:10921" },
          brokerName: "broker-a",
          cluster: "DefaultCluster",
          enableActingMaster: false,
        },
      },
      clusterAddrTable: { DefaultCluster: ["broker-a"] },
    });
    // The same map in standard JSON gives the same value.
    assert.deepEqual(parseFastJson('{0:"a",-1:"b"}'), parseFastJson('{"0":"a","-1":"b"}'));
  });

  it("reads object keys (ResetOffsetBody.offsetTable, §3.15)", () => {
    const value = parseFastJson(
      '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:42,' +
        '{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:43}}',
    );
    assert.deepEqual(value, {
      offsetTable: {
        '{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}': 42,
        '{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}': 43,
      },
    });
  });

  it("agrees with JSON.parse on standard JSON", () => {
    const samples = [
      '{"a":[1,-2.5,3e2,1E-2,0],"b":{"c":null,"d":true,"e":false},"f":"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"}',
      " [ ] ",
      '"\\ud83d\\ude00"',
      "12345678901234567890",
      '{"a":1,"a":2}',
    ];
    for (const s of samples) assert.deepEqual(parseFastJson(s), JSON.parse(s), s);
  });

  it("keeps __proto__ keys as own properties", () => {
    const value = parseFastJson('{"__proto__":{"polluted":1},"x":1}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, { polluted: 1 });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("rejects syntax errors with the offset", () => {
    const cases: [string, RegExp][] = [
      ["", /end of input at offset 0/],
      ["{", /offset 1/],
      ['{"a" 1}', /unexpected character "1" at offset 5/],
      ["[1,]", /offset 3/],
      ["{a:1}", /unexpected character "a" at offset 1/],
      ["[01]", /offset 2/],
      ['"abc', /unterminated string/],
      ['"\\x"', /invalid escape/],
      ['"\\u12g4"', /invalid \\u escape/],
      ['"a\nb"', /control character/],
      ["tru", /offset 0/],
      ["1 2", /offset 2/],
      ["[-]", /offset 1/],
      ["{[1]:2}", /offset 1/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseFastJson(text),
        (e) => e instanceof CodecError && e.reason === "json" && message.test(e.message),
        JSON.stringify(text),
      );
    }
  });

  it("enforces the nesting limit, also in object keys", () => {
    assert.deepEqual(
      parseFastJson("[".repeat(64) + "]".repeat(64)),
      JSON.parse("[".repeat(64) + "]".repeat(64)),
    );
    assert.throws(() => parseFastJson("[".repeat(65) + "]".repeat(65)), /nesting deeper than 64/);
    assert.throws(() => parseFastJson("[".repeat(100_000)), /nesting deeper than 64/);
    assert.throws(() => parseFastJson('{"a":{"b":1}}', { maxDepth: 1 }), /nesting/);
    assert.throws(() => parseFastJson("{{{}:1}:1}", { maxDepth: 2 }), /nesting/);
    assert.deepEqual(parseFastJson("{{}:1}", { maxDepth: 2 }), { "{}": 1 });
  });

  it("parses any JSON value like JSON.parse", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        assert.deepEqual(parseFastJson(text), JSON.parse(text));
      }),
      { numRuns: 400 },
    );
  });

  it("random and mutated text produce only CodecError", () => {
    const mutatedJson = fc.tuple(
      fc.json({ maxDepth: 4 }),
      fc.nat(),
      fc.string({ maxLength: 3 }),
      fc.nat({ max: 3 }),
    )
      .map(([text, at, insert, del]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + del);
      });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 50 }),
          fc.string({ unit: fc.constantFrom(...'{}[]:,"0-1e.tfn \\u'), maxLength: 40 }),
          mutatedJson,
        ),
        (text) => onlyCodecError(() => parseFastJson(text)),
      ),
      { numRuns: 500 },
    );
  });
});

describe("stringifyJson()", () => {
  it("writes standard JSON with sorted keys and fastjson's escaping", () => {
    assert.equal(
      stringifyJson({
        topic: "T",
        brokerName: "b",
        queueId: 0,
        skip: undefined,
        list: [1, undefined, null],
      }),
      '{"brokerName":"b","list":[1,null,null],"queueId":0,"topic":"T"}',
    );
    assert.equal(stringifyJson("é\u0001\u007f"), '"é\\u0001\\u007F"');
    assert.equal(
      stringifyJson({ "10": "x", "2": "y", "b": 1, "a": 2 }),
      '{"2":"y","10":"x","a":2,"b":1}',
    );
    assert.equal(stringifyJson(-0), "0");
    assert.equal(stringifyJson(2n ** 63n - 1n), "9223372036854775807");
  });

  it("rejects what JSON cannot represent", () => {
    assert.throws(() => stringifyJson({ a: Number.NaN }), InvalidArgumentError);
    assert.throws(
      () => stringifyJson({ a: () => 1 }),
      (e) => e instanceof InvalidArgumentError && e.path === "value.a",
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => stringifyJson(cyclic), /nested deeper than 256/);
  });

  it("is read back by JSON.parse and parseFastJson to the same value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = stringifyJson(value);
        const expected = JSON.parse(JSON.stringify(value));
        assert.deepEqual(JSON.parse(text), expected);
        assert.deepEqual(parseFastJson(text), expected);
      }),
      { numRuns: 400 },
    );
  });
});
