import { describe, expect, it } from "vitest";
import { clusterWith, caught, documentOn, storeFor } from "./helpers.ts";
import type { SimCluster } from "../../engine/runtime/sim/index.ts";

interface Account {
  amount: number;
}

const you = "accounts/1234-A";
const me = "accounts/4321-C";
const tax = "accounts/48879-B";

/** watch checks `invariant` on every server after every simulated event until `finished`. */
async function watch(
  cluster: SimCluster,
  work: Promise<unknown>,
  invariant: (tag: string) => void,
  settled: () => boolean,
): Promise<number> {
  let done = false;
  let checks = 0;
  void work.then(() => (done = true));
  await cluster.waitFor(
    () => {
      for (const server of cluster.servers) {
        if (server.alive) {
          invariant(server.tag);
          checks++;
        }
      }
      return done && settled();
    },
    { what: "the work to finish and every replica to settle", timeoutMs: 30_000 },
  );
  await work;
  return checks;
}

describe("a session's saveChanges is one transaction, on the server and on every replica", () => {
  it("the documents of one saveChanges appear together on every replica, never one without the others", async () => {
    const cluster = await clusterWith({
      servers: 3,
      seed: 41,
      database: "Spade",
      sim: { replicationLimits: { batchItemsMax: 1 } },
    });
    const { store } = storeFor(cluster, "Spade");
    const ids = ["orders/1", "orders/2", "orders/3", "orders/4"];
    const session = store.openSession();
    ids.forEach((id, i) => session.store({ line: i }, id));
    const checks = await watch(
      cluster,
      session.saveChanges(),
      (tag) => {
        const present = ids.filter(
          (id) => documentOn(cluster, tag, "Spade", id) !== undefined,
        ).length;
        expect(
          [0, ids.length],
          `node ${tag} shows ${present} of ${ids.length} documents`,
        ).toContain(present);
      },
      () => ["A", "B", "C"].every((tag) => documentOn(cluster, tag, "Spade", "orders/4")),
    );
    expect(checks).toBeGreaterThan(10);
  });

  it("a refused saveChanges writes none of its documents", async () => {
    const cluster = await clusterWith({ servers: 1, seed: 42, database: "Spade" });
    const { store } = storeFor(cluster, "Spade");
    const setup = store.openSession();
    setup.store({ amount: 100 }, you);
    await setup.saveChanges();
    const session = store.openSession();
    session.advanced.useOptimisticConcurrency = true;
    const account = (await session.load<Account>(you))!;
    const other = store.openSession();
    (await other.load<Account>(you))!.amount = 50;
    await other.saveChanges();
    account.amount += 10;
    session.store({ amount: 10 }, me);
    expect((await caught(() => session.saveChanges())).code).toBe("ConcurrencyViolation");
    expect(documentOn(cluster, "A", "Spade", me)).toBeUndefined();
    expect(documentOn(cluster, "A", "Spade", you)).toEqual({ amount: 50 });
  });

  /** bank runs Listings 6.3 and 6.4 through the client and returns every total any replica showed. */
  async function bank(revisions: boolean): Promise<Set<number>> {
    const cluster = await clusterWith({
      servers: 3,
      seed: 43,
      database: "Bank",
      sim: { replicationLimits: { batchItemsMax: 1 } },
    });
    const { store } = storeFor(cluster, "Bank");
    if (revisions) {
      await store.maintenance.setRevisions("Bank", {
        default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
        collections: {},
      });
    }
    const setup = store.openSession();
    setup.store({ amount: 100 }, you);
    setup.store({ amount: 100 }, me);
    setup.store({ amount: 0 }, tax);
    setup.advanced.waitForReplicationAfterSaveChanges({ replicas: 2 });
    await setup.saveChanges();
    // Slow links from A, so both transfers commit on A before B or C hears of the first.
    const [a, b, c] = cluster.urls as [string, string, string];
    for (const to of [b, c]) {
      cluster.net.setLinkLatency(a, to, 40);
      cluster.net.setLinkLatency(to, a, 40);
    }
    // A transaction in flight keeps A's senders busy while Listings 6.3 and 6.4 commit.
    const busy = store.openSession();
    busy.store({ amount: 0 }, "accounts/0-Z");
    await busy.saveChanges();

    const transfers = (async () => {
      // Listing 6.3: the classic bank transaction.
      {
        const session = store.openSession();
        const yours = await session.load<Account>(you);
        const mine = await session.load<Account>(me);
        yours!.amount += 10;
        mine!.amount -= 10;
        await session.saveChanges();
      }
      // Listing 6.4: you pay the taxman.
      {
        const session = store.openSession();
        const yours = await session.load<Account>(you);
        const taxman = await session.load<Account>(tax);
        yours!.amount -= 3;
        taxman!.amount += 3;
        await session.saveChanges();
      }
    })();
    const amount = (tag: string, id: string) =>
      (documentOn(cluster, tag, "Bank", id)?.["amount"] as number | undefined) ?? 0;
    const totals = new Set<number>();
    await watch(
      cluster,
      transfers,
      (tag) => {
        totals.add(amount(tag, you) + amount(tag, me) + amount(tag, tax));
      },
      () =>
        ["A", "B", "C"].every(
          (tag) => amount(tag, tax) === 3 && amount(tag, you) === 107 && amount(tag, me) === 90,
        ),
    );
    return totals;
  }

  it("Listings 6.3 and 6.4 with revisions on: no replica ever shows money in flight, even one transaction per batch", async () => {
    expect(await bank(true)).toEqual(new Set([200]));
  });

  it("Listings 6.3 and 6.4 without revisions show the chapter's caveat: a replica can see the transfer's debit before its credit", async () => {
    // accounts/1234-A changed again in Listing 6.4, so it travels with 6.4 and 6.3 arrives half.
    expect(await bank(false)).toContain(190);
  });
});
