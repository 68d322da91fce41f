/**
 * Exercise 2: add a node and grow a database group ("Your first RavenDB Cluster").
 */
import { databaseOf, fail, idsOn, list, pass, requestsOf, topologyChanges } from "./history.ts";
import { put } from "./setup.ts";
import type { Exercise } from "./types.ts";

/** growGroup: B joins the cluster, then Spade's group, and users/1 and users/2 follow on their own. */
export const growGroup: Exercise = {
  id: "grow-group",
  title: "Add a node and grow a database group",
  section: "Your first RavenDB Cluster",
  goal:
    "Spade lives on node A (127.0.0.1) with users/1 and users/2; 127.0.0.2 is a fresh server. Add it to the cluster " +
    "(it becomes B), then add B to Spade's database group. B first joins as a promotable, A sends it everything, and " +
    "the supervisor promotes it to member. Finish when B is a member and holds both documents — without writing them to B yourself.",
  hints: [
    "Joining the cluster and joining a database group are two different cluster-wide operations.",
    'store.maintenance.addNodeToCluster("http://127.0.0.2:8080") returns the new node\'s tag.',
    'store.maintenance.addDatabaseNode("Spade", "B") puts B in the group; then cluster.waitFor(...) until describe() lists B among Spade\'s members.',
  ],
  start: {
    servers: 2,
    seed: 12,
    async setup(_cluster, store) {
      await store.maintenance.createDatabase({ name: "Spade" });
      await put(store, { "users/1": { name: "Oren" }, "users/2": { name: "Eini" } });
    },
  },
  checks: [
    {
      id: "b-joined",
      description: "127.0.0.2 joined the cluster as node B",
      check: (record) => {
        const tag = record.final.cluster.find((s) => s.url === "http://127.0.0.2:8080")?.tag ?? "?";
        return tag === "B" ? pass("127.0.0.2 is node B") : fail(`127.0.0.2 shows the tag ${tag}`);
      },
    },
    {
      id: "b-in-group",
      description: "B was added to Spade's database group (as a promotable first)",
      check: (record) => {
        const joined = topologyChanges(record, "Spade").find((t) =>
          t.message.startsWith("B joined"),
        );
        return joined
          ? pass(joined.message)
          : fail("Spade's group never changed: B was not added to it");
      },
    },
    {
      id: "b-member",
      description: "B was promoted to a full member of Spade",
      check: (record) => {
        const members = databaseOf(record, "Spade")?.members ?? [];
        return members.includes("B")
          ? pass(`Spade's members: ${list(members)}`)
          : fail(`Spade's members are ${list(members)}; B is not one of them yet`);
      },
    },
    {
      id: "documents-on-b",
      description: "users/1 and users/2 reached B by replication",
      check: (record) => {
        const ids = idsOn(record, "B", "Spade");
        const wroteToB = requestsOf(record, "batch", "Spade").some(
          (r) =>
            r.ok &&
            r.tag === "B" &&
            (r.puts ?? []).some((p) => p.id === "users/1" || p.id === "users/2"),
        );
        if (wroteToB)
          return fail("you wrote users/1 or users/2 to B yourself; let replication bring them");
        return ids.includes("users/1") && ids.includes("users/2")
          ? pass(`B holds ${list(ids)}`)
          : fail(`B holds ${list(ids)}`);
      },
    },
  ],
  solution: {
    steps: [
      'store.maintenance.addNodeToCluster("http://127.0.0.2:8080") — the new server becomes B.',
      'store.maintenance.addDatabaseNode("Spade", "B") — B joins Spade\'s group as a promotable, mentored by A.',
      "cluster.waitFor(...) until describe() lists B among Spade's members and B holds users/1 and users/2.",
    ],
    async run(cluster, store) {
      await store.maintenance.addNodeToCluster("http://127.0.0.2:8080");
      await store.maintenance.addDatabaseNode("Spade", "B");
      await cluster.waitFor(
        (c) => {
          const described = c.describe();
          const spade = described.databases.find((db) => db.name === "Spade");
          return (
            (spade?.members.includes("B") ?? false) &&
            (described.documents["B"]?.["Spade"]?.length ?? 0) === 2
          );
        },
        { timeoutMs: 10_000 },
      );
    },
  },
};
