// fromSocketLike(): a socket that already has Web streams gets the transport
// semantics (typed errors, idempotent close, read backpressure).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError, ConnectionError } from "../../src/errors.ts";
import { fromSocketLike } from "../../src/transport/socket_like.ts";
import { readAll, sleep } from "./_support.ts";

/** A fake socket whose input is pulled from `source` and whose output is collected. */
function fakeSocket(source: UnderlyingDefaultSource<Uint8Array>) {
  const written: Uint8Array[] = [];
  let closeCalls = 0;
  let resolveClosed!: () => void;
  const socket = {
    readable: new ReadableStream<Uint8Array>(source, { highWaterMark: 0 }),
    writable: new WritableStream<Uint8Array>({ write: (chunk) => void written.push(chunk) }),
    closed: new Promise<void>((resolve) => resolveClosed = resolve),
    close() {
      closeCalls++;
      resolveClosed();
    },
  };
  return { socket, written, closeCalls: () => closeCalls };
}

describe("fromSocketLike()", () => {
  it("passes bytes both ways and reports the given addresses", async () => {
    const fake = fakeSocket({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2]));
        controller.close();
      },
    });
    const transport = fromSocketLike(fake.socket, {
      localAddr: { hostname: "10.0.0.1", port: 50000 },
      remoteAddr: { hostname: "broker", port: 10911 },
    });
    assert.deepEqual(transport.remoteAddr, { hostname: "broker", port: 10911 });
    assert.deepEqual(transport.localAddr, { hostname: "10.0.0.1", port: 50000 });
    await transport.writable.getWriter().write(new Uint8Array([3])).catch(() => {});
    assert.deepEqual(await readAll(transport.readable), new Uint8Array([1, 2]));
    await transport.closed; // the socket's end closed the transport
    assert.equal(fake.closeCalls(), 1);
  });

  it("turns a failing socket into a ConnectionError naming the peer", async () => {
    const failure = new Error("boom");
    const fake = fakeSocket({ pull: (controller) => controller.error(failure) });
    const transport = fromSocketLike(fake.socket, { remoteAddr: { hostname: "::1", port: 9 } });
    const err = await readAll(transport.readable).catch((e) => e);
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.address, "[::1]:9");
    assert.equal(err.cause, failure);
    await transport.closed;
    const late = await transport.writable.getWriter().write(new Uint8Array(1)).catch((e) => e);
    assert.ok(late instanceof ConnectionClosedError);
  });

  it("stops pulling from the socket while its readable is full", async () => {
    let pulls = 0;
    const fake = fakeSocket({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const transport = fromSocketLike(fake.socket);
    await sleep(50);
    // 64 KiB queue: four 16 KiB chunks, plus at most one read in flight.
    assert.ok(pulls <= 6, `pulled ${pulls} times`);
    const reader = transport.readable.getReader();
    for (let i = 0; i < 10; i++) await reader.read();
    await sleep(10);
    assert.ok(pulls >= 10);
    await transport.close();
    assert.equal(transport.close(), transport.closed);
    assert.equal(fake.closeCalls(), 1);
    assert.deepEqual(fake.written, []);
  });
});
