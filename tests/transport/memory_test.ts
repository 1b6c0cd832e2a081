// In-memory pair and network specifics; the shared contract is checked for
// the memory network in transport_test.ts too.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConnectionClosedError, ConnectionError } from "../../src/errors.ts";
import { concat } from "../../src/bytes.ts";
import { createMemoryNetwork, memoryPair } from "../../src/transport/memory.ts";
import { readAll, sleep } from "./_support.ts";

describe("memoryPair()", () => {
  it("copies written chunks, so the writer may reuse its buffer", async () => {
    const [a, b] = memoryPair();
    const buffer = new Uint8Array([1, 2, 3]);
    const writer = a.writable.getWriter();
    await writer.write(buffer);
    buffer.fill(9);
    await writer.write(buffer);
    await writer.close();
    assert.deepEqual(await readAll(b.readable), new Uint8Array([1, 2, 3, 9, 9, 9]));
    await b.closed;
  });

  it("delivers a large write in segments of at most 64 KiB", async () => {
    const [a, b] = memoryPair();
    const writer = a.writable.getWriter();
    const write = writer.write(new Uint8Array(200 * 1024));
    const sizes: number[] = [];
    const reader = b.readable.getReader();
    while (sizes.reduce((x, y) => x + y, 0) < 200 * 1024) {
      sizes.push((await reader.read()).value!.byteLength);
    }
    await write;
    assert.deepEqual(sizes, [65536, 65536, 65536, 8192]);
    await a.close();
    await b.closed;
  });

  it("keeps a write pending until the reader makes room", async () => {
    const [a, b] = memoryPair();
    let done = false;
    const write = a.writable.getWriter().write(new Uint8Array(256 * 1024)).then(() => done = true);
    await sleep(20);
    assert.equal(done, false);
    const reader = b.readable.getReader();
    let received = 0;
    while (received < 256 * 1024) received += (await reader.read()).value!.byteLength;
    await write;
    assert.equal(done, true);
    await b.close();
    await a.closed;
  });

  it("reports the given addresses, mirrored on the second end", async () => {
    const [a, b] = memoryPair({
      localAddr: { hostname: "10.0.0.1", port: 40000 },
      remoteAddr: { hostname: "10.0.0.2", port: 10911 },
    });
    assert.deepEqual(a.localAddr, { hostname: "10.0.0.1", port: 40000 });
    assert.deepEqual(a.remoteAddr, { hostname: "10.0.0.2", port: 10911 });
    assert.deepEqual(b.localAddr, a.remoteAddr);
    assert.deepEqual(b.remoteAddr, a.localAddr);
    await a.close();
    const err = await a.writable.getWriter().write(new Uint8Array(1)).catch((e) => e);
    assert.ok(err instanceof ConnectionClosedError);
    assert.equal(err.address, "10.0.0.2:10911");
    await b.closed;
  });

  it("a peer's close fails a write that waits for room", async () => {
    const [a, b] = memoryPair();
    const write = a.writable.getWriter().write(new Uint8Array(1024 * 1024));
    await sleep(10);
    await b.close();
    await assert.rejects(write, ConnectionClosedError);
    await a.closed;
  });

  it("delivers any sequence of writes unchanged, however it is read", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 100_000 }), { maxLength: 20 }),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 10 }),
        async (chunks, pauses) => {
          const [a, b] = memoryPair();
          const writer = a.writable.getWriter();
          const writing = (async () => {
            for (const chunk of chunks) await writer.write(chunk);
            await writer.close();
          })();
          const received: Uint8Array[] = [];
          let i = 0;
          for await (const chunk of b.readable) {
            received.push(chunk);
            const pause = pauses[i++ % pauses.length]!;
            if (pause) await sleep(pause);
          }
          await writing;
          assert.deepEqual(concat(received), concat(chunks));
          await b.closed;
        },
      ),
      { numRuns: 40, interruptAfterTimeLimit: 5000 },
    );
  });
});

describe("createMemoryNetwork()", () => {
  it("connects to a listener by hostname and port", async () => {
    const network = createMemoryNetwork();
    const listener = await network.listen({ hostname: "broker-a", port: 10911 });
    assert.deepEqual(listener.addr, { hostname: "broker-a", port: 10911 });
    const client = await network.connect({ hostname: "broker-a", port: 10911 });
    const server = (await listener[Symbol.asyncIterator]().next()).value!;
    assert.deepEqual(client.remoteAddr, { hostname: "broker-a", port: 10911 });
    assert.deepEqual(server.remoteAddr, client.localAddr);
    await assert.rejects(network.connect({ hostname: "broker-b", port: 10911 }), ConnectionError);
    await client.close();
    await server.closed;
    await listener.close();
  });

  it("keeps networks apart and picks distinct free ports", async () => {
    const one = createMemoryNetwork();
    const two = createMemoryNetwork();
    const first = await one.listen({});
    const second = await one.listen({});
    assert.notEqual(first.addr.port, second.addr.port);
    await assert.rejects(
      two.connect({ hostname: "127.0.0.1", port: first.addr.port }),
      /connection refused/,
    );
    await assert.rejects(one.listen({ port: first.addr.port }), /address already in use/);
    await first.close();
    await second.close();
    await assert.rejects(
      one.connect({ hostname: "127.0.0.1", port: first.addr.port }),
      ConnectionError,
    );
    const again = await one.listen({ port: first.addr.port });
    await again.close();
  });
});
