/**
 * Defect 5 of issue 12: a server whose storage was wiped came back under its old tag with an
 * empty log, and voted. A, B, C with C cut off; "Committed" is acknowledged by A and B; A is
 * killed and its storage deleted, B is killed, the network heals and A restarts: C won A's vote
 * without the entry, B's copy was overwritten when B came back, and an acknowledged cluster command
 * was gone everywhere. A server with empty Raft state is a fresh "?" server; the cluster refuses
 * to count it as the node it was, until it is removed and added again (as RavenDB asks of a
 * server started with a new data folder).
 */
import { describe, expect, it } from "vitest";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { SimDisk } from "../../engine/runtime/sim/sim-disk.ts";
import type { TraceEvent } from "../../engine/server/index.ts";
import { ok } from "./helpers.ts";

const url = (n: number): string => `http://127.0.0.${n}:8080`;

/** wipe deletes everything a server's disk holds, as deleting its data folder would. */
function wipe(disk: SimDisk): void {
  const live = disk.disk.durable;
  live.apply([...live.entries()].map((entry) => ({ ...entry, json: null })));
}

/** has tells whether the server at `at` has applied a cluster state that lists `database`. */
function has(cluster: SimCluster, at: string, database: string): boolean {
  const state = cluster.server(at)?.clusterState;
  return state !== undefined && Object.values(state.databases).some((r) => r.name === database);
}

async function threeNodes(seed: number): Promise<SimCluster> {
  const cluster = new SimCluster({ servers: 3, seed });
  // Adding a node is a cluster-wide operation: it makes the first server node A.
  ok(await cluster.request(url(1), { type: "add-node", url: url(2) }));
  ok(await cluster.request(url(1), { type: "add-node", url: url(3) }));
  await cluster.waitFor(
    (c) =>
      c.servers.every((s) => s.tag !== "?" && s.leader === "A") &&
      Object.keys(c.server(url(3))?.clusterState?.topology.members ?? {}).length === 3,
    { what: "A, B and C in one cluster led by A" },
  );
  return cluster;
}

describe("a server that lost its storage", () => {
  for (const seed of [1, 2, 3]) {
    it(`does not vote an acknowledged cluster command away when it comes back (seed ${seed})`, async () => {
      const cluster = await threeNodes(seed);
      const traces: TraceEvent[] = [];
      cluster.on("trace", (events) => traces.push(...events));
      cluster.partition([url(3)], [url(1), url(2)]);
      ok(
        await cluster.request(url(1), {
          type: "create-database",
          name: "Committed",
          replicationFactor: 2,
        }),
      );
      await cluster.waitFor((cl) => has(cl, url(2), "Committed"), { what: "B to apply Committed" });
      expect(has(cluster, url(3), "Committed")).toBe(false);

      await cluster.kill(url(1));
      wipe(cluster.storageOf(url(1)));
      await cluster.kill(url(2));
      cluster.heal();
      await cluster.restart(url(1));
      await cluster.runFor(10_000);

      // The wiped server is a fresh server: it joined nothing and voted for no one.
      const wiped = cluster.servers.find((s) => s.url === url(1))!;
      expect(wiped.tag).toBe("?");
      const c = cluster.servers.find((s) => s.url === url(3))!;
      expect(c.role).not.toBe("leader");
      // It says why, and what to do.
      const said = traces.filter((e) => e.type === "server" && e.url === url(1));
      const text = said.map((e) => (e.type === "server" ? e.text : "")).join("\n");
      expect(text).toMatch(/not node A[\s\S]*remove node A[\s\S]*add this server again/i);

      // B comes back with the entry and leads; nothing acknowledged is lost.
      await cluster.restart(url(2));
      await cluster.waitFor((cl) => cl.servers.some((s) => s.role === "leader"), {
        what: "a leader among B and C",
      });
      await cluster.waitFor((cl) => has(cl, url(3), "Committed"), { what: "C to learn Committed" });
      expect(has(cluster, url(2), "Committed")).toBe(true);

      // Removed and added again, the server joins under a new tag and catches up.
      const leader = cluster.servers.find((s) => s.role === "leader")!;
      ok(await cluster.request(leader.url, { type: "remove-node", tag: "A" }));
      ok(await cluster.request(leader.url, { type: "add-node", url: url(1) }));
      await cluster.waitFor((cl) => has(cl, url(1), "Committed"), {
        what: "the re-added server to learn Committed",
      });
      expect(cluster.servers.find((s) => s.url === url(1))!.tag).toBe("D");
      await cluster.stop();
    });
  }
});
