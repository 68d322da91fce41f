// An example student solution of exercise 2, "Add a node and grow a database group".
// Check it with: npm run exercise -- check 2 --solution docs/classroom/02-grow-group.example.ts
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  // 127.0.0.2 joins the cluster; the leader gives it the next free tag, B.
  await store.maintenance.addNodeToCluster("http://127.0.0.2:8080");
  // B joins Spade's group as a promotable; A sends it everything, then the supervisor promotes it.
  await store.maintenance.addDatabaseNode("Spade", "B");
  await cluster.waitFor(
    (c) => {
      const described = c.describe();
      const spade = described.databases.find((db) => db.name === "Spade");
      const onB = described.documents["B"]?.["Spade"] ?? [];
      return (
        (spade?.members.includes("B") ?? false) &&
        onB.includes("users/1") &&
        onB.includes("users/2")
      );
    },
    { timeoutMs: 10_000 },
  );
};
