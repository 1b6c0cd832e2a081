// Runs the MessageStore contract suite against the file store and the memory store.

import { openFileStore } from "../../../src/broker/store/file_store.ts";
import { MemoryStore } from "../../../src/broker/store/memory_store.ts";
import { ManualTimers } from "../../../src/remoting/timers.ts";
import { conformance } from "./_conformance.ts";
import { CaptureLogger, tempDir } from "./_helpers.ts";

conformance({
  name: "file store (async flush)",
  async open({ now, limitBytes }) {
    const dir = await tempDir();
    const timers = new ManualTimers(now);
    const store = await openFileStore({
      dataDir: dir.path,
      timers,
      segmentSize: 4096,
      logger: new CaptureLogger(),
      ...(limitBytes === undefined ? {} : { retentionBytes: limitBytes }),
    });
    return {
      store,
      setTime: (ms) => timers.advance(Math.max(0, ms - timers.now())),
      async dispose() {
        await store.close();
        await dir.cleanup();
      },
    };
  },
});

conformance({
  name: "file store (sync flush)",
  async open({ now, limitBytes }) {
    const dir = await tempDir();
    const timers = new ManualTimers(now);
    const store = await openFileStore({
      dataDir: dir.path,
      timers,
      flush: "sync",
      logger: new CaptureLogger(),
      ...(limitBytes === undefined ? {} : { segmentSize: 4096, retentionBytes: limitBytes }),
    });
    return {
      store,
      setTime: (ms) => timers.advance(Math.max(0, ms - timers.now())),
      async dispose() {
        await store.close();
        await dir.cleanup();
      },
    };
  },
});

conformance({
  name: "memory store",
  open({ now, limitBytes }) {
    let time = now;
    const store = new MemoryStore({
      now: () => time,
      ...(limitBytes === undefined ? {} : { memoryLimitBytes: limitBytes }),
    });
    return Promise.resolve({
      store,
      setTime: (ms) => {
        time = Math.max(time, ms);
      },
      dispose: () => store.close(),
    });
  },
});
