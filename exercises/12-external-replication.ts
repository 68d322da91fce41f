/**
 * Exercise 12: replicate a database to another cluster and watch the task survive the loss of the
 * node running it ("Appropriate utilization of your cluster", the "Typical deployment in a
 * cluster" note: a copy kept by a second cluster, through external replication).
 */
import { DocumentStore } from "../engine/index.ts";
import { databaseOf, fail, inSolution, list, pass, requestsOf } from "./history.ts";
import { createOn, joinAll, put } from "./setup.ts";
import type { Check, Exercise, RunRecord } from "./types.ts";

/** The second cluster's servers: the destination of the task. */
const destinationUrls = ["http://127.0.1.1:8080", "http://127.0.1.2:8080"];
const destination = "Backup";
const firstIds = ["users/1", "users/2", "users/3"];
const afterId = "users/4";

/** TaskRun is a task as the solution's requests and the cluster's trace show it over time. */
interface Holder {
  readonly tag: string;
  readonly sinceMs: number;
}

/**
 * holders lists which node ran the task to Backup over the run: the node the cluster chose when
 * the task was added (the answer to updateExternalReplication), then each move the supervisor
 * made (moveExternalReplication commands, as applied).
 */
function holders(record: RunRecord): Holder[] {
  const added = requestsOf(record, "update-external-replication", "Spade").filter(
    (r) => r.ok && (r.result as { tag?: string } | undefined)?.tag !== undefined,
  );
  const first = added[0];
  if (!first) return [];
  const taskId = (first.result as { taskId: number }).taskId;
  const out: Holder[] = [{ tag: (first.result as { tag: string }).tag, sinceMs: first.doneAtMs }];
  const seen = new Set<string>();
  for (const trace of inSolution(record.traces)) {
    if (trace.type !== "cluster-command" || !trace.ok) continue;
    const move = /^moveExternalReplication Spade task=(\d+) \S+→(\S+):/.exec(trace.text);
    if (!move || Number(move[1]) !== taskId || seen.has(trace.text)) continue;
    seen.add(trace.text);
    out.push({ tag: move[2]!, sinceMs: trace.atMs });
  }
  return out;
}

/** runnerAt is the node that ran the task at `atMs`. */
function runnerAt(record: RunRecord, atMs: number): string | undefined {
  return holders(record)
    .filter((holder) => holder.sinceMs <= atMs)
    .pop()?.tag;
}

/** theKill is the solution's first kill of the node running the task, if any. */
function theKill(record: RunRecord): { tag: string; atMs: number } | undefined {
  for (const action of inSolution(record.actions)) {
    if (action.kind !== "kill" || action.target === undefined) continue;
    if (runnerAt(record, action.atMs) === action.target)
      return { tag: action.target, atMs: action.atMs };
  }
  return undefined;
}

const checks: Check[] = [
  {
    id: "task",
    description: `Spade has an external replication task to ${destination} on the second cluster`,
    check: (record) => {
      const tasks = databaseOf(record, "Spade")?.externalReplications ?? [];
      const task = tasks.find(
        (t) =>
          t.destinationDatabase.toLowerCase() === destination.toLowerCase() &&
          t.destinationUrls.some((url) => destinationUrls.includes(url)),
      );
      if (!task)
        return fail(
          `Spade has no external replication task to ${destination} at ${destinationUrls[0]}` +
            (tasks.length > 0
              ? ` (its tasks go to ${list(tasks.map((t) => t.destinationDatabase))})`
              : ""),
        );
      return pass(`'${task.name}' runs on ${task.responsibleNode ?? "no node"}`);
    },
  },
  {
    id: "killed-runner",
    description: "you killed the node that ran the task, while it ran it",
    check: (record) => {
      const kill = theKill(record);
      if (kill) return pass(`you killed ${kill.tag}, which ran the task`);
      const kills = inSolution(record.actions).filter((a) => a.kind === "kill");
      if (kills.length === 0) return fail("you killed no server");
      const first = kills[0]!;
      const runner = runnerAt(record, first.atMs);
      return fail(
        runner === undefined
          ? `you killed ${first.target ?? "?"} before there was a task to run`
          : `you killed ${list(kills.map((k) => k.target ?? "?"))}, but the task ran on ${runner}`,
      );
    },
  },
  {
    id: "moved",
    description: "the supervisor moved the task to another member of Spade's group",
    check: (record) => {
      const kill = theKill(record);
      if (!kill) return fail("first kill the node that runs the task");
      const after = holders(record).filter((h) => h.sinceMs > kill.atMs);
      const moved = after.find((h) => h.tag !== kill.tag);
      return moved
        ? pass(`the task moved from ${kill.tag} to ${moved.tag}`)
        : fail(`the task never left ${kill.tag} after you killed it; wait for the supervisor`);
    },
  },
  {
    id: "written-after",
    description: `${afterId} was written to Spade after the kill`,
    check: (record) => {
      const kill = theKill(record);
      const writes = requestsOf(record, "batch", "Spade").filter(
        (r) => r.ok && (r.puts ?? []).some((p) => p.id.toLowerCase() === afterId),
      );
      if (writes.length === 0) return fail(`${afterId} was never written to Spade`);
      if (!kill)
        return fail(`${afterId} was written, but the node running the task was never killed`);
      return writes.some((w) => w.atMs >= kill.atMs)
        ? pass(`written after ${kill.tag} went down`)
        : fail(`${afterId} was written before the kill; write it while the task has to move`);
    },
  },
  {
    id: "arrived",
    description: `${destination} holds ${list([...firstIds, afterId])} on both servers of the second cluster`,
    check: (record) => {
      const probes = record.probes.filter((p) => p.database === destination);
      if (probes.length === 0) return fail("the second cluster was not there to check");
      const missing = probes.flatMap((p) =>
        [...firstIds, afterId]
          .filter((id) => !p.reachable || p.documents[id] === null || p.documents[id] === undefined)
          .map((id) => `${id} on ${p.tag}`),
      );
      return missing.length === 0
        ? pass(`every document is on ${list(probes.map((p) => p.tag))} of the second cluster`)
        : fail(`${destination} lacks ${list(missing)}`);
    },
  },
  {
    id: "own-group",
    description: "Spade's group stayed A, B and C: the destination is not one of its nodes",
    check: (record) => {
      const spade = databaseOf(record, "Spade");
      const group = spade ? [...spade.members, ...spade.promotables, ...spade.rehabs] : [];
      const outside = group.filter((tag) => !["A", "B", "C"].includes(tag));
      return outside.length === 0 && group.length === 3
        ? pass(`Spade's group: ${list(group)}`)
        : fail(`Spade's group is ${list(group)}`);
    },
  },
];

/** externalReplication: replicate Spade to a second cluster, kill the task's node, see it go on. */
export const externalReplication: Exercise = {
  id: "external-replication",
  title: "Replicate to a second cluster, and keep going when the task's node dies",
  section: "Appropriate utilization of your cluster",
  goal:
    "Spade lives on A, B and C and holds users/1 to users/3. A second cluster, with its own servers at " +
    `${destinationUrls.join(" and ")} and its own tags, hosts an empty database ${destination}. Set up an external ` +
    `replication from Spade to ${destination}, find out which node of Spade's group runs the task, and kill that node. ` +
    `Then write ${afterId} to Spade and wait until ${destination} holds all four users on both servers of the second ` +
    "cluster: the supervisor hands the task to another member, which picks up where the destination says it is.",
  hints: [
    "store.maintenance.updateExternalReplication({ destination: { database, urls } }) adds the task; its answer names the responsibleNode.",
    "store.maintenance.getOngoingTaskInfo(taskId) reads the task again later, with its progress.",
    "The task moves once the supervisor has moved the dead node to rehab: a few seconds. The store fails over on its own.",
    `To read one server of the second cluster: cluster.network.request(${JSON.stringify(destinationUrls[0])}, { type: "get-documents", database: "${destination}", ids }).`,
  ],
  start: {
    servers: 3,
    seed: 12,
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "B", "C"]);
      await put(store, { "users/1": { name: "Oren" }, "users/2": { name: "Tal" } });
      await put(store, { "users/3": { name: "Ayende" } });
      if (!cluster.startSibling)
        throw new Error("this exercise needs a runtime that can start a second cluster");
      const second = await cluster.startSibling({ servers: 2 });
      const backup = new DocumentStore({
        urls: second.urls,
        network: cluster.network,
        address: "setup",
      }).initialize();
      await joinAll(second, backup);
      await createOn(second, backup, destination, ["A", "B"]);
    },
  },
  probe: { database: destination, ids: [...firstIds, afterId], on: "sibling" },
  checks,
  solution: {
    steps: [
      `Add the task: store.maintenance.updateExternalReplication({ destination: { database: "${destination}", urls: [${destinationUrls.map((u) => JSON.stringify(u)).join(", ")}] } }); note its responsibleNode.`,
      "Kill that node: await cluster.kill(responsibleNode).",
      "Wait until getOngoingTaskInfo(taskId) names another responsible node (the supervisor moves the task once the node is in rehab).",
      `Write ${afterId} to Spade through the store (it fails over by itself).`,
      `Wait until each server of the second cluster answers a get-documents request with all four users.`,
    ],
    async run(cluster, store) {
      const task = await store.maintenance.updateExternalReplication({
        destination: { database: destination, urls: destinationUrls },
      });
      const runner = task.responsibleNode!;
      await cluster.kill(runner);
      for (;;) {
        const info = await store.maintenance.getOngoingTaskInfo(task.taskId);
        if (info?.responsibleNode && info.responsibleNode !== runner) break;
        await cluster.runFor(250);
      }
      await put(store, { [afterId]: { name: "Tal", after: runner } });
      const wanted = [...firstIds, afterId];
      for (const url of destinationUrls) {
        for (;;) {
          // Ask each server of the second cluster itself (a store would read from its preferred node).
          const answer = await cluster.network.request(url, {
            type: "get-documents",
            database: destination,
            ids: wanted,
          });
          if (answer.ok && (answer.result as unknown[]).every((doc) => doc !== null)) break;
          await cluster.runFor(250);
        }
      }
    },
  },
};
