/**
 * MIT 6.5840 Raft lab, part 3D (log compaction), ported to Rachis in the simulator.
 * See test/raft/mit-harness.ts for how lab time maps to virtual time (1 lab s = 2 election timeouts).
 *
 * The lab's service snapshots every SnapShotInterval = 10 applied entries and requires the
 * persisted Raft state (snapshot excluded) to stay under MAXLOGSIZE = 2000 bytes. Here the cluster
 * compacts with `snapshotEveryEntries: 10` and `logSizeBytes` measures the persisted entries
 * (24 bytes of header per entry plus the command; commands are 19-digit strings like the lab's
 * rand.Int()), so the same 2000-byte bound applies.
 */
import { describe, expect, it } from "vitest";
import { unreliableNetwork } from "../../engine/runtime/sim/index.ts";
import {
  checkOneLeader,
  countMessages,
  crash1,
  makeCluster,
  maxLogSize,
  one,
  peer,
  randomCommand,
  start1,
} from "./mit-harness.ts";

const snapshotInterval = 10;
const maxLogSizeBytes = 2000;

interface SnapOptions {
  readonly seed: number;
  readonly disconnect: boolean;
  readonly reliable: boolean;
  readonly crash: boolean;
}

interface SnapOutcome {
  /** InstallSnapshot messages sent during the run. */
  readonly installs: number;
  /** How often a restarted victim came back from a persisted snapshot (not an empty log). */
  readonly restartsFromSnapshot: number;
}

/** snapcommon is the lab's: 30 rounds of a victim falling behind while the log is compacted. */
function snapcommon({ seed, disconnect, reliable, crash }: SnapOptions): SnapOutcome {
  const iters = 30;
  const c = makeCluster({
    seed,
    nodes: 3,
    snapshotEveryEntries: snapshotInterval,
    ...(reliable ? {} : { faults: unreliableNetwork }),
  });
  const servers = c.ids.length;
  const random = c.sim.random.fork();
  const cmd = (): string => randomCommand(random);
  const sent = countMessages(c);
  let restartsFromSnapshot = 0;

  one(c, cmd(), servers, true);
  let leader1 = checkOneLeader(c);

  for (let i = 0; i < iters; i++) {
    let victim = peer(c, leader1, 1);
    let sender = leader1;
    if (i % 3 === 1) {
      sender = peer(c, leader1, 1);
      victim = leader1;
    }

    if (disconnect) {
      c.disconnect(victim);
      one(c, cmd(), servers - 1, true);
    }
    if (crash) {
      crash1(c, victim);
      one(c, cmd(), servers - 1, true);
    }

    // Perhaps send enough to get a snapshot (the sender may not be the leader: then it refuses).
    const nn = snapshotInterval / 2 + random.int(snapshotInterval);
    for (let k = 0; k < nn; k++) c.propose(sender, cmd());

    // Let the appliers catch up with the proposals. Without failures, make sure every follower
    // caught up, so that no InstallSnapshot is needed (TestSnapshotBasic).
    if (!disconnect && !crash) one(c, cmd(), servers, true);
    else one(c, cmd(), servers - 1, true);

    const size = maxLogSize(c);
    expect(size, `seed ${seed}, round ${i}: log size too large (${size} bytes)`).toBeLessThan(
      maxLogSizeBytes,
    );

    if (disconnect) {
      // Reconnect a follower, who may be behind and need a snapshot to catch up.
      c.connect(victim);
      one(c, cmd(), servers, true);
      leader1 = checkOneLeader(c);
    }
    if (crash) {
      start1(c, victim);
      if (c.status(victim)!.firstIndex > 1) restartsFromSnapshot++;
      c.connect(victim);
      one(c, cmd(), servers, true);
      leader1 = checkOneLeader(c);
    }
  }
  return { installs: sent.get("installSnapshot") ?? 0, restartsFromSnapshot };
}

describe("MIT 6.5840 3D: snapshots", () => {
  // The lab only *tries* to make InstallSnapshot unnecessary here and asserts nothing about it, so
  // neither do we. Observed: Rachis still sends a few InstallSnapshots per run (0–10 on seeds
  // 401/402/411/412; 9–22 before stale probe rejections were ignored). The simulated "reliable"
  // network draws each message's latency in [1, 3] ms, so pipelined appends overtake each other;
  // an early arrival is rejected, the leader drops the follower to probe at match + 1, and once it
  // has compacted at its applied index it sees the follower as behind its snapshot although the
  // follower already holds (or is about to receive) every entry.
  it("SnapshotBasic: with everyone connected, snapshots keep the persisted log under 2000 bytes", () => {
    for (const seed of [401, 402]) {
      snapcommon({ seed, disconnect: false, reliable: true, crash: false });
    }
  });

  it("SnapshotInstall: a disconnected follower that fell behind the leader's snapshot catches up through InstallSnapshot", () => {
    for (const seed of [411, 412]) {
      const { installs } = snapcommon({ seed, disconnect: true, reliable: true, crash: false });
      expect(installs, `seed ${seed}: no lagging follower needed InstallSnapshot`).toBeGreaterThan(
        0,
      );
    }
  });

  it("SnapshotInstallUnreliable: on a lossy network, disconnected followers catch up through InstallSnapshot", () => {
    for (const seed of [421, 422]) {
      const { installs } = snapcommon({ seed, disconnect: true, reliable: false, crash: false });
      expect(installs, `seed ${seed}: no lagging follower needed InstallSnapshot`).toBeGreaterThan(
        0,
      );
    }
  });

  it("SnapshotInstallCrash: a crashed follower restarts from its snapshot plus log tail and catches up", () => {
    for (const seed of [431, 432]) {
      const { restartsFromSnapshot } = snapcommon({
        seed,
        disconnect: false,
        reliable: true,
        crash: true,
      });
      expect(
        restartsFromSnapshot,
        `seed ${seed}: no victim restarted from a persisted snapshot`,
      ).toBeGreaterThan(0);
    }
  });

  it("SnapshotInstallUnCrash: on a lossy network, a crashed follower restarts from its snapshot and catches up", () => {
    for (const seed of [441, 442]) {
      const { restartsFromSnapshot } = snapcommon({
        seed,
        disconnect: false,
        reliable: false,
        crash: true,
      });
      expect(
        restartsFromSnapshot,
        `seed ${seed}: no victim restarted from a persisted snapshot`,
      ).toBeGreaterThan(0);
    }
  });

  it("SnapshotAllCrash: after crashing and restarting every server from its snapshot, the log index never goes back", () => {
    for (const seed of [451, 452]) {
      const c = makeCluster({ seed, nodes: 3, snapshotEveryEntries: snapshotInterval });
      const servers = c.ids.length;
      const random = c.sim.random.fork();
      const cmd = (): string => randomCommand(random);
      const iters = 5;

      one(c, cmd(), servers, true);
      for (let i = 0; i < iters; i++) {
        // Perhaps enough to get a snapshot.
        const nn = snapshotInterval / 2 + random.int(snapshotInterval);
        for (let k = 0; k < nn; k++) one(c, cmd(), servers, true);

        const index1 = one(c, cmd(), servers, true);

        // Crash all, then revive all.
        for (const id of c.ids) crash1(c, id);
        for (const id of c.ids) {
          start1(c, id);
          // Every server applied index1 ≥ 10 entries, so it compacted and restarts from a snapshot.
          if (index1 >= snapshotInterval) {
            expect(
              c.status(id)!.firstIndex,
              `seed ${seed}: ${id} restarted without its snapshot`,
            ).toBeGreaterThan(1);
          }
          c.connect(id);
        }

        const index2 = one(c, cmd(), servers, true);
        expect(
          index2,
          `seed ${seed}: index decreased from ${index1} to ${index2}`,
        ).toBeGreaterThanOrEqual(index1 + 1);
      }
    }
  });

  it("SnapshotInit: servers restarted twice around a snapshot keep their state (the in-memory snapshot is initialized)", () => {
    for (const seed of [461, 462]) {
      const c = makeCluster({ seed, nodes: 3, snapshotEveryEntries: snapshotInterval });
      const servers = c.ids.length;
      const random = c.sim.random.fork();
      const cmd = (): string => randomCommand(random);

      const first = cmd();
      one(c, first, servers, true);

      // Enough ops to make a snapshot.
      for (let k = 0; k < snapshotInterval + 1; k++) one(c, cmd(), servers, true);

      // Crash all, revive all.
      for (const id of c.ids) crash1(c, id);
      for (const id of c.ids) {
        start1(c, id);
        expect(
          c.status(id)!.firstIndex,
          `seed ${seed}: ${id} restarted without its snapshot`,
        ).toBeGreaterThan(1);
        c.connect(id);
      }

      // A single op, to get something written back to persistent storage.
      one(c, cmd(), servers, true);

      // Crash all, revive all.
      for (const id of c.ids) crash1(c, id);
      for (const id of c.ids) {
        start1(c, id);
        c.connect(id);
      }

      // Another op to trigger a potential bug; the first command is still in every state machine.
      const last = one(c, cmd(), servers, true);
      for (const id of c.ids) {
        const applied = Array.from({ length: last }, (_, k) => c.appliedAt(id, k + 1));
        expect(applied, `seed ${seed}: ${id} lost the first command across restarts`).toContain(
          first,
        );
      }
    }
  });
});
