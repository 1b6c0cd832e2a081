import { test } from "node:test";
import assert from "node:assert/strict";
import { RemotingConnection } from "../../src/remoting/connection.ts";
import { RemotingClient } from "../../src/remoting/remoting_client.ts";
import { PendingTable } from "../../src/remoting/pending.ts";
import { ManualTimers } from "../../src/remoting/timers.ts";
import { memoryPair } from "../../src/transport/memory.ts";
import { defaultConnect, defaultListen } from "../../src/transport/default.ts";
import {
  createOneway,
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../src/codec/remoting_command.ts";
import { encodeCommand } from "../../src/codec/frame.ts";
import { ResponseCode, SerializeType } from "../../src/codec/codes.ts";
import {
  ClientClosedError,
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  FrameTooLargeError,
  RemotingTimeoutError,
} from "../../src/errors.ts";
import type { Transport } from "../../src/transport/types.ts";
import { concat } from "../../src/bytes.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Raw access to the peer end: write bytes, read bytes. */
function raw(transport: Transport) {
  const writer = transport.writable.getWriter();
  const reader = transport.readable.getReader();
  let buffered = new Uint8Array(0);
  return {
    write: (bytes: Uint8Array) => writer.write(bytes),
    async readFrame(): Promise<Uint8Array> {
      for (;;) {
        if (buffered.length >= 4) {
          const length = new DataView(buffered.buffer, buffered.byteOffset).getInt32(0);
          if (buffered.length >= length + 4) {
            const frame = buffered.slice(0, length + 4);
            buffered = buffered.slice(length + 4);
            return frame;
          }
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("peer closed");
        const next = new Uint8Array(buffered.length + value.length);
        next.set(buffered);
        next.set(value, buffered.length);
        buffered = next;
      }
    },
    async close() {
      writer.releaseLock();
      reader.releaseLock();
      await transport.close();
    },
  };
}

test("RemotingConnection correlates interleaved responses by opaque", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, {
    onRequest: async (request) => {
      // Answer in reverse order of arrival.
      await sleep(request.extFields.delay === "long" ? 30 : 1);
      return createResponse(request, 0, { echo: request.extFields.n });
    },
  });
  const client = new RemotingConnection(a);
  const answers = await Promise.all(
    ["long", "short", "short", "long"].map((delay, i) =>
      client.invoke(createRequest(34, { n: i, delay }), { timeout: 1000 })
    ),
  );
  assert.deepEqual(answers.map((r) => r.extFields.echo), ["0", "1", "2", "3"]);
  await client.close();
  await server.closed;
});

test("RemotingConnection coalesces frames written in one tick into one transport write", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, { onRequest: (r) => createResponse(r, 0) });
  const client = new RemotingConnection(a);
  await Promise.all(
    Array.from({ length: 50 }, () => client.invoke(createRequest(34), { timeout: 1000 })),
  );
  const stats = client.stats;
  assert.equal(stats.framesOut, 50);
  assert.ok(stats.writes < 50, `expected coalesced writes, got ${stats.writes}`);
  assert.ok(stats.writes >= 1);
  await client.close();
  await server.closed;
});

test("RemotingConnection writes the responses of one event-loop turn in one write, however many microtasks apart", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, {
    onRequest: async (request) => {
      // Handlers finish at different depths of the microtask queue, as real ones do.
      for (let i = 0; i < request.opaque; i++) await null;
      return createResponse(request, 0);
    },
  });
  const peer = raw(a);
  const requests = Array.from(
    { length: 20 },
    (_, i) => encodeCommand(createRequest(34, {}, { opaque: i + 1 })),
  );
  await peer.write(concat(requests)); // one chunk: read and dispatched in one turn
  const opaques: number[] = [];
  for (let i = 0; i < 20; i++) {
    const frame = await peer.readFrame();
    opaques.push(Number(/"opaque":(\d+)/.exec(new TextDecoder().decode(frame))![1]));
  }
  assert.deepEqual(opaques, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(server.stats.framesOut, 20);
  assert.equal(server.stats.writes, 1);
  await peer.close();
  await server.closed;
});

test("RemotingConnection answers SYSTEM_ERROR when a handler's response cannot be encoded", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, {
    maxFrameSize: 1024,
    onRequest: (request) => createResponse(request, 0, undefined, { body: new Uint8Array(4096) }),
  });
  const client = new RemotingConnection(a);
  const response = await client.invoke(createRequest(34), { timeout: 1000 });
  assert.equal(response.code, ResponseCode.SYSTEM_ERROR);
  assert.match(response.remark ?? "", /FrameTooLargeError/);
  await client.close();
  await server.closed;
});

test("RemotingConnection: serializeType picks the requests' header, responses take their request's", async () => {
  const [a, b] = memoryPair();
  const seen: string[] = [];
  const typeName = (t: number) => (t === SerializeType.ROCKETMQ ? "ROCKETMQ" : "JSON");
  // The "server" speaks to the client in the client's serialization.
  const server = new RemotingConnection(b, {
    serializeType: "peer",
    onRequest: (request) => {
      seen.push(`${request.code} ${typeName(request.serializeType)}`);
      return createResponse(request, 0, { n: "1" });
    },
  });
  const client = new RemotingConnection(a, {
    serializeType: SerializeType.ROCKETMQ,
    onRequest: (request) => {
      seen.push(`push ${request.code} ${typeName(request.serializeType)}`);
      return createResponse(request, 0);
    },
  });
  const answer = await client.invoke(createRequest(34, { topic: "T" }), { timeout: 1000 });
  assert.equal(typeName(answer.serializeType), "ROCKETMQ");
  // What the binary header cannot carry goes in JSON: an empty value, a code above 16 bits.
  const empty = await client.invoke(createRequest(35, { topic: "" }), { timeout: 1000 });
  assert.equal(typeName(empty.serializeType), "JSON");
  await client.invoke(createRequest(200052, { topic: "T" }), { timeout: 1000 });
  // The server's own request: in what the client last used (JSON, for 200052).
  await server.invoke(createRequest(40, { consumerGroup: "g" }), { timeout: 1000 });
  await client.invoke(createRequest(36, { topic: "T" }), { timeout: 1000 });
  await server.invoke(createRequest(40, { consumerGroup: "g" }), { timeout: 1000 });
  assert.deepEqual(seen, [
    "34 ROCKETMQ",
    "35 JSON",
    "200052 JSON",
    "push 40 JSON",
    "36 ROCKETMQ",
    "push 40 ROCKETMQ",
  ]);
  await client.close();
  await server.closed;
});

test("RemotingConnection without serializeType sends requests as they are", async () => {
  const [a, b] = memoryPair();
  const types: number[] = [];
  const server = new RemotingConnection(b, {
    onRequest: (request) => {
      types.push(request.serializeType);
      return createResponse(request, 0);
    },
  });
  const client = new RemotingConnection(a);
  await client.invoke(createRequest(34), { timeout: 1000 });
  await client.invoke(createRequest(34, {}, { serializeType: SerializeType.ROCKETMQ }), {
    timeout: 1000,
  });
  assert.deepEqual(types, [SerializeType.JSON, SerializeType.ROCKETMQ]);
  await client.close();
  await server.closed;
});

test("RemotingConnection answers unknown requests with REQUEST_CODE_NOT_SUPPORTED", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b); // no handler
  const client = new RemotingConnection(a);
  const response = await client.invoke(createRequest(9999), { timeout: 1000 });
  assert.equal(response.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  assert.equal(response.remark, " request type 9999 not supported");
  await client.close();
  await server.closed;
});

test("RemotingConnection turns a handler's throw into SYSTEM_ERROR and keeps serving", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, {
    onRequest: (request) => {
      if (request.code === 1) throw new TypeError("bad header");
      if (request.code === 2) return Promise.reject(new RangeError("async bad"));
      return createResponse(request, 0);
    },
  });
  const client = new RemotingConnection(a);
  const sync = await client.invoke(createRequest(1), { timeout: 1000 });
  assert.equal(sync.code, ResponseCode.SYSTEM_ERROR);
  assert.equal(sync.remark, "TypeError: bad header");
  const rejected = await client.invoke(createRequest(2), { timeout: 1000 });
  assert.equal(rejected.remark, "RangeError: async bad");
  assert.equal((await client.invoke(createRequest(3), { timeout: 1000 })).code, 0);
  await client.close();
  await server.closed;
});

test("RemotingConnection never answers oneway requests, even when the handler returns one", async () => {
  const [a, b] = memoryPair();
  const seen: number[] = [];
  const server = new RemotingConnection(b, {
    onRequest: (request) => {
      seen.push(request.opaque);
      return createResponse(request, 0);
    },
  });
  const peer = raw(a);
  await peer.write(encodeCommand(createOneway(15, { x: 1 }, { opaque: 7 })));
  await peer.write(encodeCommand(createRequest(34, {}, { opaque: 8 })));
  const frame = await peer.readFrame();
  const length = new DataView(frame.buffer).getInt32(0);
  assert.equal(frame.length, length + 4);
  // The only response is for opaque 8.
  assert.deepEqual(seen, [7, 8]);
  assert.match(new TextDecoder().decode(frame), /"opaque":8/);
  await peer.close();
  await server.closed;
});

test("RemotingConnection times a call out with RemotingTimeoutError and counts the late answer", async () => {
  const timers = new ManualTimers();
  const [a, b] = memoryPair();
  const held: RemotingCommand[] = [];
  const server = new RemotingConnection(b, {
    onRequest: (request) => {
      held.push(request);
      return undefined; // answer later
    },
  });
  const client = new RemotingConnection(a, { timers });
  const call = client.invoke(createRequest(11), { timeout: 500 });
  while (held.length === 0) await sleep(1);
  timers.advance(500);
  const err = await call.catch((e) => e);
  assert.ok(err instanceof RemotingTimeoutError);
  assert.equal(err.requestCode, 11);
  await server.send(createResponse(held[0]!, 0));
  await sleep(10);
  assert.equal(client.stats.late, 1);
  assert.equal(client.pendingCalls, 0);
  await client.close();
  await server.closed;
});

test("RemotingConnection fails pending calls with ConnectionClosedError when the peer goes away", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, { onRequest: () => undefined });
  const client = new RemotingConnection(a);
  const calls = [1, 2, 3].map(() => client.invoke(createRequest(11), { timeout: 10_000 }));
  await sleep(10);
  await server.close();
  for (const call of calls) await assert.rejects(call, ConnectionClosedError);
  assert.equal(await client.closed, undefined);
  await assert.rejects(client.invoke(createRequest(34), { timeout: 100 }), ConnectionClosedError);
});

test("RemotingConnection rejects the call whose response frame is malformed, and keeps going", async () => {
  const [a, b] = memoryPair();
  const client = new RemotingConnection(a);
  const peer = raw(b);
  const call = client.invoke(createRequest(105, { topic: "T" }), { timeout: 1000 });
  const request = await peer.readFrame();
  const opaque = Number(/"opaque":(\d+)/.exec(new TextDecoder().decode(request))![1]);
  // A JSON header that parses only as far as the opaque: framing intact.
  const header = new TextEncoder().encode(`{"code":"x","opaque":${opaque},"flag":1}`);
  const frame = new Uint8Array(8 + header.length);
  new DataView(frame.buffer).setInt32(0, 4 + header.length);
  new DataView(frame.buffer).setInt32(4, header.length);
  frame.set(header, 8);
  await peer.write(frame);
  const err = await call.catch((e) => e);
  assert.ok(err instanceof CodecError, String(err));
  assert.equal(client.isClosed, false);
  await peer.close();
  await client.closed;
});

test("RemotingConnection closes on a frame above the maximum, before reading it", async () => {
  const [a, b] = memoryPair();
  const client = new RemotingConnection(a, { maxFrameSize: 1024 });
  const peer = raw(b);
  const call = client.invoke(createRequest(34), { timeout: 5000 });
  await peer.readFrame();
  await peer.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff])); // declares ~2 GiB
  const err = await call.catch((e) => e);
  assert.ok(err instanceof ConnectionClosedError);
  assert.ok(err.cause instanceof FrameTooLargeError, String(err.cause));
  assert.ok((await client.closed) instanceof FrameTooLargeError);
  await peer.close();
});

test("RemotingConnection refuses to send a frame above the maximum without writing anything", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, { onRequest: (r) => createResponse(r, 0) });
  const client = new RemotingConnection(a, { maxFrameSize: 1024 });
  await assert.rejects(
    client.invoke(createRequest(310, {}, { body: new Uint8Array(2048) }), { timeout: 1000 }),
    FrameTooLargeError,
  );
  assert.equal(client.stats.framesOut, 0);
  assert.equal((await client.invoke(createRequest(34), { timeout: 1000 })).code, 0);
  await client.close();
  await server.closed;
});

test("RemotingConnection: an aborted call rejects with the signal's reason", async () => {
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, { onRequest: () => undefined });
  const client = new RemotingConnection(a);
  const controller = new AbortController();
  const call = client.invoke(createRequest(11), { timeout: 10_000, signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(call, /stop/);
  assert.equal(client.pendingCalls, 0);
  await client.close();
  await server.closed;
});

test("PendingTable: each entry settles once whatever races (answer vs timeout vs abort)", async () => {
  const timers = new ManualTimers();
  const table = new PendingTable<number, string>({ timers });
  const controller = new AbortController();
  const p = table.add(1, {
    timeout: 10,
    signal: controller.signal,
    onTimeout: () => new Error("timeout"),
  });
  timers.advance(10);
  controller.abort("late abort");
  assert.equal(table.settle(1, "late answer"), false);
  await assert.rejects(p, /timeout/);
  assert.deepEqual(table.stats, { answered: 0, timedOut: 1, aborted: 0, late: 1 });
  const second = table.add(2, { timeout: 10, onTimeout: () => 0 });
  assert.throws(() => table.add(2, { timeout: 10, onTimeout: () => 0 }), RangeError);
  table.rejectAll(new Error("closed"));
  await assert.rejects(second, /closed/);
  assert.equal(table.size, 0);
});

test("RemotingClient shares one connection per address and reconnects after it closes", async () => {
  const listener = await defaultListen({ hostname: "127.0.0.1", port: 0 });
  const accepted: RemotingConnection[] = [];
  const serving = (async () => {
    for await (const transport of listener) {
      accepted.push(new RemotingConnection(transport, { onRequest: (r) => createResponse(r, 0) }));
    }
  })();
  const address = `127.0.0.1:${listener.addr.port}`;
  const connects: string[] = [];
  const client = new RemotingClient({
    connect: (options) => {
      connects.push(`${options.hostname}:${options.port}`);
      return defaultConnect(options);
    },
  });
  try {
    await Promise.all(
      Array.from(
        { length: 10 },
        () => client.invoke(address, createRequest(34), { timeout: 2000 }),
      ),
    );
    assert.equal(connects.length, 1, "concurrent first calls share one connection attempt");
    await client.closeConnection(address);
    assert.equal((await client.invoke(address, createRequest(34), { timeout: 2000 })).code, 0);
    assert.equal(connects.length, 2, "reconnected on next use");
  } finally {
    await client.close();
    await assert.rejects(
      client.invoke(address, createRequest(34), { timeout: 100 }),
      ClientClosedError,
    );
    await listener.close();
    await serving;
    await Promise.all(accepted.map((c) => c.close()));
  }
});

test("RemotingClient reports a refused connection as ConnectionError naming the address", async () => {
  const listener = await defaultListen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  await listener.close(); // nothing listens there now
  const client = new RemotingClient();
  const err = await client.invoke(`127.0.0.1:${port}`, createRequest(34), { timeout: 2000 }).catch((
    e,
  ) => e);
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.address, `127.0.0.1:${port}`);
  await client.close();
});

test("RemotingConnection says since when a frame is arriving, and draws on its frame budget beyond 64 KiB", async () => {
  const timers = new ManualTimers(1000);
  const calls: string[] = [];
  let left = 1 << 20;
  let wake: (() => void) | undefined;
  const note = (call: string) => {
    calls.push(call);
    wake?.();
  };
  /** Waits for the connection's calls (handler, budget) until `check` holds. */
  const waitFor = async (check: () => boolean) => {
    while (!check()) await new Promise<void>((resolve) => wake = resolve);
  };
  const [a, b] = memoryPair();
  const server = new RemotingConnection(b, {
    timers,
    onRequest: (request) => {
      note(`request ${request.opaque}`);
      return undefined;
    },
    frameBudget: {
      take: (bytes) => {
        note(`take ${bytes}`);
        if (bytes > left) return false;
        left -= bytes;
        return true;
      },
      give: (bytes) => {
        note(`give ${bytes}`);
        left += bytes;
      },
    },
  });
  const peer = raw(a);
  const first = encodeCommand(createOneway(34, {}, { opaque: 1, body: new Uint8Array(200_000) }));
  const second = encodeCommand(createOneway(34, {}, { opaque: 2 }));
  assert.equal(server.partialFrameSince, undefined);

  await peer.write(first.subarray(0, 65_000)); // within the free 64 KiB: no take
  await peer.write(first.subarray(65_000, 70_000));
  await waitFor(() => calls.length === 1);
  assert.deepEqual(calls, [`take ${70_000 - 65_536}`]);
  assert.equal(server.partialFrameSince, 1000);

  timers.advance(500);
  await peer.write(first.subarray(70_000, 80_000));
  await waitFor(() => calls.length === 2);
  assert.equal(calls[1], "take 10000");
  assert.equal(server.partialFrameSince, 1000, "the same frame: the time it began");

  // The rest of the first frame and the start of the second, in one write.
  timers.advance(500);
  await peer.write(concat([first.subarray(80_000), second.subarray(0, 5)]));
  await waitFor(() => calls.includes("request 1") && calls.at(-1)!.startsWith("give"));
  assert.equal(left, 1 << 20, "everything given back once the frame was complete");
  assert.equal(server.partialFrameSince, 2000, "the second frame began at 2000");

  await peer.write(second.subarray(5));
  await waitFor(() => calls.at(-1) === "request 2");
  assert.equal(server.partialFrameSince, undefined);

  // A budget that refuses closes the connection with a ConnectionError.
  left = 0;
  await peer.write(first.subarray(0, 70_000));
  const error = await server.closed;
  assert.ok(error instanceof ConnectionError);
  assert.match(error.message, /frame budget/);
  await peer.close().catch(() => {});
});

test("ConnectionClosedError says whether a call left: read by the peer (unsent false) or never written (unsent true)", async () => {
  const listener = await defaultListen({ hostname: "127.0.0.1", port: 0 });
  // The peer reads one frame and closes without answering: the call may
  // have been processed.
  const serving = (async () => {
    for await (const transport of listener) {
      const peer = raw(transport);
      await peer.readFrame();
      await peer.close();
      break;
    }
  })();
  const client = new RemotingConnection(
    await defaultConnect({ hostname: "127.0.0.1", port: listener.addr.port }),
  );
  try {
    const read = await client.invoke(createRequest(310), { timeout: 10_000 }).then(
      () => assert.fail("the peer never answers"),
      (e: unknown) => e,
    );
    assert.ok(read instanceof ConnectionClosedError);
    assert.equal(read.unsent, false);
    // A call on the closed connection never leaves.
    const never = await client.invoke(createRequest(310), { timeout: 10_000 }).then(
      () => assert.fail("closed"),
      (e: unknown) => e,
    );
    assert.ok(never instanceof ConnectionClosedError);
    assert.equal(never.unsent, true);
    assert.match(never.message, /before the call was sent/);
  } finally {
    await client.close();
    listener.close();
    await serving;
  }
});
