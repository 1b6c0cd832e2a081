/**
 * Request-reply (RPC) over Apache RocketMQ's remoting protocol, for Deno, Bun
 * and Node.
 *
 * @module
 */

export * from "./src/errors.ts";
export {
  Broker,
  type BrokerHandle,
  type BrokerOptions,
  type BrokerStats,
  startBroker,
  type StartBrokerOptions,
} from "./src/broker/mod.ts";
