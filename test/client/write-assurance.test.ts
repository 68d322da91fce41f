import { describe, expect, it } from "vitest";
import { caught, clusterWith, documentOn, servedBy, storeFor } from "./helpers.ts";

describe("write assurance", () => {
  it("with too few replicas alive, saveChanges raises WriteAssuranceTimeout with reached/wanted, and the data is written", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 31, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade");
    await cluster.kill("C");
    const session = store.openSession();
    const task = { task: "Buy milk" };
    session.store(task, "tasks/1");
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 2, timeout: 1_000 });
    const error = await caught(() => session.saveChanges());
    expect(error.code).toBe("WriteAssuranceTimeout");
    expect(error.details).toMatchObject({ reached: 1, wanted: 2, tag: "A" });
    expect(error.message).toContain("replicated to 2");
    expect(error.message).toContain("only replicated to 1");
    // No distributed transaction: the write stays on A (and reached B), and it was sent once —
    // a write-assurance timeout must not fail over and write again elsewhere.
    expect(documentOn(cluster, "A", "Spade", "tasks/1")).toEqual(task);
    expect(documentOn(cluster, "B", "Spade", "tasks/1")).toEqual(task);
    expect(servedBy(events, "batch")).toEqual([]);
    expect(events.filter((e) => e.type === "request" && e.request === "batch")).toHaveLength(1);
    // The session took the write in: it knows the change vector and has nothing left to save.
    expect(session.advanced.getChangeVectorFor(task)).toMatch(/^A:/);
    expect(session.advanced.hasChanges()).toBe(false);
    expect(await store.openSession().load("tasks/1")).toEqual(task);
  });

  it("asking for more replicas than the group has times out the same way", async () => {
    const cluster = await clusterWith({ servers: 2, seed: 32, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const session = store.openSession();
    session.store({ task: "Buy milk" }, "tasks/1");
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 3, timeout: 500 });
    const error = await caught(() => session.saveChanges());
    expect(error.details).toMatchObject({ reached: 1, wanted: 3 });
  });

  it("with enough replicas, saveChanges returns once the replicas have the write", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 33, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const session = store.openSession();
    session.store({ task: "Buy milk" }, "tasks/1");
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 2 });
    await session.saveChanges();
    for (const tag of ["A", "B", "C"])
      expect(documentOn(cluster, tag, "Spade", "tasks/1")).toEqual({ task: "Buy milk" });
  });

  it("majority waits for most siblings; throwOnTimeout: false returns normally when it cannot", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 34, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const all = store.openSession();
    all.store({ v: 1 }, "tasks/1");
    all.advanced.waitForReplicationAfterSaveChanges({ majority: true });
    await all.saveChanges();
    expect(["B", "C"].every((tag) => documentOn(cluster, tag, "Spade", "tasks/1"))).toBe(true);

    await cluster.kill("B");
    await cluster.kill("C");
    const lonely = store.openSession();
    lonely.store({ v: 2 }, "tasks/2");
    lonely.advanced.waitForReplicationAfterSaveChanges({
      replicas: 1,
      timeout: 300,
      throwOnTimeout: false,
    });
    await lonely.saveChanges();
    expect(documentOn(cluster, "A", "Spade", "tasks/2")).toEqual({ v: 2 });
  });
});
