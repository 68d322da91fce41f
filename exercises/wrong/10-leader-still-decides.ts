// Wrong on purpose (exercise 10): predicts that creating a database still works without a majority
// (the surviving servers could elect a leader among themselves, it reasons).
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const predict = store.openSession();
  predict.store(
    { createDatabase: "ok", addDatabaseNode: "fail", write: "ok", read: "ok" },
    "predictions/majority",
  );
  await predict.saveChanges();
  for (const tag of ["A", "B", "D"]) await cluster.kill(tag);
  for (const attempt of [
    () => store.maintenance.createDatabase({ name: "Rake" }),
    () => store.maintenance.addDatabaseNode("Spade", "E"),
  ]) {
    try {
      await attempt();
    } catch {
      // refused
    }
  }
  const write = store.openSession();
  write.store({ name: "Written without a majority" }, "users/1");
  await write.saveChanges();
  await store.openSession().load("users/1");
  for (const tag of ["A", "B", "D"]) await cluster.restart(tag);
  await cluster.waitFor((c) => c.servers.some((s) => s.role === "leader"));
};
