export { Simulator } from "./simulator.ts";
export { SimNetwork, reliableNetwork, unreliableNetwork } from "./network.ts";
export type { NetworkFaults, NetworkStats, Addressed } from "./network.ts";
export { RaftCheckers, InvariantViolation } from "./raft-checkers.ts";
export { RaftSimCluster } from "./raft-cluster.ts";
export type { RaftSimOptions, TraceEvent } from "./raft-cluster.ts";
export { runRaftSeed } from "./raft-sweep.ts";
export type { RaftSeedOptions, RaftSeedResult } from "./raft-sweep.ts";
