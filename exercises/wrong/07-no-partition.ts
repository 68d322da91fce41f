// Wrong on purpose (exercise 7): writes users/2 on A and then on B with the network whole. B's
// write simply follows A's: one after the other, no conflict.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const session = store.openSession();
  session.store({ name: "written on A" }, "users/2");
  await session.saveChanges();
  await cluster.runFor(50);
  await cluster.network.request(cluster.urls[1]!, {
    type: "batch",
    database: "Spade",
    transaction: { puts: [{ id: "users/2", body: { name: "written on B" } }] },
  });
  await cluster.runFor(1_000);
};
