import "./describe.ts";

export * from "./types.ts";
export { RawNode, quorum, applyMembershipChange } from "./raw-node.ts";
export type { RaftConfig } from "./raw-node.ts";
export { MemoryRaftStorage } from "./storage.ts";
export { describeEntry } from "./describe.ts";
export { emptySnapshot, emptyMembership, entryBytes } from "./log.ts";
