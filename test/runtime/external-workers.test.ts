import { describe, expect, it } from "vitest";
import { DocumentStore } from "../../engine/index.ts";
import { patientMs, startWorkers } from "./helpers.ts";

describe("external replication between two worker clusters in one host", () => {
  it("replicates Spade to Backup across the clusters; killing the responsible node moves the task, and it continues", async () => {
    const source = await startWorkers({ servers: 3, storage: "memory" });
    try {
      const destination = await source.startSibling({ servers: 2 });
      for (const cluster of [source, destination]) {
        for (const url of cluster.urls.slice(1)) {
          const added = await cluster.request(cluster.urls[0]!, { type: "add-node", url });
          expect(added.ok, JSON.stringify(added)).toBe(true);
        }
      }
      const created = await source.request(source.urls[0]!, {
        type: "create-database",
        name: "Spade",
        replicationFactor: 3,
      });
      expect(created.ok, JSON.stringify(created)).toBe(true);
      const backup = await destination.request(destination.urls[0]!, {
        type: "create-database",
        name: "Backup",
        replicationFactor: 2,
      });
      expect(backup.ok, JSON.stringify(backup)).toBe(true);
      const store = new DocumentStore({
        urls: source.urls,
        database: "Spade",
        network: source.network,
      }).initialize();
      const task = await store.maintenance.updateExternalReplication({
        destination: { database: "Backup", urls: destination.urls },
        mentorNode: "B",
      });
      expect(task.responsibleNode).toBe("B");
      const session = store.openSession();
      session.store({ name: "Oren" }, "users/1");
      await session.saveChanges();
      const inBackup = (id: string) => () =>
        Object.values(destination.describe().documents).filter((dbs) =>
          (dbs.Backup ?? []).includes(id),
        ).length === 2;
      await destination.waitFor(inBackup("users/1"), {
        what: "users/1 on both Backup nodes",
        timeoutMs: patientMs,
      });

      await source.kill("B");
      const runner = () =>
        source.describe().databases.find((db) => db.name === "Spade")?.externalReplications?.[0];
      await source.waitFor(() => (runner()?.responsibleNode ?? "B") !== "B", {
        what: "the task to move off B",
        timeoutMs: patientMs,
      });
      const later = store.openSession();
      later.store({ name: "Tal" }, "users/2");
      await later.saveChanges();
      await destination.waitFor(inBackup("users/2"), {
        what: "users/2 on both Backup nodes after the move",
        timeoutMs: patientMs,
      });
      await source.waitFor(() => runner()?.progress?.connected === true, {
        what: "the moved task's progress in describe()",
        timeoutMs: patientMs,
      });
      expect(runner()?.progress?.runningOn).toBe(runner()?.responsibleNode);
    } finally {
      await source.stop();
    }
  });
});
