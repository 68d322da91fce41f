export { Simulator, SimulationStalled } from "./simulator.ts";
export type { Watchdog } from "./simulator.ts";
export { SimNetwork, reliableNetwork, unreliableNetwork } from "./network.ts";
export type { NetworkFaults, NetworkStats, Addressed } from "./network.ts";
export { RaftCheckers, InvariantViolation } from "./raft-checkers.ts";
export { RaftSimCluster } from "./raft-cluster.ts";
export type { RaftSimOptions, TraceEvent } from "./raft-cluster.ts";
export { runRaftSeed, raftWatchdog } from "./raft-sweep.ts";
export type { RaftSeedOptions, RaftSeedResult, SeedVerdict } from "./raft-sweep.ts";
export { SimCluster, SimStorage, serverUrl } from "./sim-cluster.ts";
export type {
  SimClusterOptions,
  ServerSummary,
  ClientNetwork,
  TimingOptions,
} from "./sim-cluster.ts";
export { dbWatchdog, runDbSeed } from "./db-sweep.ts";
export type { DbSeedOptions, DbSeedResult } from "./db-sweep.ts";
export { replayCommand } from "./replay.ts";
export type { ReplayOptions } from "./replay.ts";
