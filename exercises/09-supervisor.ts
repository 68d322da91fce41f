/**
 * Exercise 9: watch the supervisor rotate a preferred node and bring a rehab back ("The
 * supervisor and the preferred node").
 */
import {
  databaseOf,
  fail,
  inSolution,
  list,
  pass,
  requestsOf,
  topologyChanges,
} from "./history.ts";
import { createOn, joinAll } from "./setup.ts";
import type { Exercise, RunRecord } from "./types.ts";

/**
 * firstPreferredKill is the kill of Hoe's starting preferred node: Hoe is created on A, B, C in
 * that order, so A is first in line until the supervisor says otherwise.
 */
function firstPreferredKill(
  record: RunRecord,
): { tag: string; atMs: number; restartedAtMs?: number } | undefined {
  const preferred = "A";
  const kill = inSolution(record.actions).find((a) => a.kind === "kill" && a.target === preferred);
  if (!kill) return undefined;
  const restart = inSolution(record.actions).find(
    (a) => a.kind === "restart" && a.target === preferred && a.atMs >= kill.atMs,
  );
  return { tag: preferred, atMs: kill.atMs, ...(restart ? { restartedAtMs: restart.atMs } : {}) };
}

/** supervisor: the preferred node dies; the supervisor rotates it, moves it to rehab, and promotes it back once it catches up. */
export const supervisor: Exercise = {
  id: "supervisor",
  title: "Watch the supervisor rotate a preferred node and bring a rehab back",
  section: "The supervisor and the preferred node",
  goal:
    "The database Hoe lives on A, B and C; A is its preferred node (the first member, where clients send writes). Kill A " +
    "and watch the cluster's supervisor act: first it rotates A to the end of the list so that clients prefer B, then, as A " +
    "stays silent, it moves A to rehab. Write a document to Hoe while A is away. Restart A: once it has caught up, the " +
    "supervisor promotes it back to member — at the end of the list, not first.",
  hints: [
    "cluster.describe().databases lists each database's members, promotables and rehabs; members[0] is the preferred node.",
    'cluster.on("trace", …) shows topology-change events with the supervisor\'s reason for each change.',
    "The supervisor waits for missed heartbeats: use cluster.waitFor(…, { timeoutMs: 10_000 }) rather than fixed sleeps.",
    "The store fails over on its own; write handles/1 through it while A is down.",
  ],
  start: {
    servers: 3,
    seed: 19,
    database: "Hoe",
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Hoe", ["A", "B", "C"]);
    },
  },
  checks: [
    {
      id: "rotated",
      description: "the supervisor rotated the dead preferred node to the end",
      check: (record) => {
        const kill = firstPreferredKill(record);
        if (!kill) return fail("Hoe's preferred node (A) was not killed");
        const change = topologyChanges(record, "Hoe").find(
          (t) =>
            t.atMs >= kill.atMs &&
            t.message.startsWith(`${kill.tag} is no longer the preferred node`),
        );
        return change
          ? pass(change.message)
          : fail(`${kill.tag} was killed but never rotated; wait longer`);
      },
    },
    {
      id: "rehab",
      description: "the supervisor moved it to rehab",
      check: (record) => {
        const kill = firstPreferredKill(record);
        if (!kill) return fail("Hoe's preferred node (A) was not killed");
        const change = topologyChanges(record, "Hoe").find(
          (t) => t.atMs >= kill.atMs && t.message.startsWith(`${kill.tag} moved to rehab`),
        );
        return change
          ? pass(change.message)
          : fail(`${kill.tag} never went to rehab; keep it down longer`);
      },
    },
    {
      id: "write-while-away",
      description: "a document was written to Hoe while the node was down",
      check: (record) => {
        const kill = firstPreferredKill(record);
        if (!kill) return fail("Hoe's preferred node (A) was not killed");
        const write = requestsOf(record, "batch", "Hoe").find(
          (r) => r.ok && r.atMs >= kill.atMs && r.atMs <= (kill.restartedAtMs ?? Infinity),
        );
        return write
          ? pass(`${list((write.puts ?? []).map((p) => p.id))} written on ${write.tag}`)
          : fail(`nothing was written to Hoe while ${kill.tag} was down`);
      },
    },
    {
      id: "recovered",
      description: "after a restart it caught up and was promoted back to member",
      check: (record) => {
        const kill = firstPreferredKill(record);
        if (!kill?.restartedAtMs) return fail("the killed node was not restarted");
        const change = topologyChanges(record, "Hoe").find(
          (t) =>
            t.atMs >= (kill.restartedAtMs ?? 0) &&
            t.message.startsWith(`${kill.tag} recovered from rehab`),
        );
        return change
          ? pass(change.message)
          : fail(`${kill.tag} is back up but has not been promoted yet; wait for it`);
      },
    },
    {
      id: "last-in-line",
      description: "it came back at the end of the list, not as the preferred node",
      check: (record) => {
        const kill = firstPreferredKill(record);
        const members = databaseOf(record, "Hoe")?.members ?? [];
        if (!kill) return fail("Hoe's preferred node (A) was not killed");
        return members.length === 3 && members[members.length - 1] === kill.tag
          ? pass(`Hoe's members: ${list(members)}`)
          : fail(`Hoe's members are ${list(members)}`);
      },
    },
  ],
  solution: {
    steps: [
      'Read Hoe\'s preferred node: cluster.describe().databases.find(db => db.name === "Hoe").members[0] — A.',
      'await cluster.kill("A"); waitFor members[0] to change (the rotation), then for rehabs to include A.',
      "Write handles/1 through the store (it fails over to the new preferred node).",
      'await cluster.restart("A"); waitFor A among the members again: B, C, A.',
    ],
    async run(cluster, store) {
      const hoe = () => cluster.describe().databases.find((db) => db.name === "Hoe");
      const preferred = hoe()?.members[0] ?? "A";
      await cluster.kill(preferred);
      await cluster.waitFor(() => hoe()?.members[0] !== preferred, { timeoutMs: 10_000 });
      await cluster.waitFor(() => hoe()?.rehabs.includes(preferred) ?? false, {
        timeoutMs: 10_000,
      });
      const session = store.openSession();
      session.store({ wood: "ash" }, "handles/1");
      await session.saveChanges();
      await cluster.restart(preferred);
      await cluster.waitFor(() => hoe()?.members.includes(preferred) ?? false, {
        timeoutMs: 10_000,
      });
    },
  },
};
