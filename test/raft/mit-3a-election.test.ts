/**
 * MIT 6.5840 Raft lab, part 3A (leader election), ported to Rachis in the simulator.
 * See test/raft/mit-harness.ts for how lab time maps to virtual time (1 lab s = 2 election timeouts).
 *
 * Translation note: a Rachis cluster is bootstrapped at term 1 (entry 1 is the founding membership),
 * so "an election happened" is term >= 2 where the lab, starting at term 0, checks term >= 1.
 */
import { describe, expect, it } from "vitest";
import {
  checkNoLeader,
  checkOneLeader,
  checkTerms,
  labElectionTimeout,
  labMs,
  makeCluster,
  peer,
} from "./mit-harness.ts";

describe("MIT 6.5840 3A: leader election", () => {
  it("InitialElection: three servers elect one leader and keep it while nothing fails", () => {
    for (const seed of [1, 2, 3]) {
      const c = makeCluster({ seed, nodes: 3 });
      // Is a leader elected?
      const leader = checkOneLeader(c);

      // Sleep a bit so followers learn of the election, then all peers agree on the term.
      c.runFor(labMs(c, 50));
      const term1 = checkTerms(c);
      expect(term1, `seed ${seed}: term after the first election`).toBeGreaterThanOrEqual(2);

      // Does the leader+term stay the same with no network failure? The lab only warns when the
      // term changes; with pre-vote and a reliable network Rachis must keep it, so we assert it.
      c.runFor(2 * labElectionTimeout(c));
      const term2 = checkTerms(c);
      expect(term2, `seed ${seed}: term changed even though there were no failures`).toBe(term1);

      // There should still be a leader (the same one).
      expect(checkOneLeader(c), `seed ${seed}: leader changed without failures`).toBe(leader);
    }
  });

  it("ReElection: a new leader is elected when the leader is cut off, none without a quorum, and one again once a quorum is back", () => {
    for (const seed of [11, 12, 13]) {
      const c = makeCluster({ seed, nodes: 3 });
      const leader1 = checkOneLeader(c);

      // If the leader disconnects, a new one should be elected.
      c.disconnect(leader1);
      const newLeader = checkOneLeader(c);
      expect(newLeader, `seed ${seed}`).not.toBe(leader1);

      // If the old leader rejoins, that shouldn't disturb the new leader (the lab only checks that
      // there is one leader; with pre-vote the rejoining node cannot depose it, so we check that too).
      c.connect(leader1);
      const leader2 = checkOneLeader(c);
      expect(leader2, `seed ${seed}: the rejoining old leader disturbed the new one`).toBe(
        newLeader,
      );
      expect(c.status(leader1)!.role, `seed ${seed}: old leader should be a follower`).toBe(
        "follower",
      );

      // If there's no quorum, no new leader should be elected.
      c.disconnect(leader2);
      c.disconnect(peer(c, leader2, 1));
      c.runFor(2 * labElectionTimeout(c));
      // The one connected server does not think it is the leader.
      checkNoLeader(c);

      // If a quorum arises, it should elect a leader.
      c.connect(peer(c, leader2, 1));
      checkOneLeader(c);

      // Re-join of the last node shouldn't prevent a leader from existing.
      c.connect(leader2);
      checkOneLeader(c);
    }
  });

  it("ManyElections: seven servers keep or re-elect a leader while three random servers are cut off, ten times", () => {
    for (const seed of [21, 22]) {
      const c = makeCluster({ seed, nodes: 7 });
      const random = c.sim.random.fork();
      checkOneLeader(c);
      for (let iter = 1; iter < 10; iter++) {
        // Disconnect three nodes (possibly the same one twice, as in the lab).
        const cut = [random.pick(c.ids), random.pick(c.ids), random.pick(c.ids)];
        for (const id of cut) c.disconnect(id);
        // Either the current leader is still alive, or the remaining four elect a new one.
        checkOneLeader(c);
        for (const id of cut) c.connect(id);
      }
      checkOneLeader(c);
    }
  });
});
