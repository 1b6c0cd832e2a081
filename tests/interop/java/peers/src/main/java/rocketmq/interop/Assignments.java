package rocketmq.interop;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.impl.consumer.ProcessQueue;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * Watches which queues a push consumer currently owns (the rebalance result) and prints an
 * {@code {"event":"assignment",...}} line whenever the set changes. Reads the client's process-queue table,
 * which is public in both 4.9.x and 5.x; {@code setMessageQueueListener} exists on the push consumer only in 5.x.
 *
 * <p>Works around a race in the official client (4.9.x and 5.x): after a rebalance the client bumps its
 * subscription version and sends a heartbeat with {@code tryLock}; when another heartbeat holds the lock
 * (e.g. the one triggered by the broker's NOTIFY_CONSUMER_IDS_CHANGED) that heartbeat is skipped, the broker
 * keeps the old version, and every pull is answered SUBSCRIPTION_NOT_LATEST until the periodic heartbeat
 * 30 s later. So after each assignment change we send the heartbeat again (same client call, no change to
 * the client). Disable with {@code --rebalance-heartbeat false}.
 */
final class Assignments {
  private final DefaultMQPushConsumer consumer;
  private final String topic;
  private List<String> last;

  private final boolean heartbeat;

  Assignments(DefaultMQPushConsumer consumer, String topic, boolean heartbeat) {
    this.consumer = consumer;
    this.topic = topic;
    this.heartbeat = heartbeat;
  }

  /** Re-sends the heartbeat (carrying the current subscription version) to all brokers. */
  void heartbeat() {
    if (!heartbeat) return;
    try {
      consumer.getDefaultMQPushConsumerImpl().getmQClientFactory().sendHeartbeatToAllBrokerWithLock();
    } catch (RuntimeException e) {
      System.err.println("interop: heartbeat failed: " + e);
    }
  }

  /** Current owned queues of the topic, as sorted {@code "brokerName:queueId"} strings. */
  List<String> current() {
    List<String> out = new ArrayList<>();
    Map<MessageQueue, ProcessQueue> table =
        consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable();
    for (Map.Entry<MessageQueue, ProcessQueue> e : table.entrySet()) {
      MessageQueue q = e.getKey();
      if (q.getTopic().equals(topic) && !e.getValue().isDropped()) {
        out.add(q.getBrokerName() + ":" + q.getQueueId());
      }
    }
    Collections.sort(out);
    return out;
  }

  /**
   * Waits up to {@code maxMs} for at least one owned queue, then until the set has not changed for 300 ms
   * (the client fills its table queue by queue); returns the assignment at that time.
   */
  List<String> await(long maxMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + maxMs;
    List<String> cur = current();
    long stableSince = System.currentTimeMillis();
    while (System.currentTimeMillis() < deadline) {
      if (!cur.isEmpty() && System.currentTimeMillis() - stableSince >= 300) {
        heartbeat();
        break;
      }
      Thread.sleep(50);
      List<String> next = current();
      if (!next.equals(cur)) {
        cur = next;
        stableSince = System.currentTimeMillis();
      }
    }
    return cur;
  }

  /** Starts a daemon thread that reports changes every 100 ms. */
  void watch(String clientId) {
    Thread t = new Thread(() -> {
      long heartbeatAt = 0;
      while (true) {
        List<String> cur = current();
        synchronized (this) {
          if (!cur.equals(last)) {
            boolean initial = last == null;
            last = cur;
            Out.emit(Json.obj().put("event", "assignment").put("clientId", clientId).put("topic", topic)
                .putStrings("queues", cur));
            if (!initial) heartbeatAt = System.currentTimeMillis() + 300;
          }
        }
        if (heartbeatAt != 0 && System.currentTimeMillis() >= heartbeatAt) {
          heartbeatAt = 0;
          heartbeat();
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "assignment-watch");
    t.setDaemon(true);
    t.start();
  }
}
