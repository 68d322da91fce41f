import { describe, expect, it } from "vitest";
import { DocumentStore } from "../../engine/client/index.ts";
import { caught, clusterWith, documentOn, storeFor } from "./helpers.ts";

describe("errors a client user sees, with names and useful messages", () => {
  it("DatabaseDoesNotExist names the database and is raised at once, without trying every URL", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 51, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade-typo");
    const error = await caught(() => store.openSession().load("users/1"));
    expect(error.code).toBe("DatabaseDoesNotExist");
    expect(error.message).toContain("Spade-typo");
    expect(events).toEqual([]);
    // After creating it, the same store works: a failed first fetch is not remembered.
    await store.maintenance.createDatabase({ name: "Spade-typo", replicationFactor: 1 });
    expect(await store.openSession().load("users/1")).toBeNull();
  });

  it("NoLeader: a cluster-wide operation without a majority says what it needed and how many nodes it could reach", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 52, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    await cluster.kill("B");
    await cluster.kill("C");
    const error = await caught(() =>
      store.maintenance.createDatabase({ name: "Pitchfork", replicationFactor: 1 }),
    );
    expect(error.code).toBe("NoLeader");
    expect(error.message).toContain("creating database 'Pitchfork' needs 2 of 3 nodes");
    expect(error.details).toMatchObject({ needed: 2, voters: 3, url: cluster.urls[0] });
    // Documents still work: the database layer does not need the cluster layer.
    const session = store.openSession();
    session.store({ name: "Oren" }, "users/1");
    await session.saveChanges();
    expect(documentOn(cluster, "A", "Spade", "users/1")).toEqual({ name: "Oren" });
  });

  it("DocumentConflict: with conflict resolution off, concurrent writes on both sides of a partition leave a conflict that a load reports", async () => {
    const cluster = await clusterWith({ servers: 2, seed: 53, database: "Spade" });
    const [a, b] = cluster.urls as [string, string];
    const admin = storeFor(cluster, "Spade").store;
    await admin.maintenance.setConflictResolution("Spade", "none");
    const one = storeFor(cluster, "Spade", { address: "client-1" });
    const two = storeFor(cluster, "Spade", { address: "client-2" });
    await one.store.openSession().load("users/1");
    await two.store.openSession().load("users/1");
    cluster.net.partition([a, "client-1"], [b, "client-2"]);
    for (const [client, name] of [
      [one, "from A's side"],
      [two, "from B's side"],
    ] as const) {
      const session = client.store.openSession();
      session.store({ name }, "users/1");
      await session.saveChanges();
    }
    cluster.heal();
    await cluster.runFor(2_000);
    const error = await caught(() => one.store.openSession().load("users/1"));
    expect(error.code).toBe("DocumentConflict");
    expect(error.message).toContain("users/1");
    expect(error.message).toContain("conflict between 2 versions");
    // Storing the document resolves the conflict.
    const fix = one.store.openSession();
    fix.store({ name: "resolved" }, "users/1");
    await fix.saveChanges();
    expect(await one.store.openSession().load("users/1")).toEqual({ name: "resolved" });
  });

  it("a store is checked when it is created and used", async () => {
    const cluster = await clusterWith({ servers: 1, seed: 54 });
    expect(
      () => new DocumentStore({ urls: [], database: "Spade", network: cluster.network }),
    ).toThrow(/at least one server URL/);
    expect(
      () =>
        new DocumentStore({
          urls: cluster.urls,
          database: "Spade",
          network: cluster.network,
          conventions: { readBalance: "random" as never },
        }),
    ).toThrow(/readBalance must be one of none, roundRobin, fastestNode/);
    const store = new DocumentStore({
      urls: cluster.urls,
      database: "Spade",
      network: cluster.network,
    });
    expect(() => store.openSession()).toThrow(/initialize/);
    const noDatabase = new DocumentStore({
      urls: cluster.urls,
      network: cluster.network,
    }).initialize();
    expect(() => noDatabase.openSession()).toThrow(/no database/);
  });
});
