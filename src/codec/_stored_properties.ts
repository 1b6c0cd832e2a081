/**
 * The properties of one stored message record, read without decoding the
 * rest of it (hosts, topic, body): what a broker-side SQL92 filter needs per
 * message. Internal.
 *
 * @module
 */

import { CodecError } from "../errors.ts";
import { utf8Decode } from "./_utf8.ts";
import { MessageSysFlag } from "./message.ts";
import { MessageMagic } from "./message_ext.ts";
import { decodeProperties } from "./properties.ts";

/** TOTALSIZE … BORNTIMESTAMP. */
const BEFORE_BORN_HOST = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8;

/**
 * Decode the properties of the stored record at the start of `record`.
 *
 * @param record One record as stored (RocketMQ's commit-log layout).
 * @returns Its properties.
 * @throws {CodecError} When the record is malformed.
 */
export function storedRecordProperties(record: Uint8Array): Record<string, string> {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const fail = (problem: string): never => {
    throw new CodecError("message", `stored message: ${problem}`);
  };
  if (record.length < BEFORE_BORN_HOST) fail("record too short");
  const end = view.getInt32(0);
  const magic = view.getInt32(4);
  if (end < BEFORE_BORN_HOST || end > record.length) fail(`TOTALSIZE ${end} out of range`);
  if (magic !== MessageMagic.V1 && magic !== MessageMagic.V2) fail("unknown magic code");
  const sysFlag = view.getInt32(36);
  let pos = BEFORE_BORN_HOST + ((sysFlag & MessageSysFlag.BORNHOST_V6) === 0 ? 8 : 20) + 8 +
    ((sysFlag & MessageSysFlag.STOREHOST_V6) === 0 ? 8 : 20) + 4 + 8;
  if (pos + 4 > end) fail("record ends before its body");
  pos += 4 + view.getInt32(pos);
  const v2 = magic === MessageMagic.V2;
  if (pos < 0 || pos + (v2 ? 2 : 1) > end) fail("record ends before its topic");
  pos += v2 ? 2 + view.getInt16(pos) : 1 + view.getInt8(pos);
  if (pos + 2 > end) fail("record ends before its properties");
  const length = view.getInt16(pos);
  pos += 2;
  if (length < 0 || pos + length !== end) fail("properties length disagrees with TOTALSIZE");
  return decodeProperties(utf8Decode(record.subarray(pos, end)));
}

/**
 * A reader of a stored record's properties that decodes them on its first
 * call only (every later call returns the same object, or throws the same
 * error): given to arrival listeners, most of which never ask.
 *
 * @param record One record as stored.
 * @returns The reader.
 */
export function lazyStoredProperties(record: Uint8Array): () => Record<string, string> {
  let properties: Record<string, string> | undefined;
  return () => properties ??= storedRecordProperties(record);
}
