// Wrong on purpose (exercise 8): three copies, but it kills one node at a time, which proves that
// Pitchfork survives one failure, not any two.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const created = await store.maintenance.createDatabase({
    name: "Pitchfork",
    replicationFactor: 3,
  });
  const nodes = created.nodes ?? [];
  await cluster.waitFor((c) =>
    nodes.every((tag) => c.describe().documents[tag]?.["Pitchfork"] !== undefined),
  );
  for (const tag of nodes) {
    await cluster.kill(tag);
    const session = store.openSession();
    session.store({ down: [tag] }, `tines/${tag}`);
    await session.saveChanges();
    await cluster.restart(tag);
  }
  await cluster.runFor(2_000);
};
