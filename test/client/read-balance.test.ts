import { describe, expect, it } from "vitest";
import { clusterWith, servedBy, storeFor } from "./helpers.ts";
import type { SimCluster } from "../../engine/runtime/sim/index.ts";

async function seedUsers(
  cluster: SimCluster,
  store: ReturnType<typeof storeFor>["store"],
): Promise<void> {
  const session = store.openSession();
  for (let i = 0; i < 3; i++) session.store({ n: i }, `users/${i}`);
  session.advanced.waitForReplicationAfterSaveChanges({ replicas: 2 });
  await session.saveChanges();
}

function count(tags: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const tag of tags) counts[tag] = (counts[tag] ?? 0) + 1;
  return counts;
}

/** latency sets the one-way latency between the client and a server, both directions. */
function latency(cluster: SimCluster, tag: string, ms: number, client = "client"): void {
  const url = cluster.servers.find((s) => s.tag === tag)!.url;
  cluster.net.setLinkLatency(client, url, ms);
  cluster.net.setLinkLatency(url, client, ms);
}

describe("read balancing", () => {
  it("none: every read and write goes to the preferred node", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 21, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade");
    await seedUsers(cluster, store);
    for (let i = 0; i < 9; i++) await store.openSession().load(`users/${i % 3}`);
    expect(count(servedBy(events))).toEqual({ A: 10 });
  });

  it("round robin spreads reads over all members, session by session, while writes stay on the preferred node", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 21, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade", {
      conventions: { readBalance: "roundRobin" },
    });
    await seedUsers(cluster, store);
    const perSession: string[] = [];
    for (let i = 0; i < 9; i++) {
      const session = store.openSession();
      await session.load("users/0");
      await session.load("users/1");
      perSession.push(session.advanced.lastServedBy!);
      const user = await session.load<{ n: number; seen?: number }>("users/2");
      user!.seen = i;
      await session.saveChanges();
    }
    expect(count(servedBy(events, "get-documents"))).toEqual({ A: 9, B: 9, C: 9 });
    // Each session sticks to one node (RavenDB's session id modulo the node count).
    expect(perSession).toEqual(["B", "C", "A", "B", "C", "A", "B", "C", "A"]);
    expect(count(servedBy(events, "batch"))).toEqual({ A: 10 });
  });

  it("round robin skips a node that is down", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 22, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade", {
      conventions: { readBalance: "roundRobin" },
    });
    await seedUsers(cluster, store);
    await cluster.kill("B");
    for (let i = 0; i < 6; i++) await store.openSession().load("users/0");
    const reads = servedBy(events, "get-documents");
    expect(reads).not.toContain("B");
    expect(new Set(reads)).toEqual(new Set(["A", "C"]));
  });

  it("fastest node picks the fastest under skewed latencies, and moves when that node slows down", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 23, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade", {
      conventions: {
        readBalance: "fastestNode",
        fastestNode: { winsToSelect: 10, reevaluateAfterReads: 20 },
      },
    });
    await seedUsers(cluster, store);
    latency(cluster, "A", 20);
    latency(cluster, "B", 2);
    latency(cluster, "C", 8);
    const read = async (times: number) => {
      for (let i = 0; i < times; i++) await store.openSession().load(`users/${i % 3}`);
    };
    // The speed test: ten races, all won by B.
    await read(10);
    expect(store.requestExecutor.fastestNode?.tag).toBe("B");
    const fastest = () => events.flatMap((e) => (e.type === "fastest-node" ? [e.tag] : []));
    expect(fastest()).toEqual(["B"]);
    const mark = events.length;
    await read(5);
    expect(servedBy(events.slice(mark), "get-documents")).toEqual(Array(5).fill("B"));

    // B slows down; after 20 reads on B the client measures again and moves to C.
    latency(cluster, "B", 40);
    await read(15 + 10);
    expect(fastest()).toEqual(["B", "C"]);
    const after = events.length;
    await read(5);
    expect(servedBy(events.slice(after), "get-documents")).toEqual(Array(5).fill("C"));
    // Writes never follow the fastest node.
    const session = store.openSession();
    session.store({ n: 99 }, "users/99");
    await session.saveChanges();
    expect(session.advanced.lastServedBy).toBe("A");
  });

  it("fastest node falls back to the preferred node and measures again when the fastest fails", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 24, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade", {
      conventions: { readBalance: "fastestNode" },
    });
    await seedUsers(cluster, store);
    latency(cluster, "A", 20);
    latency(cluster, "B", 2);
    latency(cluster, "C", 8);
    for (let i = 0; i < 10; i++) await store.openSession().load("users/0");
    expect(store.requestExecutor.fastestNode?.tag).toBe("B");
    await cluster.kill("B");
    for (let i = 0; i < 12; i++) await store.openSession().load("users/0");
    expect(store.requestExecutor.fastestNode?.tag).toBe("C");
    expect(events.some((e) => e.type === "failover" && e.from === "B")).toBe(true);
  });
});
