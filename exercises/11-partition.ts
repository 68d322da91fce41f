/**
 * Exercise 11: predict which operations succeed on each side of a given partition ("An overview of
 * a RavenDB Cluster": the CAP sidebar — the cluster layer is CP, the database layer AP).
 */
import { DocumentStore } from "../engine/index.ts";
import type { ClusterHandle } from "../engine/index.ts";
import { fail, inSolution, list, pass } from "./history.ts";
import { everyPredicted, predictionsBefore, verdict } from "./predictions.ts";
import { createOn, joinAll } from "./setup.ts";
import type { ActionRecord, Check, Exercise, RequestRecord, RunRecord } from "./types.ts";

/** The partition the exercise asks for: the old leader's side, and the other three. */
const small = ["A", "B"];
const large = ["C", "D", "E"];
const predictionId = "predictions/partition";

/** The four operations to predict: where each is sent, and what it is. */
const operations = {
  createViaA: { type: "create-database", side: small, what: "create a database through A" },
  createViaC: { type: "create-database", side: large, what: "create a database through C" },
  writeOnA: { type: "batch", side: small, what: "write a document to Spade on A" },
  writeOnC: { type: "batch", side: large, what: "write a document to Spade on C" },
} as const;
type Operation = keyof typeof operations;
const names = Object.keys(operations) as Operation[];

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x));

/** isGiven: a partition action that cut exactly {A, B} from {C, D, E}. */
const isGiven = (action: ActionRecord): boolean => {
  const [left = [], right = []] = action.groups ?? [];
  return (
    action.kind === "partition" &&
    ((sameSet(left, small) && sameSet(right, large)) ||
      (sameSet(left, large) && sameSet(right, small)))
  );
};

/** cuts lists the spans of virtual time in which the given partition was in force. */
function cuts(record: RunRecord): { fromMs: number; toMs: number }[] {
  const spans: { fromMs: number; toMs: number }[] = [];
  let since: number | undefined;
  for (const action of inSolution(record.actions)) {
    if (isGiven(action) && since === undefined) since = action.atMs;
    if (action.kind === "heal" && since !== undefined) {
      spans.push({ fromMs: since, toMs: action.atMs });
      since = undefined;
    }
  }
  if (since !== undefined) spans.push({ fromMs: since, toMs: Infinity });
  return spans;
}

/** attempts lists an operation's requests sent to its side while the given partition held. */
function attempts(record: RunRecord, operation: Operation): RequestRecord[] {
  const { type, side } = operations[operation];
  const spans = cuts(record);
  return inSolution(record.requests).filter(
    (r) =>
      r.type === type &&
      (side as readonly string[]).includes(r.tag) &&
      spans.some((s) => r.atMs >= s.fromMs && r.doneAtMs <= s.toMs) &&
      (type !== "batch" || r.database?.toLowerCase() === "spade") &&
      !(r.puts ?? []).some((p) => p.id === predictionId),
  );
}

/** prediction reads the predictions document written before the partition. */
const prediction = (record: RunRecord) =>
  predictionsBefore(record, predictionId, cuts(record)[0]?.fromMs ?? Infinity);

function operationCheck(name: Operation): Check {
  const { what, side } = operations[name];
  return {
    id: `verify-${name}`,
    description: `during the partition you tried to ${what}, and your prediction was right`,
    check: (record) => {
      const tried = attempts(record, name);
      return tried.length === 0
        ? fail(
            `you never tried to ${what} (a server of ${list([...side])}) while {A, B} was cut off from {C, D, E}`,
          )
        : verdict(tried, prediction(record), name);
    },
  };
}

/** storeOn is a store that talks to one server only: a client on that side of the partition. */
function storeOn(cluster: ClusterHandle, tag: string): DocumentStore {
  const url = cluster.servers.find((s) => s.tag === tag)?.url ?? "";
  return new DocumentStore({ urls: [url], database: "Spade", network: cluster.network });
}

/** partition: predict what each side of {A, B} | {C, D, E} can still do, then check. */
export const partition: Exercise = {
  id: "partition",
  title: "Predict which operations succeed on each side of a partition",
  section: "An overview of a RavenDB Cluster",
  goal:
    "Five servers form one cluster (A to E) and A leads it; Spade lives on A, C and E. The network is about to split " +
    "into {A, B} and {C, D, E}. Before cutting it, write your prediction as the document " +
    `${predictionId} in Spade: { createViaA, createViaC, writeOnA, writeOnC }, each "ok" or "fail" — creating a ` +
    "database through A and through C, and writing a document to Spade on A and on C. Then make exactly that partition, " +
    "try all four (catch the errors), heal the network, and wait until the cluster has one leader again.",
  hints: [
    "A leader that cannot reach a majority cannot commit anything, even though it was elected fairly; it steps down.",
    "Can three of five servers elect a leader without A? Which side holds a majority of the cluster's five voters?",
    "Documents never need the cluster: each Spade instance takes writes on its own.",
    'cluster.partition(["A", "B"], ["C", "D", "E"]); a store built on one URL only, new DocumentStore({ urls: [urlOfA], database: "Spade", network: cluster.network }).initialize(), talks to that side.',
  ],
  start: {
    servers: 5,
    seed: 21,
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "C", "E"]);
    },
  },
  checks: [
    {
      id: "predicted",
      description: `a prediction for all four operations was written to ${predictionId} before the partition`,
      check: (record) =>
        everyPredicted(
          prediction(record),
          names,
          `no ${predictionId} document was written before the network was cut`,
        ),
    },
    {
      id: "given-partition",
      description: "the network was cut between {A, B} and {C, D, E}",
      check: (record) => {
        if (cuts(record).length > 0) return pass("{A, B} | {C, D, E}");
        const other = inSolution(record.actions).find((a) => a.kind === "partition");
        if (other)
          return fail(
            `you cut {${list([...(other.groups?.[0] ?? [])])}} from {${list([...(other.groups?.[1] ?? [])])}}; the partition to predict is {A, B} | {C, D, E}`,
          );
        return inSolution(record.actions).some((a) => a.kind === "kill" || a.kind === "isolate")
          ? fail("servers were killed or isolated, not partitioned; cut {A, B} from {C, D, E}")
          : fail("the network was never cut");
      },
    },
    ...names.map(operationCheck),
    {
      id: "healed",
      description: "at the end the network is whole and the cluster has one leader",
      check: (record) => {
        const spans = cuts(record);
        if (spans.length === 0) return fail("the partition never happened");
        if (spans.some((s) => s.toMs === Infinity)) return fail("the network was never healed");
        const leaders = new Set(record.final.cluster.map((s) => s.leader));
        return leaders.size === 1 && record.final.leader
          ? pass(`${record.final.leader} leads term ${record.final.term}`)
          : fail(`the servers follow ${list([...leaders].map((l) => l ?? "nobody"))}`);
      },
    },
  ],
  solution: {
    steps: [
      `Write ${predictionId} = { createViaA: "fail", createViaC: "ok", writeOnA: "ok", writeOnC: "ok" } through the store.`,
      'cluster.partition(["A", "B"], ["C", "D", "E"]).',
      'Through a store on A alone: try createDatabase({ name: "Rake" }) — A cannot reach a majority, so it fails with NoLeader; write users/1 to Spade — it succeeds.',
      'Through a store on C alone: createDatabase({ name: "Hoe" }) succeeds once C, D and E have elected a leader; write users/2 to Spade — it succeeds.',
      "cluster.heal(), then waitFor every server to follow one leader.",
    ],
    async run(cluster, store) {
      const predict = store.openSession();
      predict.store(
        { createViaA: "fail", createViaC: "ok", writeOnA: "ok", writeOnC: "ok" },
        predictionId,
      );
      await predict.saveChanges();
      cluster.partition(small, large);
      const onA = storeOn(cluster, "A").initialize();
      const onC = storeOn(cluster, "C").initialize();
      try {
        await onA.maintenance.createDatabase({ name: "Rake" });
      } catch {
        // Expected: A's side is two of five; no majority, no commit.
      }
      await onC.maintenance.createDatabase({ name: "Hoe" });
      for (const [side, id] of [
        [onA, "users/1"],
        [onC, "users/2"],
      ] as const) {
        const session = side.openSession();
        session.store({ writtenDuringThePartition: true }, id);
        await session.saveChanges();
      }
      cluster.heal();
      await cluster.waitFor(
        (c) => {
          const leaders = new Set(c.servers.map((s) => s.leader));
          return leaders.size === 1 && !leaders.has(null);
        },
        { timeoutMs: 10_000 },
      );
    },
  },
};
