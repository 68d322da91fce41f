/**
 * Exercise 6: reproduce the partial transaction of Listings 6.3/6.4, then prevent it with
 * revisions ("Transaction atomicity and replication").
 */
import type { ClusterHandle, DocumentStore } from "../engine/index.ts";
import { fail, inSolution, list, pass, requestsOf } from "./history.ts";
import { createOn, joinAll, put } from "./setup.ts";
import type { Exercise, RequestRecord, RunRecord } from "./types.ts";

const you = "accounts/1234-A";
const me = "accounts/4321-C";
const tax = "accounts/48879-B";
const accounts = [you, me, tax];

/** A read of all three accounts: its node, its time and the total it showed. */
interface AccountsRead {
  readonly tag: string;
  readonly atMs: number;
  readonly amounts: readonly number[];
  readonly total: number;
}

function accountReads(record: RunRecord): AccountsRead[] {
  return requestsOf(record, "get-documents", "Bank").flatMap((r) => {
    if (!r.ok || !accounts.every((id) => r.ids?.includes(id))) return [];
    const views = r.result as readonly ({
      readonly id: string;
      readonly body: { readonly amount?: unknown };
    } | null)[];
    const amounts = accounts.map((id) => views.find((v) => v?.id === id)?.body.amount);
    if (!amounts.every((a): a is number => typeof a === "number")) return [];
    return [
      { tag: r.tag, atMs: r.doneAtMs, amounts, total: amounts.reduce((sum, a) => sum + a, 0) },
    ];
  });
}

/** revisionsOnAt is when revisions were first turned on for Bank by the solution (undefined if never). */
function revisionsOnAt(record: RunRecord): number | undefined {
  return inSolution(record.traces).find(
    (t) => t.type === "cluster-command" && t.ok && /^setRevisions Bank keep/i.test(t.text),
  )?.atMs;
}

/** touches: the batch changed exactly these accounts (in one transaction). */
function touches(request: RequestRecord, ids: readonly string[]): boolean {
  const put = (request.puts ?? []).map((p) => p.id);
  return ids.every((id) => put.includes(id));
}

/** Listings is one round of the two transfers: Listing 6.3, then 6.4, each one transaction. */
interface Listings {
  readonly first?: RequestRecord;
  readonly second?: RequestRecord;
  /** When both had committed: reads from then on are reads "after both listings ran". */
  readonly doneAtMs?: number;
  /** The nodes that took them. */
  readonly writers: ReadonlySet<string>;
}

/** listingsBetween finds Listing 6.3 (you and me in one save) and a later 6.4 (you and the taxman) in [fromMs, toMs). */
function listingsBetween(record: RunRecord, fromMs: number, toMs: number): Listings {
  const batches = requestsOf(record, "batch", "Bank").filter(
    (r) => r.ok && r.atMs >= fromMs && r.atMs < toMs,
  );
  const first = batches.find((r) => touches(r, [you, me]));
  const second = first
    ? batches.find((r) => r.atMs >= first.doneAtMs && touches(r, [you, tax]))
    : undefined;
  const writers = new Set([first, second].flatMap((r) => (r ? [r.tag] : [])));
  return {
    ...(first ? { first } : {}),
    ...(second ? { second, doneAtMs: second.doneAtMs } : {}),
    writers,
  };
}

/** replicaReads are the reads of all three accounts after both listings ran, on a node that took neither, before `untilMs`. */
function replicaReads(record: RunRecord, listings: Listings, untilMs: number): AccountsRead[] {
  const from = listings.doneAtMs;
  if (from === undefined) return [];
  return accountReads(record).filter(
    (r) => r.atMs >= from && r.atMs < untilMs && !listings.writers.has(r.tag),
  );
}

/** missingListing says which listing a round lacks, in words a student can act on. */
function missingListing(listings: Listings, when: string): string | undefined {
  if (!listings.first)
    return `Listing 6.3 never ran as one transaction ${when}: no save changed ${you} and ${me} together`;
  if (!listings.second)
    return `Listing 6.4 never ran after Listing 6.3 ${when}: no save changed ${you} and ${tax} together`;
  return undefined;
}

/** readAccounts reads the three accounts straight from one server in one request (one instant), bypassing the store's choice of node. */
export async function readAccounts(cluster: ClusterHandle, tag: string): Promise<number[]> {
  const url = cluster.servers.find((s) => s.tag === tag)?.url ?? "";
  const response = await cluster.network.request(url, {
    type: "get-documents",
    database: "Bank",
    ids: accounts,
  });
  if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
  const views = response.result as readonly ({
    readonly body: { readonly amount: number };
  } | null)[];
  return views.map((view) => view?.body.amount ?? 0);
}

/** transfers plays Listing 6.3 ($10 from me to you) and Listing 6.4 (you pay $3 of tax), one session each. */
async function transfers(store: DocumentStore): Promise<void> {
  const first = store.openSession();
  const yours = await first.load<{ amount: number }>(you);
  const mine = await first.load<{ amount: number }>(me);
  yours!.amount += 10;
  mine!.amount -= 10;
  await first.saveChanges();
  const second = store.openSession();
  const yoursAgain = await second.load<{ amount: number }>(you);
  const taxman = await second.load<{ amount: number }>(tax);
  yoursAgain!.amount -= 3;
  taxman!.amount += 3;
  await second.saveChanges();
}

/**
 * watchB cuts A off from B, plays both transfers on A, heals, and keeps a read of B in flight
 * every quarter of a virtual millisecond until B has the tax: the half-applied state lasts about
 * one replication round trip, so reads one after another can step over it.
 */
async function watchB(
  cluster: ClusterHandle,
  store: DocumentStore,
  expectedTax: number,
): Promise<number[]> {
  cluster.partition(["A"], ["B"]);
  await transfers(store);
  cluster.heal();
  let caughtUp = false;
  const reads: Promise<number>[] = [];
  for (let i = 0; i < 2_000 && !caughtUp; i++) {
    reads.push(
      readAccounts(cluster, "B").then(([yours = 0, mine = 0, taxman = 0]) => {
        if (taxman === expectedTax) caughtUp = true;
        return yours + mine + taxman;
      }),
    );
    await cluster.runFor(0.25);
  }
  return Promise.all(reads);
}

/** partialTransaction: see money in flight on a replica without revisions, and never with them. */
export const partialTransaction: Exercise = {
  id: "partial-transaction",
  title: "Reproduce the partial transaction of Listings 6.3/6.4, then prevent it with revisions",
  section: "Transaction atomicity and replication",
  goal:
    'The database Bank lives on A and B and replicates one item per batch ("as small a unit as possible"). It holds ' +
    "accounts/1234-A (you, $100), accounts/4321-C (me, $100) and accounts/48879-B (the taxman, $0): $200 in all. Play " +
    "Listing 6.3 (I give you $10) and then Listing 6.4 (you pay $3 of tax) on A while B is cut off, heal, and read all " +
    "three accounts on B — the node that did not take the transfers — as it catches up, after both listings ran, until one " +
    "read shows a total that is not $200. Then turn revisions on for Bank, play both listings again the same way, and show " +
    "that every read on B now totals $200 while the balances change.",
  hints: [
    'cluster.partition(["A"], ["B"]) cuts the link between the servers; the store can still reach A. cluster.heal() mends it.',
    'Read B directly: cluster.network.request(bUrl, { type: "get-documents", database: "Bank", ids: [...] }) — one request reads all three accounts at one instant.',
    "B is half-way for only about one replication round trip. After healing, start a read of B every quarter millisecond without awaiting it (push the promise into an array, then `await cluster.runFor(0.25)`), until the tax has arrived; then await them all.",
    'store.maintenance.setRevisions("Bank", { default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false }, collections: {} }) — do it while the cluster is whole: it is a cluster-wide operation.',
  ],
  start: {
    servers: 2,
    seed: 16,
    database: "Bank",
    replicationLimits: { batchItemsMax: 1 },
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Bank", ["A", "B"]);
      await put(store, { [you]: { amount: 100 }, [me]: { amount: 100 }, [tax]: { amount: 0 } });
      await cluster.waitFor((c) => (c.describe().documents["B"]?.["Bank"]?.length ?? 0) === 3, {
        what: "the accounts on B",
        timeoutMs: 10_000,
      });
    },
  },
  limits: { virtualMs: 60_000 },
  checks: [
    {
      id: "partial-seen",
      description:
        "without revisions, after both listings ran, a read on the other node showed money in flight (a total other than $200)",
      check: (record) => {
        const on = revisionsOnAt(record) ?? Infinity;
        const listings = listingsBetween(record, record.solutionStartedAtMs, on);
        const missing = missingListing(listings, "before revisions were on");
        if (missing) return fail(missing);
        const reads = replicaReads(record, listings, on);
        const partial = reads.find((r) => r.total !== 200);
        if (partial)
          return pass(
            `${partial.tag} showed ${partial.amounts.map((a) => `$${a}`).join(" + ")} = $${partial.total}`,
          );
        const writers = list([...listings.writers]);
        if (reads.length > 0)
          return fail(
            `${reads.length} reads of all three accounts on ${list([...new Set(reads.map((r) => r.tag))])} after both listings, every one totalling $200; read the replica while it catches up`,
          );
        const onWriters = accountReads(record).filter(
          (r) => r.atMs >= (listings.doneAtMs ?? 0) && r.atMs < on && listings.writers.has(r.tag),
        );
        return onWriters.length > 0
          ? fail(
              `every read after both listings was on ${writers}, the node that took the transfers, where each transaction lands whole; read the other node`,
            )
          : fail(
              `no read of all three accounts (in one request) on a node other than ${writers} after both listings ran`,
            );
      },
    },
    {
      id: "revisions-on",
      description: "revisions were turned on for Bank",
      check: (record) => {
        const at = revisionsOnAt(record);
        return at !== undefined
          ? pass(`revisions on from ${Math.round(at)} ms`)
          : fail("revisions were never turned on for Bank");
      },
    },
    {
      id: "replayed",
      description: "with revisions on, both listings were played again",
      check: (record) => {
        const at = revisionsOnAt(record);
        if (at === undefined) return fail("revisions were never turned on");
        const listings = listingsBetween(record, at, Infinity);
        const missing = missingListing(listings, "after revisions were on");
        return missing
          ? fail(missing)
          : pass(`Listings 6.3 and 6.4 on ${list([...listings.writers])}`);
      },
    },
    {
      id: "atomic-with-revisions",
      description:
        "with revisions on, after both listings ran, every read on the other node totals $200 while its balances change",
      check: (record) => {
        const at = revisionsOnAt(record);
        if (at === undefined) return fail("revisions were never turned on");
        const listings = listingsBetween(record, at, Infinity);
        if (missingListing(listings, "")) return fail("both listings were not played again");
        const reads = replicaReads(record, listings, Infinity);
        const broken = reads.find((r) => r.total !== 200);
        if (broken)
          return fail(`${broken.tag} showed $${broken.total} at ${Math.round(broken.atMs)} ms`);
        const states = new Set(reads.map((r) => r.amounts.join("/")));
        return states.size >= 2
          ? pass(
              `${reads.length} reads on ${list([...new Set(reads.map((r) => r.tag))])}, ${states.size} different balances, always $200`,
            )
          : fail(
              `the other node was read ${reads.length} time(s) after both listings, showing ${states.size} state(s); read it while it catches up`,
            );
      },
    },
  ],
  solution: {
    steps: [
      'cluster.partition(["A"], ["B"]); play Listing 6.3 and Listing 6.4 through the store (they commit on A).',
      "cluster.heal(); then start a read of the three accounts on B (cluster.network.request) every quarter of a virtual millisecond until the tax has arrived: some read shows $190 — the $10 left my account but has not reached yours.",
      'store.maintenance.setRevisions("Bank", { default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false }, collections: {} }).',
      "Partition again, play both listings again, heal, and read B the same way: every read totals $200.",
    ],
    async run(cluster, store) {
      const before = await watchB(cluster, store, 3);
      if (!before.some((total) => total !== 200))
        throw new Error(`B always showed $200: ${before.join(", ")}`);
      await store.maintenance.setRevisions("Bank", {
        default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
        collections: {},
      });
      await cluster.runFor(100);
      const after = await watchB(cluster, store, 6);
      if (after.some((total) => total !== 200))
        throw new Error(`with revisions B showed ${after.join(", ")}`);
    },
  },
};
