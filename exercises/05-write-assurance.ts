/**
 * Exercise 5: make write assurance fail while the data stays ("Write assurances for high value data").
 */
import { isRookeryError } from "../engine/index.ts";
import {
  cutOffAt,
  databaseOf,
  fail,
  groupOf,
  idsOn,
  killedAt,
  list,
  pass,
  requestsOf,
} from "./history.ts";
import { createOn, joinAll } from "./setup.ts";
import type { Exercise, RequestRecord, RunRecord } from "./types.ts";

function assuranceFailures(record: RunRecord): RequestRecord[] {
  return requestsOf(record, "batch", "Spade").filter(
    (r) => r.writeAssurance !== undefined && !r.ok && r.code === "WriteAssuranceTimeout",
  );
}

/** siblingsOf lists the other nodes of Spade's group: where the node that took a write replicates to. */
function siblingsOf(record: RunRecord, tag: string): string[] {
  return groupOf(record, "Spade").filter((other) => other !== tag);
}

/** replicasAsked is how many replicas a save waited for ("majority" counted as the group's majority of siblings). */
function replicasAsked(record: RunRecord, failure: RequestRecord): number {
  const asked = failure.writeAssurance ?? {};
  if (asked.majority) return Math.floor(siblingsOf(record, failure.tag).length / 2) + 1;
  return asked.replicas ?? 1;
}

/** possible: the save asked for no more replicas than the node that took it has siblings. */
const possible = (record: RunRecord, failure: RequestRecord): boolean =>
  replicasAsked(record, failure) <= siblingsOf(record, failure.tag).length;

/** siblingsKilled: every sibling of the node that took the save was killed (not merely cut off) at that moment. */
function siblingsKilled(record: RunRecord, failure: RequestRecord): boolean {
  const killed = killedAt(record, failure.atMs);
  return siblingsOf(record, failure.tag).every((tag) => killed.has(tag));
}

/** lesson is the failure the exercise is about: possible replicas, every sibling killed; else the first failure. */
function lesson(record: RunRecord): RequestRecord | undefined {
  const failures = assuranceFailures(record);
  return (
    failures.find((f) => possible(record, f) && siblingsKilled(record, f)) ??
    failures.find((f) => possible(record, f)) ??
    failures[0]
  );
}

/** writeAssurance: waitForReplicationAfterSaveChanges fails with a sibling down, and the write is there all the same. */
export const writeAssurance: Exercise = {
  id: "write-assurance",
  title: "Make write assurance fail while the data stays",
  section: "Write assurances for high value data",
  goal:
    "Spade lives on A and B. Kill one of them, then save a very important task with write assurance (Listing 6.2: wait " +
    "for one replica, no more than the surviving node has siblings) so that saveChanges raises WriteAssuranceTimeout. " +
    "Catch the error and show that it is not a rollback: the task is on the node that took the write, and it reaches the " +
    "other node once you restart it.",
  hints: [
    "session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 1000 }) before saveChanges().",
    "Kill the other node first. With A down, the store fails over to B, B writes the task, and then waits in vain for a replica.",
    "The error's details say how many replicas it reached and how many you wanted.",
    "Restart the node you killed and wait until describe() shows the task on both.",
  ],
  start: {
    servers: 2,
    seed: 15,
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "B"]);
    },
  },
  checks: [
    {
      id: "assurance-failed",
      description: "a save with write assurance failed with WriteAssuranceTimeout",
      check: (record) => {
        const failure = lesson(record);
        if (failure) return pass(`${failure.tag}: ${failure.message ?? failure.code}`);
        const assured = requestsOf(record, "batch", "Spade").filter(
          (r) => r.writeAssurance !== undefined,
        );
        return assured.length > 0
          ? fail("every save with write assurance reached its replicas; make one fail")
          : fail("no save asked for write assurance");
      },
    },
    {
      id: "replicas-possible",
      description: "it asked for no more replicas than the node that took it has siblings",
      check: (record) => {
        const failure = lesson(record);
        if (!failure) return fail("no write assurance failure to look at");
        const asked = replicasAsked(record, failure);
        const siblings = siblingsOf(record, failure.tag);
        return possible(record, failure)
          ? pass(`${asked} of ${failure.tag}'s ${siblings.length} sibling(s) (${list(siblings)})`)
          : fail(
              `it waited for ${asked} replicas, but ${failure.tag} has only ${siblings.length} sibling(s) in Spade ` +
                `(${list(siblings)}): such a save fails even with every node up, which teaches nothing`,
            );
      },
    },
    {
      id: "sibling-killed",
      description: "when it failed, the other node of Spade had been killed",
      check: (record) => {
        const failure = lesson(record);
        if (!failure) return fail("no write assurance failure to look at");
        const killed = killedAt(record, failure.atMs);
        const cut = cutOffAt(record, failure.atMs);
        const alive = siblingsOf(record, failure.tag).filter((tag) => !killed.has(tag));
        if (alive.length === 0)
          return pass(`${list(siblingsOf(record, failure.tag))} killed before the save`);
        const cutOff = alive.filter((tag) => cut.has(tag));
        return cutOff.length > 0
          ? fail(
              `${list(cutOff)} was cut off by the network, not killed; kill the other node (cluster.kill) so that the replica is really gone`,
            )
          : fail(
              `${list(alive)} was running when the save failed; kill the other node before saving`,
            );
      },
    },
    {
      id: "data-stayed",
      description: "the document of that failed save is on the node that took it",
      check: (record) => {
        const failure = lesson(record);
        if (!failure) return fail("no write assurance failure to look at");
        const ids = (failure.puts ?? []).map((p) => p.id);
        const held = idsOn(record, failure.tag, "Spade");
        const missing = ids.filter((id) => !held.includes(id));
        return missing.length === 0
          ? pass(`${failure.tag} holds ${list(ids)}: the write was not rolled back`)
          : fail(`${failure.tag} does not hold ${list(missing)}`);
      },
    },
    {
      id: "reached-everyone",
      description: "once every node is back, the document is on every member of Spade",
      check: (record) => {
        const failure = lesson(record);
        if (!failure) return fail("no write assurance failure to look at");
        const down = record.final.cluster.filter((s) => !s.alive).map((s) => s.tag);
        if (down.length > 0) return fail(`still down at the end: ${list(down)}`);
        const ids = (failure.puts ?? []).map((p) => p.id);
        const members = databaseOf(record, "Spade")?.members ?? [];
        const missing = members.filter(
          (tag) => !ids.every((id) => idsOn(record, tag, "Spade").includes(id)),
        );
        return missing.length === 0
          ? pass(`${list(ids)} on ${list(members)}`)
          : fail(`not yet on ${list(missing)}`);
      },
    },
  ],
  solution: {
    steps: [
      'await cluster.kill("A").',
      'Open a session, store { task: "Buy milk" } as tasks/1, call session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 1000 }).',
      "try { await session.saveChanges() } catch (error) { /* WriteAssuranceTimeout: reached 0 of 1 */ } — B has the task anyway.",
      'await cluster.restart("A") and waitFor tasks/1 on A.',
    ],
    async run(cluster, store) {
      await cluster.kill("A");
      const session = store.openSession();
      session.store({ task: "Buy milk", dueDate: "tomorrow" }, "tasks/1");
      session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 1_000 });
      try {
        await session.saveChanges();
      } catch (error) {
        // The write is committed on B; only the wait for a replica failed.
        if (!isRookeryError(error, "WriteAssuranceTimeout")) throw error;
      }
      await cluster.restart("A");
      await cluster.waitFor(
        (c) => c.describe().documents["A"]?.["Spade"]?.includes("tasks/1") ?? false,
        { timeoutMs: 10_000 },
      );
    },
  },
};
