// Wrong on purpose (exercise 12): sets the task up, then kills a node of Spade that is not the one
// running it. Everything still arrives, and nothing had to move: the lesson was the move.
import type { ClusterHandle, DocumentStore } from "rookery";

const urls = ["http://127.0.1.1:8080", "http://127.0.1.2:8080"];

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const task = await store.maintenance.updateExternalReplication({
    destination: { database: "Backup", urls },
  });
  const bystander = ["A", "B", "C"].find((tag) => tag !== task.responsibleNode)!;
  await cluster.kill(bystander);
  const session = store.openSession();
  session.store({ name: "Tal" }, "users/4");
  await session.saveChanges();
  const ids = ["users/1", "users/2", "users/3", "users/4"];
  for (const url of urls) {
    for (;;) {
      const answer = await cluster.network.request(url, {
        type: "get-documents",
        database: "Backup",
        ids,
      });
      if (answer.ok && (answer.result as unknown[]).every((doc) => doc !== null)) break;
      await cluster.runFor(250);
    }
  }
};
