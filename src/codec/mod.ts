/**
 * The runtime-agnostic codec of RocketMQ's remoting protocol: pure functions
 * of bytes and one `TransformStream`, no I/O. Works on any runtime with Web
 * standard APIs.
 *
 * @example Encode a request and decode it back
 * ```ts
 * import { createRequest, decodeCommand, encodeCommand, RequestCode } from "@rocketmq-rpc/core/codec";
 * import assert from "node:assert/strict";
 *
 * const frame = encodeCommand(createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "T" }));
 * assert.equal(decodeCommand(frame).extFields.topic, "T");
 * ```
 *
 * @module
 */

export * from "./codes.ts";
export * from "./remoting_command.ts";
export * from "./header_json.ts";
export * from "./header_rocketmq.ts";
export * from "./frame.ts";
export * from "./remoting_decoder_stream.ts";
export * from "./crc32.ts";
export * from "./properties.ts";
export * from "./message.ts";
export * from "./message_ext.ts";
export * from "./message_id.ts";
export * from "./compression.ts";
export * from "./fastjson.ts";
export * from "./bodies.ts";
export * from "./ext_fields.ts";
export * from "./admin_bodies.ts";
export * from "./admin_headers.ts";
export * from "./sql92.ts";
