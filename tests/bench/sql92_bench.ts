// SQL92 filter micro-benchmarks (not tests; numbers depend on the machine):
//
//   deno bench tests/bench/sql92_bench.ts
//
// - compile: parse and compile an expression (the broker caches this per expression);
// - evaluate: a compiled filter on a decoded property map;
// - per stored record: what the broker spends per message of a SQL92 pull
//   (read the properties out of the stored record, then evaluate).

import { compileSql92 } from "../../src/codec/sql92.ts";
import { encodeStoredMessage } from "../../src/codec/message_ext.ts";
import { recordMatches } from "../../src/broker/sql_filter.ts";

const EXPRESSION = "n > 5 AND region IN ('eu','us')";
const COMPLEX =
  "(TAGS = 'paid' OR TAGS = 'refunded') AND amount BETWEEN 100 AND 5000.5 AND region NOT IN ('cn') AND KEYS IS NOT NULL AND NOT (note CONTAINS 'test')";
const properties = {
  UNIQ_KEY: "7F0000010D4C18B4AAC2748A1F9F0000",
  WAIT: "true",
  TAGS: "paid",
  KEYS: "order-42",
  CORRELATION_ID: "1b4e28ba-2fa1-4d2e-883f-0016d3cca427",
  REPLY_TO_CLIENT: "127.0.0.1@4242#1234567890",
  TTL: "3000",
  n: "7",
  region: "eu",
  amount: "1200",
};
const simple = compileSql92(EXPRESSION);
const complex = compileSql92(COMPLEX);
const record = encodeStoredMessage({
  topic: "BenchTopic",
  queueId: 1,
  flag: 0,
  queueOffset: 0,
  commitLogOffset: 0,
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_000,
  bornHost: { address: "127.0.0.1", port: 50000 },
  storeTimestamp: 1_700_000_000_001,
  storeHost: { address: "127.0.0.1", port: 10911 },
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  body: new Uint8Array(1024),
  properties,
});
if (!simple.matches(properties) || !complex.matches(properties) || !recordMatches(simple, record)) {
  throw new Error("benchmark inputs must match");
}

Deno.bench({
  name: `compile "${EXPRESSION}"`,
  group: "compile",
  fn: () => void compileSql92(EXPRESSION),
});
Deno.bench({
  name: "compile (5 conditions)",
  group: "compile",
  fn: () => void compileSql92(COMPLEX),
});
Deno.bench({
  name: "evaluate, 2 conditions",
  group: "evaluate",
  fn: () => void simple.matches(properties),
});
Deno.bench({
  name: "evaluate, 5 conditions",
  group: "evaluate",
  fn: () => void complex.matches(properties),
});
Deno.bench({
  name: "per stored record (1 KiB body, 10 properties): read properties + evaluate",
  group: "record",
  fn: () => void recordMatches(simple, record),
});
