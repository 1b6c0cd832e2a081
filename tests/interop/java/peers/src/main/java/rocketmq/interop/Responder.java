package rocketmq.interop;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Answers request messages the way the RocketMQ request-reply sample does: a clustering
 * {@code DefaultMQPushConsumer} builds each reply with {@code MessageUtil.createReplyMessage(request, body)}
 * and sends it synchronously with a {@code DefaultMQProducer}.
 *
 * <pre>
 * Responder --namesrv 127.0.0.1:9876 --topic T
 *   [--group G] [--mode reverse|echo|none] [--delay-ms 0] [--tags * | --sql EXPR] [--threads 4]
 *   [--await-assignment-ms 20000] [--rebalance-heartbeat true|false] [--quiet]
 *   [--access-key K --secret-key S]
 *   [--compress-type ZLIB|LZ4|ZSTD] [--compress-over 4096] [--compress-level 5]   replies (5.x only)
 * </pre>
 *
 * <p>Stdout: {@code ready} once the consumer and the reply producer are started and the consumer owns at
 * least one queue of the topic (or the wait ran out: {@code assigned} is then empty); {@code assignment} on
 * every rebalance change; one {@code request} line per handled message (unless {@code --quiet});
 * {@code stopped} on SIGTERM after both clients shut down. Runs until killed.
 */
public final class Responder {
  private Responder() {}

  public static void main(String[] argv) {
    Out.init();
    try {
      Args a = new Args(argv);
      String namesrv = a.required("namesrv");
      String topic = a.required("topic");
      String group = a.str("group", "interop-responder-" + topic);
      String mode = a.str("mode", "reverse");
      Bodies.checkMode(mode);
      long delayMs = a.lng("delay-ms", 0);
      String tags = a.str("tags", "*");
      String sql = a.str("sql", null);
      int threads = a.integer("threads", 4);
      long awaitMs = a.lng("await-assignment-ms", 20000);
      boolean rebalanceHeartbeat = !a.str("rebalance-heartbeat", "true").equals("false");
      boolean quiet = a.flag("quiet");
      RPCHook hook = Acl.hook(a);
      String compressType = a.str("compress-type", null);
      int compressOver = a.integer("compress-over", -1);
      int compressLevel = a.integer("compress-level", -1);
      a.rejectUnknown();

      DefaultMQProducer replyProducer = new DefaultMQProducer(group + "-reply", hook);
      replyProducer.setNamesrvAddr(namesrv);
      Compression.configure(replyProducer, compressType, compressOver, compressLevel);
      replyProducer.start();

      DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group, hook, new AllocateMessageQueueAveragely());
      consumer.setNamesrvAddr(namesrv);
      consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
      consumer.setConsumeThreadMin(threads);
      consumer.setConsumeThreadMax(threads);
      if (sql != null) {
        consumer.subscribe(topic, MessageSelector.bySql(sql));
      } else {
        consumer.subscribe(topic, tags);
      }
      AtomicLong handled = new AtomicLong();
      consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
        for (MessageExt req : msgs) {
          handle(replyProducer, req, mode, delayMs, quiet);
          handled.incrementAndGet();
        }
        // Always success: a retried request would produce a second reply.
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      });
      consumer.start();
      String clientId = consumer.buildMQClientId();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        consumer.shutdown();
        replyProducer.shutdown();
        Out.emit(Json.obj().put("event", "stopped").put("handled", handled.get()));
      }));
      Assignments assignments = new Assignments(consumer, topic, rebalanceHeartbeat);
      List<String> assigned = assignments.await(awaitMs);
      long startupMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
      Out.emit(Json.obj().put("event", "ready").put("clientId", clientId).put("group", group)
          .put("topic", topic).putStrings("assigned", assigned).put("startupMs", startupMs));
      assignments.watch(clientId);
    } catch (Throwable t) {
      Out.fatal(t);
    }
  }

  private static void handle(DefaultMQProducer replyProducer, MessageExt req, String mode, long delayMs,
      boolean quiet) {
    Json line = Json.obj().put("event", "request").put("topic", req.getTopic())
        .put("queueId", req.getQueueId()).put("queueOffset", req.getQueueOffset())
        .put("msgId", req.getMsgId()).put("correlationId", req.getProperty("CORRELATION_ID"))
        .put("replyToClient", req.getProperty("REPLY_TO_CLIENT")).put("cluster", req.getProperty("CLUSTER"))
        .put("ttl", req.getProperty("TTL")).put("bodySize", req.getBody() == null ? 0 : req.getBody().length)
        .put("n", req.getProperty("n"))
        .put("reconsumeTimes", req.getReconsumeTimes());
    try {
      if (delayMs > 0) Thread.sleep(delayMs);
      if (mode.equals("none")) {
        line.put("replied", false);
      } else {
        Message reply = MessageUtil.createReplyMessage(req, Bodies.transform(mode, req.getBody()));
        long t0 = System.nanoTime();
        SendResult r = replyProducer.send(reply, 3000);
        line.put("replied", true).put("replyTopic", reply.getTopic()).put("sendStatus", r.getSendStatus().name())
            .put("replyMsgId", r.getMsgId()).put("replySendMs", (System.nanoTime() - t0) / 1e6);
      }
    } catch (Throwable t) {
      line.put("replied", false).put("error", Json.describe(t));
    }
    if (!quiet || line.toString().contains("\"error\"")) Out.emit(line);
  }
}
