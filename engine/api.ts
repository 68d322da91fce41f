/**
 * What both package entries export besides Cluster: the client, errors and the types of the
 * public API (DESIGN.md §7). index.ts adds the Cluster that works anywhere; browser.ts the one
 * that never reaches Node's modules. The book's playgrounds, the CLI, exercises and users import
 * from these entries only.
 */
export type { ClusterOptions, ClusterStarter } from "./runtime/cluster.ts";
export type {
  ClusterDescription,
  ClusterHandle,
  DatabaseDescription,
  ExternalReplicationDescription,
  RachisSnapshot,
  ServerSummary,
  SiblingOptions,
  WaitOptions,
} from "./runtime/handle.ts";
export { RookeryError, isRookeryError, errorCodes } from "./core/index.ts";
export type { ErrorCode, NodeTag } from "./core/index.ts";
export type { DatabaseSummary } from "./cluster/index.ts";
export type {
  ServerRequest,
  ServerResponse,
  ServerError,
  DocumentView,
  TopologyView,
  OngoingTaskView,
  RevisionView,
  AttachmentView,
} from "./transport/index.ts";
export type { NetworkFaults } from "./transport/index.ts";
export type { TraceEvent, TimingOptions, RachisView, RachisEntryView } from "./server/index.ts";
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
  type ExternalReplicationOptions,
  type ModifyOngoingTaskResult,
} from "./client/index.ts";
/** deleteIndexedDbStorage removes a stopped worker server's IndexedDB data (the browser's disk). */
export { deleteIndexedDbStorage } from "./storage/index.ts";
