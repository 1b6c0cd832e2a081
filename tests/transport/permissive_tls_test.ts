// TLS and plain TCP on one port (the broker's --tls-mode permissive), with
// each runtime's own adapters and the node:net one. Runtime-neutral.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { listenPermissiveTls } from "../../src/transport/permissive_tls.ts";
import type { Listener, Transport } from "../../src/transport/types.ts";
import { adapterCases, TLS } from "./_support.ts";

const enc = new TextEncoder(), dec = new TextDecoder();

async function echo(listener: Listener, seen: Transport[]): Promise<void> {
  for await (const conn of listener) {
    seen.push(conn);
    conn.readable.pipeTo(conn.writable).catch(() => {});
  }
}

async function roundTrip(conn: Transport, text: string): Promise<string> {
  const writer = conn.writable.getWriter();
  await writer.write(enc.encode(text));
  writer.releaseLock();
  const reader = conn.readable.getReader();
  let got = "";
  while (got.length < text.length) {
    const { value, done } = await reader.read();
    if (done) break;
    got += dec.decode(value);
  }
  reader.releaseLock();
  return got;
}

for (const c of (await adapterCases()).filter((c) => c.tcp)) {
  describe(`listenPermissiveTls() with the ${c.name} adapter`, () => {
    it("serves plain and TLS clients on one port, with their own addresses", async () => {
      const listener = await listenPermissiveTls(
        { port: 0, tls: { cert: TLS.serverCert, key: TLS.serverKey } },
        { listen: c.listen, connect: c.connect },
      );
      const seen: Transport[] = [];
      const serving = echo(listener, seen);
      const port = listener.addr.port;
      const plain = await c.connect({ hostname: "127.0.0.1", port });
      const secure = await c.connect({ hostname: "127.0.0.1", port, tls: { caCerts: [TLS.ca] } });
      try {
        assert.equal(await roundTrip(plain, "plain hello"), "plain hello");
        assert.equal(await roundTrip(secure, "secret hello"), "secret hello");
        assert.equal(seen.length, 2);
        // The server sees each client's own port, not the relay's.
        const ports = seen.map((t) => t.remoteAddr?.port).sort();
        assert.deepEqual(ports, [plain.localAddr?.port, secure.localAddr?.port].sort());
        // A TLS client that leaves closes its relayed connection.
        await secure.close();
        const relayed = seen.find((t) => t.remoteAddr?.port === secure.localAddr?.port)!;
        await relayed.closed;
      } finally {
        await plain.close();
        await secure.close();
        await listener.close();
        await serving;
        await Promise.all(seen.map((t) => t.close()));
      }
    });

    it("closes a connection that stays silent past the sniff timeout", async () => {
      const listener = await listenPermissiveTls(
        { port: 0, tls: { cert: TLS.serverCert, key: TLS.serverKey }, sniffTimeout: 50 },
        { listen: c.listen, connect: c.connect },
      );
      const seen: Transport[] = [];
      const serving = echo(listener, seen);
      const silent = await c.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      try {
        await silent.closed; // the listener hung up on it
        assert.equal(seen.length, 0);
      } finally {
        await silent.close();
        await listener.close();
        await serving;
      }
    });
  });
}
