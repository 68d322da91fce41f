export { Server } from "./server.ts";
export type * from "./ports.ts";
export { serverTimingDefault, withTiming } from "./timing.ts";
export type { ServerTiming, TimingOptions } from "./timing.ts";
export { HostedDatabase, databaseStore, databaseKey, instanceSettings } from "./hosted-database.ts";
export { RaftStore, raftLogStore, raftStateStore } from "./raft-store.ts";
