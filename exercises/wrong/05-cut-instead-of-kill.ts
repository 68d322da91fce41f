// Wrong on purpose (exercise 5): cuts B off with a partition instead of killing it. The save on A
// fails all the same, but the replica it waited for was running the whole time.
import { isRookeryError } from "rookery";
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  cluster.partition(["A"], ["B"]);
  const session = store.openSession();
  session.store({ task: "Buy milk" }, "tasks/1");
  session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 1_000 });
  try {
    await session.saveChanges();
  } catch (error) {
    if (!isRookeryError(error, "WriteAssuranceTimeout")) throw error;
  }
  cluster.heal();
  await cluster.waitFor(
    (c) => c.describe().documents["B"]?.["Spade"]?.includes("tasks/1") ?? false,
  );
};
