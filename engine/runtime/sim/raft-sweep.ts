import { SeededRandom } from "../../core/index.ts";
import type { Random } from "../../core/index.ts";
import type { Membership, NodeId } from "../../raft/index.ts";
import { reliableNetwork } from "../../transport/index.ts";
import type { NetworkFaults } from "../../transport/index.ts";
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
  const run = new RaftSeedRun(seed, options);
  try {
    run.chaos(options.chaosMs ?? 30_000);
    return run.healAndCheck();
  } catch (error) {
    if (error instanceof InvariantViolation) return run.fail(error.invariant, error.message);
    if (error instanceof SimulationStalled) return run.fail("stalled", error.message);
    return run.fail("crash", (error as Error).stack ?? String(error));
  }
}

/** RaftSeedRun is one seed's cluster, schedule and client load (see runRaftSeed). */
class RaftSeedRun {
  private readonly cluster: RaftSimCluster;
  private readonly random: Random;
  private readonly acknowledged = new Map<number, string>();
  private readonly pending: { index: number; command: string }[] = [];
  private faults = 0;
  private commandNo = 0;

  constructor(
    private readonly seed: number,
    private readonly options: RaftSeedOptions,
  ) {
    // A separate stream chooses the schedule, so the cluster's own draws do not shift it.
    const setup: Random = new SeededRandom(seed ^ 0x5eed5eed);
    this.cluster = new RaftSimCluster({
      seed,
      nodes: options.nodes,
      faults: setup.chance(0.25) ? reliableNetwork : randomFaults(setup),
      snapshotEveryEntries: setup.pick([0, 10, 40]),
      ...(options.unsafe ? { unsafe: options.unsafe } : {}),
      traceEventsMax: 30,
    });
    this.random = setup;
    this.cluster.sim.watchdog = {
      ...raftWatchdog(options.nodes, options.chaosMs ?? 30_000),
      ...options.watchdog,
    };
  }

  fail(broken: string, message: string): RaftSeedResult {
    return {
      seed: this.seed,
      ok: false,
      broken,
      message,
      trace: this.cluster.recentTrace(),
      virtualMs: this.cluster.sim.nowMs(),
      committed: this.acknowledged.size,
      faults: this.faults,
    };
  }

  /** chaos runs faults and client load for `chaosMs` of virtual time. */
  chaos(chaosMs: number): void {
    const { cluster, random } = this;
    const endChaos = chaosMs;
    cluster.sim.every(random.between(150, 900), () => {
      if (cluster.sim.nowMs() >= endChaos) return false;
      this.chaosStep();
    });
    cluster.sim.every(random.between(15, 120), () => {
      if (cluster.sim.nowMs() >= endChaos) return false;
      this.clientStep();
      this.observeCommits();
    });
    cluster.runFor(chaosMs);
  }

  /**
   * healAndCheck heals everything and demands progress (a final command commits on every member),
   * then that every command a client saw committed is still where it was committed, everywhere.
   */
  healAndCheck(): RaftSeedResult {
    const cluster = this.cluster;
    cluster.heal();
    cluster.net.faults = { ...reliableNetwork };
    for (const id of cluster.ids) if (!cluster.isAlive(id)) cluster.restart(id);
    const everyoneVotes = cluster.runUntil(() => {
      const leader = cluster.leader();
      if (!leader) return false;
      const status = cluster.status(leader)!;
      const missing = cluster.ids.filter((id) => !inMembership(status.membership, id));
      if (missing.length > 0) this.readd(leader, missing[0]!);
      return (
        status.membership.voters.length === cluster.ids.length &&
        status.commit >= status.membershipIndex
      );
    }, 60 * cluster.electionTimeoutMs);
    if (!everyoneVotes)
      return this.fail(
        "liveness",
        "after healing, the removed servers did not become voters again",
      );
    const finalCommand = `final${this.seed}`;
    try {
      cluster.one(finalCommand, cluster.ids.length);
    } catch (error) {
      return this.fail(
        "liveness",
        `after healing, no command committed on all ${cluster.ids.length} nodes: ${(error as Error).message}`,
      );
    }
    this.observeCommits();
    for (const [index, command] of this.acknowledged) {
      for (const id of cluster.ids) {
        const applied = cluster.appliedAt(id, index);
        if (applied !== command) {
          return this.fail(
            "acknowledged write lost",
            `${command} was committed at index ${index}, but ${id} applied ${JSON.stringify(applied)} there`,
          );
        }
      }
    }
    return {
      seed: this.seed,
      ok: true,
      trace: [],
      virtualMs: cluster.sim.nowMs(),
      committed: this.acknowledged.size,
      faults: this.faults,
    };
  }

  private chaosStep(): void {
    const { cluster, random } = this;
    this.faults++;
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
    } else if (this.options.membershipChanges) {
      this.changeMembership();
    }
  }

  /** Removes a voter, or brings a removed server back empty, as a learner, under its old name. */
  private changeMembership(): void {
    const cluster = this.cluster;
    const leader = cluster.leader();
    if (!leader) return;
    const status = cluster.status(leader)!;
    const missing = cluster.ids.filter((id) => !inMembership(status.membership, id));
    if (missing.length > 0) return this.readd(leader, missing[0]!);
    const victims = status.membership.voters.filter((id) => id !== leader);
    if (victims.length < 3) return;
    cluster.proposeMembership(leader, { op: "remove", node: this.random.pick(victims) });
  }

  private readd(leader: NodeId, node: NodeId): void {
    const status = this.cluster.status(leader)!;
    // Only once its removal is committed may the old server be replaced by an empty one.
    if (status.commit < status.membershipIndex) return;
    this.cluster.wipe(node);
    this.cluster.proposeMembership(leader, { op: "addLearner", node });
  }

  private clientStep(): void {
    const { cluster, random } = this;
    const command = `c${this.seed}.${this.commandNo++}`;
    const leader = cluster.leader();
    const target = leader !== undefined && random.chance(0.8) ? leader : random.pick(cluster.ids);
    const result = cluster.propose(target, command);
    if (result.accepted) this.pending.push({ index: result.index, command });
  }

  /** A client sees its command committed when some node applied it at the index it was given. */
  private observeCommits(): void {
    const pending = this.pending;
    for (let k = pending.length - 1; k >= 0; k--) {
      const { index, command } = pending[k]!;
      const applied = this.cluster.checkers?.committedAt(index);
      if (applied === undefined) continue;
      if (applied === `c:${command}`) this.acknowledged.set(index, command);
      pending.splice(k, 1);
    }
  }
}
