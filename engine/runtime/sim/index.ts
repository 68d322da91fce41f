export { Simulator, SimulationStalled } from "./simulator.ts";
export type { Watchdog } from "./simulator.ts";
// The simulated network lives with the other transports; simulations reach it from here too.
export { SimNetwork, reliableNetwork, unreliableNetwork } from "../../transport/index.ts";
export type { NetworkFaults, NetworkStats, Addressed } from "../../transport/index.ts";
export { RaftCheckers, InvariantViolation } from "./raft-checkers.ts";
export { RaftSimCluster } from "./raft-cluster.ts";
export type { RaftSimOptions, TraceEvent } from "./raft-cluster.ts";
export { raftWatchdog, runRaftSeed } from "./raft-sweep.ts";
export type { RaftSeedOptions, RaftSeedResult, SeedVerdict } from "./raft-sweep.ts";
export { SimCluster, serverUrl } from "./sim-cluster.ts";
export { SimDisk, randomStorageFaults, reliableStorage } from "./sim-disk.ts";
export type { SimDiskStats, StorageFaults } from "./sim-disk.ts";
export type { SiblingOptions, SimClusterOptions } from "./sim-cluster.ts";
export { dbWatchdog, runDbSeed } from "./db-sweep.ts";
export type { DbSeedOptions, DbSeedResult } from "./db-sweep.ts";
export { replayCommand } from "./replay.ts";
export type { ReplayOptions } from "./replay.ts";
