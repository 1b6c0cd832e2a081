// SQL92 subscriptions end to end: our requester ↔ our responder subscribed
// with `{ sql }`, through a broker given by `setup` that filters on message
// properties (our embedded broker: sql92_test.ts; RocketMQ 5.5.0 with
// enablePropertyFilter=true: tests/interop/sql92_test.ts). Runtime-neutral.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  FilterExpressionError,
  type MessageExt,
  Producer,
  PushConsumer,
  RequestTimeoutError,
} from "../../mod.ts";

/** Where the suite's broker is, and how to release it. */
export interface Sql92Target {
  nameServer: string;
  /** Create a topic (4 queues), routable when this resolves. */
  createTopic(topic: string): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

/** Long enough for a loaded machine; the requests that must not be answered wait this long. */
const ANSWERED_MS = 20_000;
const UNANSWERED_MS = 1_500;

export function sql92Suite(name: string, setup: () => Promise<Sql92Target>): void {
  describe(name, () => {
    let target: Sql92Target;
    let requester: Producer;

    before(async () => {
      target = await setup();
      requester = new Producer({ nameServer: target.nameServer, group: unique("sql_req") });
      await requester.start();
    });

    after(async () => {
      await requester?.close();
      await target?.close();
    });

    async function responder(topic: string, sql: string, seen: MessageExt[]) {
      await target.createTopic(topic);
      const consumer = new PushConsumer({
        nameServer: target.nameServer,
        group: unique("sql_resp"),
        consumeFrom: "first",
      });
      consumer.subscribe(topic, { sql }, (msg) => {
        seen.push(msg);
        return `ok ${bodyText(msg)}`;
      });
      await consumer.start();
      return consumer;
    }

    /** Request each case; resolves with the reply text, or "timeout". */
    function ask(
      topic: string,
      cases: { body: string; tags?: string; keys?: string; properties?: Record<string, string> }[],
      timeout: number,
    ): Promise<string[]> {
      return Promise.all(cases.map(async (c) => {
        try {
          const reply = await requester.request({ topic, ...c }, { timeout });
          return bodyText(reply);
        } catch (err) {
          if (err instanceof RequestTimeoutError) return "timeout";
          throw err;
        }
      }));
    }

    test("a responder subscribed with { sql } answers only the requests whose properties match", async () => {
      const topic = unique("sql_rr");
      const seen: MessageExt[] = [];
      const consumer = await responder(topic, "n > 5 AND region IN ('eu','us')", seen);
      try {
        const unmatched = ask(topic, [
          { body: "asia", properties: { n: "6", region: "asia" } },
          { body: "small", properties: { n: "5", region: "eu" } },
          { body: "no-n", properties: { region: "eu" } },
          { body: "not-a-number", properties: { n: "six", region: "us" } },
          { body: "none" },
        ], UNANSWERED_MS);
        const matched = ask(topic, [
          { body: "six-eu", properties: { n: "6", region: "eu" } },
          { body: "nine-us", properties: { n: "9", region: "us" } },
          { body: "big", properties: { n: "2000000000", region: "eu" } },
        ], ANSWERED_MS);
        assert.deepEqual(await matched, ["ok six-eu", "ok nine-us", "ok big"]);
        assert.deepEqual(await unmatched, Array(5).fill("timeout"));
        assert.deepEqual(seen.map(bodyText).sort(), ["big", "nine-us", "six-eu"]);
      } finally {
        await consumer.close();
      }
    });

    test("system properties (TAGS, KEYS) are properties too, and the tag list is not applied", async () => {
      const topic = unique("sql_tags");
      const seen: MessageExt[] = [];
      const consumer = await responder(
        topic,
        "(TAGS = 'paid' OR TAGS = 'refunded') AND KEYS IS NOT NULL AND NOT (note CONTAINS 'test')",
        seen,
      );
      try {
        const unmatched = ask(topic, [
          { body: "other-tag", tags: "created", keys: "k1" },
          { body: "no-keys", tags: "paid" },
          { body: "test-note", tags: "paid", keys: "k2", properties: { note: "a test order" } },
        ], UNANSWERED_MS);
        const matched = ask(topic, [
          { body: "paid", tags: "paid", keys: "k3" },
          { body: "refunded", tags: "refunded", keys: "k4", properties: { note: "real" } },
        ], ANSWERED_MS);
        assert.deepEqual(await matched, ["ok paid", "ok refunded"]);
        assert.deepEqual(await unmatched, ["timeout", "timeout", "timeout"]);
        assert.deepEqual(seen.map(bodyText).sort(), ["paid", "refunded"]);
      } finally {
        await consumer.close();
      }
    });

    test("an expression that does not compile fails subscribe() with its position", () => {
      const consumer = new PushConsumer({ nameServer: target.nameServer, group: unique("bad") });
      assert.throws(
        () => consumer.subscribe("T", { sql: "n > 5 AND region IN ('eu', us)" }, () => {}),
        (err) =>
          err instanceof FilterExpressionError && err.reason === "syntax" && err.position === 27,
      );
      assert.throws(() => consumer.subscribe("T", { sql: 5 } as never, () => {}), /sql: string/);
    });
  });
}
