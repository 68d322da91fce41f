// Wrong on purpose (exercise 6): moves the $10 of Listing 6.3 in two saves (your account first,
// then mine) and reads B between them. B shows $210 for a moment, but that is a half-done transfer
// the code itself split, not the replication caveat of Listings 6.3 and 6.4.
import type { ClusterHandle, DocumentStore } from "rookery";

const ids = ["accounts/1234-A", "accounts/4321-C", "accounts/48879-B"];

async function totalOn(cluster: ClusterHandle, url: string): Promise<number> {
  const response = await cluster.network.request(url, {
    type: "get-documents",
    database: "Bank",
    ids,
  });
  if (!response.ok) return NaN;
  const views = response.result as ({ body: { amount: number } } | null)[];
  return views.reduce((sum, view) => sum + (view?.body.amount ?? 0), 0);
}

async function add(store: DocumentStore, id: string, amount: number): Promise<void> {
  const session = store.openSession();
  const account = await session.load<{ amount: number }>(id);
  account!.amount += amount;
  await session.saveChanges();
}

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const b = cluster.urls[1]!;
  cluster.partition(["A"], ["B"]);
  await add(store, "accounts/1234-A", 10);
  await add(store, "accounts/4321-C", -10);
  cluster.heal();
  const reads: Promise<number>[] = [];
  for (let i = 0; i < 400; i++) {
    reads.push(totalOn(cluster, b));
    await cluster.runFor(0.25);
  }
  await Promise.all(reads);
  const tax = store.openSession();
  const yours = await tax.load<{ amount: number }>("accounts/1234-A");
  const taxman = await tax.load<{ amount: number }>("accounts/48879-B");
  yours!.amount -= 3;
  taxman!.amount += 3;
  await tax.saveChanges();
};
