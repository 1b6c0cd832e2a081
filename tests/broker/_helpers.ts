// Shared by the broker tests: a broker served over memory pairs (or real TCP),
// clients built from raw remoting commands, and request builders for the
// codes the broker serves. Runtime-neutral.

import {
  encodeHeartbeatData,
  type HeartbeatData,
  type SubscriptionData,
} from "../../src/codec/bodies.ts";
import { buildSubscriptionData } from "../../src/codec/bodies.ts";
import { encodeSendHeaderV1, encodeSendHeaderV2 } from "../../src/codec/message.ts";
import { decodeStoredMessages, type StoredMessage } from "../../src/codec/message_ext.ts";
import { encodeProperties } from "../../src/codec/properties.ts";
import {
  createOneway,
  createRequest,
  type RemotingCommand,
} from "../../src/codec/remoting_command.ts";
import type { LogFields, Logger } from "../../src/logger.ts";
import { RemotingConnection, type RequestHandler } from "../../src/remoting/connection.ts";
import type { Timers } from "../../src/remoting/timers.ts";
import { memoryPair } from "../../src/transport/memory.ts";
import { Broker, type BrokerOptions } from "../../src/broker/broker.ts";
import { sleep } from "../_wait.ts";

/** A logger that keeps every line, for assertions. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: LogFields }[] = [];
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: "debug", message, ...(fields ? { fields } : {}) });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: "info", message, ...(fields ? { fields } : {}) });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: "warn", message, ...(fields ? { fields } : {}) });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: "error", message, ...(fields ? { fields } : {}) });
  }
  messages(level?: string): string[] {
    return this.lines.filter((l) => !level || l.level === level).map((l) => l.message);
  }
}

let nextPort = 50000;

/** A client connection to a broker over a memory pair, from a distinct fake IP/port. */
export function attach(
  broker: Broker,
  options: { onRequest?: RequestHandler; timers?: Timers; ip?: string } = {},
): RemotingConnection {
  const [client, server] = memoryPair({
    localAddr: { hostname: options.ip ?? "10.0.0.5", port: nextPort++ },
    remoteAddr: { hostname: "127.0.0.1", port: 9876 },
  });
  broker.handle(server);
  return new RemotingConnection(client, {
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  });
}

/** Create a user topic (8 queues unless told) with nothing in it. */
export function emptyTopic(broker: Broker, topic: string, queues = 8): void {
  broker.topics.update({
    topicName: topic,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm: 6,
    topicFilterType: "SINGLE_TAG",
    topicSysFlag: 0,
    order: false,
  });
}

/** A broker with a recording logger, memory store and the given options. */
export function newBroker(
  options: BrokerOptions = {},
): { broker: Broker; logger: RecordingLogger } {
  const logger = new RecordingLogger();
  const broker = new Broker({ logger, ...options });
  return { broker, logger };
}

export const T = 2000;

export function call(
  conn: RemotingConnection,
  request: RemotingCommand,
  timeout = T,
): Promise<RemotingCommand> {
  return conn.invoke(request, { timeout });
}

export interface SendOptions {
  topic: string;
  body?: Uint8Array | string;
  properties?: Record<string, string>;
  queueId?: number;
  group?: string;
  code?: number;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  sysFlag?: number;
  defaultTopic?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function text(bytes: Uint8Array): string {
  return dec.decode(bytes);
}

/** A SEND_MESSAGE_V2 (or `code`) request. */
export function sendRequest(o: SendOptions): RemotingCommand {
  const code = o.code ?? 310;
  const header = {
    producerGroup: o.group ?? "PG",
    topic: o.topic,
    defaultTopic: o.defaultTopic ?? "TBW102",
    defaultTopicQueueNums: 4,
    queueId: o.queueId ?? 0,
    sysFlag: o.sysFlag ?? 0,
    bornTimestamp: 1_700_000_000_000,
    flag: 0,
    properties: encodeProperties({ WAIT: "true", ...o.properties }),
    reconsumeTimes: o.reconsumeTimes ?? 0,
    ...(o.maxReconsumeTimes !== undefined ? { maxReconsumeTimes: o.maxReconsumeTimes } : {}),
    batch: code === 320,
  };
  const ext = code === 10 || code === 324 ? encodeSendHeaderV1(header) : encodeSendHeaderV2(header);
  const body = typeof o.body === "string" ? enc.encode(o.body) : o.body ?? enc.encode("hello");
  return createRequest(code, ext, { body });
}

export async function send(conn: RemotingConnection, o: SendOptions): Promise<RemotingCommand> {
  return await call(conn, sendRequest(o));
}

export interface PullOptions {
  group: string;
  topic: string;
  queueId?: number;
  offset?: number;
  maxMsgNums?: number;
  /** Sent as the subscription (sets sysFlag bit 2). */
  subscription?: string;
  suspendMillis?: number;
  commitOffset?: number;
  subVersion?: number;
}

export function pullRequest(o: PullOptions): RemotingCommand {
  let sysFlag = 0;
  if (o.suspendMillis !== undefined) sysFlag |= 2;
  if (o.subscription !== undefined) sysFlag |= 4;
  if (o.commitOffset !== undefined) sysFlag |= 1;
  return createRequest(11, {
    consumerGroup: o.group,
    topic: o.topic,
    queueId: o.queueId ?? 0,
    queueOffset: o.offset ?? 0,
    maxMsgNums: o.maxMsgNums ?? 32,
    sysFlag,
    commitOffset: o.commitOffset ?? 0,
    suspendTimeoutMillis: o.suspendMillis ?? 0,
    ...(o.subscription !== undefined
      ? { subscription: o.subscription, expressionType: "TAG" }
      : {}),
    subVersion: o.subVersion ?? 0,
  });
}

export async function pull(
  conn: RemotingConnection,
  o: PullOptions,
  timeout = T,
): Promise<RemotingCommand> {
  return await call(conn, pullRequest(o), timeout);
}

export function messagesOf(response: RemotingCommand): StoredMessage[] {
  return response.body.length === 0 ? [] : decodeStoredMessages(response.body);
}

export function subscription(topic: string, expression = "*", subVersion = 1): SubscriptionData {
  return buildSubscriptionData(topic, expression, subVersion);
}

export function heartbeatRequest(
  data: Partial<HeartbeatData> & { clientID: string },
): RemotingCommand {
  return createRequest(34, {}, {
    body: encodeHeartbeatData({ producerDataSet: [], consumerDataSet: [], ...data }),
  });
}

export function consumerHeartbeat(
  clientID: string,
  group: string,
  subs: SubscriptionData[],
  model = "CLUSTERING",
): RemotingCommand {
  return heartbeatRequest({
    clientID,
    consumerDataSet: [{
      groupName: group,
      consumeType: "CONSUME_PASSIVELY",
      messageModel: model,
      consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
      subscriptionDataSet: subs,
      unitMode: false,
    }],
  });
}

export function producerHeartbeat(clientID: string, group = "PG"): RemotingCommand {
  return heartbeatRequest({ clientID, producerDataSet: [{ groupName: group }] });
}

export function oneway(code: number, header: Record<string, string | number>): RemotingCommand {
  return createOneway(code, header);
}

/** Let pending promise reactions run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
  await sleep(0);
}
