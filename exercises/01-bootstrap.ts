/**
 * Exercise 1: bootstrap a cluster and read its tags ("Your first RavenDB Cluster").
 */
import { DocumentStore } from "../engine/index.ts";
import { fail, inSolution, list, pass, requestsOf } from "./history.ts";
import type { Exercise } from "./types.ts";

const urls = ["http://127.0.0.1:8080", "http://127.0.0.2:8080", "http://127.0.0.3:8080"];

/** bootstrap: three fresh servers become nodes A, B and C of one cluster, and you read the tags back. */
export const bootstrap: Exercise = {
  id: "bootstrap",
  title: "Bootstrap a cluster and read its tags",
  section: "Your first RavenDB Cluster",
  goal:
    'Three fresh servers are running; each shows the tag "?" because none belongs to a cluster yet. ' +
    "Create the database Spade on 127.0.0.1 (its first cluster-wide operation makes it a one-node cluster, node A), " +
    "add 127.0.0.2 and 127.0.0.3 so they become B and C, and then ask 127.0.0.3 itself for the cluster topology.",
  hints: [
    'store.maintenance.createDatabase({ name: "Spade" }) goes to the first URL the store knows: 127.0.0.1.',
    "store.maintenance.addNodeToCluster(url) adds a server by URL; the leader gives it the next free tag.",
    "To ask one particular server, build a store with only its URL: new DocumentStore({ urls: [cluster.urls[2]], network: cluster.network }).initialize().maintenance.getClusterTopology().",
  ],
  start: { servers: 3, seed: 11 },
  checks: [
    {
      id: "tags",
      description: "127.0.0.1, 127.0.0.2 and 127.0.0.3 are nodes A, B and C",
      check: (record) => {
        const tags = urls.map((url) => record.final.cluster.find((s) => s.url === url)?.tag ?? "?");
        return tags.join("") === "ABC"
          ? pass("A, B and C, in the order they joined")
          : fail(`the servers' tags are ${tags.join(", ")}; expected A, B, C`);
      },
    },
    {
      id: "one-leader",
      description: "the three servers follow one leader",
      check: (record) => {
        const leaders = new Set(record.final.cluster.map((s) => s.leader));
        const only = [...leaders][0];
        return leaders.size === 1 && only
          ? pass(`all three follow ${only} (term ${record.final.term})`)
          : fail(`the servers follow ${list([...leaders].map((l) => l ?? "nobody"))}`);
      },
    },
    {
      id: "spade",
      description: "the database Spade exists",
      check: (record) => {
        const created = inSolution(record.requests).some(
          (r) => r.type === "create-database" && r.ok && r.name?.toLowerCase() === "spade",
        );
        const db = record.final.databases.find((d) => d.name.toLowerCase() === "spade");
        return db && created
          ? pass(`Spade lives on ${list(db.members)}`)
          : fail("no database Spade was created");
      },
    },
    {
      id: "read-from-c",
      description: "127.0.0.3 answered a cluster-topology request listing A, B and C",
      check: (record) => {
        const reads = requestsOf(record, "cluster-topology").filter(
          (r) => r.ok && r.url === urls[2],
        );
        const full = reads.find((r) => {
          const members =
            (r.result as { members?: Record<string, string> } | undefined)?.members ?? {};
          return ["A", "B", "C"].every((tag) => tag in members);
        });
        if (full) return pass("C knows the whole topology: A, B and C");
        if (reads.length > 0)
          return fail(
            "127.0.0.3 answered, but before it knew all three nodes; ask again once C has joined",
          );
        return fail("no cluster-topology request went to 127.0.0.3");
      },
    },
  ],
  solution: {
    steps: [
      'store.maintenance.createDatabase({ name: "Spade" }) — 127.0.0.1 bootstraps and becomes A.',
      'store.maintenance.addNodeToCluster("http://127.0.0.2:8080") — it becomes B.',
      'store.maintenance.addNodeToCluster("http://127.0.0.3:8080") — it becomes C.',
      "Wait until every server shows a tag and a leader.",
      "Open a store on 127.0.0.3 alone and call maintenance.getClusterTopology(); C gets its tag before it has applied the whole log, so ask again (after cluster.runFor(20)) until it lists A, B and C.",
    ],
    async run(cluster, store) {
      await store.maintenance.createDatabase({ name: "Spade" });
      for (const url of cluster.urls.slice(1)) await store.maintenance.addNodeToCluster(url);
      await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), {
        timeoutMs: 10_000,
      });
      const onC = new DocumentStore({
        urls: [cluster.urls[2]!],
        network: cluster.network,
      }).initialize();
      // C has its tag before it has applied the whole log: ask until it knows all three nodes.
      for (let attempt = 0; attempt < 50; attempt++) {
        const topology = await onC.maintenance.getClusterTopology();
        if (Object.keys(topology.members).length === 3) return;
        await cluster.runFor(20);
      }
      throw new Error("127.0.0.3 never listed three members");
    },
  },
};
