import { test } from "node:test";
import assert from "node:assert/strict";
import { CancelRegistry } from "../../src/client/cancel_registry.ts";
import { RequestCancelledError } from "../../src/errors.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";

test("CancelRegistry aborts a running handler's signal once, with RequestCancelledError", () => {
  const registry = new CancelRegistry({ timers: new ManualTimers() });
  const controller = new AbortController();
  const done = registry.track("c1", controller, "rpc");
  registry.cancel("c1");
  registry.cancel("c1"); // a duplicate (both routes) aborts nothing more
  const reason = controller.signal.reason;
  assert.ok(reason instanceof RequestCancelledError);
  assert.equal(reason.correlationId, "c1");
  assert.equal(reason.topic, "rpc");
  assert.deepEqual(registry.stats, { cancelsReceived: 2, handlersCancelled: 1 });
  done();
  assert.equal(registry.isCancelled("c1"), false, "a handled request is not remembered");
});

test("CancelRegistry remembers a cancel for a request not started, once, until it expires", () => {
  const timers = new ManualTimers();
  const registry = new CancelRegistry({ timers, rememberMs: 1000 });
  registry.cancel("early");
  assert.equal(registry.isCancelled("early"), true);
  assert.equal(registry.isCancelled("early"), false, "skipped once, then forgotten");
  registry.cancel("stale");
  timers.advance(1001);
  assert.equal(registry.isCancelled("stale"), false);
});

test("CancelRegistry stays bounded: the oldest remembered cancels go first", () => {
  const registry = new CancelRegistry({ timers: new ManualTimers(), maxRemembered: 3 });
  for (let i = 0; i < 10; i++) registry.cancel(`c${i}`);
  assert.equal(registry.remembered, 3);
  assert.equal(registry.isCancelled("c0"), false);
  assert.equal(registry.isCancelled("c9"), true);
});
