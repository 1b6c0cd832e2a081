/**
 * The send side of messages: sysFlag bits, the send request header (V1 long
 * names and V2 single letters) and the batch body of SEND_BATCH_MESSAGE.
 *
 * @example Send header round trip
 * ```ts
 * import { decodeSendHeader, encodeSendHeaderV2 } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const header = {
 *   producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 0,
 *   sysFlag: 0, bornTimestamp: 1700000000000, flag: 0, reconsumeTimes: 0, unitMode: false, batch: false,
 * };
 * assert.deepEqual(decodeSendHeader(encodeSendHeaderV2(header), { v2: true }), header);
 * ```
 *
 * @module
 */

import { CodecError, InvalidArgumentError } from "../errors.ts";
import { checkInt32 } from "./_int.ts";
import { utf8Decode, utf8Encode } from "./_utf8.ts";
import {
  decodeSendMessageRequestHeader,
  decodeSendMessageRequestHeaderV2,
  encodeSendMessageRequestHeader,
  encodeSendMessageRequestHeaderV2,
} from "./ext_fields.ts";
import { decodeProperties, encodeProperties } from "./properties.ts";

/**
 * Bits of a message's `sysFlag` (`MessageSysFlag.java`).
 *
 * @example Compression type of a sysFlag
 * ```ts
 * import { MessageSysFlag } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const sysFlag = MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB;
 * assert.equal(sysFlag, 769);
 * assert.equal((sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK) >> 8, 3);
 * ```
 */
export const MessageSysFlag = {
  /** The body is compressed (`COMPRESSED_FLAG`). */
  COMPRESSED: 0x1,
  /** Set by the broker for MULTI_TAG topics (`MULTI_TAGS_FLAG`). */
  MULTI_TAGS: 0x2,
  /** Transactional half message (`TRANSACTION_PREPARED_TYPE`). */
  TRANSACTION_PREPARED: 0x4,
  /** Committed transactional message (`TRANSACTION_COMMIT_TYPE`). */
  TRANSACTION_COMMIT: 0x8,
  /** Rolled-back transactional message; also the mask of the two transaction bits. */
  TRANSACTION_ROLLBACK: 0xc,
  /** The born host is IPv6 (`BORNHOST_V6_FLAG`). */
  BORNHOST_V6: 0x10,
  /** The store host is IPv6 (`STOREHOSTADDRESS_V6_FLAG`). */
  STOREHOST_V6: 0x20,
  /** Inner-batch topics only (`NEED_UNWRAP_FLAG`). */
  NEED_UNWRAP: 0x40,
  /** Inner-batch topics only (`INNER_BATCH_FLAG`). */
  INNER_BATCH: 0x80,
  /** Compression type LZ4 (4.9.4+). */
  COMPRESSION_LZ4: 0x100,
  /** Compression type zstd (4.9.4+). */
  COMPRESSION_ZSTD: 0x200,
  /** Compression type zlib (4.9.4+; type 0 also means zlib). */
  COMPRESSION_ZLIB: 0x300,
  /** Mask of the compression type bits (`COMPRESSION_TYPE_COMPARATOR`). */
  COMPRESSION_TYPE_MASK: 0x700,
} as const;

/**
 * The send request header (`SendMessageRequestHeader`), with the long field
 * names. Used by SEND_MESSAGE (10), SEND_MESSAGE_V2 (310),
 * SEND_BATCH_MESSAGE (320) and SEND_REPLY_MESSAGE (324/325).
 *
 * @example Same header, V1 and V2 names
 * ```ts
 * import { encodeSendHeaderV1, encodeSendHeaderV2, type SendMessageRequestHeader } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const h: SendMessageRequestHeader = {
 *   producerGroup: "PG", topic: "TopicTest", defaultTopic: "TBW102", defaultTopicQueueNums: 4,
 *   queueId: -1, sysFlag: 0, bornTimestamp: 1700000000000, flag: 0, properties: "KEYS\u0001k1\u0002",
 * };
 * assert.equal(encodeSendHeaderV1(h).topic, "TopicTest");
 * assert.equal(encodeSendHeaderV2(h).b, "TopicTest");
 * ```
 */
export interface SendMessageRequestHeader {
  /** Producer group. */
  producerGroup: string;
  /** Topic. */
  topic: string;
  /** Auto-creation template topic (`TBW102`). */
  defaultTopic: string;
  /** Queue count for auto-creation (Java: 4). */
  defaultTopicQueueNums: number;
  /** Chosen queue id (the broker picks one if negative). */
  queueId: number;
  /** Message sysFlag ({@linkcode MessageSysFlag}). */
  sysFlag: number;
  /** Client ms time of the send. */
  bornTimestamp: number;
  /** User flag. */
  flag: number;
  /** Properties string ({@linkcode encodeProperties}). */
  properties?: string;
  /** Reconsume times (Java sends 0). */
  reconsumeTimes?: number;
  /** Unit mode (Java sends false). */
  unitMode?: boolean;
  /** Maximum reconsume times, sends to `%RETRY%` topics only. */
  maxReconsumeTimes?: number;
  /** True for SEND_BATCH_MESSAGE. */
  batch?: boolean;
  /** Broker name (4.9.5+, 5.1.0+): `n` in V2, `bname` in V1. */
  brokerName?: string;
}

/**
 * Encode a send header with the V2 single-letter names `a`–`n` (request codes
 * 310, 320, 325). `j`, `k` and `m` are always written (defaults 0, false,
 * false), as Java does.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeSendHeaderV2 } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = encodeSendHeaderV2({
 *   producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 1,
 *   sysFlag: 0, bornTimestamp: 1, flag: 0, batch: true, brokerName: "broker-a",
 * });
 * assert.equal(ext.m, "true");
 * assert.equal(ext.n, "broker-a");
 * assert.equal(ext.k, "false");
 * ```
 */
export function encodeSendHeaderV2(h: Readonly<SendMessageRequestHeader>): Record<string, string> {
  return encodeSendMessageRequestHeaderV2(h);
}

/**
 * Encode a send header with the V1 long names (request codes 10, 324);
 * `brokerName` is written as `bname`.
 *
 * @param h The header.
 * @returns The `extFields`.
 * @throws {InvalidArgumentError} When a field is missing or invalid.
 *
 * @example
 * ```ts
 * import { encodeSendHeaderV1 } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = encodeSendHeaderV1({
 *   producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: 4, queueId: 1,
 *   sysFlag: 0, bornTimestamp: 1, flag: 0, brokerName: "broker-a",
 * });
 * assert.equal(ext.bname, "broker-a");
 * assert.equal(ext.producerGroup, "PG");
 * ```
 */
export function encodeSendHeaderV1(h: Readonly<SendMessageRequestHeader>): Record<string, string> {
  return encodeSendMessageRequestHeader(h);
}

/**
 * Options of {@linkcode decodeSendHeader}.
 *
 * @example
 * ```ts
 * import { decodeSendHeader, type DecodeSendHeaderOptions } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const v1: DecodeSendHeaderOptions = { v2: false }; // SEND_MESSAGE (10) and SEND_REPLY_MESSAGE (324)
 * const h = decodeSendHeader({
 *   producerGroup: "PG", topic: "T", defaultTopic: "TBW102", defaultTopicQueueNums: "4", queueId: "0",
 *   sysFlag: "0", bornTimestamp: "1", flag: "0",
 * }, v1);
 * assert.equal(h.topic, "T");
 * ```
 */
export interface DecodeSendHeaderOptions {
  /** Whether the header uses the V2 names (`a`–`n`; codes 310, 320, 325). */
  v2: boolean;
}

/**
 * Decode and validate a send header, V1 or V2.
 *
 * @param extFields The request's `extFields`.
 * @param options Which naming the request uses.
 * @returns The header with long names; optional fields absent on the wire
 * are absent.
 * @throws {CodecError} With reason `"schema"`, naming the bad wire field.
 *
 * @example
 * ```ts
 * import { decodeSendHeader } from "./message.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const ext = { a: "PG", b: "T", c: "TBW102", d: "4", e: "0", f: "0", g: "1", h: "0" };
 * assert.equal(decodeSendHeader(ext, { v2: true }).producerGroup, "PG");
 * assert.throws(() => decodeSendHeader({ ...ext, g: "soon" }, { v2: true }), (e) =>
 *   e instanceof CodecError && e.reason === "schema" && e.message.includes("field g"));
 * ```
 */
export function decodeSendHeader(
  extFields: Readonly<Record<string, string>>,
  options: DecodeSendHeaderOptions,
): SendMessageRequestHeader {
  return options.v2
    ? decodeSendMessageRequestHeaderV2(extFields)
    : decodeSendMessageRequestHeader(extFields);
}

/**
 * One message of a batch body (SEND_BATCH_MESSAGE).
 *
 * @example
 * ```ts
 * import { type BatchEntry, decodeBatch, encodeBatch } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const entries: BatchEntry[] = [
 *   { flag: 0, body: new TextEncoder().encode("a"), properties: { UNIQ_KEY: "K1" } },
 *   { flag: 0, body: new TextEncoder().encode("b"), properties: { UNIQ_KEY: "K2" } },
 * ];
 * assert.deepEqual(decodeBatch(encodeBatch(entries)).map((e) => e.properties.UNIQ_KEY), ["K1", "K2"]);
 * ```
 */
export interface BatchEntry {
  /** User flag. */
  flag: number;
  /** Body (never compressed in a batch). Decoded entries are views into the batch body. */
  body: Uint8Array;
  /** Properties; Java gives each entry its own `UNIQ_KEY`. */
  properties: Record<string, string>;
}

/** Size of an entry without body and properties: totalSize, magic, CRC, flag, bodyLength, propertiesLength. */
const ENTRY_FIXED = 4 + 4 + 4 + 4 + 4 + 2;

/**
 * Encode a batch body (`MessageDecoder.encodeMessages`): per entry
 * `totalSize | magic 0 | bodyCRC 0 | flag | bodyLength | body |
 * propertiesLength (short) | properties`.
 *
 * @param entries The messages.
 * @returns The batch body.
 * @throws {InvalidArgumentError} When an entry's properties exceed 32767
 * UTF-8 bytes or contain a separator character, a flag is not a 32-bit
 * integer, or the batch exceeds 2 GiB.
 *
 * @example
 * ```ts
 * import { decodeBatch, encodeBatch } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeBatch([{ flag: 0, body: new Uint8Array([1]), properties: { A: "b" } }]);
 * assert.deepEqual([...bytes], [
 *   0, 0, 0, 27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 4, 0x41, 1, 0x62, 2,
 * ]);
 * assert.deepEqual(decodeBatch(bytes), [{ flag: 0, body: new Uint8Array([1]), properties: { A: "b" } }]);
 * ```
 */
export function encodeBatch(entries: readonly BatchEntry[]): Uint8Array {
  const encoded: { flag: number; body: Uint8Array; props: Uint8Array }[] = [];
  let total = 0;
  entries.forEach((entry, i) => {
    const flag = checkInt32(entry.flag, `entries[${i}].flag`);
    const props = utf8Encode(encodeProperties(entry.properties));
    if (props.length > 0x7fff) {
      throw new InvalidArgumentError(
        `entries[${i}].properties`,
        `${props.length} bytes exceed the 32767-byte limit`,
      );
    }
    encoded.push({ flag, body: entry.body, props });
    total += ENTRY_FIXED + entry.body.length + props.length;
  });
  if (total > 0x7fffffff) {
    throw new InvalidArgumentError("entries", `batch of ${total} bytes exceeds 2 GiB`);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const { flag, body, props } of encoded) {
    view.setInt32(pos, ENTRY_FIXED + body.length + props.length);
    // magic code and body CRC stay 0
    view.setInt32(pos + 12, flag);
    view.setInt32(pos + 16, body.length);
    out.set(body, pos + 20);
    pos += 20 + body.length;
    view.setInt16(pos, props.length);
    out.set(props, pos + 2);
    pos += 2 + props.length;
  }
  return out;
}

/**
 * Decode a batch body. Bodies are views into `body`, not copies. The magic
 * code and body CRC fields are ignored (Java writes them as 0 and never reads
 * them); every length must agree with the entry's `totalSize` and the bytes
 * present.
 *
 * @param body The batch body.
 * @returns The entries, in order.
 * @throws {CodecError} With reason `"message"`, naming the entry and offset,
 * on any inconsistency.
 *
 * @example
 * ```ts
 * import { decodeBatch } from "./message.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeBatch(new Uint8Array(0)), []);
 * assert.throws(() => decodeBatch(new Uint8Array([0, 0, 0, 99])), CodecError);
 * ```
 */
export function decodeBatch(body: Uint8Array): BatchEntry[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const entries: BatchEntry[] = [];
  let pos = 0;
  while (pos < body.length) {
    const index = entries.length;
    const fail = (problem: string): never => {
      throw new CodecError("message", `batch entry ${index} at offset ${pos}: ${problem}`);
    };
    const remaining = body.length - pos;
    if (remaining < 4) fail(`${remaining} trailing bytes, too few for a totalSize field`);
    const totalSize = view.getInt32(pos);
    if (totalSize < ENTRY_FIXED) fail(`totalSize ${totalSize} is below the minimum ${ENTRY_FIXED}`);
    if (totalSize > remaining) fail(`totalSize ${totalSize} exceeds the ${remaining} bytes left`);
    const flag = view.getInt32(pos + 12);
    const bodyLength = view.getInt32(pos + 16);
    if (bodyLength < 0 || bodyLength > totalSize - ENTRY_FIXED) {
      fail(`bodyLength ${bodyLength} does not fit totalSize ${totalSize}`);
    }
    const bodyStart = pos + 20;
    const propsLength = view.getInt16(bodyStart + bodyLength);
    if (propsLength < 0) fail(`negative propertiesLength ${propsLength}`);
    if (ENTRY_FIXED + bodyLength + propsLength !== totalSize) {
      fail(
        `totalSize ${totalSize} disagrees with bodyLength ${bodyLength} and propertiesLength ${propsLength}`,
      );
    }
    const propsStart = bodyStart + bodyLength + 2;
    entries.push({
      flag,
      body: body.subarray(bodyStart, bodyStart + bodyLength),
      properties: decodeProperties(utf8Decode(body.subarray(propsStart, propsStart + propsLength))),
    });
    pos += totalSize;
  }
  return entries;
}
