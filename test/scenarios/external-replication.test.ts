import { describe, expect, it } from "vitest";
import { DocumentStore } from "../../engine/index.ts";
import type { TraceEvent } from "../../engine/index.ts";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { ServerRequest } from "../../engine/transport/index.ts";
import { ok } from "./helpers.ts";

/**
 * Two clusters on one simulated network: "Spade" on the three servers of the first
 * (http://127.0.0.1-3:8080), "Backup" on the three of the second (http://127.0.1.1-3:8080), and
 * an external replication task from Spade to Backup.
 */
async function twoClusters(options: { mentorNode?: string } = {}) {
  const source = new SimCluster({ servers: 3, seed: 7 });
  const destination = await source.startSibling({ servers: 3 });
  const events: TraceEvent[] = [];
  source.on("trace", (batch) => events.push(...batch));
  for (const cluster of [source, destination]) {
    for (const url of cluster.urls.slice(1))
      ok(await cluster.request(cluster.urls[0]!, { type: "add-node", url }));
  }
  ok(
    await source.request(source.urls[0]!, {
      type: "create-database",
      name: "Spade",
      replicationFactor: 3,
      revisions: {
        default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
        collections: {},
      },
    }),
  );
  ok(
    await destination.request(destination.urls[0]!, {
      type: "create-database",
      name: "Backup",
      replicationFactor: 3,
    }),
  );
  const store = new DocumentStore({
    urls: source.urls,
    database: "Spade",
    network: source.network,
  }).initialize();
  const task = await store.maintenance.updateExternalReplication({
    name: "offsite",
    destination: { database: "Backup", urls: destination.urls },
    ...(options.mentorNode ? { mentorNode: options.mentorNode } : {}),
  });
  return { source, destination, store, task, events };
}

type Clusters = Awaited<ReturnType<typeof twoClusters>>;

/** backupIds lists the documents of Backup on each running server of the destination. */
function backupIds(destination: SimCluster): Record<string, string[]> {
  const documents = destination.describe().documents;
  return Object.fromEntries(Object.entries(documents).map(([tag, dbs]) => [tag, dbs.Backup ?? []]));
}

async function waitForBackup(clusters: Clusters, ids: string[], what: string): Promise<void> {
  await clusters.destination.waitFor(
    () =>
      Object.values(backupIds(clusters.destination)).every((held) =>
        ids.every((id) => held.includes(id)),
      ) && Object.keys(backupIds(clusters.destination)).length === 3,
    { what, timeoutMs: 20_000 },
  );
}

function responsibleNode(clusters: Clusters): string | null {
  return (
    clusters.source.describe().databases.find((db) => db.name === "Spade")
      ?.externalReplications?.[0]?.responsibleNode ?? null
  );
}

async function write(
  clusters: Clusters,
  on: string,
  request: Omit<Extract<ServerRequest, { type: "batch" }>, "type" | "database">,
) {
  const url = clusters.source.servers.find((s) => s.tag === on)!.url;
  return ok(await clusters.source.request(url, { type: "batch", database: "Spade", ...request }));
}

describe("external replication: a one-way task from Spade to a database of another cluster", () => {
  it("carries documents, deletes, attachments and revisions to every node of the destination's group", async () => {
    const clusters = await twoClusters();
    const session = clusters.store.openSession();
    session.store({ name: "Oren" }, "users/1");
    session.store({ name: "Tal" }, "users/2");
    await session.saveChanges();
    await write(clusters, "B", {
      transaction: {
        attachmentPuts: [{ documentId: "users/1", name: "photo.png", content: "png!" }],
      },
    });
    // The next put goes to A: it must follow the attachment there, not race it (a concurrent put
    // would win as the latest and drop the attachment). B sends it once it is on B's disk.
    await clusters.source.waitFor(
      () =>
        clusters.source
          .server("A")!
          .hostedDatabase("Spade")!
          .instance.getAttachment("users/1", "photo.png") !== undefined,
      { what: "photo.png on A", timeoutMs: 10_000 },
    );
    const again = clusters.store.openSession();
    again.delete("users/2");
    again.store({ name: "Oren", city: "Hadera" }, "users/1");
    await again.saveChanges();
    await waitForBackup(clusters, ["users/1"], "users/1 in Backup everywhere");
    await clusters.destination.waitFor(
      () => Object.values(backupIds(clusters.destination)).every((ids) => !ids.includes("users/2")),
      { what: "the delete of users/2 in Backup", timeoutMs: 20_000 },
    );
    for (const server of clusters.destination.servers) {
      const backup = clusters.destination.server(server.url)!.hostedDatabase("Backup")!.instance;
      const spade = clusters.source.server("A")!.hostedDatabase("Spade")!.instance;
      await clusters.destination.waitFor(
        () =>
          backup.get("users/1")?.metadata["@change-vector"] ===
          spade.get("users/1")?.metadata["@change-vector"],
        { what: `users/1's latest version on ${server.tag}`, timeoutMs: 10_000 },
      );
      expect(backup.get("users/1")?.body).toEqual({ name: "Oren", city: "Hadera" });
      expect(new TextDecoder().decode(backup.getAttachment("users/1", "photo.png")?.content)).toBe(
        "png!",
      );
      const items = [...backup.itemsAfterEtag(0)];
      expect(items.filter((item) => item.kind === "revision" && item.id === "users/1").length).toBe(
        [...spade.itemsAfterEtag(0)].filter(
          (item) => item.kind === "revision" && item.id === "users/1",
        ).length,
      );
      expect(items.some((item) => item.kind === "tombstone" && item.id === "users/2")).toBe(true);
    }
    await clusters.source.stop();
  });

  it("never makes the destination part of Spade's group, and leaves Backup's own group as it was", async () => {
    const clusters = await twoClusters();
    const session = clusters.store.openSession();
    session.store({ name: "Oren" }, "users/1");
    await session.saveChanges();
    await waitForBackup(clusters, ["users/1"], "users/1 in Backup");
    const spade = await clusters.store.maintenance.getDatabaseTopology();
    expect(spade.nodes.map((node) => node.url).sort()).toEqual([...clusters.source.urls].sort());
    const backupStore = new DocumentStore({
      urls: clusters.destination.urls,
      database: "Backup",
      network: clusters.destination.network,
    }).initialize();
    const backup = await backupStore.maintenance.getDatabaseTopology();
    expect(backup.nodes.map((node) => node.url).sort()).toEqual(
      [...clusters.destination.urls].sort(),
    );
    expect(backup.members).toHaveLength(3);
    const [summary] = clusters.destination.describe().databases;
    expect(summary).not.toHaveProperty("externalReplications");
    expect(clusters.destination.describe().cluster.map((s) => s.url)).toEqual(
      clusters.destination.urls,
    );
    // Write assurance counts Spade's siblings only: three nodes make two replicas at most.
    const assured = clusters.store.openSession();
    assured.store({ name: "Tal" }, "users/2");
    assured.advanced.waitForReplicationAfterSaveChanges({ replicas: 3, timeout: 500 });
    await expect(assured.saveChanges()).rejects.toThrow(
      /replicated to 3 servers .*only replicated to 2\./,
    );
    await clusters.source.stop();
  });

  it("shows in describe(): the task, the node that runs it, and how far the destination got", async () => {
    const clusters = await twoClusters();
    const session = clusters.store.openSession();
    session.store({ name: "Oren" }, "users/1");
    await session.saveChanges();
    await waitForBackup(clusters, ["users/1"], "users/1 in Backup");
    const runner = responsibleNode(clusters)!;
    const lastEtag = clusters.source.server(runner)!.hostedDatabase("Spade")!.instance.lastEtag;
    await clusters.source.waitFor(
      () =>
        clusters.source.describe().databases[0]!.externalReplications?.[0]?.progress
          ?.lastAcceptedEtag === lastEtag,
      { what: "the task's progress to reach the last etag" },
    );
    const [task] = clusters.source.describe().databases[0]!.externalReplications!;
    expect(task).toMatchObject({
      taskId: clusters.task.taskId,
      name: "offsite",
      destinationDatabase: "Backup",
      destinationUrls: clusters.destination.urls,
      responsibleNode: clusters.task.responsibleNode,
      progress: {
        runningOn: runner,
        connected: true,
        lastAcceptedEtag: lastEtag,
        lastEtag,
        lastError: null,
      },
    });
    const info = await clusters.store.maintenance.getOngoingTaskInfo("offsite");
    expect(info?.progress?.lastAcceptedEtag).toBe(lastEtag);
    await clusters.source.stop();
  });

  it("when its node is killed, the supervisor moves the node to rehab and the task to a member, which continues", async () => {
    const clusters = await twoClusters({ mentorNode: "B" });
    expect(responsibleNode(clusters)).toBe("B");
    const session = clusters.store.openSession();
    session.store({ n: 1 }, "users/1");
    await session.saveChanges();
    await waitForBackup(clusters, ["users/1"], "users/1 in Backup");
    const users1Vector = clusters.destination
      .server("A")!
      .hostedDatabase("Backup")!
      .instance.get("users/1")?.metadata["@change-vector"];
    await clusters.source.kill("B");
    await clusters.source.waitFor(() => responsibleNode(clusters) !== "B", {
      what: "the task to leave B",
      timeoutMs: 10_000,
    });
    const moved = clusters.events.find(
      (event) =>
        event.type === "cluster-command" && event.text.startsWith("moveExternalReplication"),
    );
    expect(moved && moved.type === "cluster-command" && moved.text).toMatch(
      /moveExternalReplication Spade task=\d+ B→[AC]: B is in rehab and no longer a member/,
    );
    const later = clusters.store.openSession();
    later.store({ n: 2 }, "users/2");
    await later.saveChanges();
    await waitForBackup(clusters, ["users/1", "users/2"], "users/2 in Backup after the move");
    // The new node sends from its own etag 0; Backup keeps the version of users/1 it had.
    const backup = clusters.destination.server("A")!.hostedDatabase("Backup")!.instance;
    expect(backup.get("users/1")?.metadata["@change-vector"]).toBe(users1Vector);
    expect(responsibleNode(clusters)).not.toBe("B");
    await clusters.source.stop();
  });

  it("after a restart it resumes from the destination's last acknowledged etag, not from zero", async () => {
    const clusters = await twoClusters({ mentorNode: "C" });
    const session = clusters.store.openSession();
    for (let i = 1; i <= 5; i++) session.store({ i }, `users/${i}`);
    await session.saveChanges();
    await waitForBackup(clusters, ["users/5"], "users/5 in Backup");
    const instance = clusters.source.server("C")!.hostedDatabase("Spade")!.instance;
    await clusters.source.waitFor(
      () =>
        clusters.source.describe().databases[0]!.externalReplications![0]!.progress
          ?.lastAcceptedEtag === instance.lastEtag,
      { what: "the task to be up to date" },
    );
    const acknowledged = instance.lastEtag;
    await clusters.source.kill("C");
    await clusters.source.runFor(300);
    await clusters.source.restart("C");
    const seen = clusters.events.length;
    const more = clusters.store.openSession();
    more.store({ i: 6 }, "users/6");
    await more.saveChanges();
    await waitForBackup(clusters, ["users/6"], "users/6 in Backup after the restart");
    const after = clusters.events
      .slice(seen)
      .filter((event) => event.type === "external-replication" && event.from === "C");
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]!.type === "external-replication" && after[0]!.text).toMatch(
      new RegExp(`etags ${acknowledged + 1}\\.\\.`),
    );
    await clusters.source.stop();
  });

  it("a partition between the clusters holds writes back; after heal they arrive", async () => {
    const clusters = await twoClusters();
    clusters.source.partition(clusters.source.urls, clusters.destination.urls);
    const session = clusters.store.openSession();
    session.store({ during: "partition" }, "users/9");
    await session.saveChanges();
    await clusters.source.runFor(3_000);
    expect(Object.values(backupIds(clusters.destination)).flat()).not.toContain("users/9");
    const [task] = clusters.source.describe().databases[0]!.externalReplications!;
    expect(task!.progress?.lastError).toMatch(/answer/);
    clusters.source.heal();
    await waitForBackup(clusters, ["users/9"], "users/9 in Backup after heal");
    await clusters.source.stop();
  });

  it("says why it waits when the destination database does not exist, and starts once it does", async () => {
    const source = new SimCluster({ servers: 1 });
    const destination = await source.startSibling({ servers: 1 });
    ok(await source.request(source.urls[0]!, { type: "create-database", name: "Spade" }));
    ok(await destination.request(destination.urls[0]!, { type: "create-database", name: "Other" }));
    const store = new DocumentStore({
      urls: source.urls,
      database: "Spade",
      network: source.network,
    }).initialize();
    await store.maintenance.updateExternalReplication({
      destination: { database: "Backup", urls: destination.urls },
    });
    const session = store.openSession();
    session.store({}, "users/1");
    await session.saveChanges();
    await source.runFor(1_000);
    const info = await store.maintenance.getOngoingTaskInfo(
      "Replication to Backup at http://127.0.1.1:8080",
    );
    expect(info?.progress?.lastError).toMatch(
      /Database 'Backup' does not exist on the cluster of http:\/\/127\.0\.1\.1:8080/,
    );
    ok(
      await destination.request(destination.urls[0]!, { type: "create-database", name: "Backup" }),
    );
    await destination.waitFor(
      () => (destination.describe().documents.A?.Backup ?? []).includes("users/1"),
      {
        what: "users/1 in Backup once it exists",
      },
    );
    await source.stop();
  });

  it("is added, changed and deleted through store.maintenance, as cluster-wide operations", async () => {
    const clusters = await twoClusters();
    const [listed] = await clusters.store.maintenance.getOngoingTasks();
    expect(listed).toMatchObject({
      taskId: clusters.task.taskId,
      name: "offsite",
      database: "Spade",
    });
    const changed = await clusters.store.maintenance.updateExternalReplication({
      taskId: clusters.task.taskId,
      destination: { database: "Backup", urls: clusters.destination.urls },
      disabled: true,
    });
    expect(changed.taskId).toBe(clusters.task.taskId);
    expect(
      (await clusters.store.maintenance.getOngoingTaskInfo(clusters.task.taskId))?.disabled,
    ).toBe(true);
    await clusters.store.maintenance.deleteOngoingTask(clusters.task.taskId);
    expect(await clusters.store.maintenance.getOngoingTasks()).toEqual([]);
    await expect(
      clusters.store.maintenance.updateExternalReplication({
        destination: { database: "Spade", urls: [clusters.source.urls[1]!] },
      }),
    ).rejects.toMatchObject({ code: "InvalidDestination" });
    await clusters.source.stop();
  });
});
