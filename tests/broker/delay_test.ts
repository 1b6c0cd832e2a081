import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualTimers } from "../../src/remoting/timers.ts";
import {
  DELAY_LEVELS,
  DELAY_OFFSET_GROUP,
  delayLevelMillis,
  DelayService,
} from "../../src/broker/delay.ts";
import { MemoryStore } from "../../src/broker/store/memory_store.ts";
import type { PutMessageInput, PutResult } from "../../src/broker/store/types.ts";
import { RecordingLogger } from "./_helpers.ts";

const host = { address: "127.0.0.1", port: 9876 };

function parked(
  level: number,
  realTopic: string,
  extra: Record<string, string> = {},
): PutMessageInput {
  return {
    topic: "SCHEDULE_TOPIC_XXXX",
    queueId: level - 1,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: host,
    storeHost: host,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: new Uint8Array([level]),
    properties: { DELAY: String(level), REAL_TOPIC: realTopic, REAL_QID: "0", ...extra },
    tagsCode: 0,
  };
}

describe("DelayService", () => {
  it("uses Java's 18 levels", () => {
    assert.deepEqual(
      DELAY_LEVELS.map((ms) => ms / 1000),
      [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200],
    );
    assert.equal(delayLevelMillis(0), 1000);
  });

  it("delivers each level in store order when due, and levels independently", async () => {
    const timers = new ManualTimers(1_000_000);
    const store = new MemoryStore({ now: () => timers.now() });
    const delay = new DelayService({ store, timers });
    delay.start();
    await store.put(parked(2, "A"));
    delay.notify(1);
    timers.advance(500);
    await store.put(parked(1, "B"));
    delay.notify(0);
    await delay.idle();
    timers.advance(1000); // B is due (1 s after its store time), A is not (5 s)
    await delay.idle();
    assert.deepEqual([store.maxOffset("A", 0), store.maxOffset("B", 0)], [0, 1]);
    timers.advance(3500);
    await delay.idle();
    assert.deepEqual([store.maxOffset("A", 0), store.maxOffset("B", 0)], [1, 1]);
    assert.equal(delay.delivered, 2);
    assert.equal(delay.pending, 0);
    assert.equal(store.queryOffset(DELAY_OFFSET_GROUP, "SCHEDULE_TOPIC_XXXX", 1), 1);
    await delay.close();
  });

  it("resumes from its committed progress without redelivering", async () => {
    const timers = new ManualTimers(1_000_000);
    const store = new MemoryStore({ now: () => timers.now() });
    const first = new DelayService({ store, timers });
    first.start();
    await store.put(parked(1, "A"));
    await store.put(parked(1, "A"));
    first.notify(0);
    timers.advance(1000);
    await first.idle();
    await first.close();
    assert.equal(store.maxOffset("A", 0), 2);
    await store.put(parked(1, "A"));
    const second = new DelayService({ store, timers });
    second.start();
    timers.advance(1000);
    await second.idle();
    assert.equal(store.maxOffset("A", 0), 3, "only the new message");
    await second.close();
  });

  it("skips a parked message without REAL_TOPIC, and retries a failed delivery", async () => {
    const timers = new ManualTimers(1_000_000);
    const store = new MemoryStore({ now: () => timers.now() });
    const logger = new RecordingLogger();
    let failures = 1;
    const deliver = (m: PutMessageInput): Promise<PutResult> => {
      if (failures-- > 0) return Promise.reject(new Error("disk on fire"));
      return store.put(m);
    };
    const delay = new DelayService({ store, timers, logger, deliver, retryDelay: 2000 });
    delay.start();
    const broken = parked(1, "X");
    delete broken.properties.REAL_TOPIC;
    await store.put(broken);
    await store.put(parked(1, "A"));
    delay.notify(0);
    timers.advance(1000);
    await delay.idle();
    assert.equal(store.maxOffset("A", 0), 0);
    assert.ok(logger.messages("warn").includes("delay: delivery failed, retrying"));
    assert.ok(logger.messages("error").some((m) => m.includes("without REAL_TOPIC")));
    timers.advance(2000);
    await delay.idle();
    assert.equal(store.maxOffset("A", 0), 1);
    await delay.close();
  });
});
