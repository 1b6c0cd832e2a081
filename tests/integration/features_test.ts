// Issue 12's features through the embedded broker, over real loopback TCP,
// on Deno, Bun and Node.
import { startBroker } from "../../src/broker/mod.ts";
import { featuresSuite } from "./_features_suite.ts";

featuresSuite("features through the embedded broker", async () => {
  const broker = await startBroker({ port: 0 });
  return { nameServer: broker.address, close: () => broker.close() };
});
