/**
 * rookery: a RavenDB-style cluster you can run, break and watch (DESIGN.md §7).
 */
export { Cluster } from "./runtime/cluster.ts";
export type { ClusterHandle, ClusterOptions, ClusterDescription } from "./runtime/cluster.ts";
export { RookeryError, isRookeryError } from "./core/index.ts";
export type {
  ServerRequest,
  ServerResponse,
  TraceEvent,
  DocumentView,
  TopologyView,
} from "./server/index.ts";
export type { ClientNetwork, ServerSummary } from "./runtime/sim/index.ts";
export {
  DocumentStore,
  MemoryTopologyCache,
  IndexedDbTopologyCache,
  type DocumentStoreOptions,
  type DocumentSession,
  type DocumentConventions,
  type TopologyCache,
  type ClientEvent,
} from "./client/index.ts";
