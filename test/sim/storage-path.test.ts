import { describe, expect, it } from "vitest";
import { reliableStorage, SimCluster } from "../../engine/runtime/sim/index.ts";

describe("the simulator runs the product's storage path", () => {
  it("a server killed before its write was synced loses that write, and the client was never told it was written", async () => {
    const cluster = new SimCluster({
      servers: 1,
      seed: 3,
      storageFaults: { ...reliableStorage, fsyncMinMs: 5, fsyncMaxMs: 5 },
    });
    const url = cluster.urls[0]!;
    expect(await cluster.request(url, { type: "create-database", name: "Spade" })).toMatchObject({
      ok: true,
    });
    const answer = cluster.request(url, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/1", body: { name: "Oren" } }] },
    });
    await cluster.waitFor(() => cluster.storageOf("A").pendingBatches > 0, {
      what: "the write to reach the disk's queue",
    });
    await cluster.kill("A");
    const response = await answer;
    expect(response.ok).toBe(false);
    await cluster.restart("A");
    await cluster.waitFor(() => cluster.server("A")?.hostedDatabase("Spade") !== undefined, {
      what: "Spade to open again",
    });
    expect(cluster.server("A")!.hostedDatabase("Spade")!.instance.get("users/1")).toBeUndefined();

    // The same write, synced before the kill, survives it.
    expect(
      await cluster.request(url, {
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id: "users/1", body: { name: "Oren" } }] },
      }),
    ).toMatchObject({ ok: true });
    await cluster.kill("A");
    await cluster.restart("A");
    await cluster.waitFor(() => cluster.server("A")?.hostedDatabase("Spade") !== undefined);
    expect(cluster.server("A")!.hostedDatabase("Spade")!.instance.get("users/1")?.body).toEqual({
      name: "Oren",
    });
    await cluster.stop();
  });

  it("a restarting server refuses connections until it has recovered from its disk", async () => {
    const cluster = new SimCluster({ servers: 1, seed: 4 });
    const url = cluster.urls[0]!;
    await cluster.request(url, { type: "create-database", name: "Spade" });
    await cluster.kill("A");
    const restarting = cluster.restart("A");
    expect(cluster.servers[0]).toMatchObject({ alive: false, tag: "A" });
    // A second restart while the first recovers waits for that one.
    await Promise.all([restarting, cluster.restart("A")]);
    expect(cluster.servers[0]).toMatchObject({ alive: true, tag: "A" });
    await cluster.stop();
  });

  it("a replica never receives a write its origin has not made durable: a write lost in a crash is lost everywhere, and its etag cannot be mistaken for a later write's", async () => {
    const cluster = new SimCluster({
      servers: 2,
      seed: 5,
      storageFaults: { ...reliableStorage, fsyncMinMs: 40, fsyncMaxMs: 40 },
    });
    const [a, b] = cluster.urls as [string, string];
    await cluster.request(a, { type: "create-database", name: "Spade" });
    await cluster.request(a, { type: "add-node", url: b });
    await cluster.request(a, { type: "add-database-node", database: "Spade", tag: "B" });
    await cluster.waitFor(() => cluster.server("B")?.hostedDatabase("Spade") !== undefined);
    await cluster.runFor(500);

    void cluster.request(a, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/lost", body: {} }] },
    });
    // A holds the write in memory while its disk writes it; B is 1–3 ms away.
    await cluster.waitFor(() => cluster.storageOf("A").pendingBatches > 0);
    await cluster.runFor(20);
    await cluster.kill("A");
    expect(
      cluster.server("B")!.hostedDatabase("Spade")!.instance.get("users/lost"),
    ).toBeUndefined();

    await cluster.restart("A");
    const response = await cluster.request(a, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/kept", body: {} }] },
      writeAssurance: { replicas: 1, timeoutMs: 2_000 },
    });
    expect(response).toMatchObject({ ok: true });
    expect(cluster.storageOf("B").durableValue("db-documents", "spade|users/kept")).toMatchObject({
      kind: "document",
    });
    await cluster.stop();
  });
});
