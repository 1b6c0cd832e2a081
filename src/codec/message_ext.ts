/**
 * Stored messages in commit-log format: the records of a PULL_MESSAGE body,
 * of CHECK_TRANSACTION_STATE and CONSUME_MESSAGE_DIRECTLY bodies, and of the
 * broker's own log (`MessageDecoder.decode`, `MessageExtEncoder.encode`).
 *
 * 64-bit fields are JS numbers: values beyond 2^53 lose precision.
 *
 * @example Round trip
 * ```ts
 * import { decodeStoredMessage, encodeStoredMessage } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeStoredMessage({
 *   queueId: 0, flag: 0, queueOffset: 7, commitLogOffset: 4096, sysFlag: 0, bornTimestamp: 1, storeTimestamp: 2,
 *   bornHost: { address: "10.0.0.5", port: 50000 }, storeHost: { address: "10.0.0.1", port: 10911 },
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new TextEncoder().encode("hi"),
 *   topic: "TopicTest", properties: { UNIQ_KEY: "X" },
 * });
 * const m = decodeStoredMessage(bytes);
 * assert.equal(m.storeSize, bytes.length);
 * assert.equal(m.queueOffset, 7);
 * assert.equal(new TextDecoder().decode(m.body), "hi");
 * ```
 *
 * @module
 */

import { CodecError, InvalidArgumentError } from "../errors.ts";
import { checkInt32, checkInt64, getInt64, setInt64 } from "./_int.ts";
import { formatIp, parseIp } from "./_ip.ts";
import { utf8Decode, utf8DecodeRange, utf8Length, utf8Write } from "./_utf8.ts";
import { crc32 } from "./crc32.ts";
import { MessageSysFlag } from "./message.ts";
import { decodeProperties, encodeProperties } from "./properties.ts";

/**
 * A host and port, as Java's `InetSocketAddress`.
 *
 * @example IPv6 text as Java writes it
 * ```ts
 * import { formatHostAddress, type HostAddress, parseHostAddress } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const host: HostAddress = parseHostAddress("::1:10911"); // split at the last colon, no brackets
 * assert.deepEqual(host, { address: "0:0:0:0:0:0:0:1", port: 10911 });
 * assert.equal(formatHostAddress(host), "0:0:0:0:0:0:0:1:10911");
 * ```
 */
export interface HostAddress {
  /**
   * The IP as Java's `getHostAddress()` writes it: dotted IPv4, or IPv6 as
   * eight lower-case hex groups without zero compression
   * (`0:0:0:0:0:0:0:1`). Encoders also accept compressed IPv6 text (`::1`).
   */
  address: string;
  /** The port, 0–65535. */
  port: number;
}

/**
 * One stored message (`MessageExt`), as it travels in pull bodies.
 *
 * @example Fields the encoder computes
 * ```ts
 * import { decodeStoredMessage, encodeStoredMessage, MessageMagic, type StoredMessage } from "./message_ext.ts";
 * import { crc32 } from "./crc32.ts";
 * import assert from "node:assert/strict";
 *
 * const body = new TextEncoder().encode("hello");
 * const bytes = encodeStoredMessage({
 *   queueId: 0, flag: 0, queueOffset: 0, commitLogOffset: 0, sysFlag: 0, bornTimestamp: 1, storeTimestamp: 2,
 *   bornHost: { address: "10.0.0.5", port: 50000 }, storeHost: { address: "10.0.0.1", port: 10911 },
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body, topic: "T", properties: {},
 * });
 * const m: StoredMessage = decodeStoredMessage(bytes);
 * assert.equal(m.storeSize, bytes.length);
 * assert.equal(m.magicCode, MessageMagic.V1);
 * assert.equal(m.bodyCRC, crc32(body) & 0x7fffffff);
 * ```
 */
export interface StoredMessage {
  /** Size of the record in bytes, this field included (TOTALSIZE). */
  storeSize: number;
  /** {@linkcode MessageMagic.V1} or {@linkcode MessageMagic.V2}. */
  magicCode: number;
  /** CRC-32 of the stored body, `& 0x7FFFFFFF`. */
  bodyCRC: number;
  /** Queue id. */
  queueId: number;
  /** User flag. */
  flag: number;
  /** Logical (consume-queue) offset. */
  queueOffset: number;
  /** Physical (commit-log) offset. */
  commitLogOffset: number;
  /** sysFlag ({@linkcode MessageSysFlag}); bits 0x10/0x20 select IPv6 hosts. */
  sysFlag: number;
  /** Producer ms time. */
  bornTimestamp: number;
  /** Producer's address as the broker saw it. */
  bornHost: HostAddress;
  /** Broker ms time of storage. */
  storeTimestamp: number;
  /** The broker's address. */
  storeHost: HostAddress;
  /** Times the message was consumed again. */
  reconsumeTimes: number;
  /** Commit-log offset of the half message (transactions), else 0. */
  preparedTransactionOffset: number;
  /** The body as stored: still compressed if `sysFlag & 1`; a view into the decoded bytes. */
  body: Uint8Array;
  /** Topic. */
  topic: string;
  /** Properties. */
  properties: Record<string, string>;
}

/**
 * Magic codes of commit-log records (`MessageDecoder.java`).
 *
 * @example
 * ```ts
 * import { MessageMagic } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MessageMagic.V1 >>> 0, 0xdaa320a7);
 * assert.equal(MessageMagic.V2 >>> 0, 0xdaa320ab);
 * ```
 */
export const MessageMagic = {
  /** Topic length is one signed byte. */
  V1: -626843481,
  /** 5.1.0+: topic length is a signed short; used for topics longer than 127 characters. */
  V2: -626843477,
  /** End-of-file padding inside commit-log files; never in pull bodies. */
  BLANK: -875286124,
} as const;

/** Bytes before BORNHOST: totalSize … bornTimestamp. */
const BEFORE_BORN_HOST = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8;

function hostLength(sysFlag: number, bit: number): 8 | 20 {
  return (sysFlag & bit) === 0 ? 8 : 20;
}

/**
 * Decode one stored record starting at `offset`. Reads exactly `storeSize`
 * bytes; bytes after the record are not looked at. The body is a view into
 * `bytes`.
 *
 * @param bytes Bytes holding the record.
 * @param offset Where the record starts.
 * @returns The message.
 * @throws {CodecError} With reason `"message"`, naming the field and offset,
 * when the record is truncated, a length is negative or disagrees with
 * `storeSize`, the magic code is unknown, or a port is out of range.
 *
 * @example
 * ```ts
 * import { decodeStoredMessage } from "./message_ext.ts";
 * import { CodecError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => decodeStoredMessage(new Uint8Array(8)), (e) => e instanceof CodecError && e.reason === "message");
 * ```
 */
export function decodeStoredMessage(bytes: Uint8Array, offset = 0): StoredMessage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (problem: string): never => {
    throw new CodecError("message", `stored message at offset ${offset}: ${problem}`);
  };
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    fail(`offset outside the ${bytes.length} bytes`);
  }
  const available = bytes.length - offset;
  if (available < 8) fail(`${available} bytes are too few for TOTALSIZE and MAGICCODE`);
  const storeSize = view.getInt32(offset);
  const magicCode = view.getInt32(offset + 4);
  if (magicCode !== MessageMagic.V1 && magicCode !== MessageMagic.V2) {
    fail(
      magicCode === MessageMagic.BLANK
        ? "blank magic code (end-of-file padding)"
        : `unknown magic code 0x${(magicCode >>> 0).toString(16)}`,
    );
  }
  if (storeSize < 0 || storeSize > available) {
    fail(`TOTALSIZE ${storeSize} exceeds the ${available} bytes present`);
  }
  const end = offset + storeSize;
  // The fixed part up to SYSFLAG decides the host lengths.
  if (storeSize < 40) fail(`TOTALSIZE ${storeSize} is too small for the fixed fields`);
  const sysFlag = view.getInt32(offset + 36);
  const bornHostLength = hostLength(sysFlag, MessageSysFlag.BORNHOST_V6);
  const storeHostLength = hostLength(sysFlag, MessageSysFlag.STOREHOST_V6);
  const bodyLengthAt = offset + BEFORE_BORN_HOST + bornHostLength + 8 + storeHostLength + 4 + 8;
  if (bodyLengthAt + 4 > end) fail(`TOTALSIZE ${storeSize} is too small for the fixed fields`);

  let pos = offset + BEFORE_BORN_HOST;
  const readHost = (length: 8 | 20, field: string): HostAddress => {
    const ipLength = length - 4;
    const address = formatIp(bytes.subarray(pos, pos + ipLength));
    const port = view.getInt32(pos + ipLength);
    if (port < 0 || port > 0xffff) {
      fail(`${field} port ${port} at offset ${pos + ipLength} is out of range`);
    }
    pos += length;
    return { address, port };
  };
  const bornHost = readHost(bornHostLength, "BORNHOST");
  const storeTimestamp = getInt64(view, pos);
  pos += 8;
  const storeHost = readHost(storeHostLength, "STOREHOST");
  const reconsumeTimes = view.getInt32(pos);
  const preparedTransactionOffset = getInt64(view, pos + 4);
  pos += 12;

  const bodyLength = view.getInt32(pos);
  pos += 4;
  if (bodyLength < 0 || bodyLength > end - pos) {
    fail(`BODYLENGTH ${bodyLength} at offset ${pos - 4} exceeds the record`);
  }
  const body = bytes.subarray(pos, pos + bodyLength);
  pos += bodyLength;

  const topicLengthSize = magicCode === MessageMagic.V2 ? 2 : 1;
  if (pos + topicLengthSize > end) fail(`record ends in the topic length at offset ${pos}`);
  const topicLength = topicLengthSize === 2 ? view.getInt16(pos) : view.getInt8(pos);
  pos += topicLengthSize;
  if (topicLength < 0 || topicLength > end - pos) {
    fail(`topic length ${topicLength} at offset ${pos - topicLengthSize} exceeds the record`);
  }
  const topic = utf8DecodeRange(bytes, pos, pos + topicLength);
  pos += topicLength;

  if (pos + 2 > end) fail(`record ends in the properties length at offset ${pos}`);
  const propertiesLength = view.getInt16(pos);
  pos += 2;
  if (propertiesLength < 0 || propertiesLength !== end - pos) {
    fail(
      `properties length ${propertiesLength} at offset ${
        pos - 2
      } disagrees with TOTALSIZE ${storeSize}`,
    );
  }
  const properties = decodeProperties(utf8Decode(bytes.subarray(pos, end)));

  return {
    storeSize,
    magicCode,
    bodyCRC: view.getInt32(offset + 8),
    queueId: view.getInt32(offset + 12),
    flag: view.getInt32(offset + 16),
    queueOffset: getInt64(view, offset + 20),
    commitLogOffset: getInt64(view, offset + 28),
    sysFlag,
    bornTimestamp: getInt64(view, offset + 40),
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    body,
    topic,
    properties,
  };
}

/**
 * Decode a concatenation of stored records (a PULL_MESSAGE body). Bodies are
 * views into `body`.
 *
 * Java's client silently drops everything from the first record it cannot
 * parse; this function throws instead, and the caller decides.
 *
 * @param body The concatenated records.
 * @returns The messages, in order.
 * @throws {CodecError} On the first malformed record.
 *
 * @example
 * ```ts
 * import { concat } from "../bytes.ts";
 * import { decodeStoredMessages, encodeStoredMessage } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const one = (queueOffset: number) => encodeStoredMessage({
 *   queueId: 0, flag: 0, queueOffset, commitLogOffset: 0, sysFlag: 0, bornTimestamp: 0, storeTimestamp: 0,
 *   bornHost: { address: "127.0.0.1", port: 1 }, storeHost: { address: "127.0.0.1", port: 2 },
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array(0), topic: "T", properties: {},
 * });
 * assert.deepEqual(decodeStoredMessages(concat([one(1), one(2)])).map((m) => m.queueOffset), [1, 2]);
 * ```
 */
export function decodeStoredMessages(body: Uint8Array): StoredMessage[] {
  const messages: StoredMessage[] = [];
  let offset = 0;
  while (offset < body.length) {
    const message = decodeStoredMessage(body, offset);
    messages.push(message);
    offset += message.storeSize;
  }
  return messages;
}

/**
 * Input of {@linkcode encodeStoredMessage}.
 *
 * @example A long topic needs magic V2
 * ```ts
 * import { decodeStoredMessage, encodeStoredMessage, MessageMagic, type StoredMessageInput } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * const input: StoredMessageInput = {
 *   queueId: 0, flag: 0, queueOffset: 0, commitLogOffset: 0, sysFlag: 0, bornTimestamp: 1, storeTimestamp: 2,
 *   bornHost: { address: "10.0.0.5", port: 50000 }, storeHost: { address: "10.0.0.1", port: 10911 },
 *   reconsumeTimes: 0, preparedTransactionOffset: 0, body: new Uint8Array(0), topic: "t".repeat(128), properties: {},
 * };
 * assert.equal(decodeStoredMessage(encodeStoredMessage(input)).magicCode, MessageMagic.V2);
 * ```
 */
export type StoredMessageInput =
  & Omit<StoredMessage, "storeSize" | "magicCode" | "bodyCRC">
  & {
    bodyCRC?: number;
    /**
     * The properties already as a properties string that decodes to
     * `properties` (a broker keeps the client's text and appends its own
     * keys): written as is instead of encoding `properties` again.
     */
    propertiesText?: string | undefined;
  };

/**
 * Encode one stored record, as the broker writes its commit log
 * (`MessageExtEncoder`): magic V1, or V2 when the topic is longer than 127
 * characters (Java's `String.length()`, here the JS string length; V2 is
 * also used when a shorter topic needs more than 127 UTF-8 bytes, which V1
 * cannot express). `bodyCRC` defaults to `crc32(body) & 0x7FFFFFFF`. Host
 * addresses are written with 16 bytes when their sysFlag bit is set (an IPv4
 * text then becomes an IPv4-mapped address), else with 4 bytes.
 *
 * @param m The message.
 * @returns The record.
 * @throws {InvalidArgumentError} When a field does not fit its wire type, an
 * address does not fit its sysFlag bit, the topic exceeds 32767 UTF-8 bytes
 * or the properties exceed 32767 UTF-8 bytes.
 *
 * @example IPv6 store host
 * ```ts
 * import { decodeStoredMessage, encodeStoredMessage } from "./message_ext.ts";
 * import { MessageSysFlag } from "./message.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeStoredMessage({
 *   queueId: 1, flag: 0, queueOffset: 0, commitLogOffset: 0, sysFlag: MessageSysFlag.STOREHOST_V6,
 *   bornTimestamp: 0, storeTimestamp: 0, bornHost: { address: "10.0.0.5", port: 1 },
 *   storeHost: { address: "::1", port: 10911 }, reconsumeTimes: 0, preparedTransactionOffset: 0,
 *   body: new Uint8Array(0), topic: "T", properties: {},
 * });
 * assert.deepEqual(decodeStoredMessage(bytes).storeHost, { address: "0:0:0:0:0:0:0:1", port: 10911 });
 * ```
 */
export function encodeStoredMessage(m: Readonly<StoredMessageInput>): Uint8Array {
  const sysFlag = checkInt32(m.sysFlag, "sysFlag");
  const bornIp = parseIp(
    m.bornHost.address,
    (sysFlag & MessageSysFlag.BORNHOST_V6) ? 16 : 4,
    "bornHost.address",
  );
  const storeIp = parseIp(
    m.storeHost.address,
    (sysFlag & MessageSysFlag.STOREHOST_V6) ? 16 : 4,
    "storeHost.address",
  );
  const bornPort = checkPort(m.bornHost.port, "bornHost.port");
  const storePort = checkPort(m.storeHost.port, "storeHost.port");
  // Lengths first, then one allocation with the strings written in place.
  const topicLength = utf8Length(m.topic);
  const v2 = m.topic.length > 127 || topicLength > 127;
  if (topicLength > 0x7fff) {
    throw new InvalidArgumentError("topic", `${topicLength} UTF-8 bytes exceed 32767`);
  }
  const propertiesText = m.propertiesText ?? encodeProperties(m.properties);
  const propertiesLength = utf8Length(propertiesText);
  if (propertiesLength > 0x7fff) {
    throw new InvalidArgumentError("properties", `${propertiesLength} UTF-8 bytes exceed 32767`);
  }
  const body = m.body;
  const size = BEFORE_BORN_HOST + bornIp.length + 4 + 8 + storeIp.length + 4 + 4 + 8 + 4 +
    body.length + (v2 ? 2 : 1) + topicLength + 2 + propertiesLength;
  if (size > 0x7fffffff) {
    throw new InvalidArgumentError("body", `record of ${size} bytes exceeds 2 GiB`);
  }
  const bodyCRC = m.bodyCRC === undefined
    ? crc32(body) & 0x7fffffff
    : checkInt32(m.bodyCRC, "bodyCRC");

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, size);
  view.setInt32(4, v2 ? MessageMagic.V2 : MessageMagic.V1);
  view.setInt32(8, bodyCRC);
  view.setInt32(12, checkInt32(m.queueId, "queueId"));
  view.setInt32(16, checkInt32(m.flag, "flag"));
  setInt64(view, 20, checkInt64(m.queueOffset, "queueOffset"));
  setInt64(view, 28, checkInt64(m.commitLogOffset, "commitLogOffset"));
  view.setInt32(36, sysFlag);
  setInt64(view, 40, checkInt64(m.bornTimestamp, "bornTimestamp"));
  let pos = BEFORE_BORN_HOST;
  out.set(bornIp, pos);
  pos += bornIp.length;
  view.setInt32(pos, bornPort);
  pos += 4;
  setInt64(view, pos, checkInt64(m.storeTimestamp, "storeTimestamp"));
  pos += 8;
  out.set(storeIp, pos);
  pos += storeIp.length;
  view.setInt32(pos, storePort);
  pos += 4;
  view.setInt32(pos, checkInt32(m.reconsumeTimes, "reconsumeTimes"));
  pos += 4;
  setInt64(view, pos, checkInt64(m.preparedTransactionOffset, "preparedTransactionOffset"));
  pos += 8;
  view.setInt32(pos, body.length);
  pos += 4;
  out.set(body, pos);
  pos += body.length;
  if (v2) {
    view.setInt16(pos, topicLength);
    pos += 2;
  } else {
    view.setInt8(pos, topicLength);
    pos += 1;
  }
  pos += utf8Write(m.topic, out, pos);
  view.setInt16(pos, propertiesLength);
  utf8Write(propertiesText, out, pos + 2);
  return out;
}

function checkPort(port: unknown, path: string): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new InvalidArgumentError(path, `must be a port number 0-65535, got ${String(port)}`);
  }
  return port;
}

/**
 * Write a host as Java's `"<ip>:<port>"` (IPv6 without brackets, as the
 * `bornHost`/`storeHost` fields of PUSH_REPLY_MESSAGE_TO_CLIENT carry it).
 *
 * @param host The host.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatHostAddress } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatHostAddress({ address: "0:0:0:0:0:0:0:1", port: 10911 }), "0:0:0:0:0:0:0:1:10911");
 * ```
 */
export function formatHostAddress(host: Readonly<HostAddress>): string {
  return `${host.address}:${host.port}`;
}

/**
 * Parse `"<ip>:<port>"` the way Java's `NetworkUtil.string2SocketAddress`
 * does: split at the last colon (so IPv6 needs no brackets). The address is
 * normalized to Java's `getHostAddress()` text.
 *
 * @param text The host text.
 * @returns The host.
 * @throws {CodecError} With reason `"message"` when the text is not an IP
 * address and port.
 *
 * @example
 * ```ts
 * import { parseHostAddress } from "./message_ext.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseHostAddress("0:0:0:0:0:0:0:1:53000"), { address: "0:0:0:0:0:0:0:1", port: 53000 });
 * assert.deepEqual(parseHostAddress("10.0.0.5:10911"), { address: "10.0.0.5", port: 10911 });
 * ```
 */
export function parseHostAddress(text: string): HostAddress {
  const colon = text.lastIndexOf(":");
  const portText = text.slice(colon + 1);
  const port = Number(portText);
  if (colon <= 0 || !/^\d{1,5}$/.test(portText) || port > 0xffff) {
    throw new CodecError(
      "message",
      `host ${JSON.stringify(text.slice(0, 64))} is not "<ip>:<port>"`,
    );
  }
  try {
    return { address: formatIp(parseIp(text.slice(0, colon), undefined, "host")), port };
  } catch (cause) {
    throw new CodecError("message", `host ${JSON.stringify(text.slice(0, 64))} has no valid IP`, {
      cause,
    });
  }
}
