import { describe as suite, expect, it } from "vitest";
import {
  clusterCommandTypes,
  isAddDatabaseNodeCommand,
  isClusterCommand,
  isCreateDatabaseCommand,
  isMoveToRehabCommand,
  isRotatePreferredCommand,
  prepareClusterCommand,
  renderClusterCommand,
} from "../../engine/cluster/index.ts";
import type { ClusterCommand } from "../../engine/cluster/index.ts";
import { describe } from "../../engine/core/index.ts";
import { clusterOf } from "./harness.ts";

const samples: [ClusterCommand, string][] = [
  [
    { type: "bootstrap", url: "http://127.0.0.1:8080", topologyId: "t1" },
    "bootstrap http://127.0.0.1:8080 cluster=t1",
  ],
  [{ type: "addNode", url: "http://127.0.0.2:8080" }, "addNode http://127.0.0.2:8080"],
  [
    { type: "addNode", url: "http://127.0.0.2:8080", tag: "B", joinAs: "watcher" },
    "addNode http://127.0.0.2:8080 as B (watcher)",
  ],
  [{ type: "promoteNode", tag: "C" }, "promoteNode C"],
  [{ type: "removeNode", tag: "C" }, "removeNode C"],
  [
    { type: "createDatabase", name: "Pitchfork", replicationFactor: 3, nodes: ["C", "D", "E"] },
    "createDatabase Pitchfork factor=3 → [C, D, E]",
  ],
  [{ type: "createDatabase", name: "Spade" }, "createDatabase Spade factor=1"],
  [
    {
      type: "createDatabase",
      name: "Rake",
      nodes: ["A", "B"],
      conflictResolution: "none",
      revisions: {
        default: { disabled: false, minimumRevisionsToKeep: 5, purgeOnDelete: false },
        collections: {},
      },
    },
    "createDatabase Rake factor=2 → [A, B] conflicts=none revisions=keep 5",
  ],
  [{ type: "deleteDatabase", name: "Spade" }, "deleteDatabase Spade"],
  [
    { type: "addDatabaseNode", database: "Spade", tag: "B", mentor: "A" },
    "addDatabaseNode Spade +B mentor=A",
  ],
  [{ type: "addDatabaseNode", database: "Spade" }, "addDatabaseNode Spade +?"],
  [
    {
      type: "promoteDatabaseNode",
      database: "Spade",
      tag: "B",
      reason: "caught up with mentor A (etag 2)",
    },
    "promoteDatabaseNode Spade B: caught up with mentor A (etag 2)",
  ],
  [
    {
      type: "promoteDatabaseNode",
      database: "Spade",
      tag: "B",
      reason: "caught up",
      membersOrder: ["B", "A"],
    },
    "promoteDatabaseNode Spade B → [B, A]: caught up",
  ],
  [
    { type: "moveToRehab", database: "Spade", tag: "C", reason: "no heartbeat for 3000 ms" },
    "moveToRehab Spade C: no heartbeat for 3000 ms",
  ],
  [
    { type: "rotatePreferred", database: "Spade", tag: "A", reason: "no heartbeat for 1200 ms" },
    "rotatePreferred Spade A: no heartbeat for 1200 ms",
  ],
  [
    { type: "removeDatabaseNode", database: "Spade", tag: "D", reason: "not needed" },
    "removeDatabaseNode Spade D: not needed",
  ],
  [{ type: "setRevisions", database: "Spade", revisions: null }, "setRevisions Spade off"],
  [
    {
      type: "setRevisions",
      database: "Spade",
      revisions: {
        default: null,
        collections: {
          Orders: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
        },
      },
    },
    "setRevisions Spade default off +1 collection",
  ],
  [
    { type: "setConflictResolution", database: "Spade", resolution: "latest" },
    "setConflictResolution Spade latest",
  ],
  [
    {
      type: "updateExternalReplication",
      database: "Spade",
      destinationDatabase: "Backup",
      destinationUrls: ["http://127.0.1.1:8080", "http://127.0.1.2:8080"],
    },
    "updateExternalReplication Spade → Backup at http://127.0.1.1:8080 http://127.0.1.2:8080",
  ],
  [
    {
      type: "updateExternalReplication",
      database: "Spade",
      taskId: 12,
      name: "offsite",
      destinationDatabase: "Backup",
      destinationUrls: ["http://127.0.1.1:8080"],
      mentorNode: "B",
      disabled: true,
    },
    "updateExternalReplication Spade task=12 'offsite' → Backup at http://127.0.1.1:8080 mentor=B (disabled)",
  ],
  [
    { type: "deleteExternalReplication", database: "Spade", taskId: 12 },
    "deleteExternalReplication Spade task=12",
  ],
  [
    {
      type: "moveExternalReplication",
      database: "Spade",
      taskId: 12,
      from: "B",
      to: "C",
      reason: "B is in rehab and no longer a member",
    },
    "moveExternalReplication Spade task=12 B→C: B is in rehab and no longer a member",
  ],
];

suite("cluster commands as data", () => {
  it("every command renders as one readable line through describe()", () => {
    for (const [command, line] of samples) {
      expect(renderClusterCommand(command)).toBe(line);
      expect(describe(command)).toBe(line);
    }
    const covered = new Set(samples.map(([command]) => command.type));
    expect([...clusterCommandTypes].filter((type) => !covered.has(type))).toEqual([]);
  });

  it("a command the leader prepared shows where the database went", () => {
    const log = clusterOf(5);
    log.propose({ type: "createDatabase", name: "Spade", nodes: ["A", "B"] });
    const prepared = prepareClusterCommand(log.state, {
      type: "createDatabase",
      name: "Pitchfork",
      replicationFactor: 3,
    });
    if (!prepared.ok) throw new Error(prepared.error.message);
    expect(describe(prepared.command)).toBe("createDatabase Pitchfork factor=3 → [C, D, E]");
  });

  it("a malformed value with a command's type still renders, marked as malformed", () => {
    expect(describe({ type: "moveToRehab", database: 7 })).toBe(
      'moveToRehab (malformed) {"type":"moveToRehab","database":7}',
    );
  });

  it("type guards accept well-formed commands and narrow to one type", () => {
    for (const [command] of samples) expect(isClusterCommand(command)).toBe(true);
    for (const [command] of samples) expect(isClusterCommand(structuredClone(command))).toBe(true);
    const rehab: unknown = { type: "moveToRehab", database: "Spade", tag: "C", reason: "r" };
    expect(isMoveToRehabCommand(rehab)).toBe(true);
    expect(isRotatePreferredCommand(rehab)).toBe(false);
    expect(
      isCreateDatabaseCommand({ type: "createDatabase", name: "X", replicationFactor: "3" }),
    ).toBe(false);
    expect(
      isCreateDatabaseCommand({ type: "createDatabase", name: "X", conflictResolution: "merge" }),
    ).toBe(false);
    expect(isAddDatabaseNodeCommand({ type: "addDatabaseNode", database: "X", tag: 2 })).toBe(
      false,
    );
  });

  it("type guards refuse anything that is not a command", () => {
    const bad: unknown[] = [
      undefined,
      null,
      "bootstrap",
      [],
      { type: "hasOwnProperty" },
      { type: "bootstrap", url: "http://x:1" },
      { type: "setRevisions", database: "X", revisions: { default: null } },
      {
        type: "setRevisions",
        database: "X",
        revisions: { default: { disabled: "no" }, collections: {} },
      },
      {
        type: "setRevisions",
        database: "X",
        revisions: { default: null, collections: { A: { disabled: false } } },
      },
      { type: "addNode", url: "http://x:1", joinAs: "leader" },
    ];
    for (const value of bad) expect(isClusterCommand(value)).toBe(false);
  });
});
