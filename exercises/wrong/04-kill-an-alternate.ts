// Wrong on purpose (exercise 4): kills C, a node the store never talks to, so nothing fails over.
import type { ClusterHandle, DocumentStore } from "rookery";

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const first = store.openSession();
  first.store({ name: "Oren" }, "users/1");
  await first.saveChanges();
  await cluster.kill("C");
  const second = store.openSession();
  second.store({ name: "Written after the crash" }, "users/2");
  await second.saveChanges();
};
