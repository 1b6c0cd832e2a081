// What an orderly consumer's handler saw, and the selector that keys requests
// to queues: shared by the orderly interop tests (orderly_test.ts, and the
// client suite's case on every target in client_test.ts).
import { bodyText, type MessageExt, type MessageQueue } from "../../mod.ts";
import { sleep } from "../_wait.ts";

/** Account `n` goes to queue `n % queues`. */
export const byAccount = (
  queues: readonly MessageQueue[],
  _message: unknown,
  arg: unknown,
): MessageQueue => [...queues].sort((a, b) => a.queueId - b.queueId)[Number(arg) % queues.length]!;

/** What an orderly consumer's handler saw: completions per queue, overlap per queue. */
export class Journal {
  readonly handled: Array<{ queueId: number; offset: number; body: string }> = [];
  readonly overlap = new Map<number, number>();
  readonly #running = new Map<number, number>();

  async run(msg: MessageExt): Promise<void> {
    const now = (this.#running.get(msg.queueId) ?? 0) + 1;
    this.#running.set(msg.queueId, now);
    this.overlap.set(msg.queueId, Math.max(now, this.overlap.get(msg.queueId) ?? 0));
    try {
      await sleep(Math.random() * 4);
      this.handled.push({ queueId: msg.queueId, offset: msg.queueOffset, body: bodyText(msg) });
    } finally {
      this.#running.set(msg.queueId, this.#running.get(msg.queueId)! - 1);
    }
  }

  /** Queues whose messages did not complete in strictly increasing offset order. */
  outOfOrder(): number[] {
    const last = new Map<number, number>();
    const bad = new Set<number>();
    for (const h of this.handled) {
      if ((last.get(h.queueId) ?? -1) >= h.offset) bad.add(h.queueId);
      last.set(h.queueId, h.offset);
    }
    return [...bad];
  }
}
