/**
 * The chapter's claims that no other scenario test tells as a story, one test each, named
 * "claim N: …" after the numbered list on the teacher's page (book/src/claims.ts); the other
 * claims' tests live beside the stories they belong to (chapter.test.ts, replication.test.ts …).
 * Everything runs in virtual time.
 */
import { describe, expect, it } from "vitest";
import { reliableNetwork } from "../../engine/runtime/sim/index.ts";
import { caught, clusterWith, documentOn, servedBy, storeFor } from "../client/helpers.ts";
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

/** Five nodes, Spade on A, B and C (a group of three), users/1 on all of them. */
async function fiveWithSpadeOnThree(seed: number): Promise<Chapter> {
  const book = Chapter.start(5, { seed });
  ok(await book.ask(0, { type: "create-database", name: "Spade", nodes: ["A"] }));
  for (let n = 2; n <= 5; n++)
    ok(await book.ask("A", { type: "add-node", url: `http://127.0.0.${n}:8080` }));
  await book.cluster.waitFor(
    () =>
      book.cluster.servers.every(
        (s) => (book.cluster.server(s.url)?.raftStatus()?.membership.voters.length ?? 0) === 5,
      ),
    { what: "five voters" },
  );
  for (const tag of ["B", "C"])
    ok(await book.ask("A", { type: "add-database-node", database: "Spade", tag }));
  await book.cluster.waitFor(() => book.topology("Spade").members.length === 3, {
    what: "Spade on A, B and C",
  });
  ok(await book.put("A", "Spade", { "users/1": { name: "Oren" } }));
  await book.cluster.waitFor(
    () => ["A", "B", "C"].every((tag) => book.ids(tag, "Spade").includes("users/1")),
    { what: "users/1 everywhere" },
  );
  return book;
}

describe("An overview of a RavenDB Cluster", () => {
  it("claim 1: every instance of a group holds the whole database, and each one takes reads and writes for all of it", async () => {
    const book = await fiveWithSpadeOnThree(1);
    // A write on each instance, each on its own.
    for (const tag of ["A", "B", "C"])
      ok(await book.put(tag, "Spade", { [`written/${tag}`]: { on: tag } }));
    const all = ["users/1", "written/A", "written/B", "written/C"];
    await book.cluster.waitFor(
      () => ["A", "B", "C"].every((tag) => all.every((id) => book.ids(tag, "Spade").includes(id))),
      { what: "every document on every instance" },
    );
    // Any instance answers a read of any of them; a server outside the group has no copy.
    for (const tag of ["A", "B", "C"]) {
      const read = ok<({ id: string } | null)[]>(
        await book.ask(tag, { type: "get-documents", database: "Spade", ids: all }),
      );
      expect(read.map((doc) => doc?.id)).toEqual(all);
    }
    expect(book.ids("D", "Spade")).toEqual([]);
  });

  it("claim 2: creating a database is a Rachis command applied by every server; writing a document does not touch Rachis", async () => {
    const book = await fiveWithSpadeOnThree(2);
    await book.cluster.runFor(500);
    const applied = () =>
      book.cluster.servers.map((s) => book.cluster.server(s.url)!.clusterState!.lastAppliedIndex);
    const before = applied();
    expect(new Set(before).size).toBe(1);
    ok(await book.put("B", "Spade", { "users/2": { name: "Eini" } }));
    await book.cluster.runFor(500);
    expect(applied()).toEqual(before);
    ok(await book.ask("C", { type: "create-database", name: "Rake", replicationFactor: 2 }));
    await book.cluster.waitFor(() => new Set(applied()).size === 1 && applied()[0]! > before[0]!, {
      what: "every server to apply the new database",
    });
    for (const s of book.cluster.servers)
      expect(book.cluster.server(s.url)!.clusterState!.databases["rake"]).toBeDefined();
  });

  it("claim 3: without a majority the cluster layer decides nothing — cluster-wide operations fail with an error that names the majority", async () => {
    const book = await fiveWithSpadeOnThree(3);
    for (const tag of ["A", "B", "D"]) await book.cluster.kill(tag);
    await book.cluster.runFor(2_000);
    for (const request of [
      { type: "create-database", name: "Rake" } as const,
      { type: "add-database-node", database: "Spade", tag: "E" } as const,
    ]) {
      const refused = await book.ask("C", request);
      expect(refused.ok, request.type).toBe(false);
      if (refused.ok) continue;
      expect(refused.error.code).toBe("NoLeader");
      expect(refused.error.message).toContain("needs 3 of 5 nodes");
    }
    expect(book.topology("Spade").members).not.toContain("E");
  });

  it("claim 4: the database layer needs no majority — with three of five servers down, Spade's surviving instance takes reads and writes", async () => {
    const book = await fiveWithSpadeOnThree(4);
    for (const tag of ["A", "B", "D"]) await book.cluster.kill(tag);
    await book.cluster.runFor(2_000);
    expect(book.cluster.servers.filter((s) => s.alive && s.role === "leader")).toEqual([]);
    ok(await book.put("C", "Spade", { "users/3": { name: "Written without a majority" } }));
    const read = ok<{ body: { name: string } }[]>(
      await book.ask("C", {
        type: "get-documents",
        database: "Spade",
        ids: ["users/1", "users/3"],
      }),
    );
    expect(read.map((doc) => doc.body.name)).toEqual(["Oren", "Written without a majority"]);
    // When the others return, the write reaches them like any other.
    for (const tag of ["A", "B", "D"]) await book.cluster.restart(tag);
    await book.cluster.waitFor(
      () => ["A", "B"].every((tag) => book.ids(tag, "Spade").includes("users/3")),
      { what: "users/3 on A and B", timeoutMs: 20_000 },
    );
  });
});

describe("Client interaction with a database group", () => {
  it("claim 11: one reachable URL is enough for a client to learn where a database lives, even a server that does not host it", async () => {
    const cluster = await clusterWith({
      servers: 5,
      seed: 11,
      database: "Spade",
      nodes: ["A", "B"],
    });
    await cluster.kill("C");
    // The client lists C (down) and D (no Spade there): D still knows Spade's topology.
    const [, , c, d] = cluster.urls as [string, string, string, string];
    const { store, events } = storeFor(cluster, "Spade", { urls: [c, d] });
    const session = store.openSession();
    session.store({ name: "Oren" }, "users/1");
    await session.saveChanges();
    expect(store.requestExecutor.topologySource).toBe(d);
    expect(store.topology!.members).toEqual(["A", "B"]);
    expect(servedBy(events, "batch")).toEqual(["A"]);
  });

  it("claim 12: every client talks to the preferred node; when it dies they all fail over to the same next member, and the cluster moves the dead node to the end", async () => {
    const cluster = await clusterWith({
      servers: 3,
      seed: 12,
      database: "Spade",
      nodes: ["A", "B", "C"],
    });
    const clients = ["one", "two", "three"].map((address) =>
      storeFor(cluster, "Spade", { address }),
    );
    const writeAll = async (prefix: string) => {
      for (const [i, { store }] of clients.entries()) {
        const session = store.openSession();
        session.store({ by: i }, `${prefix}/${i}`);
        await session.saveChanges();
      }
    };
    await writeAll("before");
    expect(clients.map(({ events }) => servedBy(events, "batch"))).toEqual([["A"], ["A"], ["A"]]);
    // An alternate dying goes unnoticed: nobody was talking to it.
    await cluster.kill("C");
    await writeAll("alternate-down");
    expect(clients.map(({ events }) => servedBy(events, "batch").at(-1))).toEqual(["A", "A", "A"]);
    await cluster.restart("C");
    // The preferred node dying moves every client to the same next member, B.
    await cluster.kill("A");
    await writeAll("preferred-down");
    expect(clients.map(({ events }) => servedBy(events, "batch").at(-1))).toEqual(["B", "B", "B"]);
    await cluster.waitFor((c) => c.databaseRecord("Spade")!.topology.members[0] === "B", {
      what: "the supervisor's rotation",
    });
    expect(cluster.databaseRecord("Spade")!.topology.members).toEqual(["B", "C", "A"]);
  });

  it("claim 13: each client fails over from its own view of the network, and an error comes only when no instance can be reached", async () => {
    const cluster = await clusterWith({
      servers: 3,
      seed: 13,
      database: "Spade",
      nodes: ["A", "B", "C"],
    });
    const [a, b, c] = cluster.urls as [string, string, string];
    const near = storeFor(cluster, "Spade", { address: "near-a" });
    const far = storeFor(cluster, "Spade", { address: "far-from-a" });
    const write = async (client: typeof near, id: string) => {
      const session = client.store.openSession();
      session.store({ id }, id);
      await session.saveChanges();
    };
    await write(near, "users/1");
    await write(far, "users/2");
    // One client can no longer reach A; the other still can. Nobody told the cluster anything.
    cluster.net.partition(["far-from-a"], [a]);
    await write(near, "users/3");
    await write(far, "users/4");
    expect(servedBy(near.events, "batch")).toEqual(["A", "A"]);
    expect(servedBy(far.events, "batch")).toEqual(["A", "B"]);
    // Cut off from every instance, the client finally raises one error naming each node.
    cluster.net.partition(["far-from-a"], [b, c]);
    const session = far.store.openSession();
    session.store({ id: "users/5" }, "users/5");
    const error = await caught(() => session.saveChanges());
    expect(error.code).toBe("AllTopologyNodesDown");
    for (const url of [a, b, c]) expect(error.message).toContain(url);
    await write(near, "users/6");
  });

  it("claim 15: reads can be spread — round robin gives each session the next member, fastest node measures and keeps the quickest", async () => {
    const cluster = await clusterWith({
      servers: 3,
      seed: 15,
      database: "Pitchfork",
      nodes: ["C", "A", "B"],
    });
    const writer = storeFor(cluster, "Pitchfork").store.openSession();
    writer.store({ tines: 3 }, "tines/1");
    await writer.saveChanges();
    await cluster.waitFor(
      () => ["A", "B", "C"].every((tag) => documentOn(cluster, tag, "Pitchfork", "tines/1")),
      { what: "tines/1 everywhere" },
    );
    const spread = storeFor(cluster, "Pitchfork", { conventions: { readBalance: "roundRobin" } });
    const perSession: string[] = [];
    for (let i = 0; i < 6; i++) {
      const session = spread.store.openSession();
      await session.load("tines/1");
      perSession.push(session.advanced.lastServedBy!);
    }
    expect(new Set(perSession)).toEqual(new Set(["A", "B", "C"]));
    expect(perSession.slice(0, 3)).toEqual(perSession.slice(3));
    // B answers fastest (the others are slow for this client): after the race, reads go to B.
    const racer = storeFor(cluster, "Pitchfork", {
      address: "racer",
      conventions: { readBalance: "fastestNode" },
    });
    for (const [url, ms] of cluster.urls.map((url, i) => [url, i === 1 ? 2 : 20] as const)) {
      cluster.net.setLinkLatency("racer", url, ms);
      cluster.net.setLinkLatency(url, "racer", ms);
    }
    for (let i = 0; i < 40; i++) await racer.store.openSession().load("tines/1");
    expect(racer.store.requestExecutor.fastestNode?.tag).toBe("B");
  });
});

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
    // Waiting for one replica adds the trip to a sibling and its acknowledgement: a server round
    // trip on top of the client's (the disk writes on both sides overlap with the messages).
    expect(oneReplicaMs, measured).toBeGreaterThanOrEqual(2 * oneWayMs + 2 * oneWayMs);
    expect(oneReplicaMs - plainMs, measured).toBeGreaterThan(1.5 * oneWayMs);
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

describe("Transaction atomicity and replication", () => {
  it("claim 21: a transaction replicates as one indivisible batch, even when batches are as small as they can be", async () => {
    const book = Chapter.start(2, { seed: 21, replicationLimits: { batchItemsMax: 1 } });
    ok(await book.ask(0, { type: "create-database", name: "Bank" }));
    ok(await book.ask("A", { type: "add-node", url: "http://127.0.0.2:8080" }));
    ok(await book.ask("A", { type: "add-database-node", database: "Bank", tag: "B" }));
    await book.cluster.waitFor(() => book.topology("Bank").members.length === 2, {
      what: "Bank on A and B",
    });
    book.cluster.partition(["A"], ["B"]);
    ok(await book.put("A", "Bank", { "before/1": { n: 1 } }));
    ok(
      await book.put("A", "Bank", {
        "accounts/1": { amount: 10 },
        "accounts/2": { amount: 20 },
        "accounts/3": { amount: 30 },
      }),
    );
    ok(await book.put("A", "Bank", { "after/1": { n: 1 } }));
    book.cluster.heal();
    const partOfIt = new Set<number>();
    await book.cluster.waitFor(
      () => {
        const ids = book.ids("B", "Bank");
        partOfIt.add(ids.filter((id) => id.startsWith("accounts/")).length);
        return ids.includes("after/1");
      },
      { what: "everything on B" },
    );
    // One item per batch is the limit, yet B never held one or two of the three accounts.
    expect([...partOfIt].sort()).toEqual([0, 3]);
  });
});
