/**
 * MIT 6.5840 Raft lab, part 3B (log agreement), ported to Rachis in the simulator.
 * See test/raft/mit-harness.ts for how lab time maps to virtual time (1 lab s = 2 election timeouts).
 *
 * Index translation. The lab's log starts empty, so its first command lands at index 1 and a
 * leader's Start() returns "the next index". A Rachis log starts with the founding membership
 * entry at index 1, and every new leader first appends a noop of its term (paper §5.4.2, the
 * RavenDB "leader elect → leader" step). So:
 * - "indices 1, 2, 3" become "three consecutive indices right after the first leader's noop",
 *   which in a cluster that had a single election is 3, 4, 5;
 * - "Start returns index 4" (the next slot after three committed commands, no leader change)
 *   becomes "the index right after the third command";
 * - after a leader change the next command lands one slot later than in the lab (the noop).
 * Each test says which form it asserts.
 */
import { describe, expect, it } from "vitest";
import {
  appliedAnywhere,
  appliedLog,
  checkOneLeader,
  labElectionTimeout,
  labMs,
  makeCluster,
  one,
  peer,
  randomCommand,
  wait,
} from "./mit-harness.ts";
import type { RaftSimCluster } from "./mit-harness.ts";

/** allTerms returns the terms of the live servers. */
function terms(c: RaftSimCluster): number[] {
  return c.ids.flatMap((id) => (c.isAlive(id) ? [c.status(id)!.term] : []));
}

describe("MIT 6.5840 3B: agreement", () => {
  it("BasicAgree: nothing commits before a proposal and three proposals commit at consecutive indices", () => {
    for (const seed of [101, 102, 103]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      // Index 1 is the bootstrap membership, index 2 the first leader's noop: the lab's index k is
      // our index k + 2 (one election happens on a reliable network).
      const offset = 2;
      for (let index = 1; index <= 3; index++) {
        const { count } = c.nCommitted(index + offset);
        expect(
          count,
          `seed ${seed}: some have committed index ${index + offset} before Start()`,
        ).toBe(0);
        const xindex = one(c, String(index * 100), servers, false);
        expect(xindex, `seed ${seed}: got index ${xindex} but expected ${index + offset}`).toBe(
          index + offset,
        );
      }
      // What precedes the first command is the bootstrap entry and the leader's noop, nothing else.
      const leader = c.leader()!;
      expect(c.status(leader)!.term, `seed ${seed}: more than one election happened`).toBe(2);
      expect(appliedLog(c, leader), `seed ${seed}`).toEqual([null, null, "100", "200", "300"]);
    }
  });

  it("RPCBytes: each 5000-byte command is sent to each follower about once", () => {
    for (const seed of [111, 112, 113]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      const random = c.sim.random.fork();
      const first = one(c, "99", servers, false);
      const bytes0 = c.requestBytesSent();

      const iters = 10;
      let sent = 0;
      for (let k = 1; k <= iters; k++) {
        const cmd = Array.from({ length: 5000 }, () =>
          String.fromCharCode(97 + random.int(26)),
        ).join("");
        const xindex = one(c, cmd, servers, false);
        // The lab's index 2, 3, …: consecutive after the first command (no leader change).
        expect(xindex, `seed ${seed}: got index ${xindex} but expected ${first + k}`).toBe(
          first + k,
        );
        sent += cmd.length;
      }
      const got = c.requestBytesSent() - bytes0;
      const expected = servers * sent;
      expect(
        got,
        `seed ${seed}: too many RPC bytes; got ${got}, expected ${expected}`,
      ).toBeLessThanOrEqual(expected + 50_000);
    }
  });

  it("FollowerFailure: the leader commits with one follower down, and a proposal with both followers down gets an index but never commits", () => {
    for (const seed of [121, 122]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      one(c, "101", servers, false);

      // Disconnect one follower from the network.
      const leader1 = checkOneLeader(c);
      c.disconnect(peer(c, leader1, 1));

      // The leader and remaining follower agree despite the disconnected follower.
      one(c, "102", servers - 1, false);
      c.runFor(labElectionTimeout(c));
      const index103 = one(c, "103", servers - 1, false);

      // Disconnect the remaining follower.
      const leader2 = checkOneLeader(c);
      c.disconnect(peer(c, leader2, 1));
      c.disconnect(peer(c, leader2, 2));

      // Submit a command: the lab expects index 4, the slot right after the three commands.
      const result = c.propose(leader2, "104");
      expect(result.accepted, `seed ${seed}: leader rejected Start()`).toBe(true);
      const index = result.accepted ? result.index : -1;
      expect(
        index,
        `seed ${seed}: expected the index after 103 (${index103 + 1}), got ${index}`,
      ).toBe(index103 + 1);

      c.runFor(2 * labElectionTimeout(c));
      // Check that command 104 did not commit.
      const { count } = c.nCommitted(index);
      expect(count, `seed ${seed}: ${count} committed but no majority`).toBe(0);
      expect(appliedAnywhere(c, "104"), `seed ${seed}: 104 was applied without a majority`).toBe(
        false,
      );
    }
  });

  it("LeaderFailure: successive leaders are cut off, the rest re-elect and commit, and with no majority nothing commits", () => {
    for (const seed of [131, 132]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      one(c, "101", servers, false);

      // Disconnect the first leader; the remaining followers elect a new leader.
      const leader1 = checkOneLeader(c);
      c.disconnect(leader1);
      one(c, "102", servers - 1, false);
      c.runFor(labElectionTimeout(c));
      const index103 = one(c, "103", servers - 1, false);

      // Disconnect the new leader.
      const leader2 = checkOneLeader(c);
      c.disconnect(leader2);

      // Submit a command to each server.
      for (const id of c.ids) c.propose(id, "104");
      c.runFor(2 * labElectionTimeout(c));

      // Check that command 104 did not commit: the lab's nCommitted(4) is the slot after 103.
      const { count } = c.nCommitted(index103 + 1);
      expect(count, `seed ${seed}: ${count} committed but no majority`).toBe(0);
      expect(appliedAnywhere(c, "104"), `seed ${seed}: 104 was applied without a majority`).toBe(
        false,
      );
    }
  });

  it("FailAgree: a disconnected follower rejoins, catches up and takes part in new agreements", () => {
    for (const seed of [141, 142]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      one(c, "101", servers, false);

      const leader = checkOneLeader(c);
      const follower = peer(c, leader, 1);
      c.disconnect(follower);

      one(c, "102", servers - 1, false);
      one(c, "103", servers - 1, false);
      c.runFor(labElectionTimeout(c));
      one(c, "104", servers - 1, false);
      one(c, "105", servers - 1, false);

      // Re-connect: the full set preserves previous agreements and agrees on new commands.
      c.connect(follower);
      one(c, "106", servers, true);
      c.runFor(labElectionTimeout(c));
      const last = one(c, "107", servers, true);
      expect(appliedLog(c, follower), `seed ${seed}: the rejoined follower's log differs`).toEqual(
        appliedLog(c, leader).slice(0, last),
      );
      expect(
        appliedLog(c, follower).filter((x) => x !== null),
        `seed ${seed}`,
      ).toEqual(["101", "102", "103", "104", "105", "106", "107"]);
    }
  });

  it("FailNoAgree: with three of five servers cut off nothing commits, and after repair the next index follows the last committed one", () => {
    for (const seed of [151, 152, 153]) {
      const c = makeCluster({ seed, nodes: 5 });
      const servers = c.ids.length;
      const index10 = one(c, "10", servers, false);

      // 3 of 5 followers disconnect.
      const leader = checkOneLeader(c);
      for (const k of [1, 2, 3]) c.disconnect(peer(c, leader, k));

      // The lab expects index 2: the slot right after the one committed command.
      const result = c.propose(leader, "20");
      expect(result.accepted, `seed ${seed}: leader rejected Start()`).toBe(true);
      const index = result.accepted ? result.index : -1;
      expect(index, `seed ${seed}: expected index ${index10 + 1}, got ${index}`).toBe(index10 + 1);

      c.runFor(2 * labElectionTimeout(c));
      const { count } = c.nCommitted(index);
      expect(count, `seed ${seed}: ${count} committed but no majority`).toBe(0);

      // Repair.
      for (const k of [1, 2, 3]) c.connect(peer(c, leader, k));

      // The lab accepts index 2 or 3: the disconnected majority may have chosen a leader that
      // forgot the uncommitted entry (2), or the old leader still leads with it in place (3).
      // Here a leader elected after the repair first appends its noop, so the new command lands
      // at index10 + 2 (noop where 20 was) or index10 + 3 (20 kept, then the noop); with no
      // leader change it would be index10 + 2 (right after 20). Anything else means entries were
      // lost or invented.
      const leader2 = checkOneLeader(c);
      const result2 = c.propose(leader2, "30");
      expect(result2.accepted, `seed ${seed}: leader2 rejected Start()`).toBe(true);
      const index2 = result2.accepted ? result2.index : -1;
      expect(index2, `seed ${seed}: unexpected index ${index2}`).toBeGreaterThanOrEqual(
        index10 + 2,
      );
      expect(index2, `seed ${seed}: unexpected index ${index2}`).toBeLessThanOrEqual(index10 + 3);
      const newTerm = c.status(leader2)!.term !== (result.accepted ? result.term : -1);

      one(c, "1000", servers, true);
      // Where 20 and the noop ended up tells which of the lab's two cases happened.
      const at = (i: number): string | null | undefined => c.appliedAt(leader2, i);
      expect(at(index2), `seed ${seed}`).toBe("30");
      if (index2 === index10 + 3) {
        expect(
          [at(index10 + 1), at(index10 + 2)],
          `seed ${seed}: 20 kept, then the new leader's noop`,
        ).toEqual(["20", null]);
      } else {
        expect(
          at(index10 + 1),
          `seed ${seed}: ${newTerm ? "the new leader's noop replaced 20" : "20 kept"}`,
        ).toBe(newTerm ? null : "20");
      }
    }
  });

  it("ConcurrentStarts: five proposals made at once in one term all commit", () => {
    for (const seed of [161, 162]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      let success = false;
      attempts: for (let attempt = 0; attempt < 5; attempt++) {
        // Give the cluster some time to settle.
        if (attempt > 0) c.runFor(labMs(c, 3000));

        const leader = checkOneLeader(c);
        const first = c.propose(leader, "1");
        if (!first.accepted) continue; // the leader moved on really quickly
        const term = first.term;

        // The lab's five goroutines call Start() concurrently; here they run back to back at one
        // virtual instant, which is one of the interleavings the goroutines allow.
        const indices: number[] = [];
        for (let i = 0; i < 5; i++) {
          const result = c.propose(leader, String(100 + i));
          if (result.accepted && result.term === term) indices.push(result.index);
        }
        if (terms(c).some((t) => t !== term)) continue; // term changed: can't expect all to commit

        const cmds: string[] = [];
        for (const index of indices) {
          const result = wait(c, index, servers, term);
          if (result.termMoved) continue attempts; // peers moved on to later terms
          cmds.push(result.command ?? "(not a command)");
        }
        for (let i = 0; i < 5; i++) {
          expect(cmds, `seed ${seed}: cmd ${100 + i} missing in ${cmds.join(",")}`).toContain(
            String(100 + i),
          );
        }
        success = true;
        break;
      }
      expect(success, `seed ${seed}: term changed too often`).toBe(true);
    }
  });

  it("Rejoin: a partitioned leader's uncommitted entries are overwritten when it rejoins", () => {
    for (const seed of [171, 172]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      one(c, "101", servers, true);

      // Leader network failure.
      const leader1 = checkOneLeader(c);
      c.disconnect(leader1);

      // Make the old leader try to agree on some entries.
      c.propose(leader1, "102");
      c.propose(leader1, "103");
      c.propose(leader1, "104");

      // The new leader commits, also for the slot after 101.
      one(c, "103", 2, true);

      // New leader network failure.
      const leader2 = checkOneLeader(c);
      c.disconnect(leader2);

      // Old leader connected again.
      c.connect(leader1);
      one(c, "104", 2, true);

      // All together now.
      c.connect(leader2);
      const last = one(c, "105", servers, true);

      // The old leader's uncommitted 102 was overwritten everywhere, and all logs agree.
      c.runUntil(() => c.ids.every((id) => c.appliedIndex(id) >= last), labMs(c, 2000));
      expect(
        appliedAnywhere(c, "102"),
        `seed ${seed}: the old leader's uncommitted 102 was applied`,
      ).toBe(false);
      const reference = appliedLog(c, leader2);
      for (const id of c.ids)
        expect(appliedLog(c, id), `seed ${seed}: log of ${id}`).toEqual(reference);
      expect(
        reference.filter((x) => x !== null),
        `seed ${seed}`,
      ).toEqual(["101", "103", "104", "105"]);
    }
  });

  it("Backup: a leader backs up quickly over 50 incorrect entries on each of several partitioned followers", () => {
    for (const seed of [181, 182]) {
      const c = makeCluster({ seed, nodes: 5 });
      const servers = c.ids.length;
      const random = c.sim.random.fork();
      const cmd = (): string => randomCommand(random);

      one(c, cmd(), servers, true);

      // Put the leader and one follower in a partition.
      const leader1 = checkOneLeader(c);
      for (const k of [2, 3, 4]) c.disconnect(peer(c, leader1, k));

      // Submit lots of commands that won't commit.
      const lost1 = Array.from({ length: 50 }, cmd);
      for (const x of lost1) c.propose(leader1, x);
      c.runFor(labElectionTimeout(c) / 2);

      c.disconnect(peer(c, leader1, 0));
      c.disconnect(peer(c, leader1, 1));

      // Allow the other partition to recover, with lots of successful commands.
      for (const k of [2, 3, 4]) c.connect(peer(c, leader1, k));
      for (let i = 0; i < 50; i++) one(c, cmd(), 3, true);

      // Now another partitioned leader and one follower.
      const leader2 = checkOneLeader(c);
      let other = peer(c, leader1, 2);
      if (leader2 === other) other = peer(c, leader2, 1);
      c.disconnect(other);

      // Lots more commands that won't commit.
      const lost2 = Array.from({ length: 50 }, cmd);
      for (const x of lost2) c.propose(leader2, x);
      c.runFor(labElectionTimeout(c) / 2);

      // Bring the original leader back to life.
      for (const id of c.ids) c.disconnect(id);
      c.connect(peer(c, leader1, 0));
      c.connect(peer(c, leader1, 1));
      c.connect(other);

      // Lots of successful commands to the new group.
      for (let i = 0; i < 50; i++) one(c, cmd(), 3, true);

      // Now everyone.
      for (const id of c.ids) c.connect(id);
      one(c, cmd(), servers, true);

      for (const x of [...lost1, ...lost2]) {
        expect(
          appliedAnywhere(c, x),
          `seed ${seed}: an uncommitted minority entry was applied`,
        ).toBe(false);
      }
    }
  });

  it("Count: an election, ten agreements and a second of idleness each take few requests", () => {
    for (const seed of [191, 192]) {
      const c = makeCluster({ seed, nodes: 3 });
      const servers = c.ids.length;
      const random = c.sim.random.fork();

      let leader = checkOneLeader(c);
      let total1 = c.requestsSent();
      expect(
        total1,
        `seed ${seed}: too few RPCs to elect the initial leader`,
      ).toBeGreaterThanOrEqual(1);
      expect(
        total1,
        `seed ${seed}: too many RPCs (${total1}) to elect the initial leader`,
      ).toBeLessThanOrEqual(30);

      let total2 = 0;
      let success = false;
      attempts: for (let attempt = 0; attempt < 5; attempt++) {
        if (attempt > 0) c.runFor(labMs(c, 3000)); // give the cluster some time to settle

        leader = checkOneLeader(c);
        total1 = c.requestsSent();

        const iters = 10;
        const start = c.propose(leader, "1");
        if (!start.accepted) continue; // the leader moved on really quickly
        const { index: starti, term } = start;
        const cmds: string[] = [];
        for (let i = 1; i < iters + 2; i++) {
          const x = String(random.int(2 ** 31));
          cmds.push(x);
          const result = c.propose(leader, x);
          if (!result.accepted || result.term !== term) continue attempts; // term changed while starting
          expect(result.index, `seed ${seed}: Start() failed`).toBe(starti + i);
        }

        for (let i = 1; i < iters + 1; i++) {
          const result = wait(c, starti + i, servers, term);
          if (result.termMoved) continue attempts; // term changed: try again
          expect(
            result.command,
            `seed ${seed}: wrong value committed for index ${starti + i}`,
          ).toBe(cmds[i - 1]);
        }

        total2 = c.requestsSent();
        if (terms(c).some((t) => t !== term)) continue; // term changed: can't expect low RPC counts

        expect(
          total2 - total1,
          `seed ${seed}: too many RPCs (${total2 - total1}) for ${iters} entries`,
        ).toBeLessThanOrEqual((iters + 1 + 3) * 3);
        success = true;
        break;
      }
      expect(success, `seed ${seed}: term changed too often`).toBe(true);

      c.runFor(labElectionTimeout(c));
      const total3 = c.requestsSent();
      expect(
        total3 - total2,
        `seed ${seed}: too many RPCs (${total3 - total2}) for 1 second of idleness`,
      ).toBeLessThanOrEqual(3 * 20);
    }
  });
});
