/**
 * rookery: a RavenDB-style cluster you can run, break and watch (DESIGN.md §7). This is the
 * engine's one public entry: the book's playgrounds, the CLI, exercises and users import from here.
 */
export { Cluster } from "./runtime/cluster.ts";
export type { ClusterOptions } from "./runtime/cluster.ts";
export type {
  ClusterDescription,
  ClusterHandle,
  ServerSummary,
  WaitOptions,
} from "./runtime/handle.ts";
export { RookeryError, isRookeryError } from "./core/index.ts";
export type { NodeTag } from "./core/index.ts";
export type { DatabaseSummary } from "./cluster/index.ts";
export type {
  ServerRequest,
  ServerResponse,
  ServerError,
  DocumentView,
  TopologyView,
} from "./transport/index.ts";
export type { NetworkFaults } from "./transport/index.ts";
export type { TraceEvent, TimingOptions } from "./server/index.ts";
export {
  DocumentStore,
  MemoryTopologyCache,
  IndexedDbTopologyCache,
  type ClientNetwork,
  type DocumentStoreOptions,
  type DocumentSession,
  type DocumentConventions,
  type TopologyCache,
  type ClientEvent,
} from "./client/index.ts";
/** deleteIndexedDbStorage removes a stopped worker server's IndexedDB data (the browser's disk). */
export { deleteIndexedDbStorage } from "./storage/index.ts";
