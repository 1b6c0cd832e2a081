package rocketmq.interop;

import java.lang.reflect.Method;
import org.apache.rocketmq.client.producer.DefaultMQProducer;

/**
 * Body compression settings of a 5.x {@code DefaultMQProducer} ({@code setCompressType(CompressionType)},
 * {@code setCompressLevel}), called by reflection so that this file also compiles against the 4.9.x client,
 * which has neither (there the options are refused).
 */
final class Compression {
  private Compression() {}

  static void configure(DefaultMQProducer producer, String type, int over, int level) throws Exception {
    if (over >= 0) producer.setCompressMsgBodyOverHowmuch(over);
    if (type == null && level < 0) return;
    Class<?> typeClass;
    try {
      typeClass = Class.forName("org.apache.rocketmq.common.compression.CompressionType");
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException("--compress-type/--compress-level need the 5.x client", e);
    }
    if (type != null) {
      Object value = typeClass.getMethod("valueOf", String.class).invoke(null, type.toUpperCase());
      Method set = producer.getClass().getMethod("setCompressType", typeClass);
      set.invoke(producer, value);
    }
    if (level >= 0) {
      producer.getClass().getMethod("setCompressLevel", int.class).invoke(producer, level);
    }
  }
}
