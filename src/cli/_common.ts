// What the CLI's client commands share: connection flags, exit codes, and
// errors told to a shell user (what happened, its stable code, what to do).

import {
  BrokerError,
  ConnectionError,
  InvalidArgumentError,
  NoResponderError,
  NoRouteError,
  RemoteError,
  RemotingTimeoutError,
  RequestTimeoutError,
  RocketMQError,
} from "../errors.ts";
import { ResponseCode } from "../codec/codes.ts";
import type { ClientOptions } from "../client/client_instance.ts";
import type { Flag, Parsed } from "./_args.ts";
import { UsageError } from "./_args.ts";
import type { CliIO } from "./_io.ts";

/** Exit codes, the same for every command. */
export const EXIT = {
  /** Everything worked. */
  OK: 0,
  /** A request failed (timeout, no route, the responder failed, the broker refused). */
  FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** No name server or broker could be reached. */
  UNREACHABLE: 3,
} as const;

/** The exit code table, for the help texts. */
export const EXIT_HELP =
  `Exit codes: 0 ok, 1 a request failed, 2 bad usage, 3 name server or broker unreachable.`;

/** Flags of every client command. */
export const CLIENT_FLAGS: readonly Flag[] = [
  { name: "namesrv", kind: "string" },
  { name: "tls", kind: "boolean" },
  { name: "access-key", kind: "string" },
  { name: "secret-key", kind: "string" },
];

/** Help lines of {@linkcode CLIENT_FLAGS}. */
export const CLIENT_FLAGS_HELP =
  `  --namesrv <addrs>       name server(s): host:port, several separated by ;
                          (default: $NAMESRV_ADDR, else 127.0.0.1:9876)
  --tls                   connect with TLS (the runtime's trusted roots)
  --access-key <key>      ACL access key (default: $ROCKETMQ_ACCESS_KEY)
  --secret-key <key>      ACL secret key (default: $ROCKETMQ_SECRET_KEY)`;

/** Default name server. */
export const DEFAULT_NAMESRV = "127.0.0.1:9876";

/** Client options from the connection flags and the environment. */
export function clientOptions(parsed: Parsed, io: CliIO): ClientOptions {
  const options: ClientOptions = {
    nameServer: (parsed.flags.get("namesrv") as string | undefined) ?? io.env("NAMESRV_ADDR") ??
      DEFAULT_NAMESRV,
  };
  if (parsed.flags.get("tls")) options.tls = true;
  const accessKey = (parsed.flags.get("access-key") as string | undefined) ??
    io.env("ROCKETMQ_ACCESS_KEY");
  const secretKey = (parsed.flags.get("secret-key") as string | undefined) ??
    io.env("ROCKETMQ_SECRET_KEY");
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    throw new UsageError("give both --access-key and --secret-key, or neither");
  }
  if (accessKey !== undefined && secretKey !== undefined) {
    options.credentials = { accessKey, secretKey };
  }
  return options;
}

/** An error as a shell user reads it, with the exit code it means. */
export function explain(error: unknown): { text: string; exit: number } {
  if (error instanceof UsageError) return { text: error.message, exit: EXIT.USAGE };
  if (error instanceof InvalidArgumentError) return { text: error.message, exit: EXIT.USAGE };
  const line = (hint: string | undefined, exit: number) => ({
    text: `${(error as Error).message} [${(error as RocketMQError).code}]${
      hint ? `\n  hint: ${hint}` : ""
    }`,
    exit,
  });
  if (error instanceof ConnectionError) {
    return line(
      "is a name server (or the broker it lists) listening there? Set --namesrv or NAMESRV_ADDR; " +
        "for brokers behind NAT see addressMap",
      EXIT.UNREACHABLE,
    );
  }
  if (error instanceof RemotingTimeoutError) {
    return line("the peer accepted the connection but did not answer in time", EXIT.UNREACHABLE);
  }
  if (error instanceof RequestTimeoutError) {
    const hints = {
      "sending": "no broker stored the request in time: is the broker overloaded or unreachable?",
      "awaiting-reply":
        `is a responder consuming ${error.topic}? (try: rocketmq-rpc reply ${error.topic} --echo), ` +
        "or raise --timeout",
      "reply-undeliverable": "a connection that carries replies was lost meanwhile: retry",
    };
    return line(hints[error.stage], EXIT.FAILED);
  }
  if (error instanceof NoRouteError) {
    return line(
      `create the topic (mqadmin updateTopic -t ${error.topic} -c <cluster>), ` +
        "or let the broker create topics (autoCreateTopicEnable=true)",
      EXIT.FAILED,
    );
  }
  if (error instanceof NoResponderError) {
    return line(`start a responder: rocketmq-rpc reply ${error.topic} --echo`, EXIT.FAILED);
  }
  if (error instanceof RemoteError) return line("the responder's handler failed", EXIT.FAILED);
  if (error instanceof BrokerError) {
    return line(
      error.responseCode === ResponseCode.NO_PERMISSION ||
        /acl|access ?key/i.test(error.remark ?? "")
        ? "the broker refused: check --access-key/--secret-key and the account's permissions"
        : undefined,
      EXIT.FAILED,
    );
  }
  if (error instanceof RocketMQError) return line(undefined, EXIT.FAILED);
  return { text: error instanceof Error ? error.message : String(error), exit: EXIT.FAILED };
}

/** Percentile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Milliseconds with a sensible precision. */
export function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}
