// Child process of the crash tests (file_store_test.ts): opens a file store,
// keeps `concurrency` puts in flight, and prints one line per acknowledged put
// ("ack <seed> <queueOffset> <commitLogOffset> <size>") until it is killed. It
// never closes the store.
//
// Usage: deno run -A _crash_child.ts <dataDir> <count> <size> <async|sync> <concurrency>

import { openFileStore } from "../../../src/broker/store/file_store.ts";
import { message } from "./_helpers.ts";

declare const Deno: {
  args: string[];
  stdout: { write(bytes: Uint8Array): Promise<number> };
};

const [dataDir, countText, sizeText, flush, concurrencyText] = Deno.args;
const count = Number(countText);
const size = Number(sizeText);
const concurrency = Number(concurrencyText);
const store = await openFileStore({
  dataDir: dataDir!,
  flush: flush === "sync" ? "sync" : "async",
  segmentSize: 64 * 1024,
});
const encoder = new TextEncoder();
let out = Promise.resolve();
const print = (line: string): void => {
  out = out.then(async () => {
    const bytes = encoder.encode(line + "\n");
    let done = 0;
    while (done < bytes.length) done += await Deno.stdout.write(bytes.subarray(done));
  });
};

let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const seed = next++;
    const r = await store.put(message({ seed, size: size + (seed % 7) }));
    print(`ack ${seed} ${r.queueOffset} ${r.commitLogOffset} ${r.size}`);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
print("done");
await out;
// Wait to be killed: the store is never closed.
await new Promise(() => setInterval(() => {}, 1000));
