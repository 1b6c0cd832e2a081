// A raw client for the broker tests: writes arbitrary bytes to a transport
// and collects the commands that come back, decoded with the real decoder.

import { encodeCommand } from "../../src/codec/frame.ts";
import type { RemotingCommand } from "../../src/codec/remoting_command.ts";
import { RemotingDecoderStream } from "../../src/codec/remoting_decoder_stream.ts";
import type { Transport } from "../../src/transport/types.ts";

export interface RawClient {
  /** Commands received so far. */
  readonly received: RemotingCommand[];
  /** Write bytes as they are. */
  write(bytes: Uint8Array): Promise<void>;
  /** Write an encoded command. */
  writeCommand(command: RemotingCommand): Promise<void>;
  /** Resolves with the first received command with this opaque. */
  response(opaque: number, timeout?: number): Promise<RemotingCommand>;
  /** Resolves once the broker closed the connection (the read side ended). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

export function rawClient(transport: Transport): RawClient {
  const received: RemotingCommand[] = [];
  const waiters = new Set<() => void>();
  const writer = transport.writable.getWriter();
  const ended = (async () => {
    try {
      const reader = transport.readable.pipeThrough(new RemotingDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        received.push(value);
        for (const w of [...waiters]) w();
      }
    } catch {
      // the broker closed or reset the connection
    } finally {
      for (const w of [...waiters]) w();
    }
  })();
  return {
    received,
    write: (bytes) => writer.write(bytes),
    writeCommand: (command) => writer.write(encodeCommand(command)),
    response(opaque, timeout = 2000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = received.find((c) => c.opaque === opaque);
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no response with opaque ${opaque}`));
        }, timeout);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    ended,
    async close() {
      writer.releaseLock();
      await transport.close();
      await ended;
    },
  };
}

/** A frame with the given serialize type and header bytes. */
export function frame(headerBytes: Uint8Array, body = new Uint8Array(0), type = 0): Uint8Array {
  const out = new Uint8Array(8 + headerBytes.length + body.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, 4 + headerBytes.length + body.length);
  view.setUint32(4, ((type & 0xff) << 24 | headerBytes.length) >>> 0);
  out.set(headerBytes, 8);
  out.set(body, 8 + headerBytes.length);
  return out;
}
