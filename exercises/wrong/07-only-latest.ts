// Wrong on purpose (exercise 7): creates and watches the "latest wins" conflict, but never switches
// resolution off, so there is no kept conflict to resolve by hand.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  cluster.partition(["A"], ["B"]);
  const session = store.openSession();
  session.store({ name: "written on A" }, "users/2");
  await session.saveChanges();
  await cluster.runFor(50);
  await cluster.network.request(cluster.urls[1]!, {
    type: "batch",
    database: "Spade",
    transaction: { puts: [{ id: "users/2", body: { name: "written on B" } }] },
  });
  cluster.heal();
  await cluster.runFor(1_000);
  await store.openSession().load("users/1");
};
