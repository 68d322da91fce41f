/**
 * Exercise 3: lose the leader while Spade keeps taking writes ("Kicking the tires of your RavenDB Cluster").
 */
import {
  fail,
  idsOn,
  inSolution,
  leaderlessIntervals,
  list,
  pass,
  requestsOf,
  within,
} from "./history.ts";
import { createOn, joinAll, put } from "./setup.ts";
import type { Exercise } from "./types.ts";

/** Request types that are cluster-wide operations (Raft commands): they need a majority. */
export const clusterWideTypes = new Set([
  "add-node",
  "remove-node",
  "create-database",
  "delete-database",
  "add-database-node",
  "set-revisions",
  "set-conflict-resolution",
]);

/** leaderlessWrites: kill A of two, see the cluster stall and the database carry on, then heal. */
export const leaderlessWrites: Exercise = {
  id: "leaderless-writes",
  title: "Lose the leader while Spade keeps taking writes",
  section: "Kicking the tires of your RavenDB Cluster",
  goal:
    "Spade lives on A and B, a two-node cluster. Kill A. B alone is not a majority of two, so there is no leader and " +
    "cluster-wide operations are refused — try one (create a database) and catch the error. The database layer does not " +
    "care: write users/3 to Spade while there is no leader. Then restart A, let a leader be elected again, and watch users/3 reach A.",
  hints: [
    'cluster.kill("A") crashes a server; cluster.restart("A") brings it back from its disk.',
    "Wrap the cluster-wide operation in try/catch: its error says how many nodes it needed and how many it could reach.",
    "The store fails over to B on its own when A does not answer; session.store(...) then await session.saveChanges().",
    'cluster.waitFor((c) => …) until some server\'s role is "leader", then until describe().documents.A.Spade includes users/3.',
  ],
  start: {
    servers: 2,
    seed: 13,
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "B"]);
      await put(store, { "users/1": { name: "Oren" }, "users/2": { name: "Eini" } });
    },
  },
  checks: [
    {
      id: "no-leader",
      description: "the cluster lost its leader (no server led for a while)",
      check: (record) => {
        const gaps = leaderlessIntervals(record).filter(
          (i) => i.fromMs >= record.solutionStartedAtMs,
        );
        const first = gaps[0];
        return first
          ? pass(
              `no leader from ${Math.round(first.fromMs)} ms to ${Math.round(first.toMs)} ms (virtual)`,
            )
          : fail("there was a leader all along");
      },
    },
    {
      id: "cluster-op-refused",
      description: "a cluster-wide operation was refused for want of a majority",
      check: (record) => {
        const refused = inSolution(record.requests).find(
          (r) => clusterWideTypes.has(r.type) && !r.ok && r.code === "NoLeader",
        );
        return refused
          ? pass(`${refused.type} on ${refused.tag}: ${refused.message ?? refused.code}`)
          : fail("no cluster-wide operation was tried while there was no leader");
      },
    },
    {
      id: "write-without-leader",
      description: "users/3 was written to Spade while there was no leader",
      check: (record) => {
        const gaps = leaderlessIntervals(record);
        const writes = requestsOf(record, "batch", "Spade").filter(
          (r) => r.ok && (r.puts ?? []).some((p) => p.id === "users/3"),
        );
        // Sent while there was no leader: a write that merely finished as the leader died does not count.
        const during = writes.find((r) => within(gaps, r.atMs));
        if (during)
          return pass(
            `node ${during.tag} took users/3 at ${Math.round(during.doneAtMs)} ms, with no leader in the cluster`,
          );
        return writes.length > 0
          ? fail("users/3 was written, but while there was a leader")
          : fail("users/3 was never written");
      },
    },
    {
      id: "leader-back",
      description: "A is back and the cluster has a leader again",
      check: (record) => {
        const restarted = inSolution(record.actions).some(
          (a) => a.kind === "restart" && a.target === "A",
        );
        if (!restarted) return fail("A was never restarted");
        const down = record.final.cluster.filter((s) => !s.alive).map((s) => s.tag);
        if (down.length > 0) return fail(`still down: ${list(down)}`);
        return record.final.leader
          ? pass(`${record.final.leader} leads term ${record.final.term}`)
          : fail("no leader at the end");
      },
    },
    {
      id: "replicated-to-a",
      description: "users/3 reached A by replication",
      check: (record) => {
        const ids = idsOn(record, "A", "Spade");
        return ids.includes("users/3")
          ? pass(`A holds ${list(ids)}`)
          : fail(`A holds ${list(ids)}`);
      },
    },
  ],
  solution: {
    steps: [
      'await cluster.kill("A").',
      'try { await store.maintenance.createDatabase({ name: "Rake" }) } catch (error) { /* NoLeader: needs 2 of 2 nodes */ }',
      'Open a session, store { name: "Grace Hopper" } as users/3 and saveChanges(): the store fails over to B.',
      'await cluster.restart("A"), then waitFor a leader and for users/3 on A.',
    ],
    async run(cluster, store) {
      await cluster.kill("A");
      try {
        await store.maintenance.createDatabase({ name: "Rake" });
      } catch {
        // Expected: no leader, so no majority to commit the new database.
      }
      const session = store.openSession();
      session.store({ name: "Grace Hopper" }, "users/3");
      await session.saveChanges();
      await cluster.restart("A");
      await cluster.waitFor((c) => c.servers.some((s) => s.role === "leader"), {
        timeoutMs: 10_000,
      });
      await cluster.waitFor(
        (c) => c.describe().documents["A"]?.["Spade"]?.includes("users/3") ?? false,
        { timeoutMs: 10_000 },
      );
    },
  },
};
