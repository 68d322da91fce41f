// Wrong on purpose (exercise 4): kills the preferred node, then writes through a new store that
// only knows B, so the store that was given never has to fail over.
import { DocumentStore } from "rookery";
import type { ClusterHandle, DocumentStore as Store } from "rookery";

export default async (cluster: ClusterHandle, store: Store) => {
  const first = store.openSession();
  first.store({ name: "Oren" }, "users/1");
  await first.saveChanges();
  await cluster.kill(store.preferredNode?.tag ?? "A");
  const onB = new DocumentStore({
    urls: [cluster.urls[1]!],
    database: "Spade",
    network: cluster.network,
  }).initialize();
  const second = onB.openSession();
  second.store({ name: "Written after the crash" }, "users/2");
  await second.saveChanges();
  await cluster.runFor(500);
};
