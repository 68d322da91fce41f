// Wrong on purpose (exercise 12): writes users/4 while the first node still runs the task, and only
// then kills that node. users/4 arrives, but it never needed the task to move.
import type { ClusterHandle, DocumentStore } from "rookery";

const urls = ["http://127.0.1.1:8080", "http://127.0.1.2:8080"];

export default async (cluster: ClusterHandle, store: DocumentStore) => {
  const task = await store.maintenance.updateExternalReplication({
    destination: { database: "Backup", urls },
  });
  const session = store.openSession();
  session.store({ name: "Tal" }, "users/4");
  await session.saveChanges();
  await cluster.kill(task.responsibleNode!);
  for (;;) {
    const info = await store.maintenance.getOngoingTaskInfo(task.taskId);
    if (info?.responsibleNode && info.responsibleNode !== task.responsibleNode) break;
    await cluster.runFor(250);
  }
  await cluster.runFor(2_000);
};
