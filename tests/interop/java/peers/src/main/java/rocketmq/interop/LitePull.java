package rocketmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.exception.RemotingTimeoutException;
import org.apache.rocketmq.remoting.exception.RemotingTooMuchRequestException;

/**
 * Sends a few messages, then polls them with the official {@code DefaultLitePullConsumer}, and exits.
 *
 * <pre>
 * LitePull --namesrv 127.0.0.1:9876 --topic T --group G
 *   [--mode subscribe|assign]  subscribe(topic, "*") with rebalancing, or assign(fetchMessageQueues(topic))
 *   [--send 0]                 messages to send (synchronous DefaultMQProducer) before the consumer starts
 *   [--plan expect=0]          phases, separated by ';', run in order once every queue is assigned; each is
 *                              a ','-separated list of seek=begin|end|N (seekToBegin / seekToEnd / seek(mq, N)
 *                              on every queue), send=N (send N more), expect=N (poll until N messages came,
 *                              then keep polling for --idle-ms to catch extras); e.g.
 *                              "expect=9;seek=begin,expect=13;seek=end,send=3,expect=3"
 *   [--commit sync|auto|none]  commitSync() after every non-empty poll, or setAutoCommit(true) with a 1 s
 *                              interval (then --idle-ms is at least 1600, so that one auto commit follows the
 *                              last message)
 *   [--from first|last] [--timeout-ms 60000] (per phase) [--idle-ms 1500] [--run-id R]
 * </pre>
 *
 * <p>Stdout: one {@code sent} line per message sent ({@code index}, {@code body}, {@code queue},
 * {@code queueOffset}), {@code ready} (the assigned queues), per phase a {@code phase} line (its number and
 * seek) and one {@code message} line per polled message ({@code phase}, {@code queue}, {@code queueOffset},
 * {@code body}), then {@code polled} or {@code timeout}; {@code summary} ({@code committed}: per queue,
 * {@code committed(mq)}); then the consumer shuts down (which persists the offsets) and {@code stopped} is
 * printed. Exit 0 when every phase polled its count in time.
 */
public final class LitePull {
  private LitePull() {}

  public static void main(String[] argv) {
    Out.init();
    try {
      Args a = new Args(argv);
      String namesrv = a.required("namesrv");
      String topic = a.required("topic");
      String group = a.required("group");
      String mode = a.str("mode", "subscribe");
      int send = a.integer("send", 0);
      String plan = a.str("plan", "expect=0");
      String commit = a.str("commit", "sync");
      String from = a.str("from", "first");
      long timeoutMs = a.lng("timeout-ms", 60000);
      // Auto commit happens inside poll(), at most every autoCommitIntervalMillis (1 s at least): keep
      // polling long enough after the last message for one to cover it.
      long idleMs = Math.max(a.lng("idle-ms", 1500), commit.equals("auto") ? 1600 : 0);
      String run = a.str("run-id", UUID.randomUUID().toString().substring(0, 8));
      a.rejectUnknown();
      if (!mode.equals("subscribe") && !mode.equals("assign")) {
        throw new IllegalArgumentException("--mode subscribe|assign");
      }
      if (!commit.equals("sync") && !commit.equals("auto") && !commit.equals("none")) {
        throw new IllegalArgumentException("--commit sync|auto|none");
      }
      List<Map<String, String>> phases = parsePlan(plan);

      DefaultMQProducer producer = new DefaultMQProducer(group + "-producer");
      producer.setNamesrvAddr(namesrv);
      producer.setSendMsgTimeout(15000); // the default 3 s includes the first route lookup: too tight on a busy host
      producer.start();
      int sent = 0;
      for (; sent < send; sent++) send(producer, topic, run, sent);

      DefaultLitePullConsumer consumer = new DefaultLitePullConsumer(group);
      consumer.setNamesrvAddr(namesrv);
      consumer.setConsumeFromWhere(from.equals("last")
          ? ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET : ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
      consumer.setAutoCommit(commit.equals("auto"));
      consumer.setAutoCommitIntervalMillis(1000);
      consumer.setPollTimeoutMillis(200);
      Collection<MessageQueue> queues;
      if (mode.equals("subscribe")) {
        consumer.subscribe(topic, "*");
        consumer.start();
        queues = retry("fetchMessageQueues", () -> consumer.fetchMessageQueues(topic));
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!consumer.assignment().containsAll(queues)) {
          if (System.currentTimeMillis() > deadline) {
            throw new IllegalStateException("not all queues assigned: " + consumer.assignment());
          }
          Thread.sleep(50);
        }
      } else {
        consumer.start();
        queues = retry("fetchMessageQueues", () -> consumer.fetchMessageQueues(topic));
        consumer.assign(queues);
      }
      List<MessageQueue> sorted = new ArrayList<>(queues);
      sorted.sort(Comparator.comparing(MessageQueue::getBrokerName).thenComparingInt(MessageQueue::getQueueId));
      Out.emit(Json.obj().put("event", "ready").put("group", group).put("mode", mode)
          .putStrings("assigned", labels(consumer.assignment())));

      boolean ok = true;
      for (int p = 0; p < phases.size() && ok; p++) {
        Map<String, String> phase = phases.get(p);
        String seek = phase.get("seek");
        if (seek != null) {
          for (MessageQueue mq : sorted) {
            retry("seek", () -> {
              seek(consumer, mq, seek);
              return null;
            });
          }
        }
        Out.emit(Json.obj().put("event", "phase").put("phase", p + 1).put("seek", seek));
        int more = Integer.parseInt(phase.getOrDefault("send", "0"));
        for (int i = 0; i < more; i++, sent++) send(producer, topic, run, sent);
        int expect = Integer.parseInt(phase.getOrDefault("expect", "0"));
        ok = poll(consumer, p + 1, expect, commit, timeoutMs, idleMs);
      }
      Json committed = Json.obj();
      for (MessageQueue mq : sorted) committed.put(label(mq), retry("committed", () -> consumer.committed(mq)));
      Out.emit(Json.obj().put("event", "summary").put("ok", ok).put("committed", committed));
      consumer.shutdown();
      producer.shutdown();
      Out.emit(Json.obj().put("event", "stopped"));
      System.exit(ok ? 0 : 1);
    } catch (Throwable t) {
      Out.fatal(t);
    }
  }

  /** {@code "expect=9;seek=begin,expect=13"} → [{expect: 9}, {seek: begin, expect: 13}]. */
  private static List<Map<String, String>> parsePlan(String plan) {
    List<Map<String, String>> phases = new ArrayList<>();
    for (String phase : plan.split(";")) {
      Map<String, String> items = new HashMap<>();
      for (String item : phase.split(",")) {
        String[] kv = item.trim().split("=", 2);
        if (kv.length != 2 || !(kv[0].equals("seek") || kv[0].equals("send") || kv[0].equals("expect"))) {
          throw new IllegalArgumentException("--plan: bad item '" + item + "' (seek=, send=, expect=)");
        }
        items.put(kv[0], kv[1]);
      }
      phases.add(items);
    }
    return phases;
  }

  private static void send(DefaultMQProducer producer, String topic, String run, int i) throws Exception {
    String body = "lite-" + run + "-" + i;
    Message m = new Message(topic, body.getBytes(StandardCharsets.UTF_8));
    m.setKeys("lite-" + i);
    SendResult r;
    for (int attempt = 1; ; attempt++) {
      try {
        r = producer.send(m);
        break;
      } catch (Exception e) {
        // Only what failed before the message went out (the route lookup, or the send's whole time budget
        // spent waiting for it) is safe to send again.
        boolean unsent = e instanceof IllegalStateException || e instanceof RemotingTooMuchRequestException;
        if (!unsent || attempt >= ATTEMPTS) throw e;
        System.err.println("interop: send " + i + " failed before sending (" + e + "), again");
        Thread.sleep(500);
      }
    }
    if (r.getSendStatus() != SendStatus.SEND_OK) throw new IllegalStateException("send " + i + ": " + r);
    Out.emit(Json.obj().put("event", "sent").put("index", i).put("body", body)
        .put("queue", label(r.getMessageQueue())).put("queueOffset", r.getQueueOffset()));
  }

  /** Calls that may run again: reads and seeks. */
  private interface Call<T> {
    T call() throws Exception;
  }

  private static final int ATTEMPTS = 4;

  /**
   * Runs a call that is safe to repeat again when it timed out: on a busy 2-core host a JVM can be starved
   * past the client's 3 s request timeouts; what a test checks is the broker's answers, not that.
   */
  private static <T> T retry(String what, Call<T> call) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.call();
      } catch (Exception e) {
        boolean timedOut = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
          timedOut |= t instanceof RemotingTimeoutException || t instanceof RemotingTooMuchRequestException;
        }
        if (!timedOut || attempt >= ATTEMPTS) throw e;
        System.err.println("interop: " + what + " timed out (" + e + "), again");
        Thread.sleep(500);
      }
    }
  }

  /** Seeks one queue: {@code begin}, {@code end} or an offset. */
  private static void seek(DefaultLitePullConsumer consumer, MessageQueue mq, String how) throws Exception {
    switch (how) {
      case "begin":
        consumer.seekToBegin(mq);
        break;
      case "end":
        consumer.seekToEnd(mq);
        break;
      default:
        consumer.seek(mq, Long.parseLong(how));
    }
  }

  /** Polls until {@code expect} messages arrived, then {@code idleMs} more; false on timeout. */
  private static boolean poll(DefaultLitePullConsumer consumer, int phase, int expect, String commit,
      long timeoutMs, long idleMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    long idleUntil = expect == 0 ? System.currentTimeMillis() + idleMs : Long.MAX_VALUE;
    int polled = 0;
    while (true) {
      long now = System.currentTimeMillis();
      if (now > idleUntil) break;
      if (now > deadline) {
        Out.emit(Json.obj().put("event", "timeout").put("phase", phase).put("polled", polled)
            .put("expected", expect));
        return false;
      }
      List<MessageExt> batch = consumer.poll(200);
      for (MessageExt m : batch) {
        polled++;
        Out.emit(Json.obj().put("event", "message").put("phase", phase)
            .put("queue", m.getBrokerName() + ":" + m.getQueueId()).put("queueOffset", m.getQueueOffset())
            .put("msgId", m.getMsgId()).put("keys", m.getKeys())
            .put("body", new String(m.getBody(), StandardCharsets.UTF_8)));
      }
      if (!batch.isEmpty() && commit.equals("sync")) consumer.commitSync();
      if (polled >= expect && idleUntil == Long.MAX_VALUE) idleUntil = System.currentTimeMillis() + idleMs;
    }
    Out.emit(Json.obj().put("event", "polled").put("phase", phase).put("polled", polled));
    return true;
  }

  private static String label(MessageQueue mq) {
    return mq.getBrokerName() + ":" + mq.getQueueId();
  }

  private static List<String> labels(Collection<MessageQueue> queues) {
    Set<String> out = new HashSet<>();
    for (MessageQueue mq : queues) out.add(label(mq));
    List<String> list = new ArrayList<>(out);
    list.sort(null);
    return list;
  }
}
