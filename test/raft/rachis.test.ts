import { describe, expect, it } from "vitest";
import { nextNodeTag, nodeTagAt, SeededRandom } from "../../engine/core/index.ts";
import { MemoryRaftStorage, RawNode } from "../../engine/raft/index.ts";
import type { RaftConfig } from "../../engine/raft/index.ts";
import { RaftSimCluster } from "../../engine/runtime/sim/index.ts";

/** stableLeader waits for a leader in office: its first entry of the term (its noop) committed. */
function stableLeader(cluster: RaftSimCluster): string {
  const found = cluster.runUntil(() => {
    const leader = cluster.leader();
    return leader !== undefined && cluster.status(leader)!.leaderInOffice;
  }, 20 * cluster.electionTimeoutMs);
  expect(found, cluster.recentTrace().join("\n")).toBe(true);
  return cluster.leader()!;
}

describe("Rachis elections", () => {
  it("a single server that bootstraps alone leads at once and commits by itself (the chapter's node A)", () => {
    const node = new RawNode({ id: "A", random: new SeededRandom(1) });
    const storage = new MemoryRaftStorage();
    node.bootstrap(["A"]);
    node.campaign();
    const drain = (): string[] => {
      const applied: string[] = [];
      while (node.hasReady()) {
        const ready = node.ready();
        storage.persist(ready.persist);
        for (const entry of ready.committed) if (entry.type === "command") applied.push(entry.data);
        node.advance();
      }
      return applied;
    };
    drain();
    expect(node.status().role).toBe("leader");
    expect(node.propose("create Spade").accepted).toBe(true);
    expect(drain()).toEqual(["create Spade"]);
    expect(node.status().leaderInOffice).toBe(true);
  });

  it("a server cut off for a long time rejoins without deposing the healthy leader (pre-vote)", () => {
    const cluster = new RaftSimCluster({ seed: 11, nodes: 3 });
    const leader = stableLeader(cluster);
    const term = cluster.status(leader)!.term;
    const loner = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(loner);
    cluster.runFor(30 * cluster.electionTimeoutMs);
    // Without pre-vote it would have raised its term dozens of times by now.
    expect(cluster.status(loner)!.term).toBe(term);
    cluster.connect(loner);
    cluster.runFor(10 * cluster.electionTimeoutMs);
    expect(cluster.leader()).toBe(leader);
    expect(cluster.status(leader)!.term).toBe(term);
  });

  it("without pre-vote the same rejoin disrupts the leader: the term moves on", () => {
    const cluster = new RaftSimCluster({ seed: 11, nodes: 3, preVote: false, checkQuorum: false });
    const leader = stableLeader(cluster);
    const term = cluster.status(leader)!.term;
    const loner = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(loner);
    cluster.runFor(30 * cluster.electionTimeoutMs);
    cluster.connect(loner);
    cluster.runFor(10 * cluster.electionTimeoutMs);
    expect(cluster.status(cluster.leader()!)!.term).toBeGreaterThan(term);
  });

  it("a leader that cannot reach a majority steps down within two election timeouts", () => {
    const cluster = new RaftSimCluster({ seed: 5, nodes: 3 });
    const leader = stableLeader(cluster);
    cluster.partition(
      [leader],
      cluster.ids.filter((id) => id !== leader),
    );
    cluster.runFor(2 * cluster.electionTimeoutMs);
    expect(cluster.status(leader)!.role).not.toBe("leader");
  });

  it("with one of two servers down there is no leader, and none appears (the chapter's kill A)", () => {
    const cluster = new RaftSimCluster({ seed: 2, nodes: 2 });
    const leader = stableLeader(cluster);
    cluster.crash(leader);
    const survivor = cluster.ids.find((id) => id !== leader)!;
    cluster.runFor(20 * cluster.electionTimeoutMs);
    expect(cluster.status(survivor)!.role).not.toBe("leader");
    expect(cluster.propose(survivor, "create Pitchfork")).toMatchObject({
      accepted: false,
      reason: "not-leader",
    });
    cluster.restart(leader);
    expect(stableLeader(cluster)).toBeDefined();
  });
});

describe("Rachis membership, one server at a time", () => {
  it("a new server joins as a learner, catches up, then votes", () => {
    const cluster = new RaftSimCluster({ seed: 3, nodes: 1 });
    const a = stableLeader(cluster);
    for (let i = 0; i < 20; i++) cluster.one(`users/${i}`, 1);
    const b = cluster.addNode();
    expect(cluster.proposeMembership(a, { op: "addLearner", node: b }).accepted).toBe(true);
    const joined = cluster.runUntil(
      () => cluster.status(a)!.membership.voters.includes(b),
      10 * cluster.electionTimeoutMs,
    );
    expect(joined).toBe(true);
    expect(cluster.appliedAt(b, 5)).toBe(cluster.appliedAt(a, 5));
    // Two voters now: a commit needs both.
    cluster.crash(b);
    const result = cluster.propose(a, "needs b");
    expect(result.accepted).toBe(true);
    cluster.runFor(10 * cluster.electionTimeoutMs);
    expect(cluster.appliedIndex(a)).toBeLessThan(result.accepted ? result.index : 0);
  });

  it("a second change is refused while the first has not committed", () => {
    const cluster = new RaftSimCluster({ seed: 4, nodes: 3 });
    const leader = stableLeader(cluster);
    const others = cluster.ids.filter((id) => id !== leader);
    for (const id of others) cluster.disconnect(id);
    const d = cluster.addNode();
    expect(cluster.proposeMembership(leader, { op: "addLearner", node: d }).accepted).toBe(true);
    expect(cluster.proposeMembership(leader, { op: "remove", node: others[0]! })).toMatchObject({
      accepted: false,
      reason: "membership-change-pending",
    });
  });

  it("removing the leader makes it step down once the change commits, and the rest elect a new one", () => {
    const cluster = new RaftSimCluster({ seed: 6, nodes: 3 });
    const leader = stableLeader(cluster);
    expect(cluster.proposeMembership(leader, { op: "remove", node: leader }).accepted).toBe(true);
    const moved = cluster.runUntil(() => {
      const now = cluster.leader();
      return now !== undefined && now !== leader;
    }, 20 * cluster.electionTimeoutMs);
    expect(moved).toBe(true);
    const rest = cluster.ids.filter((id) => id !== leader);
    expect(cluster.status(cluster.leader()!)!.membership.voters).toEqual(
      expect.arrayContaining(rest),
    );
    cluster.one("after removal", 2);
  });
});

describe("Rachis snapshots", () => {
  it("a server that missed compacted entries receives a snapshot and applies the same history", () => {
    const cluster = new RaftSimCluster({ seed: 9, nodes: 3, snapshotEveryEntries: 10 });
    const leader = stableLeader(cluster);
    const victim = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(victim);
    for (let i = 0; i < 50; i++) cluster.one(`cmd${i}`, 2);
    expect(cluster.status(leader)!.firstIndex).toBeGreaterThan(cluster.appliedIndex(victim) + 1);
    cluster.connect(victim);
    const last = cluster.one("after", 3);
    for (let index = 1; index <= last; index++) {
      expect(cluster.appliedAt(victim, index)).toBe(cluster.appliedAt(leader, index));
    }
  });
});

describe("node tags", () => {
  it("run A..Z, then ZA..ZZ, then ZZA, and never repeat", () => {
    expect(nodeTagAt(0)).toBe("A");
    expect(nodeTagAt(25)).toBe("Z");
    expect(nodeTagAt(26)).toBe("ZA");
    expect(nextNodeTag("ZZ")).toBe("ZZA");
    const tags = Array.from({ length: 100 }, (_, i) => nodeTagAt(i));
    expect(new Set(tags).size).toBe(100);
  });
});

describe("Rachis limits (engine/raft/limits.ts)", () => {
  it("refuse timings and limits whose relations Rachis relies on, saying which and why", () => {
    const node = (config: Partial<RaftConfig>) => () =>
      new RawNode({ id: "A", random: new SeededRandom(1), ...config });
    expect(node({ timing: { heartbeatTicks: 10, electionTicks: 15 } })).toThrow(
      "electionTicks (15) must be at least twice heartbeatTicks (10)",
    );
    expect(node({ limits: { inflightAppendsMax: 100 } })).toThrow(
      "uncommittedEntriesMax (4096) must cover a full pipeline: appendEntriesMax × inflightAppendsMax = 6400",
    );
    expect(node({ limits: { snapshotBytesMax: 1000 } })).toThrow(
      /snapshotBytesMax \(1000\) must hold/,
    );
    expect(node({ limits: { appendEntriesMax: 0 } })).toThrow(
      "appendEntriesMax must be a positive integer, got 0",
    );
    expect(node({ timing: { heartbeatTicks: 1, electionTicks: 2 } })).not.toThrow();
  });
});
