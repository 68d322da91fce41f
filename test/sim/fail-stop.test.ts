import { describe, expect, it } from "vitest";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { TraceEvent } from "../../engine/server/index.ts";

/**
 * Defect 3 of issue 12: a failed storage write hung the server (its Raft pump stayed busy for
 * ever and its queues grew). Now it stops the way RavenDB does on an I/O error: it stops serving,
 * says which write failed and why, the host reports it crashed, and a restart recovers.
 */
describe("a server whose storage write fails stops (fail-stop)", () => {
  it("stops with a named error saying which write failed, the others carry on, and a restart recovers from what is durable", async () => {
    const cluster = new SimCluster({ servers: 3, seed: 21 });
    const trace: TraceEvent[] = [];
    cluster.on("trace", (events) => trace.push(...events));
    const [a, b, c] = cluster.urls as [string, string, string];
    const ok = async (url: string, request: Parameters<SimCluster["request"]>[1]) =>
      expect(await cluster.request(url, request)).toMatchObject({ ok: true });
    await ok(a, { type: "create-database", name: "Spade" });
    await ok(a, { type: "add-node", url: b });
    await ok(a, { type: "add-node", url: c });
    await ok(a, { type: "add-database-node", database: "Spade", tag: "B" });
    await ok(a, { type: "add-database-node", database: "Spade", tag: "C" });
    await ok(b, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/1", body: { name: "before" } }] },
    });

    // B's disk fails its next fsync: the write of users/2 never becomes durable.
    cluster.storageOf("B").failNextFsync();
    const refused = await cluster.request(b, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/2", body: { name: "lost" } }] },
    });
    expect(refused).toMatchObject({ ok: false, error: { code: "StorageFailed" } });

    const rowB = cluster.servers.find((row) => row.url === b)!;
    expect(rowB).toMatchObject({ alive: false, role: "down", tag: "B" });
    expect(rowB.failure).toMatchObject({ code: "StorageFailed" });
    expect(rowB.failure!.message).toMatch(/could not write .*db-documents spade\|users\/2/);
    expect(rowB.failure!.message).toMatch(/EIO/);
    expect(cluster.describe().cluster.find((row) => row.url === b)!.failure).toEqual(rowB.failure);
    expect(
      trace.some(
        (event) =>
          event.type === "server" &&
          event.url === b &&
          /stopped: could not write .*EIO/.test(event.text),
      ),
    ).toBe(true);

    // The others carry on: a write on A reaches C.
    await ok(a, {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/3", body: { name: "after" } }] },
    });
    await cluster.waitFor(
      () => cluster.server("C")?.hostedDatabase("Spade")?.instance.get("users/3") !== undefined,
      { what: "users/3 on C" },
    );

    // A restart recovers from what B's disk holds, and B catches up.
    await cluster.restart("B");
    expect(cluster.servers.find((row) => row.url === b)).toMatchObject({ alive: true, tag: "B" });
    expect(cluster.servers.find((row) => row.url === b)!.failure).toBeUndefined();
    await cluster.waitFor(
      () => cluster.server("B")?.hostedDatabase("Spade")?.instance.get("users/3") !== undefined,
      { what: "users/3 on B after its restart" },
    );
    const recovered = cluster.server("B")!.hostedDatabase("Spade")!.instance;
    expect(recovered.get("users/1")?.body).toEqual({ name: "before" });
    expect(recovered.get("users/2")).toBeUndefined();
    await cluster.stop();
  });
});
