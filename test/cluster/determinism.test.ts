import { describe, expect, it } from "vitest";
import {
  applyClusterCommand,
  clusterLimits,
  clusterNodeTags,
  emptyClusterState,
  groupNodes,
} from "../../engine/cluster/index.ts";
import type { ClusterCommand, ClusterState } from "../../engine/cluster/index.ts";
import { AssertionError, SeededRandom, compareNodeTags } from "../../engine/core/index.ts";
import type { Random } from "../../engine/core/index.ts";
import { chapterUrl } from "./harness.ts";

const names = ["Spade", "spade", "Pitchfork", "Rake", "Hoe", "Trowel", "bad name!"];
const tags = ["A", "B", "C", "D", "E", "F", "G", "Q"];

/**
 * randomCommand draws a command that is often valid and sometimes not, so both paths are logged.
 * Half the time it aims at a database and a node that exist, so group changes really happen.
 */
function randomCommand(random: Random, state: ClusterState): ClusterCommand {
  const existing = Object.values(state.databases);
  const target = existing.length > 0 && random.chance(0.7) ? random.pick(existing) : undefined;
  const database = target?.name ?? random.pick(names);
  const hosts = target === undefined ? [] : groupNodes(target.topology);
  const tag = hosts.length > 0 && random.chance(0.6) ? random.pick(hosts) : random.pick(tags);
  const reason = `reason ${random.int(100)}`;
  const tasks = target?.externalReplications ?? [];
  const task = tasks.length > 0 && random.chance(0.8) ? random.pick(tasks) : undefined;
  const taskId = task?.taskId ?? random.int(50);
  const destinationUrls = [`http://127.0.${random.between(0, 1)}.${random.between(1, 3)}:8080`];
  const choices: (() => ClusterCommand)[] = [
    () => ({ type: "addNode", url: chapterUrl(random.between(1, 9)) }),
    () => ({ type: "removeNode", tag: random.pick(tags) }),
    () => ({
      type: "createDatabase",
      name: random.pick(names),
      replicationFactor: random.between(0, 4),
    }),
    () => ({
      type: "createDatabase",
      name: random.pick(names),
      nodes: [random.pick(tags), random.pick(tags)],
    }),
    () => ({ type: "deleteDatabase", name: database }),
    () => ({ type: "addDatabaseNode", database }),
    () => ({ type: "addDatabaseNode", database, tag }),
    () => ({ type: "promoteDatabaseNode", database, tag, reason }),
    () => ({ type: "moveToRehab", database, tag, reason }),
    () => ({ type: "rotatePreferred", database, tag: target?.topology.members[0] ?? tag, reason }),
    () => ({ type: "removeDatabaseNode", database, tag, reason }),
    () => ({
      type: "setConflictResolution",
      database,
      resolution: random.chance(0.5) ? "none" : "latest",
    }),
    () => ({
      type: "setRevisions",
      database,
      revisions: {
        default: {
          disabled: false,
          minimumRevisionsToKeep: random.between(-1, 5),
          purgeOnDelete: false,
        },
        collections: {},
      },
    }),
    () => ({
      type: "updateExternalReplication",
      database,
      destinationDatabase: random.pick(["Backup", "Spade", "bad name!"]),
      destinationUrls,
      ...(random.chance(0.3) ? { mentorNode: tag } : {}),
    }),
    () => ({
      type: "updateExternalReplication",
      database,
      taskId,
      destinationDatabase: "Backup",
      destinationUrls,
      disabled: random.chance(0.5),
    }),
    () => ({ type: "deleteExternalReplication", database, taskId }),
    () => ({
      type: "moveExternalReplication",
      database,
      taskId,
      from: task?.responsibleNode ?? null,
      to: tag,
      reason,
    }),
  ];
  return random.pick(choices)();
}

/** randomLog records a log of `length` entries after the bootstrap, drawn against the state it builds. */
function randomLog(seed: number, length: number): ClusterCommand[] {
  const random = new SeededRandom(seed);
  const log: ClusterCommand[] = [
    { type: "bootstrap", url: chapterUrl(1), topologyId: `cluster-${seed}` },
  ];
  let state = applyClusterCommand(emptyClusterState(), log[0]!, 1).state;
  for (let i = 0; i < length; i++) {
    const command = randomCommand(random, state);
    log.push(command);
    state = applyClusterCommand(state, command, i + 2).state;
  }
  return log;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const field of Object.values(value)) deepFreeze(field);
  }
  return value;
}

/** checkInvariants asserts what every reachable state keeps. */
function checkInvariants(state: ClusterState): void {
  const cluster = clusterNodeTags(state);
  for (const tag of cluster)
    expect(compareNodeTags(tag, state.topology.lastNodeTag ?? "A")).toBeLessThanOrEqual(0);
  for (const [key, record] of Object.entries(state.databases)) {
    expect(key).toBe(record.name.toLowerCase());
    const nodes = groupNodes(record.topology);
    expect(new Set(nodes).size).toBe(nodes.length);
    expect(record.topology.members.length).toBeGreaterThan(0);
    expect(record.replicationFactor).toBe(nodes.length);
    for (const tag of nodes) expect(cluster).toContain(tag);
    expect(Object.keys(record.mentors)).toEqual(record.topology.promotables);
    for (const mentor of Object.values(record.mentors))
      expect(record.topology.members).toContain(mentor);
    expect(record.topologyEtag).toBeLessThanOrEqual(state.lastAppliedIndex);
    expect(record.recentChanges.length).toBeLessThanOrEqual(clusterLimits.topologyChangesMax);
    const tasks = record.externalReplications ?? [];
    expect(new Set(tasks.map((task) => task.taskId)).size).toBe(tasks.length);
    expect(new Set(tasks.map((task) => task.name.toLowerCase())).size).toBe(tasks.length);
    for (const task of tasks) expect(task.taskId).toBeLessThanOrEqual(state.lastAppliedIndex);
  }
}

describe("every server applying the same log ends in the same state", () => {
  it("two servers applying the same log, refusals included, hold identical JSON after every entry", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      let first = emptyClusterState();
      let second = emptyClusterState();
      let refused = 0;
      randomLog(seed, 300).forEach((command, i) => {
        const a = applyClusterCommand(first, command, i + 1);
        const b = applyClusterCommand(second, structuredClone(command), i + 1);
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        if (!a.result.ok) refused += 1;
        first = a.state;
        second = b.state;
        checkInvariants(first);
      });
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThan(300);
    }
  });

  it("a snapshot taken mid-log (JSON or structured clone) continues to the same state", () => {
    const log = randomLog(42, 200);
    let whole = emptyClusterState();
    log.forEach((command, i) => (whole = applyClusterCommand(whole, command, i + 1).state));
    for (const copy of [
      (s: ClusterState) => JSON.parse(JSON.stringify(s)) as ClusterState,
      structuredClone,
    ]) {
      let state = emptyClusterState();
      log
        .slice(0, 100)
        .forEach((command, i) => (state = applyClusterCommand(state, command, i + 1).state));
      state = copy(state);
      log
        .slice(100)
        .forEach((command, i) => (state = applyClusterCommand(state, command, i + 101).state));
      expect(state).toEqual(whole);
      expect(JSON.stringify(state)).toBe(JSON.stringify(whole));
    }
  });

  it("applying never mutates the state it is given", () => {
    let state = deepFreeze(emptyClusterState());
    randomLog(7, 200).forEach((command, i) => {
      state = deepFreeze(applyClusterCommand(state, deepFreeze(command), i + 1).state);
    });
    expect(Object.keys(state.databases).length).toBeGreaterThanOrEqual(0);
  });

  it("entries apply in log order: an index that does not grow is a bug, not a refusal", () => {
    const first = applyClusterCommand(
      emptyClusterState(),
      { type: "bootstrap", url: chapterUrl(1), topologyId: "t" },
      5,
    );
    expect(first.state.lastAppliedIndex).toBe(5);
    expect(() =>
      applyClusterCommand(first.state, { type: "addNode", url: chapterUrl(2) }, 5),
    ).toThrow(AssertionError);
    expect(() =>
      applyClusterCommand(first.state, { type: "addNode", url: chapterUrl(2) }, 5.5),
    ).toThrow(AssertionError);
  });

  it("a refused entry leaves even the last applied index alone", () => {
    const boot = applyClusterCommand(
      emptyClusterState(),
      { type: "bootstrap", url: chapterUrl(1), topologyId: "t" },
      1,
    );
    const refused = applyClusterCommand(boot.state, { type: "deleteDatabase", name: "Nope" }, 2);
    expect(refused.state).toBe(boot.state);
    expect(refused.result).toMatchObject({
      ok: false,
      raftIndex: 2,
      error: { code: "DatabaseNotFound" },
    });
    expect(refused.state.lastAppliedIndex).toBe(1);
  });
});
