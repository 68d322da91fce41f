// Wrong on purpose (exercise 10): kills two of the five servers. Three still form a majority, so
// the cluster keeps deciding and the "fail" predictions are never put to the test.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const predict = store.openSession();
  predict.store(
    { createDatabase: "fail", addDatabaseNode: "fail", write: "ok", read: "ok" },
    "predictions/majority",
  );
  await predict.saveChanges();
  for (const tag of ["A", "B"]) await cluster.kill(tag);
  try {
    await store.maintenance.createDatabase({ name: "Rake" });
  } catch {
    // perhaps
  }
  const write = store.openSession();
  write.store({ name: "Written with two down" }, "users/1");
  await write.saveChanges();
  for (const tag of ["A", "B"]) await cluster.restart(tag);
  await cluster.waitFor((c) => c.servers.some((s) => s.role === "leader"));
};
