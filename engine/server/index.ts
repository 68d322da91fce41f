export { Server, describeOperation } from "./server.ts";
export type { ServerOptions } from "./server.ts";
export * from "./protocol.ts";
export type * from "./ports.ts";
export { serverTimingDefault, withTiming } from "./timing.ts";
export type { ServerTiming } from "./timing.ts";
export { HostedDatabase, databaseStore, databaseKey, instanceSettings } from "./hosted-database.ts";
export { RaftStore, raftLogStore, raftStateStore } from "./raft-store.ts";
