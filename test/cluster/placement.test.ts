import { describe, expect, it } from "vitest";
import {
  chooseMentor,
  describeTopology,
  groupNodes,
  hostedDatabaseCounts,
  placeDatabase,
  preferredCounts,
  superviseCluster,
} from "../../engine/cluster/index.ts";
import type { SupervisorInput } from "../../engine/cluster/index.ts";
import type { NodeTag } from "../../engine/core/index.ts";
import { ClusterLog, chapterUrl, clusterOf } from "./harness.ts";

const shed: [string, number][] = [
  ["Spade", 2],
  ["Pitchfork", 3],
  ["Rake", 2],
  ["Hoe", 3],
  ["Shears", 2],
  ["Trowel", 3],
  ["Shovel", 2],
  ["Wheelbarrow", 3],
];

function gardenShed(): ClusterLog {
  const log = clusterOf(5);
  for (const [name, replicationFactor] of shed)
    log.propose({ type: "createDatabase", name, replicationFactor });
  return log;
}

/** settle runs supervisor rounds with `failed` silent until nothing more changes. */
function settle(log: ClusterLog, failed: readonly NodeTag[]): void {
  const nowMs = 60_000;
  const nodes: SupervisorInput["nodes"] = Object.fromEntries(
    ["A", "B", "C", "D", "E"]
      .filter((tag) => !failed.includes(tag))
      .map((tag) => [tag, { lastHeardMs: nowMs }]),
  );
  for (let round = 0; round < 10; round++) {
    const { commands } = superviseCluster({ state: log.state, nowMs, nodes, databases: {} });
    if (commands.length === 0) return;
    for (const command of commands) log.accept(command);
  }
  throw new Error("the supervisor did not settle in 10 rounds");
}

const pairs = (tags: NodeTag[]): [NodeTag, NodeTag][] =>
  tags.flatMap((a, i) => tags.slice(i + 1).map((b): [NodeTag, NodeTag] => [a, b]));

describe("placement: a garden shed of databases on five nodes", () => {
  it("spreads eight databases of factors 2 and 3 evenly: every node hosts four", () => {
    const log = gardenShed();
    expect(hostedDatabaseCounts(log.state)).toEqual({ A: 4, B: 4, C: 4, D: 4, E: 4 });
    expect(Object.values(log.state.databases).map(describeTopology)).toEqual([
      "Spade: members [A, B] preferred A, factor 2, etag 6",
      "Pitchfork: members [C, D, E] preferred C, factor 3, etag 7",
      "Rake: members [B, A] preferred B, factor 2, etag 8",
      "Hoe: members [D, E, C] preferred D, factor 3, etag 9",
      "Shears: members [A, B] preferred A, factor 2, etag 10",
      "Trowel: members [E, C, D] preferred E, factor 3, etag 11",
      "Shovel: members [B, A] preferred B, factor 2, etag 12",
      "Wheelbarrow: members [C, D, E] preferred C, factor 3, etag 13",
    ]);
  });

  it("spreads the preferred role too, so clients of different databases talk to different nodes", () => {
    const counts = Object.values(preferredCounts(gardenShed().state));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(8);
    expect(Math.max(...counts)).toBe(2);
  });

  it("every factor-3 database keeps a live preferred member through any two node failures", () => {
    for (const failed of pairs(["A", "B", "C", "D", "E"])) {
      const log = gardenShed();
      settle(log, failed);
      for (const [name, factor] of shed.filter(([, factor]) => factor === 3)) {
        const { members } = log.record(name).topology;
        expect(
          members.some((tag) => !failed.includes(tag)),
          `${name} with ${failed} down`,
        ).toBe(true);
        expect(failed, `${name}'s preferred node with ${failed} down`).not.toContain(members[0]);
        expect(log.record(name).replicationFactor).toBe(factor);
      }
    }
  });

  it("as the chapter warns, killing A and B loses the databases that live on two nodes only", () => {
    const log = gardenShed();
    settle(log, ["A", "B"]);
    const lost = Object.values(log.state.databases)
      .filter((record) => groupNodes(record.topology).every((tag) => ["A", "B"].includes(tag)))
      .map((record) => record.name);
    expect(lost).toEqual(["Spade", "Rake", "Shears", "Shovel"]);
    // Each keeps one member (the supervisor never demotes the last), so it comes back with its node.
    for (const name of lost) expect(log.record(name).topology.members).toHaveLength(1);
  });
});

describe("placement rules", () => {
  it("fills the least loaded nodes first, breaking ties by tag order", () => {
    const log = clusterOf(4);
    log.propose({ type: "createDatabase", name: "One", nodes: ["A", "C"] });
    expect(placeDatabase(log.state, 2)).toEqual(["B", "D"]);
    expect(placeDatabase(log.state, 3)).toEqual(["B", "D", "A"]);
  });

  it("places on watchers but not on servers still joining", () => {
    const log = clusterOf(1);
    log.accept({ type: "addNode", url: chapterUrl(2), joinAs: "watcher" });
    log.accept({ type: "addNode", url: chapterUrl(3), joinAs: "promotable" });
    expect(log.propose({ type: "createDatabase", name: "W", replicationFactor: 2 }).nodes).toEqual([
      "A",
      "B",
    ]);
    expect(log.propose({ type: "createDatabase", name: "X", nodes: ["C"] }).nodes).toEqual(["C"]);
  });

  it("adding a node to a group without naming it picks the least loaded node outside the group", () => {
    const log = clusterOf(4);
    log.propose({ type: "createDatabase", name: "Busy", nodes: ["B", "C"] });
    log.propose({ type: "createDatabase", name: "Spade", nodes: ["A"] });
    expect(log.propose({ type: "addDatabaseNode", database: "Spade" }).tag).toBe("D");
    expect(log.propose({ type: "addDatabaseNode", database: "Spade" }).tag).toBe("B");
  });

  it("a mentor is the member mentoring the fewest promotables, then the first by tag", () => {
    expect(chooseMentor(["C", "A", "B"], {})).toBe("A");
    expect(chooseMentor(["C", "A", "B"], { X: "A" })).toBe("B");
    expect(chooseMentor(["C", "A", "B"], { X: "A", Y: "B" })).toBe("C");
  });

  it("new promotables share the mentoring between members", () => {
    const log = clusterOf(5);
    log.propose({ type: "createDatabase", name: "Spade", nodes: ["A", "B"] });
    for (const tag of ["C", "D", "E"])
      log.propose({ type: "addDatabaseNode", database: "Spade", tag });
    expect(log.record("Spade").mentors).toEqual({ C: "A", D: "B", E: "A" });
    log.propose({ type: "createDatabase", name: "Rake", nodes: ["A"] });
    expect(
      log.propose({ type: "addDatabaseNode", database: "Rake", tag: "B", mentor: "A" }).mentor,
    ).toBe("A");
  });
});
