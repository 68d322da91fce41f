// Wrong on purpose (exercise 11): predicts that A, the leader before the cut, can still create a
// database on its side of the partition, and that C's side, without the leader, cannot.
import { DocumentStore } from "rookery";
import type { ClusterHandle, DocumentStore as Store } from "rookery";

export default async (cluster: ClusterHandle, store: Store) => {
  const predict = store.openSession();
  predict.store(
    { createViaA: "ok", createViaC: "fail", writeOnA: "ok", writeOnC: "ok" },
    "predictions/partition",
  );
  await predict.saveChanges();
  cluster.partition(["A", "B"], ["C", "D", "E"]);
  for (const [n, name] of [
    [0, "Rake"],
    [2, "Hoe"],
  ] as const) {
    const side = new DocumentStore({
      urls: [cluster.urls[n]!],
      database: "Spade",
      network: cluster.network,
    }).initialize();
    try {
      await side.maintenance.createDatabase({ name });
    } catch {
      // one of them is refused
    }
    const session = side.openSession();
    session.store({ writtenDuringThePartition: true }, `users/${name}`);
    await session.saveChanges();
  }
  cluster.heal();
  await cluster.waitFor((c) => new Set(c.servers.map((s) => s.leader)).size === 1);
};
