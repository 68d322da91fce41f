/**
 * What both package entries export besides Cluster: the client, errors and the types of the
 * public API (DESIGN.md §7). index.ts adds the Cluster that works anywhere; browser.ts the one
 * that never reaches Node's modules.
 */
export type {
  ClusterHandle,
  ClusterOptions,
  ClusterDescription,
  ClusterStarter,
} from "./runtime/cluster.ts";
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
