// Wrong on purpose (exercise 9): watches the rotation, the rehab and the promotion, but writes
// nothing while A is away, so A never has anything to catch up on.
import type { ClusterHandle } from "rookery";

export default async (cluster: ClusterHandle) => {
  const hoe = () => cluster.describe().databases.find((db) => db.name === "Hoe");
  await cluster.kill("A");
  await cluster.waitFor(() => hoe()?.rehabs.includes("A") ?? false);
  await cluster.restart("A");
  await cluster.waitFor(() => hoe()?.members.includes("A") ?? false);
};
