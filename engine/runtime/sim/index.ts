export { Simulator } from "./simulator.ts";
// The simulated network lives with the other transports; simulations reach it from here too.
export { SimNetwork, reliableNetwork, unreliableNetwork } from "../../transport/index.ts";
export type { NetworkFaults, NetworkStats, Addressed } from "../../transport/index.ts";
export { RaftCheckers, InvariantViolation } from "./raft-checkers.ts";
export { RaftSimCluster } from "./raft-cluster.ts";
export type { RaftSimOptions, TraceEvent } from "./raft-cluster.ts";
export { runRaftSeed } from "./raft-sweep.ts";
export type { RaftSeedOptions, RaftSeedResult, SeedVerdict } from "./raft-sweep.ts";
export { SimCluster, SimStorage, serverUrl } from "./sim-cluster.ts";
export type { SimClusterOptions } from "./sim-cluster.ts";
export { runDbSeed } from "./db-sweep.ts";
export type { DbSeedOptions, DbSeedResult } from "./db-sweep.ts";
export { runFuzzSeed } from "./fuzz.ts";
export type { FuzzOptions, FuzzResult } from "./fuzz.ts";
