// Wrong on purpose (exercise 8): two copies of Pitchfork. Losing both of its nodes takes it down.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const created = await store.maintenance.createDatabase({
    name: "Pitchfork",
    replicationFactor: 2,
  });
  const nodes = created.nodes ?? [];
  await cluster.waitFor((c) =>
    nodes.every((tag) => c.describe().documents[tag]?.["Pitchfork"] !== undefined),
  );
  const session = store.openSession();
  session.store({ tines: 2 }, "tines/1");
  await session.saveChanges();
  await cluster.runFor(500);
};
