import { describe, expect, it } from "vitest";
import type { ClusterState } from "../../engine/cluster/index.ts";
import { ClusterNode } from "../../engine/server/cluster-node.ts";
import { DatabaseHosting, earlyConnectsMax } from "../../engine/server/database-hosting.ts";
import { persistenceWrites } from "../../engine/server/hosted-database.ts";
import type { ReplicationConnect } from "../../engine/replication/index.ts";
import { clusterStateOf, parts, twoVoterDisk, urlA, urlB } from "./parts.ts";
import type { DiskNow } from "./parts.ts";

/** Node A of a two-node cluster (A, B), with its hosting part. */
function hostingOnA(disk: DiskNow = twoVoterDisk()) {
  const p = parts({ storage: disk });
  const node = new ClusterNode(p.context, {
    applied: () => {},
    restored: () => {},
    roleChanged: () => {},
  });
  const hosting = new DatabaseHosting(p.context, node, {});
  hosting.recover(disk.load());
  node.recover(disk.load());
  return { ...p, node, hosting, disk };
}

const withDatabases = (...databases: { name: string; nodes: string[] }[]): ClusterState =>
  clusterStateOf([
    { type: "bootstrap", url: urlA, topologyId: "cluster1" },
    { type: "addNode", url: urlB },
    ...databases.map((db) => ({ type: "createDatabase" as const, ...db })),
  ]);

const connect = (database: string): ReplicationConnect => ({
  type: "replication-connect",
  database,
  from: "B",
  to: "A",
  sourceDatabaseId: `B-${database}`,
});

describe("database hosting", () => {
  it("hosts exactly the databases whose group includes this server, and closes one it left", () => {
    const { hosting } = hostingOnA();
    hosting.reconcile(
      withDatabases({ name: "Spade", nodes: ["A", "B"] }, { name: "Pitchfork", nodes: ["B"] }),
    );
    expect(hosting.names()).toEqual(["Spade"]);
    expect(hosting.get("spade")?.destinationTags()).toEqual(["B"]);
    hosting.reconcile(withDatabases({ name: "Pitchfork", nodes: ["B"] }));
    expect(hosting.names()).toEqual([]);
  });

  it("opening a database connects to its siblings at their URLs, and its id is kept on disk", () => {
    const { hosting, sent, storage } = hostingOnA();
    hosting.reconcile(withDatabases({ name: "Spade", nodes: ["A", "B"] }));
    expect(sent).toContainEqual({
      url: urlB,
      message: {
        type: "replication",
        message: expect.objectContaining({ type: "replication-connect", to: "B" }),
      },
    });
    const id = storage.stores.get("server")?.get("databaseId/spade");
    expect(id).toMatch(/^A[a-z0-9]{12}$/);
    expect(hosting.get("Spade")?.instance.databaseId).toBe(id);
  });

  it("answers a sibling's connect that came before the database opened here, once it opens", () => {
    const { hosting, sent } = hostingOnA();
    hosting.receive(connect("Spade"));
    expect(sent).toEqual([]);
    hosting.reconcile(withDatabases({ name: "Spade", nodes: ["A", "B"] }));
    expect(sent.map((s) => s.message)).toContainEqual({
      type: "replication",
      message: expect.objectContaining({ type: "replication-ack", to: "B", reason: "connect" }),
    });
  });

  it(`keeps at most ${earlyConnectsMax} early connects, forgetting the oldest`, () => {
    const { hosting, sent } = hostingOnA();
    for (let k = 0; k <= earlyConnectsMax; k++) hosting.receive(connect(`db${k}`));
    hosting.reconcile(
      withDatabases({ name: "db0", nodes: ["A", "B"] }, { name: "db1", nodes: ["A", "B"] }),
    );
    const acked = sent
      .map((s) => s.message)
      .filter((m) => m.type === "replication" && m.message.type === "replication-ack")
      .map((m) => (m.type === "replication" ? m.message.database : ""));
    expect(acked).toEqual(["db1"]);
  });

  it("ignores replication addressed to another tag", () => {
    const { hosting, sent } = hostingOnA();
    hosting.reconcile(withDatabases({ name: "Spade", nodes: ["A", "B"] }));
    const before = sent.length;
    hosting.receive({ ...connect("Spade"), to: "C" });
    expect(sent.length).toBe(before);
  });

  it("a restarted server reopens its databases with the documents it had made durable", () => {
    const first = hostingOnA();
    const state = withDatabases({ name: "Spade", nodes: ["A", "B"] });
    first.hosting.reconcile(state);
    const commit = first.hosting
      .get("Spade")!
      .instance.applyTransaction(
        { puts: [{ id: "users/1", body: { name: "Oren" } }] },
        { nowMs: 0 },
      );
    first.context.writes.persist(persistenceWrites(commit.persistence), () => {});
    const again = hostingOnA(first.disk);
    again.hosting.reconcile(state);
    expect(again.hosting.get("Spade")?.instance.get("users/1")?.body).toEqual({ name: "Oren" });
    expect(again.hosting.get("Spade")?.instance.databaseId).toBe(
      first.hosting.get("Spade")?.instance.databaseId,
    );
  });

  it("reports each hosted database's last etag and what each destination accepted", () => {
    const { hosting } = hostingOnA();
    hosting.reconcile(withDatabases({ name: "Spade", nodes: ["A", "B"] }));
    expect(hosting.report()).toEqual({ Spade: { lastEtag: 0, acceptedEtags: { B: 0 } } });
  });

  it("a server that leaves a database's group deletes every record it stored for it (items, cursors, ids), and opens it empty if it joins again", () => {
    const { hosting, storage, events, context } = hostingOnA();
    hosting.reconcile(
      withDatabases({ name: "Spade", nodes: ["A", "B"] }, { name: "Pitchfork", nodes: ["A"] }),
    );
    const spade = hosting.get("Spade")!;
    const commit = spade.instance.applyTransaction(
      { puts: [{ id: "users/1", body: { name: "Oren" } }] },
      { nowMs: 0 },
    );
    context.writes.persist(persistenceWrites(commit.persistence), () => {});
    context.writes.persist(
      [{ store: "replication-cursors", op: "put", key: "spade/B", value: { n: 1 } }],
      () => {},
    );
    const spadeKeys = () =>
      [...storage.stores].flatMap(([store, entries]) =>
        [...entries.keys()]
          .filter((key) => /^spade[|/]|\/spade$/.test(key))
          .map((key) => `${store} ${key}`),
      );
    expect(spadeKeys().length).toBeGreaterThan(2);

    // B stays, A leaves Spade's group (as removeDatabaseNode or removing A from the cluster does).
    hosting.reconcile(
      withDatabases({ name: "Spade", nodes: ["B"] }, { name: "Pitchfork", nodes: ["A"] }),
    );
    expect(hosting.names()).toEqual(["Pitchfork"]);
    expect(spadeKeys()).toEqual([]);
    expect(storage.stores.get("server")?.get("databaseId/pitchfork")).toBeDefined();
    expect(events.map((e) => e.type === "server" && e.text)).toContainEqual(
      expect.stringMatching(/^deleted the \d+ stored records of Spade: this node left its group$/),
    );

    hosting.reconcile(
      withDatabases({ name: "Spade", nodes: ["A", "B"] }, { name: "Pitchfork", nodes: ["A"] }),
    );
    expect(hosting.get("Spade")!.instance.list()).toEqual([]);
    expect(hosting.get("Spade")!.instance.databaseId).not.toBe(spade.instance.databaseId);
  });

  it("a database of the same name created while this server was away opens empty, and the earlier one's records are deleted", () => {
    const first = hostingOnA();
    first.hosting.reconcile(withDatabases({ name: "Spade", nodes: ["A", "B"] }));
    const commit = first.hosting
      .get("Spade")!
      .instance.applyTransaction({ puts: [{ id: "users/1", body: { v: 1 } }] }, { nowMs: 0 });
    first.context.writes.persist(persistenceWrites(commit.persistence), () => {});
    expect(first.disk.stores.get("server")?.get("databaseCreated/spade")).toBe(3);

    // Restarted, it learns (say from a snapshot) of a Spade created at a later index.
    const later = clusterStateOf([
      { type: "bootstrap", url: urlA, topologyId: "cluster1" },
      { type: "addNode", url: urlB },
      { type: "createDatabase", name: "Pitchfork", nodes: ["B"] },
      { type: "createDatabase", name: "Spade", nodes: ["A", "B"] },
    ]);
    const again = hostingOnA(first.disk);
    again.hosting.reconcile(later);
    expect(again.hosting.get("Spade")!.instance.list()).toEqual([]);
    expect(first.disk.stores.get("db-documents")?.has("spade|users/1")).toBe(false);
    expect(first.disk.stores.get("server")?.get("databaseCreated/spade")).toBe(4);
  });
});
