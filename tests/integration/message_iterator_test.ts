// consumer.messages(): a topic's messages as an async iterator, through the
// embedded broker over loopback TCP, on Deno, Bun and Node: every message in
// order per queue, a bounded buffer a stalled loop cannot overrun, replies
// from the loop, a break that leaves what was not done for the next
// iterator, close() and start failures ending the iteration, and an
// AbortSignal ending it as break does, the loop throwing its reason.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyText,
  ConnectionError,
  InvalidArgumentError,
  type IteratedMessage,
  Producer,
  PushConsumer,
} from "../../mod.ts";
import { type BrokerHandle, startBroker } from "../../src/broker/mod.ts";
import { sleep, until } from "../_wait.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

/** How a promise settled, once it did (waiting for the event, not a time). */
async function settled<T>(
  promise: Promise<T>,
  what: string,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then((value) => outcome = { ok: true, value }, (error) => outcome = { ok: false, error });
  await until(() => outcome !== undefined, what);
  return outcome!;
}

/** A signal that counts the abort listeners added to it and not removed. */
function countingSignal(controller: AbortController): { signal: AbortSignal; listeners(): number } {
  const signal = controller.signal;
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListener, options?: unknown) => {
    if (type === "abort") listeners++;
    add(type, listener, options as AddEventListenerOptions);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListener, options?: unknown) => {
    if (type === "abort") listeners--;
    remove(type, listener, options as EventListenerOptions);
  }) as typeof signal.removeEventListener;
  return { signal, listeners: () => listeners };
}

/** Offsets of each queue in the order the loop got them must increase. */
function assertOrderPerQueue(messages: readonly IteratedMessage[]): void {
  const last = new Map<string, number>();
  for (const m of messages) {
    const key = `${m.brokerName}/${m.queueId}`;
    const previous = last.get(key);
    assert.ok(previous === undefined || m.queueOffset > previous, `queue ${key} out of order`);
    last.set(key, m.queueOffset);
  }
}

describe("consumer.messages() through the embedded broker", () => {
  let broker: BrokerHandle;
  let producer: Producer;

  before(async () => {
    broker = await startBroker({ port: 0 });
    producer = new Producer({ nameServer: broker.address, group: unique("producer") });
    await producer.start();
  });

  after(async () => {
    await producer.close();
    await broker.close();
  });

  const consumer = (group: string) =>
    new PushConsumer({
      nameServer: broker.address,
      group,
      consumeFrom: "first",
      offsetPersistInterval: 200,
    });

  /** A consumer of `group` started now gets only what is sent now: all before was done. */
  async function nothingLeftFor(group: string, topic: string): Promise<void> {
    const again: string[] = [];
    const c = consumer(group);
    c.subscribe(topic, "*", (m) => void again.push(bodyText(m)));
    await producer.send({ topic, body: "last" });
    await c.start();
    await until(() => again.includes("last"), "the new consumer");
    assert.deepEqual(again, ["last"]);
    await c.close();
  }

  test("every message, in order per queue; the first next() starts the consumer", async () => {
    const topic = unique("it_all");
    const n = 40;
    for (let i = 0; i < n; i++) await producer.send({ topic, body: `m-${i}` });
    const c = consumer(unique("g"));
    const got: IteratedMessage[] = [];
    for await (const msg of c.messages(topic)) {
      got.push(msg);
      if (got.length === n) {
        await msg.ack(); // done, although the loop does not ask for the next one
        break;
      }
    }
    assert.deepEqual(
      got.map((m) => bodyText(m)).sort(),
      Array.from({ length: n }, (_, i) => `m-${i}`).sort(),
    );
    assertOrderPerQueue(got);
    assert.equal(c.stats.handled, n);
    assert.equal(c.assignedQueues.filter((q) => q.topic === topic).length, 0, "break unsubscribed");
    await c.close();
  });

  test("backpressure: a stalled loop holds at most bufferSize messages", async () => {
    const topic = unique("it_bound");
    const n = 60;
    const bufferSize = 4;
    for (let i = 0; i < n; i++) await producer.send({ topic, body: `m-${i}` });
    const c = consumer(unique("g"));
    const messages = c.messages(topic, "*", { bufferSize });
    const first = await messages.next(); // the loop takes one and stalls
    assert.equal(first.done, false);
    await until(() => messages.buffered === bufferSize, "the buffer to fill");
    await sleep(500); // a stalled loop: nothing more may be pulled
    assert.ok(c.stats.received <= bufferSize, `received ${c.stats.received} > ${bufferSize}`);
    assert.equal(messages.buffered, bufferSize);
    const got: IteratedMessage[] = [first.value as IteratedMessage];
    let most = 0;
    for await (const msg of messages) {
      got.push(msg);
      most = Math.max(most, messages.buffered, c.stats.received - c.stats.handled);
      if (got.length === n) {
        await msg.ack();
        break;
      }
    }
    assert.ok(most <= bufferSize, `held ${most} > ${bufferSize}`);
    assert.equal(new Set(got.map((m) => bodyText(m))).size, n);
    assertOrderPerQueue(got);
    await c.close();
  });

  test("break leaves the message held and the buffered ones for the next iterator", async () => {
    const topic = unique("it_break");
    const group = unique("g");
    const n = 20;
    for (let i = 0; i < n; i++) await producer.send({ topic, body: `m-${i}` });
    const c = consumer(group);
    const done: string[] = [];
    let held = "";
    for await (const msg of c.messages(topic, "*", { bufferSize: 8 })) {
      if (held) done.push(held); // asking for this one finished the one before
      held = bodyText(msg);
      if (done.length === 4) break; // `held` is not done: neither acked nor replied
    }
    const rest = new Set<string>();
    for await (const msg of c.messages(topic)) {
      rest.add(bodyText(msg));
      if (rest.size === n - done.length) {
        await msg.ack();
        break;
      }
    }
    assert.ok(rest.has(held), "the message held at the break comes again");
    for (const body of done) assert.ok(!rest.has(body), `${body} was done, yet came again`);
    await c.close();
    await nothingLeftFor(group, topic);
  });

  test("the loop answers requests with msg.reply() or consumer.reply()", async () => {
    const topic = unique("it_rpc");
    const c = consumer(unique("g"));
    const loop = (async () => {
      let i = 0;
      for await (const msg of c.messages(topic)) {
        assert.equal(msg.isRequest, true);
        assert.ok(msg.deadline > Date.now());
        if (i++ % 2 === 0) await msg.reply(`r:${bodyText(msg)}`);
        else await c.reply(msg, `r:${bodyText(msg)}`);
      }
    })();
    const replies = await Promise.all(
      Array.from(
        { length: 6 },
        (_, i) => producer.request({ topic, body: `q-${i}` }, { timeout: 15_000 }),
      ),
    );
    assert.deepEqual(
      replies.map((r) => bodyText(r)).sort(),
      Array.from({ length: 6 }, (_, i) => `r:q-${i}`).sort(),
    );
    await c.close(); // ends the loop
    await loop;
    assert.equal(c.stats.replied, 6);
  });

  test("close() ends a loop waiting for messages; buffered messages stay for the group", async () => {
    const topic = unique("it_close");
    const group = unique("g");
    for (let i = 0; i < 6; i++) await producer.send({ topic, body: `m-${i}` });
    const c = consumer(group);
    const messages = c.messages(topic, "*", { bufferSize: 8 });
    const first = await messages.next();
    assert.equal(first.done, false);
    await until(() => messages.buffered === 6, "all six to be buffered");
    const closing = c.close({ drainTimeout: 5000 });
    // The loop asks for the next message: the one it held is done, the iteration ends.
    assert.deepEqual(await messages.next(), { done: true, value: undefined });
    await closing;
    const again = new Set<string>();
    const c2 = consumer(group);
    c2.subscribe(topic, "*", (m) => void again.add(bodyText(m)));
    await c2.start();
    await until(() => again.size === 5, "the five not done");
    assert.ok(!again.has(bodyText(first.value as IteratedMessage)));
    await c2.close();
  });

  test("an aborted signal ends a loop waiting for a message: it throws the reason, the topic is left", async () => {
    const topic = unique("it_abort_wait");
    await producer.send({ topic, body: "first" });
    const c = consumer(unique("g"));
    const controller = new AbortController();
    const messages = c.messages(topic, "*", { signal: controller.signal });
    const got: string[] = [];
    const loop = (async () => {
      for await (const msg of messages) got.push(bodyText(msg));
    })();
    // The loop asked for the next message (the first is done) and waits.
    await until(() => c.stats.handled === 1, "the loop to wait for a second message");
    const reason = new Error("stop iterating");
    controller.abort(reason);
    const outcome = await settled(loop, "the loop to end");
    assert.deepEqual(outcome, { ok: false, error: reason });
    assert.deepEqual(got, ["first"]);
    assert.equal(messages.ended, true);
    assert.deepEqual(await messages.next(), { done: true, value: undefined });
    assert.equal(c.assignedQueues.filter((q) => q.topic === topic).length, 0, "unsubscribed");
    await c.messages(topic).return(); // the topic is free for another iterator
    await c.close();
  });

  test("an abort mid-stream leaves the messages not done for the next iterator and consumer", async () => {
    const topic = unique("it_abort_mid");
    const group = unique("g");
    const n = 20;
    for (let i = 0; i < n; i++) await producer.send({ topic, body: `m-${i}` });
    const c = consumer(group);
    const controller = new AbortController();
    const messages = c.messages(topic, "*", { bufferSize: 8, signal: controller.signal });
    const done: string[] = [];
    let held = "";
    const outcome = await settled(
      (async () => {
        for await (const msg of messages) {
          if (held) done.push(held); // asking for this one finished the one before
          held = bodyText(msg);
          if (done.length === 4) {
            // Some are buffered besides the one held: they stay not done too.
            await until(() => messages.buffered > 1, "messages to be buffered");
            controller.abort("enough");
          }
        }
      })(),
      "the loop to end",
    );
    assert.deepEqual(outcome, { ok: false, error: "enough" });
    done.push(held); // the loop asked for the next one after the abort: done
    assert.equal(c.stats.handled, 5);
    // A new iterator of the consumer gets every message not done, the buffered ones included.
    const rest = new Set<string>();
    const restLoop = settled(
      (async () => {
        for await (const msg of c.messages(topic)) {
          rest.add(bodyText(msg));
          if (rest.size === n - done.length) {
            await msg.ack();
            break;
          }
        }
      })(),
      "the messages not done to come again",
    );
    assert.deepEqual(await restLoop, { ok: true, value: undefined });
    for (const body of done) assert.ok(!rest.has(body), `${body} was done, yet came again`);
    await c.close();
    await nothingLeftFor(group, topic);
  });

  test("a signal aborted already: the first next() rejects with its reason, nothing is subscribed", async () => {
    const topic = unique("it_abort_early");
    const c = consumer(unique("g"));
    const reason = new Error("too late");
    const messages = c.messages(topic, "*", { signal: AbortSignal.abort(reason) });
    assert.equal(messages.ended, true);
    assert.deepEqual(await settled(messages.next(), "next()"), { ok: false, error: reason });
    assert.deepEqual(await messages.next(), { done: true, value: undefined });
    await messages.return();
    // Nothing subscribed: the consumer has no topic to start with.
    await assert.rejects(c.start(), /subscribe to at least one topic/);
    await c.close();
  });

  test("the abort listener goes when the iteration ends otherwise", async () => {
    const topic = unique("it_abort_listener");
    await producer.send({ topic, body: "one" });
    const c = consumer(unique("g"));
    const broke = countingSignal(new AbortController());
    for await (const _ of c.messages(topic, "*", { signal: broke.signal })) break;
    assert.equal(broke.listeners(), 0, "after break");
    const closed = countingSignal(new AbortController());
    const messages = c.messages(topic, "*", { signal: closed.signal });
    assert.equal(closed.listeners(), 1);
    await c.close();
    assert.equal(closed.listeners(), 0, "after close()");
    assert.deepEqual(await messages.next(), { done: true, value: undefined });
    const failed = countingSignal(new AbortController());
    const unreachable = new PushConsumer({
      nameServer: "127.0.0.1:1",
      group: unique("g"),
      rpcTimeout: 2000,
    });
    const failing = unreachable.messages(unique("it_fail"), "*", { signal: failed.signal });
    await assert.rejects(failing.next(), (e) => e instanceof ConnectionError);
    assert.equal(failed.listeners(), 0, "after a failed start");
  });

  test("a signal option that is not an AbortSignal is an InvalidArgumentError", async () => {
    const topic = unique("it_abort_invalid");
    const c = consumer(unique("g"));
    for (const signal of ["stop", { aborted: false, addEventListener() {} }, null]) {
      assert.throws(
        () => c.messages(topic, "*", { signal: signal as never }),
        (e) => e instanceof InvalidArgumentError && e.path === "signal",
      );
    }
    await c.messages(topic).return(); // nothing was subscribed: the topic is free
  });

  test("a consumer that cannot start fails the first next()", async () => {
    const c = new PushConsumer({ nameServer: "127.0.0.1:1", group: unique("g"), rpcTimeout: 2000 });
    const messages = c.messages(unique("it_fail"));
    await assert.rejects(messages.next(), (e) => e instanceof ConnectionError);
    assert.deepEqual(await messages.next(), { done: true, value: undefined });
  });
});
