/**
 * The Rachis benchmark: commit throughput and latency in message delays, time to elect a new
 * leader after a crash in election timeouts, and how much faster than real time the simulator
 * runs a loaded five-node cluster — each against a limit measured in this same run.
 */
import { Simulator, RaftSimCluster } from "../../engine/runtime/sim/index.ts";
import type { NetworkFaults } from "../../engine/runtime/sim/index.ts";

const oneWayMs = 2;
const fixedLatency: NetworkFaults = {
  latencyMinMs: oneWayMs,
  latencyMaxMs: oneWayMs,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMaxMs: 0,
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function leaderOf(cluster: RaftSimCluster): string {
  cluster.runUntil(() => cluster.leader() !== undefined, 100 * cluster.electionTimeoutMs);
  const leader = cluster.leader();
  if (!leader) throw new Error("no leader");
  return leader;
}

/** Commit latency: proposal on the leader → applied on the leader, one proposal at a time. */
function commitLatency(nodes: number): { medianDelays: number; p99Delays: number } {
  const cluster = new RaftSimCluster({ seed: 1, nodes, faults: fixedLatency, checkers: false });
  const leader = leaderOf(cluster);
  cluster.runFor(500);
  const samples: number[] = [];
  for (let i = 0; i < 500; i++) {
    const start = cluster.sim.nowMs();
    const result = cluster.propose(leader, `w${i}`);
    if (!result.accepted) throw new Error("leader refused");
    cluster.runUntil(() => cluster.appliedIndex(leader) >= result.index, 1000);
    samples.push((cluster.sim.nowMs() - start) / oneWayMs);
    cluster.runFor(cluster.sim.random.between(1, 20));
  }
  samples.sort((a, b) => a - b);
  return { medianDelays: percentile(samples, 0.5), p99Delays: percentile(samples, 0.99) };
}

/** Throughput: a client keeps the leader busy; commits per simulated second and per wall second. */
function throughput(nodes: number): {
  commitsPerSimSecond: number;
  commitsPerWallSecond: number;
  simSpeed: number;
  deliveriesPerWallSecond: number;
} {
  const cluster = new RaftSimCluster({
    seed: 2,
    nodes,
    faults: { ...fixedLatency, latencyMinMs: 1, latencyMaxMs: 3 },
    checkers: true,
  });
  const leader = leaderOf(cluster);
  const durationMs = 20_000;
  const before = cluster.appliedIndex(leader);
  const deliveredBefore = cluster.net.stats.delivered;
  let n = 0;
  const startedWall = performance.now();
  cluster.sim.every(1, () => {
    // 100 proposals per simulated millisecond, refused when the uncommitted window is full.
    for (let k = 0; k < 100; k++) cluster.propose(leader, `load${n++}`);
    return cluster.sim.nowMs() < durationMs + 2000;
  });
  cluster.runFor(durationMs);
  const wallMs = performance.now() - startedWall;
  const commits = cluster.appliedIndex(leader) - before;
  return {
    commitsPerSimSecond: Math.round(commits / (durationMs / 1000)),
    commitsPerWallSecond: Math.round(commits / (wallMs / 1000)),
    simSpeed: Math.round(durationMs / wallMs),
    deliveriesPerWallSecond: Math.round(
      (cluster.net.stats.delivered - deliveredBefore) / (wallMs / 1000),
    ),
  };
}

/**
 * Simulator speed: a five-node cluster with 1% loss, checkers on, and a steady client. Rachis
 * carries cluster-wide operations (creating databases, topology changes), so 20 commands per
 * simulated second is a heavy load for it; 100 per second is reported too.
 */
function simulatorSpeed(commandsPerSecond: number): number {
  const cluster = new RaftSimCluster({
    seed: 3,
    nodes: 5,
    faults: { ...fixedLatency, latencyMinMs: 1, latencyMaxMs: 10, lossRate: 0.01 },
  });
  const leader = leaderOf(cluster);
  let n = 0;
  cluster.sim.every(1000 / commandsPerSecond, () => {
    cluster.propose(cluster.leader() ?? leader, `steady${n++}`);
  });
  const durationMs = 300_000;
  const started = performance.now();
  cluster.runFor(durationMs);
  return Math.round(durationMs / (performance.now() - started));
}

/** Failover: crash the leader, time until a new leader exists, in minimum election timeouts. */
function electionAfterCrash(
  nodes: number,
  trials: number,
): { medianTimeouts: number; p99Timeouts: number; maxTimeouts: number } {
  const samples: number[] = [];
  for (let seed = 1; seed <= trials; seed++) {
    const cluster = new RaftSimCluster({ seed, nodes, checkers: false });
    const old = leaderOf(cluster);
    cluster.runFor(cluster.sim.random.between(0, 1000));
    cluster.crash(old);
    const start = cluster.sim.nowMs();
    cluster.runUntil(() => {
      const now = cluster.leader();
      return now !== undefined && now !== old;
    }, 100 * cluster.electionTimeoutMs);
    samples.push((cluster.sim.nowMs() - start) / cluster.electionTimeoutMs);
  }
  samples.sort((a, b) => a - b);
  return {
    medianTimeouts: percentile(samples, 0.5),
    p99Timeouts: percentile(samples, 0.99),
    maxTimeouts: samples[samples.length - 1]!,
  };
}

/** The limit: how many empty events per wall second the simulator's queue itself runs. */
function rawEventRate(): number {
  const sim = new Simulator(1);
  const events = 2_000_000;
  for (let i = 0; i < 1000; i++) {
    const loop = (): void => sim.schedule(sim.random.next() * 10, loop);
    sim.schedule(i / 100, loop);
  }
  const started = performance.now();
  for (let i = 0; i < events; i++) sim.step();
  return Math.round(events / ((performance.now() - started) / 1000));
}

export function benchRaft(): Record<string, unknown> {
  const eventsPerWallSecond = rawEventRate();
  const latency3 = commitLatency(3);
  const latency5 = commitLatency(5);
  const load3 = throughput(3);
  const load5 = throughput(5);
  const election3 = electionAfterCrash(3, 200);
  const election5 = electionAfterCrash(5, 200);
  return {
    limit: { simulatorEventsPerWallSecond: eventsPerWallSecond, oneWayMessageDelayMs: oneWayMs },
    commitLatency: {
      nodes3: latency3,
      nodes5: latency5,
      unit: "one-way message delays, proposal → applied on the leader",
    },
    throughput: {
      nodes3: load3,
      nodes5: load5,
      deliveriesVsRawEventRate: Number(
        (load5.deliveriesPerWallSecond / eventsPerWallSecond).toFixed(3),
      ),
    },
    electionAfterLeaderCrash: {
      nodes3: election3,
      nodes5: election5,
      unit: "minimum election timeouts (300 ms)",
    },
    simulator: {
      unit: "simulated seconds per wall second, five nodes, 1% loss, checkers on",
      commands20PerSecond: simulatorSpeed(20),
      commands100PerSecond: simulatorSpeed(100),
      target: 1000,
    },
  };
}
