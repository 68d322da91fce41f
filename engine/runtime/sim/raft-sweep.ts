import { SeededRandom } from "../../core/index.ts";
import type { Random } from "../../core/index.ts";
import type { Membership, NodeId } from "../../raft/index.ts";
import { reliableNetwork } from "./network.ts";
import type { NetworkFaults } from "./network.ts";
import { InvariantViolation } from "./raft-checkers.ts";
import { RaftSimCluster } from "./raft-cluster.ts";
import { SimulationStalled } from "./simulator.ts";
import type { Watchdog } from "./simulator.ts";

/** RaftSeedOptions sets the size of one randomized run. */
export interface RaftSeedOptions {
  readonly nodes: 3 | 5;
  /** Virtual milliseconds of faults and load before the final heal. */
  readonly chaosMs?: number;
  /** Whether to change membership (remove a voter, re-add it empty as a learner). */
  readonly membershipChanges?: boolean;
  /** Build nodes with a deliberate bug, to show the checkers catch it. */
  readonly unsafe?: { readonly commitEarlierTermsByCounting?: boolean };
  /** Bounds past which the seed counts as stalled (defaults: raftWatchdog). */
  readonly watchdog?: Partial<Watchdog>;
}

/**
 * raftWatchdog bounds one Rachis seed: a healthy seed runs some ten thousand events; the virtual
 * time bound covers the chaos, the wait for every server to vote again and the final command.
 */
export function raftWatchdog(nodes: number, chaosMs: number): Watchdog {
  return { eventsMax: 100_000 * nodes, virtualMsMax: chaosMs + 120_000 };
}

/** SeedVerdict is the verdict on one seed of any sweep, with what is needed to understand a failure. */
export interface SeedVerdict {
  readonly seed: number;
  readonly ok: boolean;
  /** Which property broke: an invariant name, "liveness", "acknowledged write lost" … */
  readonly broken?: string;
  readonly message?: string;
  /** The last steps before the failure, one line each, in virtual time. */
  readonly trace: readonly string[];
  readonly virtualMs: number;
}

/** RaftSeedResult is the verdict on one Rachis seed. */
export interface RaftSeedResult extends SeedVerdict {
  readonly committed: number;
  readonly faults: number;
}

function inMembership(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.learners.includes(id);
}

function randomFaults(random: Random): NetworkFaults {
  const latencyMinMs = random.between(0, 5);
  return {
    latencyMinMs,
    latencyMaxMs: latencyMinMs + random.between(1, 30),
    lossRate: random.pick([0, 0, 0.05, 0.1, 0.2]),
    duplicateRate: random.pick([0, 0.02, 0.1]),
    reorderRate: random.pick([0, 0.05, 0.2]),
    reorderDelayMaxMs: random.between(10, 400),
  };
}

/**
 * runRaftSeed runs one randomized schedule: a command load from clients while the network loses,
 * duplicates and reorders messages, partitions (both ways and one way), nodes crash and restart,
 * logs are compacted and, on five nodes, membership changes one server at a time. Then everything
 * heals and the run must make progress again. The checkers watch every step; at the end every
 * command a client saw committed must still be where it was committed, on every node.
 */
export function runRaftSeed(seed: number, options: RaftSeedOptions): RaftSeedResult {
  const chaosMs = options.chaosMs ?? 30_000;
  // A separate stream chooses the schedule, so the cluster's own draws do not shift it.
  const setup: Random = new SeededRandom(seed ^ 0x5eed5eed);
  const cluster = new RaftSimCluster({
    seed,
    nodes: options.nodes,
    faults: setup.chance(0.25) ? reliableNetwork : randomFaults(setup),
    snapshotEveryEntries: setup.pick([0, 10, 40]),
    ...(options.unsafe ? { unsafe: options.unsafe } : {}),
    traceEventsMax: 30,
  });
  cluster.sim.watchdog = { ...raftWatchdog(options.nodes, chaosMs), ...options.watchdog };
  const random = setup;
  const acknowledged = new Map<number, string>();
  const pending: { index: number; command: string }[] = [];
  let faults = 0;
  let commandNo = 0;

  const fail = (broken: string, message: string): RaftSeedResult => ({
    seed,
    ok: false,
    broken,
    message,
    trace: cluster.recentTrace(),
    virtualMs: cluster.sim.nowMs(),
    committed: acknowledged.size,
    faults,
  });

  const chaosStep = (): void => {
    faults++;
    const ids = cluster.ids;
    const pick = random.next();
    const node = random.pick(ids);
    if (pick < 0.18) {
      if (cluster.isAlive(node)) cluster.crash(node);
    } else if (pick < 0.4) {
      for (const id of ids) if (!cluster.isAlive(id) && random.chance(0.7)) cluster.restart(id);
    } else if (pick < 0.52) {
      cluster.disconnect(node);
    } else if (pick < 0.62) {
      cluster.connect(node);
    } else if (pick < 0.72) {
      const shuffled = [...ids].sort(() => random.next() - 0.5);
      const cut = random.between(1, ids.length - 1);
      cluster.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    } else if (pick < 0.78) {
      const other = random.pick(ids.filter((id) => id !== node));
      cluster.net.block(node, other);
    } else if (pick < 0.9) {
      cluster.heal();
    } else if (pick < 0.95) {
      cluster.net.faults = random.chance(0.3) ? { ...reliableNetwork } : randomFaults(random);
    } else if (options.membershipChanges) {
      changeMembership();
    }
  };

  /** Removes a voter, or brings a removed server back empty, as a learner, under its old name. */
  const changeMembership = (): void => {
    const leader = cluster.leader();
    if (!leader) return;
    const status = cluster.status(leader)!;
    const missing = cluster.ids.filter((id) => !inMembership(status.membership, id));
    if (missing.length > 0) return readd(leader, missing[0]!);
    const victims = status.membership.voters.filter((id) => id !== leader);
    if (victims.length < 3) return;
    cluster.proposeMembership(leader, { op: "remove", node: random.pick(victims) });
  };

  const readd = (leader: NodeId, node: NodeId): void => {
    const status = cluster.status(leader)!;
    // Only once its removal is committed may the old server be replaced by an empty one.
    if (status.commit < status.membershipIndex) return;
    cluster.wipe(node);
    cluster.proposeMembership(leader, { op: "addLearner", node });
  };

  const clientStep = (): void => {
    const command = `c${seed}.${commandNo++}`;
    const leader = cluster.leader();
    const target = leader !== undefined && random.chance(0.8) ? leader : random.pick(cluster.ids);
    const result = cluster.propose(target, command);
    if (result.accepted) pending.push({ index: result.index, command });
  };

  /** A client sees its command committed when some node applied it at the index it was given. */
  const observeCommits = (): void => {
    for (let k = pending.length - 1; k >= 0; k--) {
      const { index, command } = pending[k]!;
      const applied = cluster.checkers?.committedAt(index);
      if (applied === undefined) continue;
      if (applied === `c:${command}`) acknowledged.set(index, command);
      pending.splice(k, 1);
    }
  };

  try {
    const endChaos = chaosMs;
    cluster.sim.every(random.between(150, 900), () => {
      if (cluster.sim.nowMs() >= endChaos) return false;
      chaosStep();
    });
    cluster.sim.every(random.between(15, 120), () => {
      if (cluster.sim.nowMs() >= endChaos) return false;
      clientStep();
      observeCommits();
    });
    cluster.runFor(chaosMs);

    // Heal everything and demand progress: a final command commits on every member.
    cluster.heal();
    cluster.net.faults = { ...reliableNetwork };
    for (const id of cluster.ids) if (!cluster.isAlive(id)) cluster.restart(id);
    const everyoneVotes = cluster.runUntil(() => {
      const leader = cluster.leader();
      if (!leader) return false;
      const status = cluster.status(leader)!;
      const missing = cluster.ids.filter((id) => !inMembership(status.membership, id));
      if (missing.length > 0) readd(leader, missing[0]!);
      return (
        status.membership.voters.length === cluster.ids.length &&
        status.commit >= status.membershipIndex
      );
    }, 60 * cluster.electionTimeoutMs);
    if (!everyoneVotes)
      return fail("liveness", "after healing, the removed servers did not become voters again");
    const finalCommand = `final${seed}`;
    try {
      cluster.one(finalCommand, cluster.ids.length);
    } catch (error) {
      return fail(
        "liveness",
        `after healing, no command committed on all ${cluster.ids.length} nodes: ${(error as Error).message}`,
      );
    }
    observeCommits();
    for (const [index, command] of acknowledged) {
      for (const id of cluster.ids) {
        const applied = cluster.appliedAt(id, index);
        if (applied !== command) {
          return fail(
            "acknowledged write lost",
            `${command} was committed at index ${index}, but ${id} applied ${JSON.stringify(applied)} there`,
          );
        }
      }
    }
  } catch (error) {
    if (error instanceof InvariantViolation) return fail(error.invariant, error.message);
    if (error instanceof SimulationStalled) return fail("stalled", error.message);
    return fail("crash", (error as Error).stack ?? String(error));
  }
  return {
    seed,
    ok: true,
    trace: [],
    virtualMs: cluster.sim.nowMs(),
    committed: acknowledged.size,
    faults,
  };
}
