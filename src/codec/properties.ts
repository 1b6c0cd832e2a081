/**
 * Message properties: the well-known keys (`MessageConst.java`) and the
 * properties string that carries them on the wire
 * (`MessageDecoder.messageProperties2String` / `string2messageProperties`):
 * `key \u0001 value \u0002` per entry.
 *
 * @example
 * ```ts
 * import { decodeProperties, encodeProperties, MessageProperty } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * const text = encodeProperties({ [MessageProperty.CORRELATION_ID]: "c-1", [MessageProperty.TAGS]: "A" });
 * assert.equal(text, "CORRELATION_ID\u0001c-1\u0002TAGS\u0001A\u0002");
 * assert.deepEqual(decodeProperties(text), { CORRELATION_ID: "c-1", TAGS: "A" });
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { setField } from "./remoting_command.ts";

/**
 * Property keys of RocketMQ messages (`MessageConst.java`, 5.3.x), by the
 * constant's name without its `PROPERTY_` prefix where the key is the same
 * word; keys that differ from their Java constant name are noted.
 *
 * @example
 * ```ts
 * import { MessageProperty } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MessageProperty.CORRELATION_ID, "CORRELATION_ID");
 * assert.equal(MessageProperty.BORN_HOST, "__BORNHOST");
 * assert.equal(MessageProperty.UNIQ_KEY, "UNIQ_KEY");
 * ```
 */
export const MessageProperty = {
  /** Business keys, separated by spaces (indexed by the broker). */
  KEYS: "KEYS",
  /** The tag, used for filtering. */
  TAGS: "TAGS",
  /** `"true"`/`"false"`: wait for the store to confirm (`PROPERTY_WAIT_STORE_MSG_OK`). */
  WAIT: "WAIT",
  /** Delay level 1..18 (`PROPERTY_DELAY_TIME_LEVEL`). */
  DELAY: "DELAY",
  /** Original topic of a retried message. */
  RETRY_TOPIC: "RETRY_TOPIC",
  /** Original topic while parked in a schedule or half topic. */
  REAL_TOPIC: "REAL_TOPIC",
  /** Original queue id while parked (`PROPERTY_REAL_QUEUE_ID`). */
  REAL_QID: "REAL_QID",
  /** `"true"` for transactional half messages (`PROPERTY_TRANSACTION_PREPARED`). */
  TRAN_MSG: "TRAN_MSG",
  /** Producer group (transactions) (`PROPERTY_PRODUCER_GROUP`). */
  PGROUP: "PGROUP",
  /** Set by the consumer from the pull response. */
  MIN_OFFSET: "MIN_OFFSET",
  /** Set by the consumer from the pull response. */
  MAX_OFFSET: "MAX_OFFSET",
  /** Buyer id (legacy). */
  BUYER_ID: "BUYER_ID",
  /** First offset message id of a retried message. */
  ORIGIN_MESSAGE_ID: "ORIGIN_MESSAGE_ID",
  /** Legacy. */
  TRANSFER_FLAG: "TRANSFER_FLAG",
  /** Legacy. */
  CORRECTION_FLAG: "CORRECTION_FLAG",
  /** Legacy. */
  MQ2_FLAG: "MQ2_FLAG",
  /** Reconsume count of a message re-sent to `%RETRY%` as a normal message. */
  RECONSUME_TIME: "RECONSUME_TIME",
  /** Region of the broker; also a send response extField. */
  MSG_REGION: "MSG_REGION",
  /** Trace switch (`PROPERTY_TRACE_SWITCH`); also a send response extField. */
  TRACE_ON: "TRACE_ON",
  /** Client-generated message id (`PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX`). */
  UNIQ_KEY: "UNIQ_KEY",
  /** Extended unique info. */
  EXTEND_UNIQ_INFO: "EXTEND_UNIQ_INFO",
  /** Maximum reconsume times of the consumer group. */
  MAX_RECONSUME_TIMES: "MAX_RECONSUME_TIMES",
  /** Set by the consumer when consumption starts (`PROPERTY_CONSUME_START_TIMESTAMP`). */
  CONSUME_START_TIME: "CONSUME_START_TIME",
  /** Inner batch: number of messages. */
  INNER_NUM: "INNER_NUM",
  /** Inner batch: base offset. */
  INNER_BASE: "INNER_BASE",
  /** Duplicate info. */
  DUP_INFO: "DUP_INFO",
  /** Transactions: first check delay. */
  CHECK_IMMUNITY_TIME_IN_SECONDS: "CHECK_IMMUNITY_TIME_IN_SECONDS",
  /** Transactions: queue offset of the half message. */
  TRAN_PREPARED_QUEUE_OFFSET: "TRAN_PREPARED_QUEUE_OFFSET",
  /** Transaction id (`PROPERTY_TRANSACTION_ID`). */
  TRANSACTION_ID: "__transactionId__",
  /** Transactions: check count. */
  TRANSACTION_CHECK_TIMES: "TRANSACTION_CHECK_TIMES",
  /** Namespace instance id. */
  INSTANCE_ID: "INSTANCE_ID",
  /** RIP-16: correlation id shared by a request and its reply. */
  CORRELATION_ID: "CORRELATION_ID",
  /** RIP-16: client id of the requester (`PROPERTY_MESSAGE_REPLY_TO_CLIENT`). */
  REPLY_TO_CLIENT: "REPLY_TO_CLIENT",
  /** RIP-16: request timeout in ms (`PROPERTY_MESSAGE_TTL`). */
  TTL: "TTL",
  /** RIP-16: set by the requester when the reply arrives (`PROPERTY_REPLY_MESSAGE_ARRIVE_TIME`). */
  ARRIVE_TIME: "ARRIVE_TIME",
  /** RIP-16: set by the broker when it pushes a reply. */
  PUSH_REPLY_TIME: "PUSH_REPLY_TIME",
  /** Cluster of the broker that stored the message. */
  CLUSTER: "CLUSTER",
  /** `"reply"` for RIP-16 replies (`PROPERTY_MESSAGE_TYPE`). */
  MSG_TYPE: "MSG_TYPE",
  /** Pop checkpoint. */
  POP_CK: "POP_CK",
  /** Pop checkpoint offset. */
  POP_CK_OFFSET: "POP_CK_OFFSET",
  /** First pop time (`PROPERTY_FIRST_POP_TIME`). */
  FIRST_POP_TIME: "1ST_POP_TIME",
  /** Sharding key (`PROPERTY_SHARDING_KEY`). */
  SHARDING_KEY: "__SHARDINGKEY",
  /** Forward queue id. */
  FORWARD_QUEUE_ID: "PROPERTY_FORWARD_QUEUE_ID",
  /** Redirect flag. */
  REDIRECT: "REDIRECT",
  /** Light message queues, comma separated. */
  INNER_MULTI_DISPATCH: "INNER_MULTI_DISPATCH",
  /** Offsets in light message queues, comma separated. */
  INNER_MULTI_QUEUE_OFFSET: "INNER_MULTI_QUEUE_OFFSET",
  /** Trace context. */
  TRACE_CONTEXT: "TRACE_CONTEXT",
  /** 5.x timer messages: delay in seconds. */
  TIMER_DELAY_SEC: "TIMER_DELAY_SEC",
  /** 5.x timer messages: delivery time in ms. */
  TIMER_DELIVER_MS: "TIMER_DELIVER_MS",
  /** 5.x timer messages: delay in ms. */
  TIMER_DELAY_MS: "TIMER_DELAY_MS",
  /** Timer internals. */
  TIMER_ENQUEUE_MS: "TIMER_ENQUEUE_MS",
  /** Timer internals. */
  TIMER_DEQUEUE_MS: "TIMER_DEQUEUE_MS",
  /** Timer internals. */
  TIMER_ROLL_TIMES: "TIMER_ROLL_TIMES",
  /** Timer internals. */
  TIMER_OUT_MS: "TIMER_OUT_MS",
  /** Timer internals. */
  TIMER_DEL_UNIQKEY: "TIMER_DEL_UNIQKEY",
  /** Timer internals. */
  TIMER_DELAY_LEVEL: "TIMER_DELAY_LEVEL",
  /** Born host (`PROPERTY_BORN_HOST`). */
  BORN_HOST: "__BORNHOST",
  /** Born timestamp. */
  BORN_TIMESTAMP: "BORN_TIMESTAMP",
  /** Optional CRC of the stored properties (`PROPERTY_CRC32`). */
  CRC32: "__CRC32#",
  /** Original topic of a dead-lettered message. */
  DLQ_ORIGIN_TOPIC: "DLQ_ORIGIN_TOPIC",
  /** Original message id of a dead-lettered message. */
  DLQ_ORIGIN_MESSAGE_ID: "DLQ_ORIGIN_MESSAGE_ID",
  /** Start delivery time, used by producer hooks only. */
  STARTDELIVERTIME: "__STARTDELIVERTIME",
  /** Prefix of client-only properties that the broker does not store. */
  TRANSIENT_PREFIX: "__RMQ.TRANSIENT.",
  /** Transient topic sys flag, set by the client when pulling. */
  TRANSIENT_TOPIC_CONFIG: "__RMQ.TRANSIENT.TOPIC_SYS_FLAG",
  /** Transient group sys flag, set by the client when pulling. */
  TRANSIENT_GROUP_CONFIG: "__RMQ.TRANSIENT.GROUP_SYS_FLAG",
} as const;

/** Separates a property's name from its value. */
const NAME_VALUE_SEPARATOR = "\u0001";
/** Ends each property. */
const PROPERTY_SEPARATOR = "\u0002";

/**
 * Encode properties as the wire string: `key \u0001 value \u0002` for every
 * entry whose value is not `undefined`, in the record's key order.
 *
 * Keys and values must not contain `\u0001` or `\u0002`: Java does not check
 * this, and such a value would turn into other properties at the reader (a
 * property injection). Empty keys or values are written, as Java writes
 * them, but readers drop them.
 *
 * @param props The properties.
 * @returns The properties string; empty when there are none.
 * @throws {InvalidArgumentError} When a key or value contains a separator.
 *
 * @example
 * ```ts
 * import { encodeProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeProperties({ WAIT: "true", KEYS: undefined }), "WAIT\u0001true\u0002");
 * assert.equal(encodeProperties({}), "");
 * ```
 */
export function encodeProperties(props: Readonly<Record<string, string | undefined>>): string {
  let out = "";
  for (const key of Object.keys(props)) {
    const value = props[key];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      throw new InvalidArgumentError(`properties.${key}`, `must be a string, got ${typeof value}`);
    }
    checkSeparators(key, `properties key ${JSON.stringify(key)}`);
    checkSeparators(value, `properties.${key}`);
    out += key + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
  }
  return out;
}

function checkSeparators(text: string, path: string): void {
  if (text.includes(NAME_VALUE_SEPARATOR) || text.includes(PROPERTY_SEPARATOR)) {
    throw new InvalidArgumentError(path, "must not contain \\u0001 or \\u0002");
  }
}

/**
 * Decode a properties string with Java's semantics
 * (`string2messageProperties`): split on `\u0002`; segments shorter than 3
 * characters are ignored; the key runs up to the first `\u0001`, the value
 * is the rest of the segment; entries with an empty key or value are
 * dropped; a later duplicate key wins. Never throws.
 *
 * @param text The properties string.
 * @returns The properties. A key `__proto__` is an ordinary own property.
 *
 * @example
 * ```ts
 * import { decodeProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeProperties("A\u00011\u0002B\u0001\u0002\u0001x\u0002A\u00012"), { A: "2" });
 * ```
 */
export function decodeProperties(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  const length = text.length;
  let index = 0;
  while (index < length) {
    let end = text.indexOf(PROPERTY_SEPARATOR, index);
    if (end < 0) end = length;
    if (end - index >= 3) {
      // Search within the segment only (Java searches the rest of the string
      // and then discards a hit beyond the segment: same result, but linear).
      const segment = text.slice(index, end);
      const sep = segment.indexOf(NAME_VALUE_SEPARATOR);
      if (sep > 0 && sep < segment.length - 1) {
        setField(props, segment.slice(0, sep), segment.slice(sep + 1));
      }
    }
    index = end + 1;
  }
  return props;
}
