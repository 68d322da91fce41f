/**
 * The client (browser-safe barrel): DocumentStore, sessions, maintenance, topology caches. The
 * file-system cache is in ./node.ts so that nothing here imports node:fs.
 */
export { DocumentStore } from "./document-store.ts";
export type { DocumentStoreOptions } from "./document-store.ts";
export { DocumentSession, SessionAdvanced } from "./session.ts";
export type { WaitForReplicationOptions, SessionMetadata } from "./session.ts";
export { MaintenanceOperations } from "./maintenance.ts";
export type {
  CreateDatabaseOptions,
  OperationResult,
  ClusterTopologyView,
  ExternalReplicationOptions,
  ModifyOngoingTaskResult,
} from "./maintenance.ts";
export { RequestExecutor } from "./request-executor.ts";
export type { ClientEvent, ExecuteOptions, Served } from "./request-executor.ts";
export { NodeSelector, serverNodes } from "./node-selector.ts";
export type { ServerNode, NodeHealth, NodeRole, FastestNodeRules } from "./node-selector.ts";
export { conventionDefaults, resolveConventions } from "./conventions.ts";
export type { DocumentConventions, ReadBalance, ResolvedConventions } from "./conventions.ts";
export { MemoryTopologyCache, topologyCacheKey } from "./cache.ts";
export type { TopologyCache } from "./cache.ts";
export { IndexedDbTopologyCache } from "./cache-indexeddb.ts";
export type { IndexedDbTopologyCacheOptions } from "./cache-indexeddb.ts";
export { ClientErrorCodes } from "./errors.ts";
export type { NodeFailure } from "./errors.ts";
export { isFailoverCode } from "./network.ts";
export type { ClientNetwork } from "./network.ts";
