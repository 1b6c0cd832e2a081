package rocketmq.interop;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * A clustering {@code DefaultMQPushConsumer} that prints every delivery.
 *
 * <pre>
 * Consumer --namesrv 127.0.0.1:9876 --topic T --group G
 *   [--mode concurrently|orderly] [--tags *] [--from first|last] [--threads 4] [--delay-ms 0]
 *   [--model clustering|broadcasting]   broadcasting keeps its offsets in a temporary directory
 *   [--fail-attempts 0]   deliveries with reconsumeTimes &lt; N are failed (RECONSUME_LATER, or
 *                         SUSPEND_CURRENT_QUEUE_A_MOMENT when orderly), to exercise redelivery
 *   [--await-assignment-ms 20000] [--rebalance-heartbeat true|false]
 *   [--bench-count 0]     benchmarks: N &gt; 0 prints no line per delivery; once N messages were delivered it
 *                         prints {@code summary} (first delivery to N-th: throughput, CPU time, memory)
 * </pre>
 *
 * <p>Stdout: {@code ready} (started, and owning a queue or the wait ran out), {@code assignment} on every
 * rebalance change, one {@code message} line per delivery, {@code stopped} on SIGTERM after
 * {@code shutdown()} (which persists consumed offsets). Runs until killed.
 */
public final class Consumer {
  private Consumer() {}

  public static void main(String[] argv) {
    Out.init();
    try {
      Args a = new Args(argv);
      String namesrv = a.required("namesrv");
      String topic = a.required("topic");
      String group = a.required("group");
      String mode = a.str("mode", "concurrently");
      String model = a.str("model", "clustering");
      String tags = a.str("tags", "*");
      String from = a.str("from", "first");
      int threads = a.integer("threads", 4);
      long delayMs = a.lng("delay-ms", 0);
      int failAttempts = a.integer("fail-attempts", 0);
      long awaitMs = a.lng("await-assignment-ms", 20000);
      boolean rebalanceHeartbeat = !a.str("rebalance-heartbeat", "true").equals("false");
      long benchCount = a.lng("bench-count", 0);
      RPCHook hook = Acl.hook(a);
      a.rejectUnknown();

      DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group, hook, new AllocateMessageQueueAveragely());
      consumer.setNamesrvAddr(namesrv);
      switch (model) {
        case "clustering":
          break;
        case "broadcasting":
          // LocalFileOffsetStore reads this when first loaded: not the user's home.
          System.setProperty("rocketmq.client.localOffsetStoreDir",
              java.nio.file.Files.createTempDirectory("rmq-offsets").toString());
          // MessageModel moved package between 4.x and 5.x: reach it through the consumer.
          @SuppressWarnings({"unchecked", "rawtypes"})
          Object broadcasting = Enum.valueOf((Class) consumer.getMessageModel().getClass(), "BROADCASTING");
          DefaultMQPushConsumer.class.getMethod("setMessageModel", consumer.getMessageModel().getClass())
              .invoke(consumer, broadcasting);
          break;
        default:
          throw new IllegalArgumentException("--model clustering|broadcasting");
      }
      switch (from) {
        case "first":
          consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
          break;
        case "last":
          consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
          break;
        default:
          throw new IllegalArgumentException("--from first|last");
      }
      consumer.setConsumeThreadMin(threads);
      consumer.setConsumeThreadMax(threads);
      consumer.subscribe(topic, tags);
      String clientId = consumer.buildMQClientId();
      AtomicLong delivered = new AtomicLong();
      if (benchCount > 0) {
        if (!mode.equals("concurrently")) throw new IllegalArgumentException("--bench-count needs concurrently");
        Bench bench = new Bench(benchCount);
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
          bench.delivered(msgs.size());
          delivered.addAndGet(msgs.size());
          return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
      }
      switch (benchCount > 0 ? "bench" : mode) {
        case "bench":
          break;
        case "concurrently":
          consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            boolean ok = true;
            for (MessageExt m : msgs) ok &= deliver(m, clientId, mode, delayMs, failAttempts, delivered);
            return ok ? ConsumeConcurrentlyStatus.CONSUME_SUCCESS : ConsumeConcurrentlyStatus.RECONSUME_LATER;
          });
          break;
        case "orderly":
          consumer.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            boolean ok = true;
            for (MessageExt m : msgs) ok &= deliver(m, clientId, mode, delayMs, failAttempts, delivered);
            return ok ? ConsumeOrderlyStatus.SUCCESS : ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
          });
          break;
        default:
          throw new IllegalArgumentException("--mode concurrently|orderly");
      }
      consumer.start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        consumer.shutdown();
        Out.emit(Json.obj().put("event", "stopped").put("clientId", clientId).put("delivered", delivered.get()));
      }));
      Assignments assignments = new Assignments(consumer, topic, rebalanceHeartbeat);
      List<String> assigned = assignments.await(awaitMs);
      long startupMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
      Out.emit(Json.obj().put("event", "ready").put("clientId", clientId).put("group", group)
          .put("topic", topic).put("mode", mode).putStrings("assigned", assigned).put("startupMs", startupMs));
      assignments.watch(clientId);
    } catch (Throwable t) {
      Out.fatal(t);
    }
  }

  /** Counts deliveries; prints the summary once, at the N-th. */
  private static final class Bench {
    private final long target;
    private final AtomicLong count = new AtomicLong();
    private volatile long firstNanos;
    private volatile long cpu0;

    Bench(long target) {
      this.target = target;
    }

    void delivered(int n) {
      long before = count.getAndAdd(n);
      if (before == 0) {
        synchronized (this) {
          if (firstNanos == 0) {
            firstNanos = System.nanoTime();
            cpu0 = Requester.processCpuNanos();
          }
        }
      }
      if (before < target && before + n >= target) {
        long elapsed = System.nanoTime() - firstNanos;
        long cpu = Requester.processCpuNanos() - cpu0;
        double secs = elapsed / 1e9;
        Json j = Json.obj().put("event", "summary").put("count", before + n).put("elapsedMs", elapsed / 1_000_000L)
            .put("throughputPerSec", secs > 0 ? (before + n) / secs : 0).put("runCpuMs", cpu / 1_000_000L)
            .put("cpuMsPer1k", cpu / 1e6 / (before + n) * 1000.0);
        Out.emit(Stats.addProcess(j));
      }
    }
  }

  private static boolean deliver(MessageExt m, String clientId, String mode, long delayMs, int failAttempts,
      AtomicLong delivered) {
    boolean ok = m.getReconsumeTimes() >= failAttempts;
    Json props = Json.obj();
    Map<String, String> sorted = new TreeMap<>(m.getProperties());
    sorted.forEach(props::put);
    Out.emit(Json.obj().put("event", "message").put("clientId", clientId).put("mode", mode)
        .put("topic", m.getTopic()).put("queueId", m.getQueueId()).put("queueOffset", m.getQueueOffset())
        .put("msgId", m.getMsgId()).put("keys", m.getKeys()).put("tags", m.getTags())
        .put("bodySize", m.getBody() == null ? 0 : m.getBody().length).put("bodySha256", Bodies.sha256(m.getBody()))
        .put("sysFlag", m.getSysFlag())
        .put("reconsumeTimes", m.getReconsumeTimes()).put("bornTimestamp", m.getBornTimestamp())
        .put("storeTimestamp", m.getStoreTimestamp()).put("thread", Thread.currentThread().getName())
        .put("result", ok ? "success" : "retry").put("properties", props));
    delivered.incrementAndGet();
    if (delayMs > 0) {
      try {
        Thread.sleep(delayMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return ok;
  }
}
