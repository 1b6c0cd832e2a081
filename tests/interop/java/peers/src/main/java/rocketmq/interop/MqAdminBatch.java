package rocketmq.interop;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs several {@code mqadmin} commands in one JVM (a JVM start costs seconds on a busy machine; mqadmin
 * starts one per command): {@code MqAdminBatch cmd1 args... --next cmd2 args... --next ...}. Calls
 * {@code org.apache.rocketmq.tools.command.MQAdminStartup.main} for each (reflection: this class is compiled
 * against the client only and runs on the server classpath, which has {@code rocketmq-tools}), captures
 * what it prints, and emits one JSON line per command: {@code {"event":"mqadmin","index":i,"output":...,
 * "ms":...}}, then {@code {"event":"done"}}.
 *
 * <p>MQAdminStartup returns normally (it prints failures) except on a command-line parse error, where
 * {@code ServerUtil.parseCmdLine} calls {@code System.exit(1)}: a security manager turns that exit into an
 * exception, reported as {@code "exit":1} for that command, so the later commands still run.
 */
public final class MqAdminBatch {
  private MqAdminBatch() {}

  /** Thrown in place of {@code System.exit} while a command runs. */
  static final class ExitTrapped extends SecurityException {
    private static final long serialVersionUID = 1L;
    final int status;

    ExitTrapped(int status) {
      super("System.exit(" + status + ")");
      this.status = status;
    }
  }

  private static volatile boolean trapping;

  @SuppressWarnings("removal")
  private static void trapExit() {
    try {
      System.setSecurityManager(new SecurityManager() {
        @Override
        public void checkPermission(java.security.Permission perm) {}

        @Override
        public void checkPermission(java.security.Permission perm, Object context) {}

        @Override
        public void checkExit(int status) {
          if (trapping && Thread.currentThread().getName().equals("main")) throw new ExitTrapped(status);
        }
      });
    } catch (UnsupportedOperationException e) {
      // A JVM that forbids security managers: a parse error then ends the batch.
    }
  }

  public static void main(String[] argv) throws Exception {
    Out.init();
    List<List<String>> commands = new ArrayList<>();
    List<String> current = new ArrayList<>();
    for (String arg : argv) {
      if (arg.equals("--next")) {
        commands.add(current);
        current = new ArrayList<>();
      } else {
        current.add(arg);
      }
    }
    commands.add(current);
    trapExit();
    Method main = Class.forName("org.apache.rocketmq.tools.command.MQAdminStartup")
        .getMethod("main", String[].class);
    PrintStream realOut = System.out;
    for (int i = 0; i < commands.size(); i++) {
      String[] args = commands.get(i).toArray(new String[0]);
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
      long start = System.nanoTime();
      int exit = 0;
      String error = null;
      System.setOut(capture);
      trapping = true;
      try {
        main.invoke(null, (Object) args);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof ExitTrapped) {
          exit = ((ExitTrapped) cause).status;
        } else {
          exit = -1;
          error = Json.describe(cause);
        }
      } finally {
        trapping = false;
        System.setOut(realOut);
        capture.flush();
      }
      Json event = Json.obj()
          .put("event", "mqadmin")
          .put("index", i)
          .putStrings("args", Arrays.asList(args))
          .put("output", captured.toString(StandardCharsets.UTF_8))
          .put("exit", exit)
          .put("ms", (System.nanoTime() - start) / 1_000_000);
      if (error != null) event.put("error", error);
      Out.emit(event);
    }
    Out.emit(Json.obj().put("event", "done"));
    System.exit(0);
  }
}
