/**
 * The chapter's claims that no other scenario test tells as a story, one test each, named
 * "claim N: …" after the numbered list on the teacher's page (book/src/claims.ts); the other
 * claims' tests live beside the stories they belong to (chapter.test.ts, replication.test.ts …).
 * Everything runs in virtual time.
 */
import { describe, expect, it } from "vitest";
import { reliableNetwork } from "../../engine/runtime/sim/index.ts";
import { caught, clusterWith, documentOn, storeFor } from "../client/helpers.ts";
import { Chapter, ok } from "./helpers.ts";

const revisionsOn = {
  default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
  collections: {},
};

/** Spade on A and B of a two-node cluster, with users/1 on both. */
async function spadeOnTwo(options: { revisions?: boolean; seed?: number } = {}): Promise<Chapter> {
  const book = Chapter.start(2, { seed: options.seed ?? 19 });
  ok(
    await book.ask(0, {
      type: "create-database",
      name: "Spade",
      ...(options.revisions ? { revisions: revisionsOn } : {}),
    }),
  );
  ok(await book.ask("A", { type: "add-node", url: "http://127.0.0.2:8080" }));
  ok(await book.ask("A", { type: "add-database-node", database: "Spade", tag: "B" }));
  await book.cluster.waitFor(() => book.topology("Spade").members.length === 2, {
    what: "Spade on A and B",
  });
  ok(await book.put("A", "Spade", { "users/1": { name: "Oren", edit: 0 } }));
  await book.cluster.waitFor(() => book.ids("B", "Spade").includes("users/1"), {
    what: "users/1 on B",
  });
  return book;
}

/** editThrice changes users/1 three times on A, in three transactions, before B can hear of any. */
async function editThrice(book: Chapter): Promise<number[]> {
  const seen: number[] = [];
  book.cluster.partition(["A"], ["B"]);
  for (const edit of [1, 2, 3])
    ok(await book.put("A", "Spade", { "users/1": { name: "Oren", edit } }));
  book.cluster.heal();
  await book.cluster.waitFor(
    () => {
      const edit = Number(book.body("B", "Spade", "users/1")?.edit);
      if (seen[seen.length - 1] !== edit) seen.push(edit);
      return edit === 3;
    },
    { what: "the last edit on B" },
  );
  return seen;
}

describe("Replication of data in a database group", () => {
  it("claim 19: edits made faster than replication reach a sibling as the latest version only, unless revisions are on", async () => {
    // Without revisions: B goes from the version it had straight to the third edit.
    const plain = await spadeOnTwo();
    expect(await editThrice(plain)).toEqual([0, 3]);
    expect(
      plain.cluster.server("B")!.hostedDatabase("Spade")!.instance.revisionsOf("users/1"),
    ).toEqual([]);

    // With revisions: the document still jumps to the last edit, but every intermediate version
    // arrived too, as revisions, so B can show the whole history.
    const audited = await spadeOnTwo({ revisions: true });
    expect(await editThrice(audited)).toEqual([0, 3]);
    const history = (tag: string) =>
      audited.cluster
        .server(tag)!
        .hostedDatabase("Spade")!
        .instance.revisionsOf("users/1")
        .map((revision) => revision.body?.edit);
    expect(history("B")).toEqual([0, 1, 2, 3]);
    expect(history("A")).toEqual([0, 1, 2, 3]);
  });
});

describe("Undefined order in a distributed environment", () => {
  it("claim 20: every node ends with the same revisions of a document, but not necessarily in the same order", async () => {
    const book = await spadeOnTwo({ revisions: true, seed: 20 });
    // Two clients on two sides of a partition each change users/1: neither saw the other's change.
    book.cluster.partition(["A"], ["B"]);
    ok(await book.put("A", "Spade", { "users/1": { name: "Oren", by: "a client of A" } }));
    await book.cluster.runFor(20);
    ok(await book.put("B", "Spade", { "users/1": { name: "Oren", by: "a client of B" } }));
    book.cluster.heal();
    const revisions = (tag: string) =>
      book.cluster.server(tag)!.hostedDatabase("Spade")!.instance.revisionsOf("users/1");
    const vectors = (tag: string) => revisions(tag).map((r) => r.changeVector);
    await book.cluster.waitFor(
      () => [...vectors("A")].sort().join("|") === [...vectors("B")].sort().join("|"),
      { what: "the same revisions on A and B" },
    );
    // The same revisions everywhere: the two concurrent changes and the version that settled them.
    const body = (tag: string) =>
      revisions(tag).map((r) => String(r.body?.["by"] ?? r.body?.["edit"]));
    expect(vectors("A")).toHaveLength(4);
    expect([...body("A")].sort()).toEqual([...body("B")].sort());
    // In a different order: each node stored its own client's change first and the other's when it
    // arrived, and nothing can say which of the two really came first.
    const aFirst = (tag: string) =>
      body(tag).indexOf("a client of A") < body(tag).indexOf("a client of B");
    expect(aFirst("A")).toBe(true);
    expect(aFirst("B")).toBe(false);
  });
});

describe("Write assurances for high value data", () => {
  it("claim 14: waiting for replicas slows a save by a round trip to the siblings, fails when none can answer, and the write stays", async () => {
    // Every message takes exactly 5 ms one way, so a round trip between two servers is 10 ms.
    const oneWayMs = 5;
    const cluster = await clusterWith({
      servers: 3,
      seed: 14,
      database: "Spade",
      nodes: ["A", "B", "C"],
      sim: { faults: { ...reliableNetwork, latencyMinMs: oneWayMs, latencyMaxMs: oneWayMs } },
    });
    await cluster.waitFor(
      (c) => ["A", "B", "C"].every((tag) => c.describe().documents[tag]?.["Spade"] !== undefined),
      { what: "Spade open on A, B and C" },
    );
    const { store } = storeFor(cluster, "Spade");
    const timedSave = async (id: string, replicas?: number): Promise<number> => {
      const session = store.openSession();
      session.store({ task: "Buy milk" }, id);
      if (replicas !== undefined)
        session.advanced.waitForReplicationAfterSaveChanges({ replicas, timeout: 1_000 });
      const started = cluster.nowMs();
      await session.saveChanges();
      return cluster.nowMs() - started;
    };
    await timedSave("tasks/0"); // the store learns the topology first
    const plainMs = await timedSave("tasks/1");
    const oneReplicaMs = await timedSave("tasks/2", 1);
    const twoReplicasMs = await timedSave("tasks/3", 2);
    const measured = `plain ${plainMs} ms, 1 replica ${oneReplicaMs} ms, 2 replicas ${twoReplicasMs} ms`;
    // A plain save is one client round trip (and a local disk write).
    expect(plainMs, measured).toBeGreaterThanOrEqual(2 * oneWayMs);
    // Waiting for one replica adds the trip to a sibling and its acknowledgement: a server round trip.
    expect(oneReplicaMs - plainMs, measured).toBeGreaterThanOrEqual(2 * oneWayMs);
    // Replication goes to every sibling at once, so a second replica costs the slower of the two
    // round trips, not a second one after the first.
    expect(twoReplicasMs - plainMs, measured).toBeLessThan(2 * (oneReplicaMs - plainMs));

    // With both siblings down the wait cannot succeed: an error, and the write stays on A.
    await cluster.kill("B");
    await cluster.kill("C");
    const session = store.openSession();
    session.store({ task: "Buy bread" }, "tasks/4");
    session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 500 });
    const error = await caught(() => session.saveChanges());
    expect(error.code).toBe("WriteAssuranceTimeout");
    expect(error.details).toMatchObject({ reached: 0, wanted: 1 });
    expect(documentOn(cluster, "A", "Spade", "tasks/4")).toEqual({ task: "Buy bread" });
  });
});
