/**
 * Request-reply (RPC) over Apache RocketMQ's remoting protocol, for Deno, Bun
 * and Node.
 *
 * @module
 */

export * from "./src/errors.ts";
