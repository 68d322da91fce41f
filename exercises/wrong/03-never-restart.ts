// Wrong on purpose (exercise 3): kills A, is refused a cluster-wide operation and writes users/3,
// but never brings A back, so the cluster stays headless and A never gets users/3.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  await cluster.kill("A");
  try {
    await store.maintenance.createDatabase({ name: "Rake" });
  } catch {
    // no leader
  }
  const session = store.openSession();
  session.store({ name: "Grace Hopper" }, "users/3");
  await session.saveChanges();
};
