import { describe, expect, it } from "vitest";
import { InvariantViolation, RaftSimCluster } from "../../engine/runtime/sim/index.ts";

/**
 * The Raft paper's Figure 8, scripted step by step on five servers (A..E). A leader that commits
 * an entry of an earlier term just because a majority holds it can have that entry overwritten
 * later. The correct rule (count replicas only for entries of the current term) survives the same
 * schedule; the broken rule is caught by the checkers.
 */
function playFigure8(unsafe: boolean): RaftSimCluster {
  const cluster = new RaftSimCluster({
    seed: 8,
    nodes: 5,
    // Leases off and one entry per append, so the script decides exactly who hears what.
    checkQuorum: false,
    limits: { appendEntriesMax: 1 },
    ...(unsafe ? { unsafe: { commitEarlierTermsByCounting: true } } : {}),
  });
  const timeout = 20 * cluster.electionTimeoutMs;
  const leads = (id: string) => () => cluster.status(id)?.role === "leader";
  const becomeLeader = (id: string): void => {
    const won = cluster.runUntil(() => {
      if (cluster.status(id)?.role === "leader") return true;
      if (cluster.status(id)?.role === "follower") cluster.campaign(id);
      return false;
    }, timeout);
    expect(won, `${id} should win an election\n${cluster.recentTrace().join("\n")}`).toBe(true);
  };

  // A leads and everyone agrees on a first command.
  cluster.runUntil(() => cluster.leader() !== undefined, timeout);
  const first = cluster.leader()!;
  expect(first).toBeDefined();
  cluster.one("agreed", 5);
  cluster.runFor(200);
  // Make sure the script's cast is in place: whoever leads, call it A's role by renaming.
  const [a, b, c, d, e] = [first, ...cluster.ids.filter((id) => id !== first)] as [
    string,
    string,
    string,
    string,
    string,
  ];

  // (a) a's entry X reaches b only.
  cluster.partition([a, b], [c, d, e]);
  const x = cluster.propose(a, "X");
  expect(x.accepted).toBe(true);
  const xIndex = x.accepted ? x.index : 0;
  cluster.runUntil(() => cluster.status(b)!.lastIndex >= xIndex, timeout);

  // (b) a crashes; e is elected by c and d, appends its noop at X's index, and is cut off at once.
  cluster.crash(a);
  cluster.heal();
  cluster.disconnect(b);
  becomeLeader(e);
  cluster.disconnect(e);
  cluster.crash(e);
  expect(cluster.status(c)!.lastIndex).toBe(xIndex - 1);

  // (c) a comes back and is elected by b and c; it copies X to c and, if broken, commits it.
  cluster.connect(b);
  cluster.restart(a);
  cluster.partition([a, b, c], [d, e]);
  becomeLeader(a);
  cluster.runUntil(() => cluster.status(c)!.lastIndex >= xIndex, timeout);
  // c's acknowledgement still reaches a, but a's noop of the new term never reaches c.
  cluster.net.block(a, c);
  cluster.runFor(50);
  cluster.crash(a);

  // (d) e comes back and is elected by c and d: its entry at X's index is of a later term.
  cluster.heal();
  cluster.disconnect(b);
  cluster.restart(e);
  becomeLeader(e);
  cluster.runFor(10 * cluster.electionTimeoutMs);
  return cluster;
}

describe("Figure 8: committing entries from earlier terms", () => {
  it("the correct commit rule does not commit X from an earlier term, so e overwriting it loses nothing", () => {
    const cluster = playFigure8(false);
    const leader = cluster.leader()!;
    // e won and its log replaced X everywhere it leads; every live node applied the same history.
    expect(cluster.status(leader)!.commit).toBeGreaterThan(4);
    for (const id of cluster.ids.filter((id) => cluster.isAlive(id) && cluster.isConnected(id))) {
      for (let index = 1; index <= cluster.appliedIndex(id); index++) {
        expect(cluster.appliedAt(id, index)).not.toBe("X");
      }
    }
  });

  it("a leader that commits earlier-term entries by counting is caught by the checkers", () => {
    let caught: unknown;
    try {
      playFigure8(true);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvariantViolation);
    expect((caught as InvariantViolation).invariant).toMatch(
      /leader completeness|state machine safety/,
    );
  });
});
