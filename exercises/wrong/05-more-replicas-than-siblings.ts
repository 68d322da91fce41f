// Wrong on purpose (exercise 5): with both nodes up, waits for two replicas from a group of two.
// The save fails, but only because B has a single sibling: nothing was lost, nothing was learned.
import { isRookeryError } from "rookery";
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const session = store.openSession();
  session.store({ task: "Buy milk" }, "tasks/1");
  session.advanced.waitForReplicationAfterSaveChanges({ replicas: 2, timeout: 1_000 });
  try {
    await session.saveChanges();
  } catch (error) {
    if (!isRookeryError(error, "WriteAssuranceTimeout")) throw error;
  }
  await cluster.runFor(1_000);
};
