import { SeededRandom } from "../../core/index.ts";
import type { Random } from "../../core/index.ts";
import { reliableNetwork } from "../../transport/index.ts";
import type { NetworkFaults } from "../../transport/index.ts";
import { InvariantViolation } from "./raft-checkers.ts";
import { randomStorageFaults, reliableStorage } from "./sim-disk.ts";
import { RaftSimCluster } from "./raft-cluster.ts";
import { SimulationStalled } from "./simulator.ts";
import type { Watchdog } from "./simulator.ts";
import type { RaftSimOptions } from "./raft-cluster.ts";
import { MembershipWorkload, membershipRates } from "./raft-membership.ts";

/** RaftSeedOptions sets the size of one randomized run. */
export interface RaftSeedOptions {
  readonly nodes: 3 | 5;
  /** Virtual milliseconds of faults and load before the final heal. */
  readonly chaosMs?: number;
  /** Whether to change membership (see MembershipWorkload). */
  readonly membershipChanges?: boolean;
  /** Build nodes with a deliberate bug, to show the checkers catch it. */
  readonly unsafe?: RaftSimOptions["unsafe"];
  /** Bounds past which the seed counts as stalled (defaults: raftWatchdog). */
  readonly watchdog?: Partial<Watchdog>;
  /**
   * Whether the nodes' disks take time and fail (true): fsyncs of seeded latency, some slow or
   * failing (the node fail-stops), crashes that lose what was not synced or tear the last batch.
   */
  readonly storageFaults?: boolean;
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
  /** Simulator events the seed ran (what the watchdog bounds). */
  readonly events: number;
}

/** RaftSeedResult is the verdict on one Rachis seed. */
export interface RaftSeedResult extends SeedVerdict {
  readonly committed: number;
  readonly faults: number;
  /** Membership changes the workload proposed, and how many a leader accepted. */
  readonly membershipProposed: number;
  readonly membershipAccepted: number;
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

/** A failure found during the run, carried out of the simulator's loops. */
class SeedFailure extends Error {
  constructor(
    readonly broken: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * runRaftSeed runs one randomized schedule: a command load from clients while the network loses,
 * duplicates and reorders messages, partitions (both ways and one way), nodes crash and restart,
 * logs are compacted and, with membershipChanges, the configuration changes one server at a time
 * (MembershipWorkload). Then everything heals and the run must make progress again. The checkers
 * watch every step; at the end every command a client saw committed must still be where it was
 * committed, on every node.
 */
export function runRaftSeed(seed: number, options: RaftSeedOptions): RaftSeedResult {
  return new RaftSeedRun(seed, options).run();
}

class RaftSeedRun {
  /** A separate stream chooses the schedule, so the cluster's own draws do not shift it. */
  private readonly random: Random;
  private readonly cluster: RaftSimCluster;
  private readonly membership: MembershipWorkload | undefined;
  private readonly acknowledged = new Map<number, string>();
  private readonly pending: { index: number; command: string }[] = [];
  private faults = 0;
  private commandNo = 0;

  constructor(
    private readonly seed: number,
    private readonly options: RaftSeedOptions,
  ) {
    this.random = new SeededRandom(seed ^ 0x5eed5eed);
    const rates = options.membershipChanges ? membershipRates(this.random) : undefined;
    this.cluster = new RaftSimCluster({
      seed,
      nodes: options.nodes,
      faults: this.random.chance(0.25) ? reliableNetwork : randomFaults(this.random),
      snapshotEveryEntries: this.random.pick([0, 10, 40]),
      ...(rates ? { autoPromoteLearners: rates.autoPromote } : {}),
      ...(options.storageFaults === false
        ? {}
        : {
            storageFaults: this.random.chance(0.7)
              ? randomStorageFaults(this.random)
              : reliableStorage,
          }),
      ...(options.unsafe ? { unsafe: options.unsafe } : {}),
      traceEventsMax: 30,
    });
    this.membership = rates
      ? new MembershipWorkload(this.cluster, this.random, rates, options.nodes)
      : undefined;
  }

  run(): RaftSeedResult {
    const chaosMs = this.options.chaosMs ?? 30_000;
    this.cluster.sim.watchdog = {
      ...raftWatchdog(this.options.nodes, chaosMs),
      ...this.options.watchdog,
    };
    try {
      this.chaos(chaosMs);
      this.recover();
      this.checkAcknowledged();
    } catch (error) {
      if (error instanceof SeedFailure) return this.verdict(error.broken, error.message);
      if (error instanceof SimulationStalled) return this.verdict("stalled", error.message);
      if (error instanceof InvariantViolation) return this.verdict(error.invariant, error.message);
      return this.verdict("crash", (error as Error).stack ?? String(error));
    }
    return this.verdict();
  }

  /** chaos runs faults and client load together for `chaosMs` virtual milliseconds. */
  private chaos(chaosMs: number): void {
    const { cluster, random } = this;
    cluster.sim.every(random.between(150, 900), () => {
      if (cluster.sim.nowMs() >= chaosMs) return false;
      this.chaosStep();
    });
    this.membership?.start(chaosMs);
    // Some seeds keep the leader busy, some leave it mostly idle (a new leader then often knows
    // everything in its log committed, which is when a change right after an election is allowed).
    const clientEveryMs = random.chance(0.5) ? random.between(15, 120) : random.between(300, 2000);
    cluster.sim.every(clientEveryMs, () => {
      if (cluster.sim.nowMs() >= chaosMs) return false;
      this.clientStep();
      this.observeCommits();
    });
    cluster.runFor(chaosMs);
  }

  private chaosStep(): void {
    const { cluster, random } = this;
    this.faults++;
    const ids = cluster.serving();
    const pick = random.next();
    const node = random.pick(ids);
    const networkHeld = cluster.sim.nowMs() < (this.membership?.holdNetworkUntilMs ?? 0);
    if (networkHeld && pick >= 0.4 && pick < 0.9) return;
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
      this.membership?.afterPartition();
    } else if (pick < 0.78) {
      const other = random.pick(ids.filter((id) => id !== node));
      cluster.net.block(node, other);
    } else if (pick < 0.9) {
      cluster.heal();
    } else if (pick < 0.95) {
      cluster.net.faults = random.chance(0.3) ? { ...reliableNetwork } : randomFaults(random);
    } else {
      this.membership?.step();
    }
  }

  private clientStep(): void {
    const { cluster, random } = this;
    const command = `c${this.seed}.${this.commandNo++}`;
    const leader = cluster.leader();
    const target =
      leader !== undefined && random.chance(0.8) ? leader : random.pick(cluster.serving());
    const result = cluster.propose(target, command);
    if (result.accepted) this.pending.push({ index: result.index, command });
  }

  /** A client sees its command committed when some node applied it at the index it was given. */
  private observeCommits(): void {
    const { pending } = this;
    for (let k = pending.length - 1; k >= 0; k--) {
      const { index, command } = pending[k]!;
      const applied = this.cluster.checkers?.committedAt(index);
      if (applied === undefined) continue;
      if (applied === `c:${command}`) this.acknowledged.set(index, command);
      pending.splice(k, 1);
    }
  }

  /** recover heals everything and demands progress: every server votes, a command commits on all. */
  private recover(): void {
    const { cluster } = this;
    cluster.heal();
    cluster.net.faults = { ...reliableNetwork };
    cluster.storageFaults = { ...reliableStorage };
    for (const id of cluster.serving()) if (!cluster.isAlive(id)) cluster.restart(id);
    if (this.membership) {
      const everyoneVotes = cluster.runUntil(
        () => this.membership!.settle(),
        60 * cluster.electionTimeoutMs,
      );
      if (!everyoneVotes)
        throw new SeedFailure(
          "liveness",
          `after healing, the configuration did not get back to ${this.options.nodes} voters`,
        );
    }
    const everyone = cluster.serving().length;
    try {
      cluster.one(`final${this.seed}`, everyone);
    } catch (error) {
      if (error instanceof SimulationStalled) throw error;
      throw new SeedFailure(
        "liveness",
        `after healing, no command committed on all ${everyone} nodes: ${(error as Error).message}`,
      );
    }
    this.observeCommits();
  }

  /** Every command a client saw committed is applied where it was committed, on every node. */
  private checkAcknowledged(): void {
    for (const [index, command] of this.acknowledged) {
      for (const id of this.cluster.serving()) {
        const applied = this.cluster.appliedAt(id, index);
        if (applied !== command) {
          throw new SeedFailure(
            "acknowledged write lost",
            `${command} was committed at index ${index}, but ${id} applied ${JSON.stringify(applied)} there`,
          );
        }
      }
    }
  }

  private verdict(broken?: string, message?: string): RaftSeedResult {
    return {
      seed: this.seed,
      ok: broken === undefined,
      ...(broken !== undefined ? { broken, message: message ?? "" } : {}),
      trace: broken !== undefined ? this.cluster.recentTrace() : [],
      virtualMs: this.cluster.sim.nowMs(),
      events: this.cluster.sim.eventsRun,
      committed: this.acknowledged.size,
      faults: this.faults,
      membershipProposed: this.membership?.changesProposed ?? 0,
      membershipAccepted: this.membership?.changesAccepted ?? 0,
    };
  }
}
