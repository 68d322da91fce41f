import type { NodeTag } from "../core/index.ts";
import type { ClientNetwork } from "../client/index.ts";
import type { DatabaseSummary } from "../cluster/index.ts";
import type { ReplicationLimits } from "../replication/index.ts";
import type { ServerFailure, TimingOptions, TraceEvent } from "../server/index.ts";

/** ServerSummary is one row of the cluster table (url, tag, role, leader, term). */
export interface ServerSummary {
  readonly url: string;
  readonly tag: NodeTag;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeTag | null;
  readonly alive: boolean;
  /** Why a server that is down stopped by itself (a failed storage write), until it restarts. */
  readonly failure?: ServerFailure;
}

/** ClusterDescription is cluster.describe(): plain JSON for printing, tests and the book. */
export interface ClusterDescription {
  /** The runtime's clock when described (virtual ms under sim, epoch ms with workers). */
  readonly atMs: number;
  readonly cluster: ServerSummary[];
  readonly leader: NodeTag | null;
  readonly term: number;
  readonly databases: DatabaseSummary[];
  /** Each running server's document ids per hosted database, by tag ("?" servers by URL). */
  readonly documents: Record<NodeTag, Record<string, string[]>>;
}

/** SiblingOptions describe a second cluster started on the first one's network. */
export interface SiblingOptions {
  readonly servers?: number;
  readonly timing?: TimingOptions;
  readonly replicationLimits?: Partial<ReplicationLimits>;
}

/** WaitOptions bound cluster.waitFor: how long (virtual ms under sim) and what, for the error. */
export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly what?: string;
}

/**
 * ClusterHandle is the one API the book, the CLI, exercises and tests use to run a cluster,
 * whatever the runtime: servers by URL and tag, kill and restart, partitions, waiting, describe.
 * Every runtime's cluster class declares that it implements it.
 */
export interface ClusterHandle {
  readonly urls: string[];
  readonly servers: ServerSummary[];
  readonly network: ClientNetwork;
  addServer(): Promise<string>;
  kill(tagOrUrl: string): Promise<void>;
  restart(tagOrUrl: string): Promise<void>;
  partition(groupA: readonly string[], groupB: readonly string[]): void;
  isolate(tagOrUrl: string): void;
  heal(): void;
  waitFor(condition: (cluster: ClusterHandle) => boolean, options?: WaitOptions): Promise<void>;
  runFor(durationMs: number): Promise<void>;
  nowMs(): number;
  describe(): ClusterDescription;
  on(event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void;
  /**
   * startSibling starts a second cluster on this one's network (the sim: same virtual clock and
   * faults; workers: the same host, a port between every pair of servers). Its servers are
   * http://127.0.1.1:8080, .2 …; it has its own tags and its own Rachis. An external replication
   * between the two crosses this network, so partition(a.urls, b.urls) cuts it.
   */
  startSibling?(options?: SiblingOptions): Promise<ClusterHandle>;
  stop(): Promise<void>;
}
