import { describe, expect, it } from "vitest";
import { DocumentStore } from "../../engine/client/index.ts";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import { caught, clusterWith, storeFor } from "./helpers.ts";

describe("store.maintenance: the cluster-wide operations", () => {
  it("builds the chapter's cluster: five servers, Spade on A and B, Pitchfork with factor 3", async () => {
    const cluster = new SimCluster({ servers: 5, seed: 61 });
    const store = new DocumentStore({
      urls: cluster.urls,
      database: "Spade",
      network: cluster.network,
    }).initialize();
    // A fresh server shows "?" until the first cluster-wide operation makes it A.
    expect((await store.maintenance.getClusterTopology()).tag).toBe("?");
    const created = await store.maintenance.createDatabase({ name: "Spade", replicationFactor: 1 });
    expect(created.nodes).toEqual(["A"]);
    const joined = await store.maintenance.addNodeToCluster(cluster.urls[1]!);
    expect(joined.tag).toBe("B");
    await store.maintenance.addDatabaseNode("Spade", "B");
    await cluster.waitFor((c) => c.databaseRecord("Spade")!.topology.members.length === 2, {
      what: "B a member of Spade",
    });
    for (const url of cluster.urls.slice(2)) await store.maintenance.addNodeToCluster(url);
    const topology = await store.maintenance.getClusterTopology();
    expect(Object.keys(topology.members).sort()).toEqual(["A", "B", "C", "D", "E"]);
    expect(topology.leader).toBe("A");
    const pitchfork = await store.maintenance.createDatabase({
      name: "Pitchfork",
      replicationFactor: 3,
    });
    expect(pitchfork.nodes).toHaveLength(3);
    const spade = await store.maintenance.getDatabaseTopology();
    expect(spade.members).toEqual(["A", "B"]);
    expect(spade.nodes.map((n) => n.url)).toEqual([cluster.urls[0], cluster.urls[1]]);
    expect((await store.maintenance.getDatabaseTopology("Pitchfork")).members).toEqual(
      pitchfork.nodes,
    );
  });

  it("creates a database on explicit nodes, changes its settings, and deletes it", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 62 });
    const { store } = storeFor(cluster, "Spade");
    expect(
      (await store.maintenance.createDatabase({ name: "Spade", nodes: ["C", "B"] })).nodes,
    ).toEqual(["C", "B"]);
    await store.maintenance.setConflictResolution("Spade", "none");
    await store.maintenance.setRevisions("Spade", {
      default: { disabled: false, minimumRevisionsToKeep: 5, purgeOnDelete: false },
      collections: {},
    });
    expect(cluster.databaseRecord("Spade")).toMatchObject({
      conflictResolution: "none",
      revisions: { default: { minimumRevisionsToKeep: 5 } },
    });
    await store.maintenance.deleteDatabase("Spade");
    const error = await caught(() => store.maintenance.getDatabaseTopology("Spade"));
    expect(error.code).toBe("DatabaseDoesNotExist");
  });

  it("goes to any reachable server: with the leader dead, a follower forwards to the new leader", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 63, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    await cluster.kill("A");
    const created = await store.maintenance.createDatabase({
      name: "Pitchfork",
      replicationFactor: 2,
    });
    expect(created.nodes).toHaveLength(2);
    expect(Object.keys((await store.maintenance.getClusterTopology()).members)).toContain("A");
    expect((await store.maintenance.getClusterTopology()).leader).not.toBe("A");
  });

  it("removes a server from the cluster", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 64 });
    const { store } = storeFor(cluster, "Spade");
    await store.maintenance.removeNode("C");
    expect(Object.keys((await store.maintenance.getClusterTopology()).members).sort()).toEqual([
      "A",
      "B",
    ]);
  });

  it("refuses what the cluster refuses, with the server's own message", async () => {
    const cluster = await clusterWith({ servers: 2, seed: 65, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const error = await caught(() => store.maintenance.addNodeToCluster(cluster.urls[1]!));
    expect(error.code).toBe("NodeAlreadyInCluster");
    expect(error.message).toContain("node B");
  });
});
