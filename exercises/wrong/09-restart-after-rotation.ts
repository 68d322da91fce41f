// Wrong on purpose (exercise 9): restarts A as soon as it has been rotated to the end, before the
// supervisor moves it to rehab.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const hoe = () => cluster.describe().databases.find((db) => db.name === "Hoe");
  await cluster.kill("A");
  await cluster.waitFor(() => hoe()?.members[0] !== "A");
  const session = store.openSession();
  session.store({ wood: "ash" }, "handles/1");
  await session.saveChanges();
  await cluster.restart("A");
  await cluster.runFor(3_000);
};
