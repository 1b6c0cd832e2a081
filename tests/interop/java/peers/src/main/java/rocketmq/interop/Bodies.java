package rocketmq.interop;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Request bodies and the reply transformations shared by Requester and Responder (and re-implemented by
 * the TypeScript tests, so keep them trivial).
 *
 * <p>A body is the ASCII prefix {@code "<run>:<seq>:"} followed by filler up to the requested size, so every
 * request of a run is unique and a reply routed to the wrong request is detected. Filler is either
 * pseudo-random bytes 0..255 ({@code binary}) or lowercase ASCII ({@code text}).
 *
 * <p>Reply modes: {@code echo} (reply body = request body), {@code reverse} (the request body's bytes in
 * reverse order), {@code none} (the responder consumes but never replies: requests time out).
 */
final class Bodies {
  private Bodies() {}

  static byte[] make(String run, long seq, int size, boolean binary) {
    byte[] prefix = (run + ":" + seq + ":").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[Math.max(size, prefix.length)];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    long x = seq * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
    for (int i = prefix.length; i < out.length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      out[i] = binary ? (byte) x : (byte) ('a' + (int) ((x >>> 33) % 26));
    }
    return out;
  }

  /** Applies a reply mode ({@code echo}, {@code reverse}); {@code none} has no reply body. */
  static byte[] transform(String mode, byte[] request) {
    switch (mode) {
      case "echo":
        return request.clone();
      case "reverse": {
        byte[] out = new byte[request.length];
        for (int i = 0; i < request.length; i++) out[i] = request[request.length - 1 - i];
        return out;
      }
      default:
        throw new IllegalArgumentException("reply mode has no body: " + mode);
    }
  }

  static void checkMode(String mode) {
    if (!mode.equals("echo") && !mode.equals("reverse") && !mode.equals("none")) {
      throw new IllegalArgumentException("--mode must be echo, reverse or none, got " + mode);
    }
  }

  /** Lowercase hex SHA-256 of the bytes (empty array for null). */
  static String sha256(byte[] body) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] d = md.digest(body == null ? new byte[0] : body);
      StringBuilder sb = new StringBuilder(64);
      for (byte b : d) sb.append(String.format("%02x", b & 0xff));
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
