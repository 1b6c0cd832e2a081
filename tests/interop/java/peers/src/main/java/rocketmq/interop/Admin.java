package rocketmq.interop;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.UUID;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * Topic administration through the official client's own admin calls (no rocketmq-tools dependency).
 *
 * <pre>
 * Admin create-topic --namesrv 127.0.0.1:9876 --topic T [--queues 4] [--template TBW102] [--wait-ms 15000]
 * Admin route        --namesrv 127.0.0.1:9876 --topic T
 * </pre>
 *
 * <p>{@code create-topic} sends UPDATE_AND_CREATE_TOPIC to every master broker that hosts the template topic
 * (as {@code MQAdmin.createTopic} does), then waits until the name server routes the new topic. Stdout:
 * {@code created} or {@code route} with the publish queues as {@code "brokerName:queueId"}.
 */
public final class Admin {
  private Admin() {}

  public static void main(String[] argv) {
    Out.init();
    try {
      if (argv.length == 0) throw new IllegalArgumentException("usage: Admin create-topic|route --namesrv ...");
      String cmd = argv[0];
      String[] rest = new String[argv.length - 1];
      System.arraycopy(argv, 1, rest, 0, rest.length);
      Args a = new Args(rest);
      String namesrv = a.required("namesrv");
      String topic = a.required("topic");
      int queues = a.integer("queues", 4);
      String template = a.str("template", "TBW102");
      long waitMs = a.lng("wait-ms", 15000);
      RPCHook hook = Acl.hook(a);
      a.rejectUnknown();

      DefaultMQProducer p = new DefaultMQProducer("interop-admin-" + UUID.randomUUID().toString().substring(0, 8), hook);
      p.setNamesrvAddr(namesrv);
      p.start();
      try {
        switch (cmd) {
          case "create-topic":
            createTopic(p, template, topic, queues);
            Out.emit(Json.obj().put("event", "created").put("topic", topic).putStrings("queues", waitRoute(p, topic, waitMs)));
            break;
          case "route":
            Out.emit(Json.obj().put("event", "route").put("topic", topic).putStrings("queues", routeOf(p, topic)));
            break;
          default:
            throw new IllegalArgumentException("unknown command " + cmd);
        }
      } finally {
        p.shutdown();
      }
      System.exit(0);
    } catch (Throwable t) {
      Out.fatal(t);
    }
  }

  /** 4.9.x has {@code createTopic(key, topic, n)}; 5.x replaced it by {@code createTopic(key, topic, n, attributes)}. */
  private static void createTopic(DefaultMQProducer p, String key, String topic, int n) throws Exception {
    for (Method m : DefaultMQProducer.class.getMethods()) {
      Class<?>[] t = m.getParameterTypes();
      if (!m.getName().equals("createTopic")) continue;
      if (t.length == 3 && t[2] == int.class) {
        m.invoke(p, key, topic, n);
        return;
      }
      if (t.length == 4 && t[2] == int.class && t[3] == java.util.Map.class) {
        m.invoke(p, key, topic, n, new HashMap<String, String>());
        return;
      }
    }
    throw new IllegalStateException("no usable DefaultMQProducer.createTopic overload");
  }

  private static List<String> routeOf(DefaultMQProducer p, String topic) throws Exception {
    List<String> out = new ArrayList<>();
    for (MessageQueue q : p.fetchPublishMessageQueues(topic)) out.add(q.getBrokerName() + ":" + q.getQueueId());
    return out;
  }

  private static List<String> waitRoute(DefaultMQProducer p, String topic, long waitMs) throws Exception {
    long deadline = System.currentTimeMillis() + waitMs;
    while (true) {
      try {
        List<String> r = routeOf(p, topic);
        if (!r.isEmpty()) return r;
      } catch (Exception e) {
        if (System.currentTimeMillis() > deadline) throw e;
      }
      if (System.currentTimeMillis() > deadline) throw new IllegalStateException("no route for " + topic);
      Thread.sleep(100);
    }
  }
}
