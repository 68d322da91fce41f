/**
 * Exercise 8: place Pitchfork so that it survives any two failures ("Expanding your cluster").
 */
import { downAt, fail, groupOf, idsOn, list, pass, requestsOf } from "./history.ts";
import { createOn, hostedEverywhere, joinAll } from "./setup.ts";
import type { Exercise, RunRecord } from "./types.ts";

const tags = ["A", "B", "C", "D", "E"];

function pairs<T>(items: readonly T[]): [T, T][] {
  return items.flatMap((a, i) => items.slice(i + 1).map((b): [T, T] => [a, b]));
}

/** writesWithDown lists successful Pitchfork writes and which of its nodes were down at the time. */
function writesWithDown(record: RunRecord): { tag: string; down: string[]; ids: string[] }[] {
  const group = groupOf(record, "Pitchfork");
  return requestsOf(record, "batch", "Pitchfork")
    .filter((r) => r.ok)
    .map((r) => ({
      tag: r.tag,
      down: [...downAt(record, r.atMs)].filter((t) => group.includes(t)).sort(),
      ids: (r.puts ?? []).map((p) => p.id),
    }));
}

/** pitchfork: a database on three of five nodes survives any two of them failing, and you prove it. */
export const pitchfork: Exercise = {
  id: "pitchfork",
  title: "Place Pitchfork so that it survives any two failures",
  section: "Expanding your cluster",
  goal:
    "Five servers form one cluster (A to E) and Spade lives on A and B. Create the database Pitchfork so that it " +
    "survives any two servers failing, then prove it: for every pair of Pitchfork's nodes, kill both, write a document " +
    "to Pitchfork through the store, and bring them back. At the end every server is up and every Pitchfork node holds every document.",
  hints: [
    "Any two failures leave three of five servers up; Pitchfork needs a node among any three, so three copies.",
    'store.maintenance.createDatabase({ name: "Pitchfork", replicationFactor: 3 }) returns the nodes the cluster chose.',
    "The store given to you talks to Pitchfork; it fails over on its own when its preferred node is dead.",
    "cluster.kill(tag) twice, write, cluster.restart(tag) twice; then wait until every node holds every document.",
  ],
  start: {
    servers: 5,
    seed: 18,
    database: "Pitchfork",
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "B"]);
    },
  },
  checks: [
    {
      id: "created",
      description: "Pitchfork exists on three or more nodes",
      check: (record) => {
        const group = groupOf(record, "Pitchfork");
        return group.length >= 3
          ? pass(`Pitchfork on ${list(group)}`)
          : group.length > 0
            ? fail(`Pitchfork has only ${list(group)}`)
            : fail("there is no database Pitchfork");
      },
    },
    {
      id: "any-two",
      description: "whichever two of the five servers fail, a Pitchfork node is left",
      check: (record) => {
        const group = groupOf(record, "Pitchfork");
        if (group.length === 0) return fail("there is no database Pitchfork");
        const fatal = pairs(tags).filter(([a, b]) => group.every((t) => t === a || t === b));
        return fatal.length === 0
          ? pass(`all ${pairs(tags).length} pairs leave a copy`)
          : fail(`losing ${list(fatal.map((p) => p.join("+")))} would take Pitchfork down`);
      },
    },
    {
      id: "proven",
      description: "for every pair of Pitchfork's nodes, a write succeeded while both were down",
      check: (record) => {
        const group = groupOf(record, "Pitchfork");
        if (group.length === 0) return fail("there is no database Pitchfork");
        const writes = writesWithDown(record);
        const missing = pairs(group).filter(
          ([a, b]) => !writes.some((w) => w.down.includes(a) && w.down.includes(b)),
        );
        return missing.length === 0
          ? pass(`${pairs(group).length} pairs proven`)
          : fail(`no write with ${list(missing.map((p) => p.join("+")))} down`);
      },
    },
    {
      id: "converged",
      description: "every server is back and every Pitchfork node holds every document",
      check: (record) => {
        const down = record.final.cluster.filter((s) => !s.alive).map((s) => s.tag);
        if (down.length > 0) return fail(`still down: ${list(down)}`);
        const ids = [...new Set(writesWithDown(record).flatMap((w) => w.ids))];
        if (ids.length === 0) return fail("nothing was written to Pitchfork");
        const lacking = groupOf(record, "Pitchfork").filter(
          (tag) => !ids.every((id) => idsOn(record, tag, "Pitchfork").includes(id)),
        );
        return lacking.length === 0
          ? pass(`${ids.length} documents on every node`)
          : fail(`missing documents on ${list(lacking)}`);
      },
    },
  ],
  solution: {
    steps: [
      'const { nodes } = await store.maintenance.createDatabase({ name: "Pitchfork", replicationFactor: 3 }) — the cluster picks the least loaded servers.',
      "waitFor all three to be members and to have opened the database (describe().documents[tag].Pitchfork exists).",
      "For each pair of those nodes: kill both, write tines/<pair> through the store, restart both.",
      "waitFor every Pitchfork node to hold every tines/ document.",
    ],
    async run(cluster, store) {
      const created = await store.maintenance.createDatabase({
        name: "Pitchfork",
        replicationFactor: 3,
      });
      const nodes = created.nodes ?? [];
      // Wait until every node has opened Pitchfork, not only until the leader lists it: a node that has
      // not applied the command yet would answer "no such database".
      await cluster.waitFor(
        (c) =>
          c.describe().databases.find((db) => db.name === "Pitchfork")?.members.length === 3 &&
          hostedEverywhere(c, "Pitchfork"),
        { timeoutMs: 10_000 },
      );
      const ids: string[] = [];
      for (const [a, b] of pairs(nodes)) {
        await cluster.kill(a);
        await cluster.kill(b);
        const session = store.openSession();
        const id = `tines/${a}${b}`;
        session.store({ down: [a, b] }, id);
        await session.saveChanges();
        ids.push(id);
        await cluster.restart(a);
        await cluster.restart(b);
      }
      await cluster.waitFor(
        (c) => {
          const described = c.describe();
          return nodes.every((tag) =>
            ids.every((id) => described.documents[tag]?.["Pitchfork"]?.includes(id) ?? false),
          );
        },
        { timeoutMs: 20_000 },
      );
    },
  },
};
