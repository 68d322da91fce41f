import { describe, expect, it } from "vitest";
import { MemoryTopologyCache } from "../../engine/client/index.ts";
import type { ClientEvent } from "../../engine/client/index.ts";
import { caught, clusterWith, documentOn, servedBy, storeFor } from "./helpers.ts";

const failovers = (events: readonly ClientEvent[]) =>
  events.flatMap((e) => (e.type === "failover" ? [`${e.from}->${e.to} (${e.reason})`] : []));

describe("failover", () => {
  it("killing the preferred node mid-workload: no caller error, the next node serves, then the topology shows the supervisor's move", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 7, database: "Spade" });
    const { store, events } = storeFor(cluster, "Spade");
    for (let i = 0; i < 40; i++) {
      const session = store.openSession();
      session.store({ n: i }, `orders/${i}`);
      const saving = session.saveChanges();
      // Kill A while the tenth write is on the wire: it arrives at a dead server.
      if (i === 10) await cluster.kill("A");
      await saving;
      await cluster.runFor(100);
    }
    const served = servedBy(events, "batch");
    expect(served).toHaveLength(40);
    expect(served.slice(0, 10)).toEqual(Array(10).fill("A"));
    expect(served.slice(10)).toEqual(Array(30).fill("B"));
    // One failover: after it, A is known to be down and requests go straight to B.
    expect(failovers(events)).toEqual(["A->B (ServerUnavailable)"]);
    // The supervisor moved A off the preferred spot (after 1 s by default), and the client
    // learned it from a response's topology etag.
    expect(store.topology!.members[0]).toBe("B");
    expect(
      store.topology!.members.indexOf("A") === -1 || store.topology!.members.at(-1) === "A",
    ).toBe(true);
    expect(
      events.some(
        (e) =>
          e.type === "topology-updated" && e.members[0] === "B" && e.source === cluster.urls[1],
      ),
    ).toBe(true);
    await cluster.waitFor(
      () => ["B", "C"].every((tag) => documentOn(cluster, tag, "Spade", "orders/39") !== undefined),
      { what: "orders/39 on B and C" },
    );
    for (let i = 0; i < 40; i++)
      expect(documentOn(cluster, "C", "Spade", `orders/${i}`)).toEqual({ n: i });
  });

  it("a failed node is health-checked and used again once it answers", async () => {
    // A slow supervisor keeps A first in the topology, so only the client's health check brings it back.
    const cluster = await clusterWith({
      servers: 3,
      seed: 3,
      database: "Spade",
      sim: {
        timing: { supervisor: { rotatePreferredAfterMs: 600_000, moveToRehabAfterMs: 1_200_000 } },
      },
    });
    const { store, events } = storeFor(cluster, "Spade");
    const write = async (i: number) => {
      const session = store.openSession();
      session.store({ n: i }, `orders/${i}`);
      await session.saveChanges();
      await cluster.runFor(100);
    };
    await write(0);
    await cluster.kill("A");
    for (let i = 1; i <= 5; i++) await write(i);
    expect(store.nodes().find((n) => n.tag === "A")!.failures).toBeGreaterThan(0);
    await cluster.restart("A");
    for (let i = 6; i <= 30; i++) await write(i);
    const served = servedBy(events, "batch");
    expect(served.slice(1, 6)).toEqual(Array(5).fill("B"));
    expect(served.at(-1)).toBe("A");
    const restoredAt = events.findIndex((e) => e.type === "node-restored" && e.tag === "A");
    expect(restoredAt).toBeGreaterThan(0);
    // Health checks are lazy and bounded: one probe per interval at most while A was down.
    const probes = events.filter((e) => e.type === "request" && e.purpose === "health-check");
    expect(probes.length).toBeGreaterThan(1);
    expect(probes.length).toBeLessThanOrEqual(5);
    expect(store.nodes().every((n) => n.failures === 0)).toBe(true);
  });

  it("a partition leaves two clients on different sides: each fails over on its own and both keep writing", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 11, database: "Spade" });
    const [a, b, c] = cluster.urls as [string, string, string];
    const one = storeFor(cluster, "Spade", { address: "client-1" });
    const two = storeFor(cluster, "Spade", { address: "client-2" });
    const write = async (store: typeof one.store, id: string) => {
      const session = store.openSession();
      session.store({ by: id }, id);
      await session.saveChanges();
    };
    await write(one.store, "warmup/1");
    await write(two.store, "warmup/2");
    // A is cut off from everyone; B with client-1 and C with client-2 cannot see each other.
    cluster.net.partition([a], [b, c, "client-1", "client-2"]);
    cluster.net.partition([b, "client-1"], [c, "client-2"]);
    for (let i = 0; i < 5; i++) {
      await Promise.all([write(one.store, `one/${i}`), write(two.store, `two/${i}`)]);
      await cluster.runFor(200);
    }
    expect(servedBy(one.events, "batch").slice(1)).toEqual(Array(5).fill("B"));
    expect(servedBy(two.events, "batch").slice(1)).toEqual(Array(5).fill("C"));
    expect(failovers(one.events)).toEqual(["A->B (RequestTimeout)"]);
    expect(failovers(two.events)).toEqual(["A->B (RequestTimeout)", "B->C (RequestTimeout)"]);
    expect(documentOn(cluster, "B", "Spade", "two/0")).toBeUndefined();
    cluster.heal();
    await cluster.waitFor(
      () =>
        ["A", "B", "C"].every(
          (tag) =>
            documentOn(cluster, tag, "Spade", "one/4") &&
            documentOn(cluster, tag, "Spade", "two/4"),
        ),
      { what: "both clients' writes everywhere", timeoutMs: 20_000 },
    );
  });

  it("with every node of the group down, one AllTopologyNodesDown error lists each node and why", async () => {
    const cluster = await clusterWith({ servers: 3, seed: 5, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const session = store.openSession();
    session.store({ name: "Oren" }, "users/1");
    await session.saveChanges();
    await cluster.kill("A");
    await cluster.kill("B");
    cluster.isolate("C");
    const error = await caught(() => store.openSession().load("users/1"));
    expect(error.code).toBe("AllTopologyNodesDown");
    expect(error.details["nodes"]).toEqual([
      expect.objectContaining({ tag: "A", url: cluster.urls[0], code: "ServerUnavailable" }),
      expect.objectContaining({ tag: "B", url: cluster.urls[1], code: "ServerUnavailable" }),
      expect.objectContaining({ tag: "C", url: cluster.urls[2], code: "RequestTimeout" }),
    ]);
    for (const url of cluster.urls) expect(error.message).toContain(url);
    expect(error.message).toContain("get-documents");
  });

  it("a stale topology naming a node without the database: the client moves on and refreshes", async () => {
    const cluster = await clusterWith({
      servers: 4,
      seed: 2,
      database: "Spade",
      nodes: ["B", "C"],
    });
    const [a, b, , d] = cluster.urls as [string, string, string, string];
    const cache = new MemoryTopologyCache();
    // A topology from long ago, when Spade lived on A and B; the only listed URL (D) is down.
    const first = storeFor(cluster, "Spade", { urls: [d], conventions: { topologyCache: cache } });
    await cache.save(first.store.requestExecutor.cacheKey, {
      database: "Spade",
      etag: 1,
      members: ["A", "B"],
      promotables: [],
      rehabs: [],
      nodes: [
        { tag: "A", url: a, role: "member" },
        { tag: "B", url: b, role: "member" },
      ],
    });
    await cluster.kill("D");
    const session = first.store.openSession();
    session.store({ name: "Oren" }, "users/1");
    await session.saveChanges();
    expect(failovers(first.events)).toEqual(["A->B (DatabaseNotRelevant)"]);
    expect(first.store.topology!.members).toEqual(["B", "C"]);
    expect(first.store.requestExecutor.topologySource).toBe(b);
  });

  it("the topology is refreshed when a response says its etag moved", async () => {
    const cluster = await clusterWith({
      servers: 3,
      seed: 4,
      database: "Spade",
      nodes: ["A", "B"],
    });
    const { store, events } = storeFor(cluster, "Spade");
    await store.openSession().load("users/1");
    expect(store.topology!.members).toEqual(["A", "B"]);
    await store.maintenance.addDatabaseNode("Spade", "C");
    await cluster.waitFor((c) => c.databaseRecord("Spade")!.topology.members.includes("C"), {
      what: "C a member of Spade",
    });
    await store.openSession().load("users/1");
    expect(store.topology!.members).toEqual(["A", "B", "C"]);
    expect(events.filter((e) => e.type === "topology-updated").length).toBeGreaterThanOrEqual(2);
  });
});

describe("determinism", () => {
  it("the same seed gives the same requests, failovers and topology changes, to the virtual millisecond", async () => {
    const run = async () => {
      const cluster = await clusterWith({ servers: 3, seed: 99, database: "Spade" });
      const { store, events } = storeFor(cluster, "Spade", {
        conventions: { readBalance: "roundRobin" },
      });
      for (let i = 0; i < 20; i++) {
        if (i === 5) await cluster.kill("A");
        if (i === 12) await cluster.restart("A");
        const session = store.openSession();
        await session.load(`orders/${i - 1}`);
        session.store({ n: i }, `orders/${i}`);
        await session.saveChanges();
        await cluster.runFor(150);
      }
      return events;
    };
    const first = await run();
    expect(first.some((e) => e.type === "failover")).toBe(true);
    expect(await run()).toEqual(first);
  });
});
