package rocketmq.interop;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** {@code --name value} / {@code --name=value} flags; unknown flags are an error (caught typos). */
final class Args {
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> used = new HashSet<>();

  Args(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument: " + a);
      int eq = a.indexOf('=');
      if (eq > 0) {
        values.put(a.substring(2, eq), a.substring(eq + 1));
      } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
        values.put(a.substring(2), argv[++i]);
      } else {
        values.put(a.substring(2), "true");
      }
    }
  }

  String str(String name, String def) {
    used.add(name);
    String v = values.get(name);
    return v == null ? def : v;
  }

  String required(String name) {
    String v = str(name, null);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("missing --" + name);
    return v;
  }

  int integer(String name, int def) {
    String v = str(name, null);
    return v == null ? def : Integer.parseInt(v);
  }

  long lng(String name, long def) {
    String v = str(name, null);
    return v == null ? def : Long.parseLong(v);
  }

  boolean flag(String name) {
    String v = str(name, "false");
    return v.equals("true") || v.equals("1") || v.equals("yes");
  }

  /** Fails on any flag that no accessor asked for. Call after reading all flags. */
  void rejectUnknown() {
    for (String k : values.keySet()) {
      if (!used.contains(k)) throw new IllegalArgumentException("unknown flag --" + k);
    }
  }
}
