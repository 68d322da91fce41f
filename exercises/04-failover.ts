/**
 * Exercise 4: make a client fail over without an error ("How clients respond to node failures").
 */
import { databaseOf, fail, idsOn, inSolution, list, pass } from "./history.ts";
import { createOn, joinAll } from "./setup.ts";
import type { Exercise, RunRecord } from "./types.ts";

/** preferredKill finds the kill of the node the store preferred at that moment (the first member of the topology it knew). */
function preferredKill(record: RunRecord): { tag: string; atMs: number } | undefined {
  for (const action of inSolution(record.actions)) {
    if (action.kind !== "kill") continue;
    const known = record.clientEvents.filter(
      (e) => e.type === "topology-updated" && e.atMs <= action.atMs,
    );
    const latest = known[known.length - 1];
    const preferred = latest?.type === "topology-updated" ? latest.members[0] : undefined;
    if (preferred !== undefined && preferred === action.target)
      return { tag: preferred, atMs: action.atMs };
  }
  return undefined;
}

/** failover: the store loses its preferred node and its next write succeeds on another, with no error. */
export const failover: Exercise = {
  id: "failover",
  title: "Make a client fail over without an error",
  section: "Client interaction with a database group",
  goal:
    "Spade lives on A, B and C. Use the store you are given: write a document (the store learns Spade's topology and " +
    "sends writes to the preferred node), then kill that preferred node and write again with the same store. The " +
    "second write must succeed on another node without your code seeing any error — the client fails over on its own.",
  hints: [
    "The store learns the topology with its first request; store.preferredNode (or store.topology.members[0]) is where writes go.",
    "Kill the preferred node after the first write, not before: the point is a client that already had a favourite.",
    "Do not catch anything: every save and load of the store must succeed.",
  ],
  start: {
    servers: 3,
    seed: 14,
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "B", "C"]);
    },
  },
  checks: [
    {
      id: "preferred-killed",
      description:
        "the node the store preferred was killed after the store had learned the topology",
      check: (record) => {
        const kill = preferredKill(record);
        if (kill) return pass(`${kill.tag} was the preferred node when it was killed`);
        const kills = inSolution(record.actions)
          .filter((a) => a.kind === "kill")
          .map((a) => a.target ?? "?");
        return kills.length > 0
          ? fail(
              `you killed ${list(kills)}, but not the node the store preferred at that moment (write something first so the store learns the topology)`,
            )
          : fail("no server was killed");
      },
    },
    {
      id: "failed-over",
      description: "the store failed over from the dead node to another one",
      check: (record) => {
        const kill = preferredKill(record);
        const event = inSolution(record.clientEvents).find(
          (e) => e.type === "failover" && kill !== undefined && e.from === kill.tag,
        );
        return event?.type === "failover"
          ? pass(`${event.request}: ${event.from} → ${event.to} (${event.reason})`)
          : fail("the store never had to fail over");
      },
    },
    {
      id: "no-error",
      description: "every save and load of the store succeeded, including a save after the kill",
      check: (record) => {
        const kill = preferredKill(record);
        const operations = inSolution(record.operations).filter((o) => o.kind !== "maintenance");
        const failed = operations.find((o) => !o.ok);
        if (failed)
          return fail(`${failed.name} failed: ${failed.code ?? ""} ${failed.message ?? ""}`.trim());
        const after = operations.find(
          (o) => o.kind === "saveChanges" && kill !== undefined && o.atMs >= kill.atMs,
        );
        return after
          ? pass(`saveChanges after the kill was served by ${after.servedBy ?? "?"}`)
          : fail("no saveChanges after killing the preferred node");
      },
    },
    {
      id: "write-replicated",
      description: "what was written after the kill is on every surviving member",
      check: (record) => {
        const kill = preferredKill(record);
        if (!kill) return fail("the preferred node was not killed");
        const ids = inSolution(record.requests)
          .filter((r) => r.type === "batch" && r.ok && r.atMs >= kill.atMs)
          .flatMap((r) => (r.puts ?? []).map((p) => p.id));
        if (ids.length === 0) return fail("nothing was written after the kill");
        const alive = new Set(record.final.cluster.filter((s) => s.alive).map((s) => s.tag));
        const members = (databaseOf(record, "Spade")?.members ?? []).filter((tag) =>
          alive.has(tag),
        );
        const missing = members.filter(
          (tag) => !ids.every((id) => idsOn(record, tag, "Spade").includes(id)),
        );
        return missing.length === 0
          ? pass(`${list(ids)} on ${list(members)}`)
          : fail(`missing on ${list(missing)}`);
      },
    },
  ],
  solution: {
    steps: [
      "Write users/1 with a session; the store fetches Spade's topology and writes to the preferred node.",
      "Read the preferred node's tag from store.preferredNode and kill it.",
      "Write users/2 with a new session of the same store: the request to the dead node fails, the store tries the next node, and saveChanges returns normally.",
      "Wait a little so the write replicates to the other survivor.",
    ],
    async run(cluster, store) {
      const first = store.openSession();
      first.store({ name: "Oren" }, "users/1");
      await first.saveChanges();
      const preferred = store.preferredNode?.tag;
      if (!preferred) throw new Error("the store has no preferred node");
      await cluster.kill(preferred);
      const second = store.openSession();
      second.store({ name: "Written after the crash" }, "users/2");
      await second.saveChanges();
      await cluster.runFor(500);
    },
  },
};
