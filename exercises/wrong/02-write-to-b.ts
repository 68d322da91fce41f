// Wrong on purpose (exercise 2): grows the group, then writes users/1 and users/2 to B by hand
// instead of letting replication bring them.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  await store.maintenance.addNodeToCluster("http://127.0.0.2:8080");
  await store.maintenance.addDatabaseNode("Spade", "B");
  await cluster.waitFor((c) => c.describe().documents["B"]?.["Spade"] !== undefined);
  await cluster.network.request("http://127.0.0.2:8080", {
    type: "batch",
    database: "Spade",
    transaction: {
      puts: [
        { id: "users/1", body: { name: "Oren" } },
        { id: "users/2", body: { name: "Eini" } },
      ],
    },
  });
  await cluster.runFor(2_000);
};
