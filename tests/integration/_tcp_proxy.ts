// A loopback TCP proxy in front of a broker, for tests that need to see or
// interfere with the bytes between a client and the broker (cut a
// connection, hold answers back). Point a client at it with `nameServer`
// and `addressMap: { [broker]: proxy.address }`.
import net from "node:net";

/** One proxied connection: the client's socket and the proxy's to the broker. */
export interface ProxyLink {
  readonly client: net.Socket;
  readonly broker: net.Socket;
}

/** What a proxied connection does with the bytes of each side (default: forward them). */
export interface ProxyHooks {
  fromClient?(chunk: Buffer): void;
  fromBroker?(chunk: Buffer): void;
}

/** A running proxy. */
export interface TcpProxy {
  /** `host:port` to connect to. */
  readonly address: string;
  /** Close every proxied connection and stop listening. */
  close(): Promise<void>;
}

export { until } from "../_wait.ts";

/**
 * Listen on an ephemeral loopback port and proxy each connection to
 * `upstream` (`host:port`); `hooks` is called once per connection.
 */
export async function tcpProxy(
  upstream: string,
  hooks: (link: ProxyLink) => ProxyHooks = () => ({}),
): Promise<TcpProxy> {
  const [host, port] = upstream.split(":") as [string, string];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const broker = net.connect(Number(port), host);
    sockets.add(client).add(broker);
    const on = hooks({ client, broker });
    client.on(
      "data",
      (chunk: Buffer) => on.fromClient ? on.fromClient(chunk) : broker.write(chunk),
    );
    broker.on(
      "data",
      (chunk: Buffer) => on.fromBroker ? on.fromBroker(chunk) : client.write(chunk),
    );
    const close = () => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    client.on("close", close).on("error", close);
    broker.on("close", close).on("error", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: listening } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${listening}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
