package rocketmq.interop;

import java.util.Collection;
import java.util.Map;

/** A tiny insertion-ordered JSON object writer (no dependency beyond the JDK). */
final class Json {
  private final StringBuilder sb = new StringBuilder("{");
  private boolean first = true;

  private Json() {}

  static Json obj() {
    return new Json();
  }

  private Json key(String k) {
    if (!first) sb.append(',');
    first = false;
    quote(sb, k);
    sb.append(':');
    return this;
  }

  Json put(String k, String v) {
    key(k);
    if (v == null) sb.append("null");
    else quote(sb, v);
    return this;
  }

  Json put(String k, long v) {
    key(k).sb.append(v);
    return this;
  }

  Json put(String k, double v) {
    key(k);
    if (Double.isNaN(v) || Double.isInfinite(v)) sb.append("null");
    else sb.append(Math.round(v * 1000.0) / 1000.0);
    return this;
  }

  Json put(String k, boolean v) {
    key(k).sb.append(v);
    return this;
  }

  Json put(String k, Json v) {
    key(k).sb.append(v == null ? "null" : v.toString());
    return this;
  }

  /** Writes a JSON array of strings. */
  Json putStrings(String k, Collection<String> values) {
    key(k).sb.append('[');
    boolean f = true;
    for (String v : values) {
      if (!f) sb.append(',');
      f = false;
      quote(sb, v);
    }
    sb.append(']');
    return this;
  }

  /** Writes a JSON object whose values are already-built objects. */
  Json putObjects(String k, Map<String, Json> values) {
    Json o = obj();
    for (Map.Entry<String, Json> e : values.entrySet()) o.put(e.getKey(), e.getValue());
    return put(k, o);
  }

  @Override
  public String toString() {
    return sb.toString() + "}";
  }

  /** {@code "<SimpleClassName>: <message>"}, the error format every peer prints. */
  static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  private static void quote(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
          if (c < 0x20 || c == 0x2028 || c == 0x2029) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
      }
    }
    out.append('"');
  }
}
