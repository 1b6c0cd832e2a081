package rocketmq.interop;

import org.apache.rocketmq.remoting.RPCHook;

/**
 * {@code --access-key K --secret-key S}: the official ACL signing hook ({@code AclClientRPCHook}) for every
 * client of a peer. Found by reflection: the 5.x client ships it, the 4.9.x client needs the separate
 * rocketmq-acl artifact (not on the peers' classpath), so ACL peers run on the 5 line.
 */
final class Acl {
  private Acl() {}

  static RPCHook hook(Args a) {
    String accessKey = a.str("access-key", null);
    String secretKey = a.str("secret-key", null);
    if (accessKey == null) return null;
    try {
      Class<?> credentials = Class.forName("org.apache.rocketmq.acl.common.SessionCredentials");
      Object c = credentials.getConstructor(String.class, String.class).newInstance(accessKey, secretKey);
      Class<?> hook = Class.forName("org.apache.rocketmq.acl.common.AclClientRPCHook");
      return (RPCHook) hook.getConstructor(credentials).newInstance(c);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("--access-key needs a client with AclClientRPCHook (the 5 line)", e);
    }
  }
}
