// Wrong on purpose (exercise 2): adds B to Spade's group and stops at once, while B is still a
// promotable being filled by its mentor.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (_cluster: ClusterHandle, store: DocumentStore) => {
  await store.maintenance.addNodeToCluster("http://127.0.0.2:8080");
  await store.maintenance.addDatabaseNode("Spade", "B");
};
