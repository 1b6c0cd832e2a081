// A client instance registered as a consumer that records the cancels it is
// told about: the consumer end of cancellation, without a pull loop.
import { buildSubscriptionData } from "../../src/codec/bodies.ts";
import { type CancelNotice, ClientInstance } from "../../src/client/client_instance.ts";

let instances = 0;

/** A client registered as a consumer of `topic` in `group`, recording cancels. */
/** A listening client and the cancels it was told about. */
export interface Listener {
  instance: ClientInstance;
  notices: CancelNotice[];
}

export async function listener(
  nameServer: string,
  group: string,
  topic: string,
): Promise<Listener> {
  const notices: CancelNotice[] = [];
  const instance = new ClientInstance({ nameServer, instanceName: `${group}-${++instances}` });
  instance.setPushHandlers({ cancel: (notice) => notices.push(notice) });
  instance.addConsumer({
    group,
    consumerData: () => ({
      groupName: group,
      consumeType: "CONSUME_PASSIVELY",
      messageModel: "CLUSTERING",
      consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
      subscriptionDataSet: [buildSubscriptionData(topic, "*", 1)],
      unitMode: false,
    }),
  });
  instance.start();
  await instance.getRoute(topic);
  await instance.heartbeatAll();
  return { instance, notices };
}
