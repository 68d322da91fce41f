import { describe, expect, it } from "vitest";
import {
  clusterLimits,
  databaseSummaries,
  jumpConsistentHash,
  responsibleNodeFor,
  superviseCluster,
} from "../../engine/cluster/index.ts";
import type {
  ClusterCommand,
  DatabaseRecord,
  ExternalReplicationTask,
  SupervisorInput,
} from "../../engine/cluster/index.ts";
import type { NodeTag } from "../../engine/core/index.ts";
import { ClusterLog, clusterOf } from "./harness.ts";

const backupUrl = "http://127.0.1.1:8080";
const nowMs = 100_000;

function spadeOn(nodes: NodeTag[], clusterSize = 5): ClusterLog {
  const log = clusterOf(clusterSize);
  log.propose({ type: "createDatabase", name: "Spade", nodes });
  return log;
}

function addTask(
  log: ClusterLog,
  extra: Partial<Extract<ClusterCommand, { type: "updateExternalReplication" }>> = {},
) {
  return log.accept({
    type: "updateExternalReplication",
    database: "Spade",
    destinationDatabase: "Backup",
    destinationUrls: [backupUrl],
    ...extra,
  });
}

function task(log: ClusterLog, taskId: number): ExternalReplicationTask {
  const found = log.record("Spade").externalReplications?.find((t) => t.taskId === taskId);
  if (!found) throw new Error(`no task ${taskId}`);
  return found;
}

/** round runs the supervisor with every node heard just now except the silent ones. */
function round(log: ClusterLog, silentMs: Record<NodeTag, number> = {}) {
  const nodes: Record<NodeTag, { lastHeardMs: number }> = {};
  for (const tag of Object.keys(log.state.topology.members))
    nodes[tag] = { lastHeardMs: nowMs - (silentMs[tag] ?? 0) };
  const input: SupervisorInput = { state: log.state, nowMs, nodes, databases: {} };
  return superviseCluster(input);
}

describe("an external replication task in the database record", () => {
  it("is added through Rachis with its Raft index as task id and one member of the group to run it", () => {
    const log = spadeOn(["A", "B", "C"]);
    const result = addTask(log, { destinationUrls: ["HTTP://127.0.1.1:8080/"] });
    const added = task(log, result.taskId!);
    expect(result.taskId).toBe(log.index);
    expect(added).toMatchObject({
      name: `Replication to Backup at ${backupUrl}`,
      destinationDatabase: "Backup",
      destinationUrls: [backupUrl],
      mentorNode: null,
      disabled: false,
      responsibleReason: "chosen by hash among the members",
    });
    expect(["A", "B", "C"]).toContain(added.responsibleNode);
    expect(result.tag).toBe(added.responsibleNode);
    expect(result.message).toContain(`runs on ${added.responsibleNode}`);
  });

  it("never makes the destination part of the group: topology, factor and topology etag stay", () => {
    const log = spadeOn(["A", "B", "C"]);
    const before = log.record("Spade");
    addTask(log);
    const after = log.record("Spade");
    expect(after.topology).toEqual(before.topology);
    expect(after.replicationFactor).toBe(3);
    expect(after.topologyEtag).toBe(before.topologyEtag);
  });

  it("shows in describe()'s summary of the database, with the node that runs it", () => {
    const log = spadeOn(["A", "B"]);
    expect(databaseSummaries(log.state)[0]).not.toHaveProperty("externalReplications");
    const { taskId } = addTask(log, { name: "offsite" });
    const summary = databaseSummaries(log.state)[0]!;
    expect(summary.members).toEqual(["A", "B"]);
    expect(summary.externalReplications).toEqual([
      expect.objectContaining({
        taskId,
        name: "offsite",
        destinationDatabase: "Backup",
        destinationUrls: [backupUrl],
        responsibleNode: task(log, taskId!).responsibleNode,
      }),
    ]);
  });

  it("runs on its mentor node while the mentor is a member", () => {
    const log = spadeOn(["A", "B", "C"]);
    const { taskId } = addTask(log, { mentorNode: "C" });
    expect(task(log, taskId!)).toMatchObject({
      responsibleNode: "C",
      responsibleReason: "C is the task's mentor node",
    });
  });

  it("is updated in place: same id, new settings, the node chosen again", () => {
    const log = spadeOn(["A", "B", "C"]);
    const { taskId } = addTask(log);
    const result = log.accept({
      type: "updateExternalReplication",
      database: "Spade",
      taskId: taskId!,
      destinationDatabase: "Archive",
      destinationUrls: [backupUrl, "http://127.0.1.2:8080"],
      mentorNode: "A",
      disabled: true,
    });
    expect(result.message).toContain("updated");
    expect(log.record("Spade").externalReplications).toHaveLength(1);
    expect(task(log, taskId!)).toMatchObject({
      name: `Replication to Backup at ${backupUrl}`,
      destinationDatabase: "Archive",
      destinationUrls: [backupUrl, "http://127.0.1.2:8080"],
      responsibleNode: "A",
      disabled: true,
    });
  });

  it("is deleted by id", () => {
    const log = spadeOn(["A", "B"]);
    const { taskId } = addTask(log);
    const result = log.accept({
      type: "deleteExternalReplication",
      database: "Spade",
      taskId: taskId!,
    });
    expect(result.message).toContain("deleted");
    expect(log.record("Spade").externalReplications).toEqual([]);
  });

  it("may replicate to another database of the same cluster", () => {
    const log = spadeOn(["A", "B"]);
    log.propose({ type: "createDatabase", name: "Copy", nodes: ["C"] });
    const result = addTask(log, {
      destinationDatabase: "Copy",
      destinationUrls: ["http://127.0.0.3:8080"],
    });
    expect(result.ok).toBe(true);
  });
});

describe("what an external replication task refuses, and why", () => {
  const refusals: [
    string,
    Partial<Extract<ClusterCommand, { type: "updateExternalReplication" }>>,
    string,
    RegExp,
  ][] = [
    ["an unknown database", { database: "Rake" }, "DatabaseNotFound", /no such database/],
    [
      "a bad destination name",
      { destinationDatabase: "bad name!" },
      "InvalidDestination",
      /contains ' ', '!'/,
    ],
    ["no destination URL", { destinationUrls: [] }, "InvalidDestination", /from 1 to 16 URLs/],
    [
      "a URL that is not a server address",
      { destinationUrls: ["127.0.1.1"] },
      "InvalidUrl",
      /not a server address/,
    ],
    [
      "the same server twice",
      { destinationUrls: [backupUrl, "http://127.0.1.1:8080/"] },
      "InvalidDestination",
      /listed twice/,
    ],
    [
      "its own group (same database on a server of this cluster)",
      { destinationDatabase: "spade", destinationUrls: ["http://127.0.0.4:8080"] },
      "InvalidDestination",
      /already replicate to each other inside its group/,
    ],
    [
      "a mentor that does not host the database",
      { mentorNode: "E" },
      "InvalidMentor",
      /must host 'Spade'/,
    ],
    ["an unknown task id", { taskId: 999 }, "TaskNotFound", /no such external replication task/],
    ["an empty name", { name: "  " }, "InvalidSetting", /cannot be empty/],
  ];
  for (const [what, change, code, message] of refusals) {
    it(`refuses ${what} (${code})`, () => {
      const log = spadeOn(["A", "B", "C"]);
      const error = log.refuse({
        type: "updateExternalReplication",
        database: "Spade",
        destinationDatabase: "Backup",
        destinationUrls: [backupUrl],
        ...change,
      });
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    });
  }

  it("refuses a second task to the same destination, and a name already taken", () => {
    const log = spadeOn(["A", "B"]);
    const { taskId } = addTask(log, { name: "offsite" });
    const same = log.refuse({
      type: "updateExternalReplication",
      database: "Spade",
      name: "Offsite",
      destinationDatabase: "Other",
      destinationUrls: [backupUrl],
    });
    expect(same).toMatchObject({ code: "TaskNameInUse", details: { taskId } });
    addTask(log);
    const again = log.refuse({
      type: "updateExternalReplication",
      database: "Spade",
      destinationDatabase: "Backup",
      destinationUrls: [backupUrl],
    });
    expect(again.message).toMatch(/replicates to the same destination/);
  });

  it(`refuses more than ${clusterLimits.externalReplicationsMax} tasks on one database`, () => {
    const log = spadeOn(["A"]);
    for (let i = 0; i < clusterLimits.externalReplicationsMax; i++)
      addTask(log, { destinationDatabase: `Backup${i}` });
    expect(
      log.refuse({
        type: "updateExternalReplication",
        database: "Spade",
        destinationDatabase: "OneMore",
        destinationUrls: [backupUrl],
      }).code,
    ).toBe("TooManyTasks");
  });

  it("refuses deleting or moving a task that does not exist", () => {
    const log = spadeOn(["A", "B"]);
    expect(
      log.refuse({ type: "deleteExternalReplication", database: "Spade", taskId: 3 }).code,
    ).toBe("TaskNotFound");
    expect(
      log.refuse({
        type: "moveExternalReplication",
        database: "Spade",
        taskId: 3,
        from: "A",
        to: "B",
        reason: "r",
      }).code,
    ).toBe("TaskNotFound");
  });

  it("refuses a stale move, and a move to a node that is not a member", () => {
    const log = spadeOn(["A", "B", "C"]);
    const { taskId, tag } = addTask(log, { mentorNode: "A" });
    expect(tag).toBe("A");
    const stale = log.refuse({
      type: "moveExternalReplication",
      database: "Spade",
      taskId: taskId!,
      from: "B",
      to: "C",
      reason: "r",
    });
    expect(stale.code).toBe("StaleTopology");
    log.accept({ type: "moveToRehab", database: "Spade", tag: "C", reason: "silent" });
    const toRehab = log.refuse({
      type: "moveExternalReplication",
      database: "Spade",
      taskId: taskId!,
      from: "A",
      to: "C",
      reason: "r",
    });
    expect(toRehab).toMatchObject({ code: "WrongRole" });
    expect(toRehab.message).toMatch(/only a member of the group runs tasks/);
  });
});

describe("which node runs a task: RavenDB's WhoseTaskIsIt", () => {
  const record = (members: NodeTag[], rehabs: NodeTag[] = []): DatabaseRecord => ({
    name: "Spade",
    topology: { members, promotables: [], rehabs },
    mentors: {},
    replicationFactor: members.length + rehabs.length,
    topologyEtag: 1,
    revisions: null,
    conflictResolution: "latest",
    recentChanges: [],
  });
  const identity = (taskId: number, mentorNode: NodeTag | null = null) => ({
    taskId,
    name: `t${taskId}`,
    destinationDatabase: "Backup",
    mentorNode,
  });

  it("jump consistent hash keeps a key in its bucket when buckets are added, or moves it to the new one", () => {
    for (let key = 1n; key < 500n; key++) {
      const before = jumpConsistentHash(key * 0x9e3779b97f4a7c15n, 4);
      const after = jumpConsistentHash(key * 0x9e3779b97f4a7c15n, 5);
      expect(after === before || after === 4).toBe(true);
      expect(before).toBeGreaterThanOrEqual(0);
      expect(before).toBeLessThan(4);
    }
  });

  it("always picks a member, spreads tasks over every member, and is the same on every call", () => {
    const counts: Record<NodeTag, number> = {};
    for (let taskId = 1; taskId <= 300; taskId++) {
      const node = responsibleNodeFor(record(["A", "B", "C"]), identity(taskId));
      expect(node).toBe(responsibleNodeFor(record(["C", "A", "B"]), identity(taskId)));
      counts[node!] = (counts[node!] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(["A", "B", "C"]);
    for (const count of Object.values(counts)) expect(count).toBeGreaterThan(60);
  });

  it("when a member goes to rehab, only its own tasks move, and they come back when it is a member again", () => {
    for (let taskId = 1; taskId <= 200; taskId++) {
      const home = responsibleNodeFor(record(["A", "B", "C"]), identity(taskId))!;
      const withBInRehab = responsibleNodeFor(record(["A", "C"], ["B"]), identity(taskId))!;
      expect(withBInRehab).not.toBe("B");
      if (home !== "B") expect(withBInRehab).toBe(home);
      expect(responsibleNodeFor(record(["A", "C", "B"]), identity(taskId))).toBe(home);
    }
  });

  it("prefers the mentor while it is a member, and ignores it while it is not", () => {
    expect(responsibleNodeFor(record(["A", "B", "C"]), identity(1, "B"))).toBe("B");
    expect(responsibleNodeFor(record(["A", "C"], ["B"]), identity(1, "B"))).not.toBe("B");
  });
});

describe("the supervisor moves a task when its node fails", () => {
  it("moves the silent node to rehab first, then hands its task to a member, with the reason", () => {
    const log = spadeOn(["A", "B", "C"]);
    const { taskId } = addTask(log, { mentorNode: "B" });
    expect(task(log, taskId!).responsibleNode).toBe("B");

    const first = round(log, { B: 3_000 }).commands;
    expect(first).toEqual([
      { type: "moveToRehab", database: "Spade", tag: "B", reason: "no heartbeat for 3000 ms" },
    ]);
    log.accept(first[0]!);
    // One change per database per round: the task moves in the next round.
    const second = round(log, { B: 3_250 }).commands;
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({
      type: "moveExternalReplication",
      database: "Spade",
      taskId,
      from: "B",
      reason: "B is in rehab and no longer a member",
    });
    const to = (second[0] as { to: NodeTag }).to;
    expect(["A", "C"]).toContain(to);
    const moved = log.accept(second[0]!);
    expect(moved.message).toBe(
      `'Spade': task 'Replication to Backup at ${backupUrl}' moved from B to ${to}: B is in rehab and no longer a member`,
    );
    expect(task(log, taskId!)).toMatchObject({
      responsibleNode: to,
      responsibleReason: "B is in rehab and no longer a member",
    });
    expect(round(log, { B: 4_000 }).commands).toEqual([]);
  });

  it("hands the task back to its mentor once the mentor is a member again", () => {
    const log = spadeOn(["A", "B", "C"]);
    const { taskId } = addTask(log, { mentorNode: "B" });
    log.accept({ type: "moveToRehab", database: "Spade", tag: "B", reason: "silent" });
    log.accept(round(log, { B: 5_000 }).commands[0]!);
    log.accept({ type: "promoteDatabaseNode", database: "Spade", tag: "B", reason: "caught up" });
    const back = round(log).commands;
    expect(back).toEqual([
      expect.objectContaining({
        type: "moveExternalReplication",
        taskId,
        to: "B",
        reason: "B is the task's mentor node and a member again",
      }),
    ]);
  });

  it("waits while the node the task belongs on does not answer, and says so", () => {
    const log = spadeOn(["A", "B"]);
    const { taskId } = addTask(log, { mentorNode: "A" });
    log.accept({ type: "moveToRehab", database: "Spade", tag: "A", reason: "silent" });
    const waiting = round(log, { A: 5_000, B: 2_000 });
    expect(waiting.commands).toEqual([]);
    expect(waiting.notes).toContainEqual(
      expect.objectContaining({ tag: "B", status: "notResponding" }),
    );
    expect(task(log, taskId!).responsibleNode).toBe("A");
    expect(round(log, { A: 5_000 }).commands).toEqual([
      expect.objectContaining({ type: "moveExternalReplication", from: "A", to: "B" }),
    ]);
  });

  it("moves the task off a node removed from the group", () => {
    const log = spadeOn(["A", "B", "C"]);
    const { taskId } = addTask(log, { mentorNode: "C" });
    log.accept({ type: "removeDatabaseNode", database: "Spade", tag: "C", reason: "gone" });
    expect(round(log).commands).toEqual([
      expect.objectContaining({
        type: "moveExternalReplication",
        taskId,
        from: "C",
        reason: "C no longer hosts 'Spade'",
      }),
    ]);
  });
});
