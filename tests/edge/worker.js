// A Cloudflare Worker doing request-reply through our client, bundled by
// workerd_test.ts (esbuild, no Node compatibility) and run in workerd.
//
//   GET /once?namesrv=H:P&topic=T&body=B[&timeout=MS]  one requestOnce() call
//   GET /many?namesrv=H:P&topic=T&n=N                  N requests on one producer
//   GET /compressed?namesrv=H:P&topic=T&type=lz4|zstd&size=N  one request with a body of N
//                                                      bytes, compressed with that type
//   POST /decode?type=lz4|zstd                          decompressBody() of the posted bytes
//
// Answers JSON: { ok, body?, ms? } or { ok: false, name, code, message }.
// JavaScript, not TypeScript: Deno's type checker cannot resolve "cloudflare:".
import { connect } from "cloudflare:sockets";
import { bodyText, Producer, requestOnce, RocketMQError } from "../../src/client/mod.ts";
import { cloudflareConnect } from "../../src/transport/cloudflare.ts";
import { compressionSysFlag, decompressBody } from "../../src/codec/compression.ts";

const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const nameServer = url.searchParams.get("namesrv") ?? "";
    const topic = url.searchParams.get("topic") ?? "";
    const options = { nameServer, connect: cloudflareConnect(connect), group: "edge_requester" };
    try {
      if (url.pathname === "/once") {
        const reply = await requestOnce(options, {
          topic,
          body: url.searchParams.get("body") ?? "",
        }, { timeout: Number(url.searchParams.get("timeout") ?? 10_000) });
        return json({ ok: true, body: bodyText(reply) });
      }
      if (url.pathname === "/many") {
        const n = Number(url.searchParams.get("n") ?? 10);
        const producer = new Producer(options);
        try {
          await producer.start();
          const bodies = [];
          const started = Date.now();
          for (let i = 0; i < n; i++) {
            const reply = await producer.request({ topic, body: `m${i}` }, { timeout: 10_000 });
            bodies.push(bodyText(reply));
          }
          return json({ ok: true, bodies, ms: Date.now() - started });
        } finally {
          await producer.close();
        }
      }
      if (url.pathname === "/compressed") {
        const size = Number(url.searchParams.get("size") ?? 10_000);
        const producer = new Producer({
          ...options,
          compressType: url.searchParams.get("type") ?? "zlib",
        });
        try {
          await producer.start();
          const reply = await producer.request({ topic, body: "z".repeat(size) }, {
            timeout: 10_000,
          });
          return json({ ok: true, body: bodyText(reply) });
        } finally {
          await producer.close();
        }
      }
      if (url.pathname === "/decode") {
        const bytes = new Uint8Array(await request.arrayBuffer());
        const type = url.searchParams.get("type") ?? "zlib";
        const body = await decompressBody(bytes, compressionSysFlag(type));
        return json({ ok: true, body: new TextDecoder().decode(body) });
      }
      return json({ ok: false, message: `no route ${url.pathname}` }, 404);
    } catch (error) {
      return json({
        ok: false,
        name: error?.name,
        code: error instanceof RocketMQError ? error.code : undefined,
        message: String(error?.message ?? error),
      }, 500);
    }
  },
};
