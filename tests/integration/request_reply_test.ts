// Our requester ↔ our responder through the embedded broker, over real
// loopback TCP, on Deno, Bun and Node (each with its own transport).
import { startBroker } from "../../src/broker/mod.ts";
import { requestReplySuite } from "./_request_reply_suite.ts";

requestReplySuite("request-reply through the embedded broker", async () => {
  const broker = await startBroker({ port: 0 });
  return { nameServer: broker.address, close: () => broker.close() };
});
