package rocketmq.interop;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The peers' only channel to the harness: one JSON object per line on the process's real stdout.
 *
 * <p>{@link #init()} keeps the real stdout for JSON and points {@code System.out} at stderr, so anything
 * the RocketMQ client (or a library it uses) prints can never corrupt the JSON stream.
 */
final class Out {
  private static PrintStream json;

  private Out() {}

  /** Must be called first thing in {@code main}. */
  static synchronized void init() {
    if (json != null) return;
    json = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    System.setOut(System.err);
  }

  /** Writes one JSON line and flushes it. Thread-safe. */
  static synchronized void emit(Json obj) {
    json.print(obj.toString());
    json.print('\n');
    json.flush();
  }

  /** Prints {@code {"event":"fatal","error":...}} and exits with status 2. */
  static void fatal(Throwable t) {
    emit(Json.obj().put("event", "fatal").put("error", Json.describe(t)));
    System.err.println("fatal:");
    t.printStackTrace(System.err);
    System.exit(2);
  }
}
