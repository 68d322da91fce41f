// Wrong on purpose (exercise 12): no task at all; it copies the users into Backup itself through a
// store on the second cluster, and kills a node of Spade for good measure. The copy stops the
// moment anyone writes to Spade again.
import { DocumentStore } from "rookery";
import type { ClusterHandle, DocumentStore as Store } from "rookery";

export default async (cluster: ClusterHandle, store: Store) => {
  const backup = new DocumentStore({
    urls: ["http://127.0.1.1:8080", "http://127.0.1.2:8080"],
    database: "Backup",
    network: cluster.network,
  }).initialize();
  const read = store.openSession();
  const users = await read.load(["users/1", "users/2", "users/3"]);
  const copy = backup.openSession();
  for (const [id, user] of Object.entries(users)) if (user) copy.store({ ...user }, id);
  copy.store({ name: "Tal" }, "users/4");
  await copy.saveChanges();
  await cluster.kill("A");
  const session = store.openSession();
  session.store({ name: "Tal" }, "users/4");
  await session.saveChanges();
  await cluster.runFor(2_000);
};
