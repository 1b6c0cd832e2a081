// A Cloudflare Worker doing request-reply through our client, bundled by
// workerd_test.ts (esbuild, no Node compatibility) and run in workerd.
//
//   GET /once?namesrv=H:P&topic=T&body=B[&timeout=MS]  one requestOnce() call
//   GET /many?namesrv=H:P&topic=T&n=N                  N requests on one producer
//
// Answers JSON: { ok, body?, ms? } or { ok: false, name, code, message }.
// JavaScript, not TypeScript: Deno's type checker cannot resolve "cloudflare:".
import { connect } from "cloudflare:sockets";
import { bodyText, Producer, requestOnce, RocketMQError } from "../../src/client/mod.ts";
import { cloudflareConnect } from "../../src/transport/cloudflare.ts";

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
