import { describe, expect, it } from "vitest";
import {
  clusterLimits,
  emptyClusterState,
  prepareClusterCommand,
  toRookeryError,
  validateClusterCommand,
} from "../../engine/cluster/index.ts";
import type { ClusterState } from "../../engine/cluster/index.ts";
import { isRookeryError } from "../../engine/core/index.ts";
import { ClusterLog, chapterUrl, clusterOf } from "./harness.ts";

/** refusedWithoutChange applies a bad command and checks the state object did not change at all. */
function refusedWithoutChange(log: ClusterLog, command: unknown) {
  const before = log.state;
  const json = JSON.stringify(before);
  const error = log.refuse(command);
  expect(log.state).toBe(before);
  expect(JSON.stringify(log.state)).toBe(json);
  return error;
}

function spadeOnAB(): ClusterLog {
  const log = clusterOf(3);
  log.propose({ type: "createDatabase", name: "Spade", nodes: ["A", "B"] });
  return log;
}

describe("a refused command changes nothing and says what to do", () => {
  it("a malformed log entry is refused as InvalidCommand, whatever its shape", () => {
    const log = clusterOf(1);
    for (const bad of [
      null,
      42,
      "addNode",
      [],
      {},
      { type: "launchMissiles" },
      { type: "addNode", url: 7 },
    ]) {
      expect(refusedWithoutChange(log, bad).code).toBe("InvalidCommand");
    }
    expect(
      refusedWithoutChange(log, { type: "createDatabase", name: "X", nodes: "A" }).message,
    ).toContain("field `nodes` of createDatabase");
  });

  it("nothing but bootstrap applies on a fresh server", () => {
    const log = new ClusterLog();
    const error = refusedWithoutChange(log, { type: "createDatabase", name: "Spade" });
    expect(error.code).toBe("NotBootstrapped");
    expect(error.message).toContain("Bootstrap it first");
  });

  it("a server bootstraps only once", () => {
    const log = clusterOf(1);
    const error = refusedWithoutChange(log, {
      type: "bootstrap",
      url: chapterUrl(1),
      topologyId: "other",
    });
    expect(error.code).toBe("AlreadyBootstrapped");
  });

  it("bootstrap needs a topology id and a server URL", () => {
    const log = new ClusterLog();
    expect(
      refusedWithoutChange(log, { type: "bootstrap", url: chapterUrl(1), topologyId: " " }).code,
    ).toBe("InvalidCommand");
    expect(
      refusedWithoutChange(log, { type: "bootstrap", url: "127.0.0.1", topologyId: "t" }).code,
    ).toBe("InvalidUrl");
  });

  it("adding a URL that is already in the cluster names the node that has it", () => {
    const log = clusterOf(2);
    const error = refusedWithoutChange(log, { type: "addNode", url: "HTTP://127.0.0.2:8080/" });
    expect(error.code).toBe("NodeAlreadyInCluster");
    expect(error.message).toBe(
      "Cannot add node 'http://127.0.0.2:8080': it is already in the cluster as node B. " +
        "Remove node B first if you want to add the server again.",
    );
  });

  it("adding a bad URL, or mixing http and https, is refused", () => {
    const log = clusterOf(1);
    expect(refusedWithoutChange(log, { type: "addNode", url: "ftp://127.0.0.2" }).code).toBe(
      "InvalidUrl",
    );
    expect(
      refusedWithoutChange(log, { type: "addNode", url: "http://127.0.0.2:8080/studio" }).code,
    ).toBe("InvalidUrl");
    expect(
      refusedWithoutChange(log, { type: "addNode", url: "http://127.0.0.2:70000" }).message,
    ).toContain("outside 1..65535");
    expect(refusedWithoutChange(log, { type: "addNode", url: "x".repeat(3000) }).code).toBe(
      "InvalidUrl",
    );
    const mixed = refusedWithoutChange(log, { type: "addNode", url: "https://127.0.0.2:443" });
    expect(mixed.message).toContain("only HTTPS or only HTTP");
  });

  it("a requested tag must be a valid, unused tag", () => {
    const log = clusterOf(2);
    expect(refusedWithoutChange(log, { type: "addNode", url: chapterUrl(3), tag: "AA" }).code).toBe(
      "InvalidNodeTag",
    );
    expect(refusedWithoutChange(log, { type: "addNode", url: chapterUrl(3), tag: "?" }).code).toBe(
      "InvalidNodeTag",
    );
    const inUse = refusedWithoutChange(log, { type: "addNode", url: chapterUrl(3), tag: "B" });
    expect(inUse.code).toBe("NodeTagInUse");
    expect(inUse.message).toContain("tag B belongs to http://127.0.0.2:8080");
  });

  it("promoting or removing an unknown server lists the servers there are", () => {
    const log = clusterOf(3);
    const error = refusedWithoutChange(log, { type: "removeNode", tag: "Q" });
    expect(error).toMatchObject({
      code: "UnknownNode",
      message: "Cannot remove node Q: there is no such node in the cluster (nodes: A, B, C).",
    });
    expect(refusedWithoutChange(log, { type: "promoteNode", tag: "Q" }).code).toBe("UnknownNode");
    expect(refusedWithoutChange(log, { type: "promoteNode", tag: "B" }).code).toBe("WrongRole");
  });

  it("the last node, or the last voter, cannot be removed", () => {
    const single = clusterOf(1);
    expect(refusedWithoutChange(single, { type: "removeNode", tag: "A" }).message).toBe(
      "Cannot remove node A: it is the only node of the cluster.",
    );
    single.accept({ type: "addNode", url: chapterUrl(2), joinAs: "watcher" });
    expect(refusedWithoutChange(single, { type: "removeNode", tag: "A" }).message).toContain(
      "only voting member",
    );
  });

  it("a server that is the only member of a database cannot be removed", () => {
    const log = clusterOf(3);
    log.propose({ type: "createDatabase", name: "Spade", nodes: ["C"] });
    expect(refusedWithoutChange(log, { type: "removeNode", tag: "C" }).message).toBe(
      "Cannot remove node C: it is the only node hosting 'Spade'. Add another node to 'Spade' or delete the database first.",
    );
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "A" });
    const error = refusedWithoutChange(log, { type: "removeNode", tag: "C" });
    expect(error.code).toBe("LastMember");
    expect(error.message).toContain("Promote another node of 'Spade' (A) first.");
  });

  it("invalid database names are refused with the reason", () => {
    const log = clusterOf(1);
    const cases: [string, string][] = [
      ["", "cannot be empty"],
      ["my db!", "contains ' ', '!'"],
      [".hidden", "surrounded by other characters"],
      ["a..b", "surrounded by other characters"],
      ["trailing.", "surrounded by other characters"],
      ["CON", "reserved device name"],
      ["x".repeat(clusterLimits.databaseNameLengthMax + 1), "at most 128 are allowed"],
      ["Café", "'é'"],
    ];
    for (const [name, expected] of cases) {
      const error = refusedWithoutChange(log, { type: "createDatabase", name });
      expect(error.code).toBe("InvalidDatabaseName");
      expect(error.message).toContain(expected);
    }
    expect(log.accept({ type: "createDatabase", name: "Garden_Shed-2.0" }).nodes).toEqual(["A"]);
  });

  it("database names are unique regardless of case", () => {
    const log = clusterOf(1);
    log.propose({ type: "createDatabase", name: "Spade" });
    const error = refusedWithoutChange(log, { type: "createDatabase", name: "spade" });
    expect(error.code).toBe("DatabaseExists");
    expect(error.message).toBe(
      "Cannot create database 'spade': a database named 'Spade' already exists (database names are " +
        "case-insensitive). Pick another name or delete 'Spade' first.",
    );
  });

  it("a replication factor above the cluster size says how many nodes there are", () => {
    const log = clusterOf(3);
    const error = refusedWithoutChange(log, {
      type: "createDatabase",
      name: "Pitchfork",
      replicationFactor: 4,
    });
    expect(error.code).toBe("NotEnoughNodes");
    expect(error.message).toBe(
      "Cannot create database 'Pitchfork' with replication factor 4: the cluster has 3 nodes (A, B, C). " +
        "Add nodes or lower the factor.",
    );
  });

  it("servers still joining the cluster do not count for placement", () => {
    const log = clusterOf(2);
    log.accept({ type: "addNode", url: chapterUrl(3), joinAs: "promotable" });
    const error = refusedWithoutChange(log, {
      type: "createDatabase",
      name: "Pitchfork",
      replicationFactor: 3,
    });
    expect(error.message).toContain(
      "the cluster has 2 nodes that can host databases (A, B; the others are still joining)",
    );
    log.accept({ type: "promoteNode", tag: "C" });
    expect(
      log.propose({ type: "createDatabase", name: "Pitchfork", replicationFactor: 3 }).nodes,
    ).toEqual(["A", "B", "C"]);
  });

  it("a replication factor of 0, a negative or a fractional factor is refused", () => {
    const log = clusterOf(3);
    for (const factor of [0, -1, 1.5, Number.NaN]) {
      const error = refusedWithoutChange(log, {
        type: "createDatabase",
        name: "Pitchfork",
        replicationFactor: factor,
      });
      expect(error.code).toBe("InvalidReplicationFactor");
      expect(error.message).toContain("Use a factor from 1 to 3");
    }
  });

  it("explicit nodes must exist, be listed once, and agree with the factor", () => {
    const log = clusterOf(3);
    expect(
      refusedWithoutChange(log, { type: "createDatabase", name: "P", nodes: ["A", "Q"] }).message,
    ).toBe("Cannot create database 'P' on nodes [A, Q]: Q is not in the cluster (nodes: A, B, C).");
    expect(
      refusedWithoutChange(log, { type: "createDatabase", name: "P", nodes: ["A", "A"] }).message,
    ).toContain("A is listed more than once");
    expect(refusedWithoutChange(log, { type: "createDatabase", name: "P", nodes: [] }).code).toBe(
      "InvalidReplicationFactor",
    );
    const mismatch = refusedWithoutChange(log, {
      type: "createDatabase",
      name: "P",
      nodes: ["A", "B"],
      replicationFactor: 3,
    });
    expect(mismatch.message).toContain("Leave the factor out or list 3 nodes");
    expect(
      log.accept({ type: "createDatabase", name: "P", nodes: ["B", "A"], replicationFactor: 2 })
        .nodes,
    ).toEqual(["B", "A"]);
  });

  it("revisions settings with impossible values are refused", () => {
    const log = clusterOf(1);
    const bad = {
      default: { disabled: false, minimumRevisionsToKeep: -1, purgeOnDelete: false },
      collections: {},
    };
    expect(
      refusedWithoutChange(log, { type: "createDatabase", name: "P", revisions: bad }).code,
    ).toBe("InvalidSetting");
    log.propose({ type: "createDatabase", name: "P" });
    const byCollection = {
      default: null,
      collections: {
        Users: { disabled: false, minimumRevisionsToKeep: 2.5, purgeOnDelete: false },
      },
    };
    const error = refusedWithoutChange(log, {
      type: "setRevisions",
      database: "P",
      revisions: byCollection,
    });
    expect(error.message).toContain(
      "collection 'Users': minimumRevisionsToKeep must be a whole number",
    );
    const blank = {
      default: null,
      collections: { " ": { disabled: true, minimumRevisionsToKeep: null, purgeOnDelete: false } },
    };
    expect(
      refusedWithoutChange(log, { type: "setRevisions", database: "P", revisions: blank }).code,
    ).toBe("InvalidSetting");
  });

  it("commands about a database that does not exist list the databases there are", () => {
    const log = spadeOnAB();
    const commands = [
      { type: "deleteDatabase", name: "Shovel" },
      { type: "addDatabaseNode", database: "Shovel" },
      { type: "promoteDatabaseNode", database: "Shovel", tag: "C", reason: "r" },
      { type: "moveToRehab", database: "Shovel", tag: "A", reason: "r" },
      { type: "rotatePreferred", database: "Shovel", tag: "A", reason: "r" },
      { type: "removeDatabaseNode", database: "Shovel", tag: "A", reason: "r" },
      { type: "setRevisions", database: "Shovel", revisions: null },
      { type: "setConflictResolution", database: "Shovel", resolution: "none" },
    ];
    for (const command of commands) {
      const error = refusedWithoutChange(log, command);
      expect(error.code).toBe("DatabaseNotFound");
      expect(error.message).toContain("there is no such database (databases: Spade).");
    }
  });

  it("adding a node that is already in the group, or unknown, or when the group is everywhere", () => {
    const log = spadeOnAB();
    expect(
      refusedWithoutChange(log, { type: "addDatabaseNode", database: "Spade", tag: "B" }).message,
    ).toBe("Cannot add node B to 'Spade': it is already part of it (as member).");
    expect(
      refusedWithoutChange(log, { type: "addDatabaseNode", database: "Spade", tag: "Q" }).code,
    ).toBe("UnknownNode");
    expect(
      refusedWithoutChange(log, {
        type: "addDatabaseNode",
        database: "Spade",
        tag: "C",
        mentor: "C",
      }).code,
    ).toBe("InvalidMentor");
    log.propose({ type: "addDatabaseNode", database: "Spade" });
    const everywhere = refusedWithoutChange(log, { type: "addDatabaseNode", database: "Spade" });
    expect(everywhere.code).toBe("DatabaseOnAllNodes");
    expect(everywhere.message).toContain("Add a node to the cluster first.");
  });

  it("promoting a member, or a node outside the group, is refused", () => {
    const log = spadeOnAB();
    expect(
      refusedWithoutChange(log, {
        type: "promoteDatabaseNode",
        database: "Spade",
        tag: "A",
        reason: "r",
      }).code,
    ).toBe("WrongRole");
    const outside = refusedWithoutChange(log, {
      type: "promoteDatabaseNode",
      database: "Spade",
      tag: "C",
      reason: "r",
    });
    expect(outside.code).toBe("NodeNotInGroup");
    expect(outside.message).toBe("Cannot promote C in 'Spade': C does not host it (nodes: A, B).");
  });

  it("a members order for a promotion must list the members and the promoted node once each", () => {
    const log = spadeOnAB();
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "C" });
    const base = {
      type: "promoteDatabaseNode",
      database: "Spade",
      tag: "C",
      reason: "caught up",
    } as const;
    expect(refusedWithoutChange(log, { ...base, membersOrder: ["A", "B"] }).code).toBe(
      "InvalidCommand",
    );
    expect(refusedWithoutChange(log, { ...base, membersOrder: ["A", "B", "B"] }).code).toBe(
      "InvalidCommand",
    );
    log.accept({ ...base, membersOrder: ["C", "A", "B"] });
    expect(log.record("Spade").topology.members).toEqual(["C", "A", "B"]);
  });

  it("the last member is never moved to rehab, rotated or removed", () => {
    const log = clusterOf(2);
    log.propose({ type: "createDatabase", name: "Spade" });
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "B" });
    const rehab = refusedWithoutChange(log, {
      type: "moveToRehab",
      database: "Spade",
      tag: "A",
      reason: "r",
    });
    expect(rehab.code).toBe("LastMember");
    expect(rehab.message).toBe(
      "Cannot move A of 'Spade' to rehab: A is the only member of 'Spade', and a database group needs at least one member to serve clients.",
    );
    expect(
      refusedWithoutChange(log, {
        type: "rotatePreferred",
        database: "Spade",
        tag: "A",
        reason: "r",
      }).code,
    ).toBe("LastMember");
    expect(
      refusedWithoutChange(log, {
        type: "removeDatabaseNode",
        database: "Spade",
        tag: "A",
        reason: "r",
      }).message,
    ).toContain("Promote another node (B) first.");
    log.accept({ type: "removeDatabaseNode", database: "Spade", tag: "B", reason: "not needed" });
    expect(
      refusedWithoutChange(log, {
        type: "removeDatabaseNode",
        database: "Spade",
        tag: "A",
        reason: "r",
      }).message,
    ).toContain("Delete the database instead.");
  });

  it("only members move to rehab, and only nodes of the group", () => {
    const log = spadeOnAB();
    log.propose({ type: "addDatabaseNode", database: "Spade", tag: "C" });
    expect(
      refusedWithoutChange(log, { type: "moveToRehab", database: "Spade", tag: "C", reason: "r" })
        .message,
    ).toBe(
      "Cannot move C of 'Spade' to rehab: it is a promotable, and only members move to rehab.",
    );
    log.accept({ type: "removeDatabaseNode", database: "Spade", tag: "C", reason: "r" });
    expect(
      refusedWithoutChange(log, { type: "moveToRehab", database: "Spade", tag: "C", reason: "r" })
        .code,
    ).toBe("NodeNotInGroup");
    expect(
      refusedWithoutChange(log, {
        type: "removeDatabaseNode",
        database: "Spade",
        tag: "C",
        reason: "r",
      }).code,
    ).toBe("NodeNotInGroup");
  });

  it("a rotation proposed for a preferred node that already changed is refused as stale", () => {
    const log = spadeOnAB();
    log.accept({
      type: "rotatePreferred",
      database: "Spade",
      tag: "A",
      reason: "no heartbeat for 1200 ms",
    });
    const error = refusedWithoutChange(log, {
      type: "rotatePreferred",
      database: "Spade",
      tag: "A",
      reason: "again",
    });
    expect(error.code).toBe("StaleTopology");
    expect(error.message).toContain("expected A to be preferred, but B is");
  });
});

describe("the leader's early checks", () => {
  it("validateClusterCommand gives the same answer apply would, without applying", () => {
    const log = clusterOf(3);
    const state: ClusterState = log.state;
    const command = { type: "createDatabase", name: "Pitchfork", replicationFactor: 4 };
    const early = validateClusterCommand(state, command);
    expect(early?.code).toBe("NotEnoughNodes");
    expect(log.refuse(command)).toEqual(early);
    expect(
      validateClusterCommand(state, {
        type: "createDatabase",
        name: "Pitchfork",
        replicationFactor: 3,
      }),
    ).toBeUndefined();
  });

  it("prepareClusterCommand refuses what validation refuses and records its choices otherwise", () => {
    const log = clusterOf(3);
    expect(
      prepareClusterCommand(log.state, { type: "deleteDatabase", name: "Nope" }),
    ).toMatchObject({
      ok: false,
      error: { code: "DatabaseNotFound" },
    });
    expect(
      prepareClusterCommand(log.state, { type: "createDatabase", name: "P", replicationFactor: 2 }),
    ).toEqual({
      ok: true,
      command: {
        type: "createDatabase",
        name: "P",
        replicationFactor: 2,
        nodes: ["A", "B"],
        reason: "replication factor 2, placed on the least loaded nodes",
      },
    });
    expect(
      prepareClusterCommand(emptyClusterState(), {
        type: "bootstrap",
        url: chapterUrl(1),
        topologyId: "t",
      }),
    ).toMatchObject({
      ok: true,
    });
  });

  it("a refusal becomes a RookeryError with the same code and message", () => {
    const log = clusterOf(1);
    const error = toRookeryError(log.refuse({ type: "deleteDatabase", name: "Nope" }));
    expect(isRookeryError(error, "DatabaseNotFound")).toBe(true);
    expect(error.message).toBe(
      "Cannot delete database 'Nope': there is no such database (databases: none).",
    );
    expect(error.details).toEqual({ database: "Nope" });
  });
});
