package rocketmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.remoting.RPCHook;

/**
 * Message lookup through the official client ({@code MQAdmin.viewMessage} and {@code queryMessage}, what
 * a user calls to find out where a message went), against any broker:
 *
 * <pre>
 * Lookup --namesrv 127.0.0.1:9876 --topic T --offset-msg-id 7F00..  --msg-id 0A00.. --key order-1
 * </pre>
 *
 * <p>Stdout, one line each: {@code view} with {@code by: "offset"} ({@code viewMessage(topic, offsetMsgId)}:
 * an id that decodes as an offset message id is a VIEW_MESSAGE_BY_ID to the address in it), {@code view} with
 * {@code by: "unique"} ({@code viewMessage(topic, msgId)}: the message id does not decode, so a QUERY_MESSAGE
 * by unique key), {@code query} ({@code queryMessage(topic, key, 32, 0, Long.MAX_VALUE)}: every message found), or
 * {@code error} with the step and the exception; then {@code done}.
 */
public final class Lookup {
  private Lookup() {}

  public static void main(String[] argv) {
    Out.init();
    try {
      Args a = new Args(argv);
      String namesrv = a.required("namesrv");
      String topic = a.required("topic");
      String offsetMsgId = a.required("offset-msg-id");
      String msgId = a.required("msg-id");
      String key = a.required("key");
      RPCHook hook = Acl.hook(a);
      a.rejectUnknown();

      DefaultMQProducer p = new DefaultMQProducer("interop-lookup-" + UUID.randomUUID().toString().substring(0, 8), hook);
      p.setNamesrvAddr(namesrv);
      p.start();
      try {
        try {
          Out.emit(describe(p.viewMessage(topic, offsetMsgId)).put("event", "view").put("by", "offset"));
        } catch (Exception e) {
          Out.emit(Json.obj().put("event", "error").put("step", "view-offset").put("error", Json.describe(e)));
        }
        try {
          Out.emit(describe(p.viewMessage(topic, msgId)).put("event", "view").put("by", "unique"));
        } catch (Exception e) {
          Out.emit(Json.obj().put("event", "error").put("step", "view-unique").put("error", Json.describe(e)));
        }
        try {
          QueryResult r = p.queryMessage(topic, key, 32, 0, Long.MAX_VALUE);
          List<String> ids = new ArrayList<>();
          List<String> bodies = new ArrayList<>();
          for (MessageExt m : r.getMessageList()) {
            ids.add(m.getMsgId());
            bodies.add(new String(m.getBody(), StandardCharsets.UTF_8));
          }
          Out.emit(Json.obj().put("event", "query").put("key", key).putStrings("msgIds", ids).putStrings("bodies", bodies)
              .put("indexLastUpdateTimestamp", r.getIndexLastUpdateTimestamp()));
        } catch (Exception e) {
          Out.emit(Json.obj().put("event", "error").put("step", "query").put("error", Json.describe(e)));
        }
      } finally {
        p.shutdown();
      }
      Out.emit(Json.obj().put("event", "done"));
      System.exit(0);
    } catch (Throwable t) {
      Out.fatal(t);
    }
  }

  private static Json describe(MessageExt m) {
    return Json.obj()
        .put("topic", m.getTopic())
        .put("msgId", m.getMsgId())
        .put("keys", m.getKeys() == null ? "" : m.getKeys())
        .put("queueId", m.getQueueId())
        .put("queueOffset", m.getQueueOffset())
        .put("commitLogOffset", m.getCommitLogOffset())
        .put("body", new String(m.getBody(), StandardCharsets.UTF_8));
  }
}
