/**
 * Exercise 10: predict, then verify, which operations fail without a majority ("An overview of a
 * RavenDB Cluster": the cluster layer is CP, the database layer AP).
 */
import { downAt, fail, inSolution, list, mostDown, pass } from "./history.ts";
import { everyPredicted, predictionsBefore, verdict } from "./predictions.ts";
import { createOn, joinAll } from "./setup.ts";
import type { Check, Exercise, RequestRecord, RunRecord } from "./types.ts";

/** The operations to predict, and the request each one sends. */
const operations = {
  createDatabase: { type: "create-database", what: "create a new database" },
  addDatabaseNode: { type: "add-database-node", what: "add a node to Spade's group" },
  write: { type: "batch", what: "write a document to Spade" },
  read: { type: "get-documents", what: "read a document from Spade" },
} as const;
type Operation = keyof typeof operations;
const names = Object.keys(operations) as Operation[];
const predictionId = "predictions/majority";

/** attempts lists the requests of an operation made while three or more of the five servers were down (predictions excluded). */
function attempts(record: RunRecord, operation: Operation): RequestRecord[] {
  return inSolution(record.requests).filter(
    (r) =>
      r.type === operations[operation].type &&
      downAt(record, r.atMs).size >= 3 &&
      !(r.puts ?? []).some((p) => p.id === predictionId),
  );
}

function firstAttemptAt(record: RunRecord): number {
  return Math.min(...names.flatMap((name) => attempts(record, name).map((r) => r.atMs)), Infinity);
}

/** prediction reads the predictions document the solution wrote before its first attempt. */
const prediction = (record: RunRecord) =>
  predictionsBefore(record, predictionId, firstAttemptAt(record));

function operationCheck(name: Operation): Check {
  return {
    id: `verify-${name}`,
    description: `without a majority, you tried to ${operations[name].what}, and your prediction was right`,
    check: (record) => {
      const tried = attempts(record, name);
      return tried.length === 0
        ? fail(`you never tried to ${operations[name].what} while three servers were down`)
        : verdict(tried, prediction(record), name);
    },
  };
}

/** majority: kill three of five, and check your predictions of what still works. */
export const majority: Exercise = {
  id: "majority",
  title: "Predict, then verify, which operations fail without a majority",
  section: "An overview of a RavenDB Cluster",
  goal:
    "Five servers form one cluster (A to E); Spade lives on A, B and C. Before breaking anything, write your prediction " +
    `as the document ${predictionId} in Spade: { createDatabase, addDatabaseNode, write, read }, each "ok" or "fail". ` +
    "Then kill three servers so that the cluster has no majority, but keep one of Spade's nodes up. Try all four " +
    "operations (catch the errors), and finally restart the servers so the cluster has a leader again.",
  hints: [
    "A cluster of five needs three servers to agree; with three down, Rachis cannot elect a leader or commit a command.",
    "Which of the four are Raft commands (cluster-wide), and which go straight to one database instance?",
    "Kill A, B and D: Spade keeps C. The store fails over to C on its own.",
    'store.maintenance.createDatabase({ name: "Rake" }), store.maintenance.addDatabaseNode("Spade", "E"), a session\'s saveChanges and load.',
  ],
  start: {
    servers: 5,
    seed: 20,
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "B", "C"]);
    },
  },
  checks: [
    {
      id: "predicted",
      description: `a prediction for all four operations was written to ${predictionId} before trying them`,
      check: (record) =>
        everyPredicted(
          prediction(record),
          names,
          `no ${predictionId} document was written before the first attempt`,
        ),
    },
    {
      id: "no-majority",
      description: "three of the five servers were down at once",
      check: (record) => {
        const worst = mostDown(record);
        return worst.count >= 3
          ? pass(`${list(worst.tags)} down at ${Math.round(worst.atMs)} ms`)
          : fail(`at most ${worst.count} server(s) down at once`);
      },
    },
    ...names.map(operationCheck),
    {
      id: "majority-back",
      description: "at the end every server is back and the cluster has a leader",
      check: (record) => {
        if (mostDown(record).count < 3) return fail("the majority was never lost");
        const down = record.final.cluster.filter((s) => !s.alive).map((s) => s.tag);
        if (down.length > 0) return fail(`still down: ${list(down)}`);
        return record.final.leader
          ? pass(`${record.final.leader} leads term ${record.final.term}`)
          : fail("no leader yet; wait for an election");
      },
    },
  ],
  solution: {
    steps: [
      `Write ${predictionId} = { createDatabase: "fail", addDatabaseNode: "fail", write: "ok", read: "ok" } through the store.`,
      "Kill A, B and D.",
      'try createDatabase({ name: "Rake" }) and addDatabaseNode("Spade", "E"): both raise NoLeader.',
      "Write users/1 and load it back with sessions: the store fails over to C and both succeed.",
      "Restart A, B and D and waitFor a leader.",
    ],
    async run(cluster, store) {
      const predict = store.openSession();
      predict.store(
        { createDatabase: "fail", addDatabaseNode: "fail", write: "ok", read: "ok" },
        predictionId,
      );
      await predict.saveChanges();
      for (const tag of ["A", "B", "D"]) await cluster.kill(tag);
      for (const attempt of [
        () => store.maintenance.createDatabase({ name: "Rake" }),
        () => store.maintenance.addDatabaseNode("Spade", "E"),
      ]) {
        try {
          await attempt();
        } catch {
          // Expected: no majority, no leader, no cluster-wide operation.
        }
      }
      const write = store.openSession();
      write.store({ name: "Written without a majority" }, "users/1");
      await write.saveChanges();
      const read = store.openSession();
      await read.load("users/1");
      for (const tag of ["A", "B", "D"]) await cluster.restart(tag);
      await cluster.waitFor((c) => c.servers.some((s) => s.role === "leader"), {
        timeoutMs: 10_000,
      });
    },
  },
};
