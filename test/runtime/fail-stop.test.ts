import { afterEach, describe, expect, it } from "vitest";
import type { TraceEvent } from "../../engine/index.ts";
import type { WorkerCluster } from "../../engine/runtime/host/index.ts";
import { formCluster, idsOn, ok, patientMs, put, startWorkers, url } from "./helpers.ts";

const clusters: WorkerCluster[] = [];
afterEach(async () => {
  for (const cluster of clusters.splice(0)) await cluster.stop();
});

/**
 * Defect 3 of issue 12 in the worker runtime: a server whose disk refuses a write stops (as
 * RavenDB does on an I/O error) and its host reports it crashed, with the write and the reason,
 * instead of a worker that hangs with its Raft pump busy for ever.
 */
describe("worker runtime: a server whose storage write fails stops, and the host says why", () => {
  it("the host reports the server crashed with the failed write, the others carry on, and a restart recovers what was durable", async () => {
    const cluster = await startWorkers({ servers: 3, storage: "memory" });
    clusters.push(cluster);
    const events: TraceEvent[] = [];
    cluster.on("trace", (batch) => events.push(...batch));
    await ok(cluster, url(1), { type: "create-database", name: "Spade" });
    await formCluster(cluster, 3);
    await ok(cluster, url(1), { type: "add-database-node", database: "Spade", tag: "B" });
    // The command is committed on the leader; B hosts Spade once it applies it too.
    await cluster.waitFor((c) => c.describe().documents["B"]?.["Spade"] !== undefined, {
      timeoutMs: patientMs,
      what: "B hosting Spade",
    });
    await ok(cluster, url(2), {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/1", body: { name: "before" } }] },
    });

    await cluster.failDisk("B", "EIO: i/o error");
    const refused = await put(cluster, url(2), "Spade", "users/2", { name: "lost" });
    expect(refused.ok).toBe(false);
    await cluster.waitFor((c) => c.servers[1]!.failure !== undefined, {
      timeoutMs: patientMs,
      what: "B reported crashed",
    });
    const rowB = cluster.servers[1]!;
    expect(rowB).toMatchObject({ tag: "B", alive: false, role: "down" });
    expect(rowB.failure).toMatchObject({ code: "StorageFailed" });
    expect(rowB.failure!.message).toMatch(/could not write .*EIO: i\/o error/);
    expect(cluster.describe().cluster[1]!.failure).toEqual(rowB.failure);
    expect(
      events.some((e) => e.type === "server" && e.url === url(2) && /^crashed: /.test(e.text)),
    ).toBe(true);
    const unavailable = await put(cluster, url(2), "Spade", "users/9", { name: "nobody" });
    expect(unavailable.ok ? "ok" : unavailable.error.code).toBe("ServerUnavailable");

    // A and C carry on: the cluster still has a majority, and A takes writes.
    await ok(cluster, url(1), { type: "create-database", name: "Pitchfork" });
    await ok(cluster, url(1), {
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/3", body: { name: "after" } }] },
    });

    // B restarts on its disk as it was before the failure and catches up.
    await cluster.restart("B");
    expect(cluster.servers[1]!.failure).toBeUndefined();
    await cluster.waitFor((c) => idsOn(c, "B", "Spade").includes("users/3"), {
      timeoutMs: patientMs,
      what: "B to catch up after its restart",
    });
    expect(idsOn(cluster, "B", "Spade")).toEqual(["users/1", "users/3"]);
  });

  it("failDisk on a server that is down is refused with ServerDown", async () => {
    const cluster = await startWorkers({ servers: 1, storage: "memory" });
    clusters.push(cluster);
    await cluster.kill(url(1));
    await expect(cluster.failDisk(url(1))).rejects.toThrow(/is down/);
  });
});
