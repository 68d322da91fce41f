// Wrong on purpose (exercise 3): writes users/3 while A is still up (and leading), then kills and
// restarts A; the write never met a leaderless cluster.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const session = store.openSession();
  session.store({ name: "Grace Hopper" }, "users/3");
  await session.saveChanges();
  await cluster.kill("A");
  try {
    await store.maintenance.createDatabase({ name: "Rake" });
  } catch {
    // no leader
  }
  await cluster.restart("A");
  await cluster.waitFor((c) => c.servers.some((s) => s.role === "leader"));
  await cluster.waitFor(
    (c) => c.describe().documents["A"]?.["Spade"]?.includes("users/3") ?? false,
  );
};
