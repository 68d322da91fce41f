import { RookeryError } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { ReplicationLimits } from "../replication/index.ts";
import type { TraceEvent } from "../server/index.ts";
import { SimCluster } from "./sim/index.ts";
import type { ClientNetwork, NetworkFaults, ServerSummary, TimingOptions } from "./sim/index.ts";

/** ClusterOptions choose where the servers live and how they behave (DESIGN.md §7). */
export interface ClusterOptions {
  /** sim: one thread, virtual time. */
  readonly runtime?: "sim";
  /** Fresh servers to start; each shows tag "?" until it joins a cluster. */
  readonly servers?: number;
  readonly storage?: "memory";
  readonly seed?: number;
  readonly timing?: TimingOptions;
  readonly faults?: NetworkFaults;
  readonly replicationLimits?: Partial<ReplicationLimits>;
}

/** ClusterDescription is cluster.describe(): plain JSON for printing, tests and the book. */
export type ClusterDescription = ReturnType<SimCluster["describe"]>;

/**
 * ClusterHandle is the one API the book, the CLI, exercises and tests use to run a cluster,
 * whatever the runtime: servers by URL and tag, kill and restart, partitions, waiting, describe.
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
  waitFor(condition: (cluster: ClusterHandle) => boolean, options?: { readonly timeoutMs?: number; readonly what?: string }): Promise<void>;
  runFor(durationMs: number): Promise<void>;
  nowMs(): number;
  describe(): ClusterDescription;
  on(event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void;
  stop(): Promise<void>;
}

/** Cluster starts clusters; see ClusterHandle for what one can do. */
export const Cluster = {
  async start(options: ClusterOptions = {}): Promise<ClusterHandle> {
    const runtime = options.runtime ?? "sim";
    if (runtime !== "sim") {
      throw new RookeryError("InvalidRuntime", `unknown runtime "${String(runtime)}"; use "sim"`);
    }
    const storage = options.storage ?? "memory";
    if (storage !== "memory") {
      throw new RookeryError("InvalidStorage", `the sim runtime keeps its servers' data in memory; storage "${String(storage)}" is not available there`);
    }
    const servers = options.servers ?? 1;
    if (!Number.isInteger(servers) || servers < 1 || servers > 26) {
      throw new RookeryError("InvalidServers", `servers must be a whole number from 1 to 26, got ${String(servers)}`);
    }
    return new SimCluster({ ...options, servers }) as ClusterHandle;
  },
};

export type { NodeTag };
