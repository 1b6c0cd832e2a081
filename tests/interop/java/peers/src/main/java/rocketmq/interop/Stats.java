package rocketmq.interop;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;

/** Latency samples (microseconds) and process resource figures for the summary lines. */
final class Stats {
  private long[] samples = new long[1024];
  private int n;

  synchronized void add(long micros) {
    if (n == samples.length) samples = Arrays.copyOf(samples, n * 2);
    samples[n++] = micros;
  }

  synchronized void forEach(java.util.function.LongConsumer sink) {
    for (int i = 0; i < n; i++) sink.accept(samples[i]);
  }

  synchronized int count() {
    return n;
  }

  /** {@code {"count","min","mean","p50","p90","p99","p999","max"}} in milliseconds (nearest rank). */
  synchronized Json latencyMs() {
    Json j = Json.obj().put("count", n);
    if (n == 0) return j;
    long[] s = Arrays.copyOf(samples, n);
    Arrays.sort(s);
    double sum = 0;
    for (long v : s) sum += v;
    return j.put("min", s[0] / 1000.0)
        .put("mean", sum / n / 1000.0)
        .put("p50", rank(s, 0.50) / 1000.0)
        .put("p90", rank(s, 0.90) / 1000.0)
        .put("p99", rank(s, 0.99) / 1000.0)
        .put("p999", rank(s, 0.999) / 1000.0)
        .put("max", s[n - 1] / 1000.0);
  }

  private static long rank(long[] sorted, double q) {
    int idx = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }

  /** Adds {@code cpuMs}, {@code rssKb} and {@code peakRssKb} (when the platform offers them). */
  static Json addProcess(Json j) {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      long cpu = ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
      if (cpu >= 0) j.put("cpuMs", cpu / 1_000_000L);
    }
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) j.put("rssKb", kb(line));
        else if (line.startsWith("VmHWM:")) j.put("peakRssKb", kb(line));
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: leave the figures out.
    }
    return j;
  }

  private static long kb(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }
}
