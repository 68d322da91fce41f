import "./describe.ts";

export * from "./types.ts";
export { RawNode, quorum, applyMembershipChange } from "./raw-node.ts";
export type { RaftConfig } from "./raw-node.ts";
export { raftLimits, raftTiming, assertRaftLimits, assertRaftTiming } from "./limits.ts";
export type { RaftLimits, RaftTiming } from "./limits.ts";
export { MemoryRaftStorage } from "./storage.ts";
export {
  describeEntries,
  describeEntry,
  describeLog,
  describeMembership,
  describeReady,
  describeSnapshot,
  describeStatus,
} from "./describe.ts";
export { emptySnapshot, emptyMembership, entryBytes } from "./log.ts";
