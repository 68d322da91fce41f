/**
 * What the host and a server's worker say to each other. Plain, structured-clone-safe types only:
 * the host imports this file, the worker implements it, and neither side's platform leaks in.
 *
 * Three channels connect them:
 * - Comlink over the worker itself: the control plane (init, connect a peer, faults, status,
 *   crash, shutdown), request/response only, as book-anchors §3 advises;
 * - the host port (one MessageChannel per worker): client requests in, responses and batched
 *   trace events with the latest status out — raw messages, because the data plane should not pay
 *   Comlink's per-call cost (baselines.md: ~2× a raw round trip in Node);
 * - one peer port per other server (one MessageChannel per pair, made by the host and transferred
 *   to both ends): envelopes between servers, never relayed through the host.
 */
import type { NodeTag } from "../../core/index.ts";
import type { DatabaseSummary } from "../../cluster/index.ts";
import type { ServerFailure, TimingOptions, TraceEvent } from "../../server/index.ts";
import type {
  LinkFaults,
  ServerRequest,
  ServerResponse,
  TimedResponse,
} from "../../transport/index.ts";
import type { ReplicationLimits } from "../../replication/index.ts";

/** StorageChoice says where a server keeps its data. */
export type StorageChoice =
  /** One folder per server (Node): the chapter's Data/1, Data/2 … */
  | { readonly kind: "fs"; readonly dir: string }
  /** One IndexedDB database per server (browser), named after the cluster and the server. */
  | { readonly kind: "indexeddb"; readonly cluster: string }
  /**
   * Memory inside the worker. A worker's memory dies with it, so the host keeps the disk across
   * a kill: crash() hands back what was synced and the next worker starts from `contents`.
   */
  | { readonly kind: "memory"; readonly contents?: StorageSnapshot };

/** StorageSnapshot is a memory disk's synced contents (store → key → value) between threads. */
export type StorageSnapshot = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

/** WorkerConfig starts one server inside its worker. */
export interface WorkerConfig {
  readonly url: string;
  readonly storage: StorageChoice;
  /** Seeds the server's randomness (election timeouts) and the link faults' loss draws. */
  readonly seed: number;
  readonly timing?: TimingOptions;
  readonly replicationLimits?: Partial<ReplicationLimits>;
  /** How often buffered trace events and a changed status are pushed to the host. */
  readonly statusIntervalMs: number;
  /** The worker's end of its host channel (transferred). */
  readonly hostPort: MessagePort;
}

/** WorkerStatus is a server as the host's describe() needs it. */
export interface WorkerStatus {
  readonly url: string;
  readonly tag: NodeTag;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeTag | null;
  /** The database records this server knows, by name; null while it knows no cluster. */
  readonly databases: readonly DatabaseSummary[] | null;
  /** The Raft index of the cluster state those records come from (0 without a cluster). */
  readonly appliedIndex: number;
  /** What changed in each hosted database's set of document ids (only databases that changed). */
  readonly documents: Readonly<Record<string, DocumentsChange>>;
  /** The databases this server hosts now (so the host can forget one that went away). */
  readonly hosted: readonly string[];
  /** Epoch ms on the worker's clock. */
  readonly atMs: number;
  /** Set when the server stopped by itself after a failed storage write (the host ends it). */
  readonly failure?: ServerFailure;
}

/**
 * DocumentsChange updates the host's copy of one database's document ids: `reset` replaces the
 * whole set (the first time, or when asked for everything), then ids are added and removed.
 * Changes travel instead of lists so that a push costs what changed, not what is stored.
 */
export interface DocumentsChange {
  readonly reset?: readonly string[];
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
}

/** StatusPush is the worker's periodic message on the host port. */
export interface StatusPush {
  readonly kind: "status";
  /** The whole status, when something in it other than document ids changed since the last push. */
  readonly status?: WorkerStatus;
  /** Otherwise only what changed in the document ids (the rest of the status is as last pushed). */
  readonly documents?: Readonly<Record<string, DocumentsChange>>;
  readonly events: readonly TraceEvent[];
  /** Set when the push answers the host's refresh request with this id. */
  readonly refreshed?: number;
}

/** HostBound is everything a worker posts on its host port. */
export type HostBound = StatusPush | TimedResponse;

/** WorkerResult carries a failure across Comlink with its code (a thrown error would lose it). */
export type WorkerResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * ServerWorkerApi is the control plane each server's worker exposes through Comlink.
 */
export interface ServerWorkerApi {
  /** init opens the storage, recovers the server and starts its tick; once per worker. */
  init(config: WorkerConfig): Promise<WorkerResult<WorkerStatus>>;
  /** connectPeer gives the server its end of the channel to `url` (replacing an older one). */
  connectPeer(url: string, port: MessagePort): void;
  /** setLinkFaults changes what this end does to traffic with `url` (or clientLink). */
  setLinkFaults(url: string, faults: LinkFaults): void;
  /** request answers one client request directly (the host port is the fast path). */
  request(request: ServerRequest): Promise<ServerResponse>;
  /** status returns the server's full status now (every database's ids as a reset). */
  status(): WorkerStatus;
  /**
   * crash stops the server the way a killed process stops: no more ticks or messages, the
   * storage crashes (unsynced writes are lost). For memory storage it returns the disk's synced
   * contents so the host can keep them for the restart.
   */
  crash(): Promise<StorageSnapshot | null>;
  /** shutdown stops gracefully: pushes what is buffered, waits for writes, closes the storage. */
  shutdown(): Promise<StorageSnapshot | null>;
  /**
   * failDisk makes the server's disk fail as after an I/O error (memory storage only): its next
   * write is refused and the server stops (fail-stop). False when the storage cannot be failed.
   */
  failDisk(cause: string): Promise<boolean>;
  /** pingPeer measures `count` round trips to `url` over the peer port, in ms each. */
  pingPeer(url: string, count: number): Promise<number[]>;
  /**
   * watchDocument resolves with the epoch ms at which document `id` of `database` became visible
   * here (at once if it is), or null after `timeoutMs`. Benchmarks measure replication lag with it.
   */
  watchDocument(database: string, id: string, timeoutMs: number): Promise<number | null>;
  /**
   * watchWrite is watchDocument that also returns when the version it saw was written (the
   * writer's clock at its transaction, full resolution), so lag can be measured from the write.
   */
  watchWrite(database: string, id: string, timeoutMs: number): Promise<WriteSeen | null>;
}

/** WriteSeen is when a document became readable on a server, and when its version was written. */
export interface WriteSeen {
  /** Epoch ms on the watching server's clock. */
  readonly visibleAtMs: number;
  /** Epoch ms on the clock of the server that wrote the version (its @last-modified, unrounded). */
  readonly writtenAtMs: number;
}
