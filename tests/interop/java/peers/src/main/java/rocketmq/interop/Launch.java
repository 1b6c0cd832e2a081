package rocketmq.interop;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs another main class (the RocketMQ name server or broker, or a peer) and makes the JVM exit cleanly
 * when its standard input reaches end-of-file, i.e. when the harness process that holds the other end of the
 * pipe is gone, however it died. {@code System.exit} runs the JVM's shutdown hooks, so the broker still
 * flushes and unregisters. Uses only the JDK, so it can sit on the server classpath.
 *
 * <pre>java -cp ... rocketmq.interop.Launch org.apache.rocketmq.broker.BrokerStartup -c broker.properties</pre>
 */
public final class Launch {
  private Launch() {}

  public static void main(String[] argv) throws Throwable {
    if (argv.length == 0) throw new IllegalArgumentException("usage: Launch <main class> [args...]");
    watchStdin();
    Method main = Class.forName(argv[0]).getMethod("main", String[].class);
    main.invoke(null, (Object) Arrays.copyOfRange(argv, 1, argv.length));
  }

  /** Exits (status 143, as for SIGTERM) once stdin is closed. Peers call it too. */
  static void watchStdin() {
    Thread t = new Thread(() -> {
      InputStream in = System.in;
      byte[] buf = new byte[256];
      try {
        while (in.read(buf) >= 0) {
          // Ignore input; only end-of-file matters.
        }
      } catch (IOException e) {
        // Treat a broken pipe like end-of-file.
      }
      System.err.println("interop: stdin closed, exiting");
      System.exit(143);
    }, "interop-stdin-watch");
    t.setDaemon(true);
    t.start();
  }
}
