// Wrong on purpose (exercise 6): plays Listings 6.3 and 6.4 properly, but watches A, the node that
// took them. Each transaction lands whole on A, so every read there totals $200.
import type { ClusterHandle, DocumentStore } from "rookery";

const ids = ["accounts/1234-A", "accounts/4321-C", "accounts/48879-B"];

async function transfer(store: DocumentStore, from: string, to: string, amount: number) {
  const session = store.openSession();
  const source = await session.load<{ amount: number }>(from);
  const target = await session.load<{ amount: number }>(to);
  source!.amount -= amount;
  target!.amount += amount;
  await session.saveChanges();
}

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const a = cluster.urls[0]!;
  cluster.partition(["A"], ["B"]);
  await transfer(store, "accounts/4321-C", "accounts/1234-A", 10);
  await transfer(store, "accounts/1234-A", "accounts/48879-B", 3);
  cluster.heal();
  const reads: Promise<unknown>[] = [];
  for (let i = 0; i < 400; i++) {
    reads.push(cluster.network.request(a, { type: "get-documents", database: "Bank", ids }));
    await cluster.runFor(0.25);
  }
  await Promise.all(reads);
};
