package rocketmq.interop;

import java.lang.management.ManagementFactory;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

/**
 * Sends messages one after another with the synchronous {@code DefaultMQProducer.send}.
 *
 * <pre>
 * Producer --namesrv 127.0.0.1:9876 --topic T
 *   [--count 10] [--body-size 64] [--body binary|text] [--keys k-{i}] [--tags TagA] [--group G]
 *   [--order-keys 0]   N &gt; 0: message i belongs to order key "ok-(i mod N)" (user property orderKey, with
 *                      orderSeq = its index within that key); a selector sends each key to one queue
 *   [--queue-id -1]    send every message to this queue id (selector)
 *   [--timeout-ms 3000] [--interval-ms 0] [--run-id R] [--quiet]
 *   [--compress-type ZLIB|LZ4|ZSTD] [--compress-over 4096] [--compress-level 5]
 *                      5.x only: DefaultMQProducer.setCompressType / setCompressMsgBodyOverHowmuch /
 *                      setCompressLevel (bodies at least that large are compressed)
 *   [--inflight 0]     benchmarks: N &gt; 0 sends asynchronously ({@code send(msg, SendCallback)}) with at
 *                      most N sends in flight, prints only the summary (and errors); the summary then has
 *                      {@code runCpuMs}, the process CPU time of the sending loop
 * </pre>
 *
 * <p>{@code {i}} in {@code --keys}/{@code --tags} is replaced by the message index. Stdout: {@code started},
 * one {@code sent} or {@code error} line per message (unless {@code --quiet}), {@code summary}. Exit 0 when
 * every send returned SEND_OK.
 */
public final class Producer {
  private Producer() {}

  public static void main(String[] argv) {
    Out.init();
    try {
      Args a = new Args(argv);
      String namesrv = a.required("namesrv");
      String topic = a.required("topic");
      long count = a.lng("count", 10);
      int bodySize = a.integer("body-size", 64);
      boolean binary = a.str("body", "binary").equals("binary");
      String keys = a.str("keys", null);
      String tags = a.str("tags", null);
      String group = a.str("group", "interop-producer-" + UUID.randomUUID().toString().substring(0, 8));
      int orderKeys = a.integer("order-keys", 0);
      int queueId = a.integer("queue-id", -1);
      long timeoutMs = a.lng("timeout-ms", 3000);
      long intervalMs = a.lng("interval-ms", 0);
      String run = a.str("run-id", UUID.randomUUID().toString().substring(0, 8));
      boolean quiet = a.flag("quiet");
      int inflight = a.integer("inflight", 0);
      String compressType = a.str("compress-type", null);
      int compressOver = a.integer("compress-over", -1);
      int compressLevel = a.integer("compress-level", -1);
      a.rejectUnknown();

      DefaultMQProducer producer = new DefaultMQProducer(group);
      producer.setNamesrvAddr(namesrv);
      producer.setSendMsgTimeout((int) timeoutMs);
      Compression.configure(producer, compressType, compressOver, compressLevel);
      producer.start();
      long startupMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
      Out.emit(Json.obj().put("event", "started").put("clientId", producer.buildMQClientId())
          .put("group", group).put("run", run).put("startupMs", startupMs));

      if (inflight > 0) {
        boolean ok = sendAsync(producer, topic, count, bodySize, binary, run, inflight, timeoutMs, startupMs);
        producer.shutdown();
        System.exit(ok ? 0 : 1);
      }

      MessageQueueSelector byKey = (mqs, msg, arg) -> {
        if (queueId >= 0) {
          for (org.apache.rocketmq.common.message.MessageQueue q : mqs) {
            if (q.getQueueId() == queueId) return q;
          }
          throw new IllegalStateException("no queue " + queueId);
        }
        return mqs.get(Math.floorMod(((String) arg).hashCode(), mqs.size()));
      };
      Stats latency = new Stats();
      long ok = 0;
      long errors = 0;
      long t0 = System.nanoTime();
      for (long i = 0; i < count; i++) {
        Message m = new Message(topic, Bodies.make(run, i, bodySize, binary));
        if (tags != null) m.setTags(tags.replace("{i}", Long.toString(i)));
        if (keys != null) m.setKeys(keys.replace("{i}", Long.toString(i)));
        String orderKey = null;
        if (orderKeys > 0) {
          orderKey = "ok-" + (i % orderKeys);
          m.putUserProperty("orderKey", orderKey);
          m.putUserProperty("orderSeq", Long.toString(i / orderKeys));
        }
        m.putUserProperty("interopIndex", Long.toString(i));
        long s = System.nanoTime();
        Json line = Json.obj();
        try {
          SendResult r = (orderKey != null || queueId >= 0)
              ? producer.send(m, byKey, orderKey == null ? "" : orderKey, timeoutMs)
              : producer.send(m, timeoutMs);
          long micros = (System.nanoTime() - s) / 1000;
          boolean sendOk = r.getSendStatus() == SendStatus.SEND_OK;
          if (sendOk) {
            ok++;
            latency.add(micros);
          } else {
            errors++;
          }
          line.put("event", "sent").put("index", i).put("ok", sendOk).put("status", r.getSendStatus().name())
              .put("msgId", r.getMsgId()).put("offsetMsgId", r.getOffsetMsgId())
              .put("brokerName", r.getMessageQueue().getBrokerName())
              .put("queueId", r.getMessageQueue().getQueueId()).put("queueOffset", r.getQueueOffset())
              .put("keys", m.getKeys()).put("tags", m.getTags()).put("orderKey", orderKey)
              .put("bodySha256", Bodies.sha256(m.getBody())).put("latencyMs", micros / 1000.0);
        } catch (Throwable t) {
          errors++;
          line.put("event", "error").put("index", i).put("ok", false).put("error", Json.describe(t));
        }
        if (!quiet || errors > 0 && line.toString().contains("\"error\"")) Out.emit(line);
        if (intervalMs > 0) Thread.sleep(intervalMs);
      }
      long elapsed = System.nanoTime() - t0;
      double secs = elapsed / 1e9;
      Out.emit(Stats.addProcess(Json.obj().put("event", "summary").put("run", run).put("allOk", errors == 0)
          .put("sent", count).put("ok", ok).put("errors", errors).put("elapsedMs", elapsed / 1_000_000L)
          .put("throughputPerSec", secs > 0 ? ok / secs : 0).put("latencyMs", latency.latencyMs())
          .put("startupMs", startupMs)));
      producer.shutdown();
      System.exit(errors == 0 ? 0 : 1);
    } catch (Throwable t) {
      Out.fatal(t);
    }
  }

  /** Benchmark mode: pipelined asynchronous sends, at most {@code inflight} at once. */
  private static boolean sendAsync(DefaultMQProducer producer, String topic, long count, int bodySize,
      boolean binary, String run, int inflight, long timeoutMs, long startupMs) throws InterruptedException {
    Semaphore permits = new Semaphore(inflight);
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    Stats latency = new Stats();
    long cpu0 = Requester.processCpuNanos();
    long t0 = System.nanoTime();
    for (long i = 0; i < count; i++) {
      Message m = new Message(topic, Bodies.make(run, i, bodySize, binary));
      permits.acquire();
      long s = System.nanoTime();
      try {
        producer.send(m, new SendCallback() {
          @Override
          public void onSuccess(SendResult r) {
            if (r.getSendStatus() == SendStatus.SEND_OK) {
              ok.incrementAndGet();
              latency.add((System.nanoTime() - s) / 1000);
            } else {
              errors.incrementAndGet();
            }
            permits.release();
          }

          @Override
          public void onException(Throwable e) {
            if (errors.incrementAndGet() <= 5) {
              Out.emit(Json.obj().put("event", "error").put("ok", false).put("error", Json.describe(e)));
            }
            permits.release();
          }
        }, timeoutMs);
      } catch (Exception e) {
        errors.incrementAndGet();
        permits.release();
      }
    }
    if (!permits.tryAcquire(inflight, timeoutMs + 5000, TimeUnit.MILLISECONDS)) {
      errors.addAndGet(count - ok.get() - errors.get());
    }
    long elapsed = System.nanoTime() - t0;
    long runCpu = Requester.processCpuNanos() - cpu0;
    double secs = elapsed / 1e9;
    Json j = Json.obj().put("event", "summary").put("run", run).put("allOk", errors.get() == 0)
        .put("sent", count).put("ok", ok.get()).put("errors", errors.get()).put("inflight", inflight)
        .put("elapsedMs", elapsed / 1_000_000L).put("throughputPerSec", secs > 0 ? ok.get() / secs : 0)
        .put("latencyMs", latency.latencyMs()).put("startupMs", startupMs).put("runCpuMs", runCpu / 1_000_000L);
    if (ok.get() > 0) j.put("cpuMsPer1k", runCpu / 1e6 / ok.get() * 1000.0);
    Out.emit(Stats.addProcess(j));
    return errors.get() == 0;
  }
}
