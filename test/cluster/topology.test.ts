import { describe, expect, it } from "vitest";
import {
  clusterLimits,
  databaseRoleOn,
  databaseStatusOn,
  describeClusterTopology,
  describeTopology,
  emptyClusterState,
  findDatabase,
  replicationDestinations,
  replicationMesh,
  replicationSources,
} from "../../engine/cluster/index.ts";
import { chapterUrl, clusterOf } from "./harness.ts";

function spadeWithEveryRole() {
  const log = clusterOf(5);
  log.propose({ type: "createDatabase", name: "Spade", nodes: ["A", "B", "C"] });
  log.propose({ type: "addDatabaseNode", database: "Spade", tag: "D", mentor: "A" });
  log.accept({
    type: "moveToRehab",
    database: "Spade",
    tag: "C",
    reason: "no heartbeat for 3000 ms",
  });
  return log;
}

describe("database status and the replication mesh", () => {
  it("a database is Online on every node of its group, in any role, and Offline elsewhere", () => {
    const spade = spadeWithEveryRole().record("Spade");
    expect(
      ["A", "B", "C", "D", "E"].map((tag) => [
        databaseRoleOn(spade, tag),
        databaseStatusOn(spade, tag),
      ]),
    ).toEqual([
      ["member", "Online"],
      ["member", "Online"],
      ["rehab", "Online"],
      ["promotable", "Online"],
      [undefined, "Offline"],
    ]);
  });

  it("members and rehabs replicate to each other; a promotable only receives, from its mentor", () => {
    const spade = spadeWithEveryRole().record("Spade");
    expect(replicationDestinations(spade, "A")).toEqual(["B", "C", "D"]);
    expect(replicationDestinations(spade, "B")).toEqual(["A", "C"]);
    expect(replicationDestinations(spade, "C")).toEqual(["A", "B"]);
    expect(replicationDestinations(spade, "D")).toEqual([]);
    expect(replicationDestinations(spade, "E")).toEqual([]);
    expect(replicationSources(spade, "D")).toEqual(["A"]);
    expect(replicationSources(spade, "C")).toEqual(["A", "B"]);
    expect(replicationSources(spade, "E")).toEqual([]);
    expect(replicationMesh(spade)).toEqual([
      { from: "A", to: "B" },
      { from: "A", to: "C" },
      { from: "A", to: "D" },
      { from: "B", to: "A" },
      { from: "B", to: "C" },
      { from: "C", to: "A" },
      { from: "C", to: "B" },
    ]);
  });

  it("describeTopology shows members, preferred node, promotables with mentors, rehabs, factor and etag", () => {
    const log = spadeWithEveryRole();
    expect(describeTopology(log.record("Spade"))).toBe(
      `Spade: members [A, B] preferred A, promotables [D←A], rehabs [C], factor 4, etag ${log.index}`,
    );
    expect(describeClusterTopology(log.state)).toBe(
      "cluster rookery-test: members [A, B, C, D, E], last tag E",
    );
    expect(describeClusterTopology(emptyClusterState())).toBe("not bootstrapped (tag ?)");
  });
});

describe("how commands change a database group", () => {
  it("moving a mentor to rehab hands its promotables to another member", () => {
    const log = spadeWithEveryRole();
    log.accept({
      type: "moveToRehab",
      database: "Spade",
      tag: "A",
      reason: "no heartbeat for 3000 ms",
    });
    expect(log.record("Spade").mentors).toEqual({ D: "B" });
    expect(log.record("Spade").topology).toEqual({
      members: ["B"],
      promotables: ["D"],
      rehabs: ["C", "A"],
    });
  });

  it("removing a server takes it out of every group, lowers their factor and moves their etag", () => {
    const log = spadeWithEveryRole();
    log.propose({ type: "createDatabase", name: "Rake", nodes: ["E"] });
    const rakeEtag = log.record("Rake").topologyEtag;
    log.accept({ type: "removeNode", tag: "A" });
    const spade = log.record("Spade");
    expect(spade.topology).toEqual({ members: ["B"], promotables: ["D"], rehabs: ["C"] });
    expect(spade.mentors).toEqual({ D: "B" });
    expect(spade.replicationFactor).toBe(3);
    expect(spade.topologyEtag).toBe(log.index);
    expect(spade.recentChanges.at(-1)?.message).toBe(
      "A removed from the group: node A was removed from the cluster",
    );
    expect(log.record("Rake").topologyEtag).toBe(rakeEtag);
    expect(log.state.topology.etag).toBe(log.index);
  });

  it("removing a node from a group keeps the others in order and lowers the factor", () => {
    const log = spadeWithEveryRole();
    log.accept({
      type: "removeDatabaseNode",
      database: "Spade",
      tag: "D",
      reason: "no longer needed",
    });
    const spade = log.record("Spade");
    expect(spade.topology).toEqual({ members: ["A", "B"], promotables: [], rehabs: ["C"] });
    expect(spade.mentors).toEqual({});
    expect(spade.replicationFactor).toBe(3);
    expect(spade.recentChanges.at(-1)?.message).toBe("D removed from the group: no longer needed");
  });

  it("keeps only the most recent topology changes, and cuts over-long reasons", () => {
    const log = clusterOf(3);
    log.propose({ type: "createDatabase", name: "Spade", nodes: ["A", "B"] });
    for (let i = 0; i < 40; i++) {
      const preferred = log.record("Spade").topology.members[0]!;
      log.accept({
        type: "rotatePreferred",
        database: "Spade",
        tag: preferred,
        reason: `round ${i}`,
      });
    }
    const changes = log.record("Spade").recentChanges;
    expect(changes).toHaveLength(clusterLimits.topologyChangesMax);
    expect(changes.at(-1)).toMatchObject({
      kind: "rotated",
      reason: "round 39",
      raftIndex: log.index,
    });
    log.accept({ type: "rotatePreferred", database: "Spade", tag: "A", reason: "x".repeat(1000) });
    const reason = log.record("Spade").recentChanges.at(-1)!.reason;
    expect(reason).toHaveLength(clusterLimits.reasonLengthMax);
    expect(reason.endsWith("…")).toBe(true);
  });

  it("settings change the record but not the topology etag, so clients do not refetch the topology", () => {
    const log = clusterOf(2);
    log.propose({ type: "createDatabase", name: "Spade", replicationFactor: 2 });
    const etag = log.record("Spade").topologyEtag;
    const revisions = {
      default: { disabled: false, minimumRevisionsToKeep: 5, purgeOnDelete: false },
      collections: {
        Orders: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: true },
      },
    };
    log.accept({ type: "setRevisions", database: "spade", revisions });
    log.accept({ type: "setConflictResolution", database: "SPADE", resolution: "none" });
    const spade = log.record("Spade");
    expect(spade.revisions).toEqual(revisions);
    expect(spade.revisions).not.toBe(revisions);
    expect(spade.conflictResolution).toBe("none");
    expect(spade.topologyEtag).toBe(etag);
    log.accept({ type: "setRevisions", database: "Spade", revisions: null });
    expect(log.record("Spade").revisions).toBeNull();
  });

  it("a database can be created with its settings, and a deleted name can be used again in any case", () => {
    const log = clusterOf(1);
    log.propose({
      type: "createDatabase",
      name: "Spade",
      conflictResolution: "none",
      revisions: null,
    });
    expect(log.record("Spade").conflictResolution).toBe("none");
    log.accept({ type: "deleteDatabase", name: "SPADE" });
    expect(findDatabase(log.state, "Spade")).toBeUndefined();
    log.propose({ type: "createDatabase", name: "spade" });
    expect(findDatabase(log.state, "Spade")?.name).toBe("spade");
  });

  it("a database name that looks like an Object method is just a name", () => {
    const log = clusterOf(1);
    expect(findDatabase(log.state, "constructor")).toBeUndefined();
    expect(findDatabase(log.state, "__proto__")).toBeUndefined();
    log.propose({ type: "createDatabase", name: "constructor" });
    expect(findDatabase(log.state, "constructor")?.name).toBe("constructor");
    expect(log.refuse({ type: "deleteDatabase", name: "toString" }).code).toBe("DatabaseNotFound");
    log.propose({ type: "createDatabase", name: "__proto__" });
    expect(Object.keys(log.state.databases)).toEqual(["constructor", "__proto__"]);
    expect(JSON.parse(JSON.stringify(log.state))).toEqual(log.state);
    expect(structuredClone(log.state)).toEqual(log.state);
    log.accept({ type: "deleteDatabase", name: "__proto__" });
    expect(Object.keys(log.state.databases)).toEqual(["constructor"]);
  });

  it("a promotable or watcher server becomes a voting member with promoteNode", () => {
    const log = clusterOf(1);
    log.accept({ type: "addNode", url: chapterUrl(2), joinAs: "promotable" });
    log.accept({ type: "addNode", url: chapterUrl(3), joinAs: "watcher" });
    expect(log.state.topology).toMatchObject({
      members: { A: chapterUrl(1) },
      promotables: { B: chapterUrl(2) },
      watchers: { C: chapterUrl(3) },
    });
    log.accept({ type: "promoteNode", tag: "B" });
    log.accept({ type: "promoteNode", tag: "C" });
    expect(log.state.topology.members).toEqual({
      A: chapterUrl(1),
      B: chapterUrl(2),
      C: chapterUrl(3),
    });
    expect(log.state.topology.promotables).toEqual({});
    expect(log.state.topology.watchers).toEqual({});
  });

  it("the accepted result says what happened", () => {
    const log = clusterOf(1);
    expect(log.results[0]).toEqual({
      ok: true,
      raftIndex: 1,
      message: "http://127.0.0.1:8080 bootstrapped cluster rookery-test as A",
      tag: "A",
    });
    expect(log.accept({ type: "addNode", url: chapterUrl(2) }).message).toBe(
      "http://127.0.0.2:8080 joined the cluster as B (member)",
    );
    log.propose({ type: "createDatabase", name: "Spade" });
    expect(log.propose({ type: "addDatabaseNode", database: "Spade" }).message).toBe(
      "B added to 'Spade' as a promotable; mentor A",
    );
    expect(
      log.accept({ type: "promoteDatabaseNode", database: "Spade", tag: "B", reason: "caught up" })
        .message,
    ).toBe("'Spade': B promoted to member: caught up");
  });
});
