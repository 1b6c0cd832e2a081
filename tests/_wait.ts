/**
 * Waiting for events in tests: `until()` polls a condition every few
 * milliseconds and fails, naming what it waited for, only after a generous
 * deadline, so that a busy 2-core machine slows a test down instead of
 * failing it.
 *
 * @module
 */

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `condition()` holds; rejects with `timed out waiting for
 * <what>` after `timeout` ms (a margin, not a measurement).
 *
 * @param condition Checked every `every` ms.
 * @param what What the test waits for, for the failure message.
 * @param timeout The deadline, ms. @default 30000
 * @param every The polling interval, ms: lower it only where the moment the
 *   condition turns true is measured (tests/bench/handover_measure.ts).
 *   @default 5
 */
export async function until(
  condition: () => boolean,
  what: string,
  timeout = 30_000,
  every = 5,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}
