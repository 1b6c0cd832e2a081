/**
 * The `RemotingCommand`: one request or response on a RocketMQ remoting
 * connection, with helpers to build requests, oneway requests and responses.
 *
 * @example Build a request and its response
 * ```ts
 * import { createRequest, createResponse, isResponse } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const request = createRequest(105, { topic: "orders" }, { opaque: 7 });
 * const response = createResponse(request, 0);
 * assert.equal(response.opaque, 7);
 * assert.ok(isResponse(response));
 * ```
 *
 * @module
 */

import { CommandFlag, LanguageCode, MQVersion, SerializeType } from "./codes.ts";

/**
 * One command on a remoting connection (`RemotingCommand.java`).
 *
 * Request and response share the shape; bit 0 of `flag` tells them apart.
 *
 * @example A response, written out
 * ```ts
 * import { DEFAULT_VERSION, isResponse, type RemotingCommand } from "./remoting_command.ts";
 * import { LanguageCode, SerializeType } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const response: RemotingCommand = {
 *   code: 0, language: LanguageCode.JAVA, version: DEFAULT_VERSION, opaque: 7, flag: 1,
 *   remark: undefined, extFields: { offset: "42" }, body: new Uint8Array(0), serializeType: SerializeType.JSON,
 * };
 * assert.ok(isResponse(response));
 * ```
 */
export interface RemotingCommand {
  /** Request code in requests, response code in responses. */
  code: number;
  /** Sender's language (`LanguageCode`). */
  language: number;
  /** Sender's RocketMQ version ordinal (`MQVersion`). */
  version: number;
  /** Correlation id: a response carries its request's opaque. */
  opaque: number;
  /** Bit 0: response; bit 1: oneway request. */
  flag: number;
  /** Free text, usually the error message of a response. */
  remark?: string | undefined;
  /** The custom header, flattened: every value is a string. */
  extFields: Record<string, string>;
  /** Opaque payload; empty when there is none. */
  body: Uint8Array;
  /** Header serialization used on the wire. */
  serializeType: SerializeType;
}

/**
 * Optional fields of a new command.
 *
 * @example
 * ```ts
 * import { type CommandOptions, createRequest, DEFAULT_VERSION } from "./remoting_command.ts";
 * import { LanguageCode, SerializeType } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * const options: CommandOptions = { opaque: 9, serializeType: SerializeType.ROCKETMQ };
 * const cmd = createRequest(105, { topic: "T" }, options);
 * assert.equal(cmd.opaque, 9);
 * assert.equal(cmd.language, LanguageCode.JAVA); // defaults for what was not given
 * assert.equal(cmd.version, DEFAULT_VERSION);
 * assert.equal(cmd.body.length, 0);
 * ```
 */
export interface CommandOptions {
  /**
   * Correlation id; callers that send the command assign it.
   * @default {0}
   */
  opaque?: number;
  /** Body of the command. */
  body?: Uint8Array;
  /** Remark of the command. */
  remark?: string;
  /**
   * Header serialization.
   * @default {SerializeType.JSON}
   */
  serializeType?: SerializeType;
  /**
   * Version ordinal to announce.
   * @default {DEFAULT_VERSION}
   */
  version?: number;
  /**
   * Language to announce. `JAVA` is what every broker version understands.
   * @default {LanguageCode.JAVA}
   */
  language?: number;
}

/**
 * The version this library announces by default: RocketMQ 5.3.3's ordinal.
 * Name servers answer requests of version ≥ 4.9.4 with standard JSON routes.
 *
 * @example
 * ```ts
 * import { createRequest, DEFAULT_VERSION } from "./remoting_command.ts";
 * import { MQVersion } from "./codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_VERSION, MQVersion.V5_3_3);
 * assert.equal(createRequest(105).version, 479);
 * ```
 */
export const DEFAULT_VERSION: number = MQVersion.V5_3_3;

/**
 * A header value before flattening: anything with a string form.
 *
 * @example
 * ```ts
 * import { type HeaderValue, toExtFields } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const header: Record<string, HeaderValue> = { commitLogOffset: 2n ** 60n, unitMode: false, remark: null };
 * assert.deepEqual(toExtFields(header), { commitLogOffset: "1152921504606846976", unitMode: "false" });
 * ```
 */
export type HeaderValue = string | number | bigint | boolean | null | undefined;

/**
 * Flatten a custom header into `extFields` the way Java's
 * `makeCustomHeaderToNet` does: null and undefined fields are left out,
 * everything else becomes its decimal or `"true"`/`"false"` string.
 *
 * @param header A header object.
 * @returns A fresh `extFields` record.
 *
 * @example
 * ```ts
 * import { toExtFields } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(toExtFields({ queueId: 3, batch: false, remark: undefined, offset: 10n }), {
 *   queueId: "3", batch: "false", offset: "10",
 * });
 * ```
 */
export function toExtFields(header: Readonly<Record<string, HeaderValue>>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const key of Object.keys(header)) {
    const value = header[key];
    if (value === null || value === undefined) continue;
    setField(fields, key, String(value));
  }
  return fields;
}

/**
 * Set an own property, also for the key `__proto__` (which plain assignment
 * would treat as the prototype).
 *
 * @param target The record to write.
 * @param key The key.
 * @param value The value.
 *
 * @example
 * ```ts
 * import { setField } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const fields: Record<string, string> = {};
 * setField(fields, "__proto__", "x");
 * assert.equal(Object.getOwnPropertyDescriptor(fields, "__proto__")?.value, "x");
 * ```
 */
export function setField(target: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

const EMPTY: Uint8Array = new Uint8Array(0);

function build(
  code: number,
  flag: number,
  header: Readonly<Record<string, HeaderValue>> | undefined,
  options: CommandOptions,
): RemotingCommand {
  const command: RemotingCommand = {
    code,
    language: options.language ?? LanguageCode.JAVA,
    version: options.version ?? DEFAULT_VERSION,
    opaque: options.opaque ?? 0,
    flag,
    extFields: header ? toExtFields(header) : {},
    body: options.body ?? EMPTY,
    serializeType: options.serializeType ?? SerializeType.JSON,
  };
  if (options.remark !== undefined) command.remark = options.remark;
  return command;
}

/**
 * Create a request command.
 *
 * @param code The request code.
 * @param header The custom header; flattened with {@linkcode toExtFields}.
 * @param options Body, opaque and other fields.
 * @returns The command.
 *
 * @example
 * ```ts
 * import { createRequest } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const cmd = createRequest(38, { consumerGroup: "g" });
 * assert.deepEqual(cmd.extFields, { consumerGroup: "g" });
 * assert.equal(cmd.flag, 0);
 * ```
 */
export function createRequest(
  code: number,
  header?: Readonly<Record<string, HeaderValue>>,
  options: CommandOptions = {},
): RemotingCommand {
  return build(code, 0, header, options);
}

/**
 * Create a oneway request: the receiver never answers it.
 *
 * @param code The request code.
 * @param header The custom header; flattened with {@linkcode toExtFields}.
 * @param options Body, opaque and other fields.
 * @returns The command, with the oneway flag bit set.
 *
 * @example
 * ```ts
 * import { createOneway, isOneway } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isOneway(createOneway(15, { consumerGroup: "g", topic: "t", queueId: 0, commitOffset: 5 })));
 * ```
 */
export function createOneway(
  code: number,
  header?: Readonly<Record<string, HeaderValue>>,
  options: CommandOptions = {},
): RemotingCommand {
  return build(code, CommandFlag.ONEWAY, header, options);
}

/**
 * Create the response to a request: same opaque, response flag set.
 *
 * @param request The request being answered.
 * @param code The response code.
 * @param header The custom header of the response.
 * @param options Body, remark and other fields; `opaque` is ignored.
 * @returns The response command.
 *
 * @example
 * ```ts
 * import { createRequest, createResponse } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * const res = createResponse(createRequest(14, {}, { opaque: 3 }), 22, undefined, { remark: "not found" });
 * assert.equal(res.opaque, 3);
 * assert.equal(res.flag, 1);
 * assert.equal(res.remark, "not found");
 * ```
 */
export function createResponse(
  request: Pick<RemotingCommand, "opaque">,
  code: number,
  header?: Readonly<Record<string, HeaderValue>>,
  options: CommandOptions = {},
): RemotingCommand {
  return build(code, CommandFlag.RESPONSE, header, { ...options, opaque: request.opaque });
}

/**
 * Whether the command is a response.
 *
 * @param command A command.
 * @returns `true` when bit 0 of `flag` is set.
 *
 * @example
 * ```ts
 * import { isResponse } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isResponse({ flag: 1 }), true);
 * ```
 */
export function isResponse(command: Pick<RemotingCommand, "flag">): boolean {
  return (command.flag & CommandFlag.RESPONSE) !== 0;
}

/**
 * Whether the command is a oneway request.
 *
 * @param command A command.
 * @returns `true` when bit 1 of `flag` is set.
 *
 * @example
 * ```ts
 * import { isOneway } from "./remoting_command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isOneway({ flag: 2 }), true);
 * ```
 */
export function isOneway(command: Pick<RemotingCommand, "flag">): boolean {
  return (command.flag & CommandFlag.ONEWAY) !== 0;
}
