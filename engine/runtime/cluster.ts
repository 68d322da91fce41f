import { RookeryError } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { ReplicationLimits } from "../replication/index.ts";
import type { TraceEvent } from "../server/index.ts";
import { WorkerCluster } from "./host/index.ts";
import type { HostPlatform } from "./host/index.ts";
import { SimCluster } from "./sim/index.ts";
import type { ClientNetwork, NetworkFaults, ServerSummary, TimingOptions } from "./sim/index.ts";

/** ClusterOptions choose where the servers live and how they behave (DESIGN.md §7). */
export interface ClusterOptions {
  /**
   * sim: one thread, virtual time (the default). worker: one Web Worker per server, real time.
   * process: one OS process per server on real HTTP, which RavenDB's own client can drive (Node).
   */
  readonly runtime?: "sim" | "worker" | "process";
  /** Fresh servers to start; each shows tag "?" until it joins a cluster. */
  readonly servers?: number;
  /**
   * Where servers keep their data. sim: memory only. worker: "fs" (Node's default; one folder
   * per server under dataDir), "indexeddb" (the browser's default; one database per server) or
   * "memory" (the host keeps each server's disk across a kill).
   */
  readonly storage?: "memory" | "fs" | "indexeddb";
  /** worker/process + fs: the data folder (DIR/1, DIR/2 …); a fresh temporary one when omitted. */
  readonly dataDir?: string;
  /** worker + indexeddb: the cluster's name in IndexedDB database names; fresh when omitted. */
  readonly name?: string;
  readonly seed?: number;
  readonly timing?: TimingOptions;
  /** sim only: the simulated network's latency, loss, duplication and reordering. */
  readonly faults?: NetworkFaults;
  readonly replicationLimits?: Partial<ReplicationLimits>;
  /**
   * process only: "loopback" puts server N on http://127.0.0.N:PORT (the chapter's addresses;
   * the default on Linux), "ports" on http://127.0.0.1:PORT+N-1 (the default elsewhere).
   */
  readonly addresses?: "loopback" | "ports";
  /** process only: the port, 8080 by default; "auto" finds one that is free on every address. */
  readonly port?: number | "auto";
  /** process only: the HTTP listener's limits (request body size, header and body timeouts). */
  readonly http?: {
    readonly requestBytesMax?: number;
    readonly headersTimeoutMs?: number;
    readonly requestTimeoutMs?: number;
  };
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
  waitFor(
    condition: (cluster: ClusterHandle) => boolean,
    options?: { readonly timeoutMs?: number; readonly what?: string },
  ): Promise<void>;
  runFor(durationMs: number): Promise<void>;
  nowMs(): number;
  describe(): ClusterDescription;
  on(event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void;
  stop(): Promise<void>;
}

function runsInNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return (
    typeof proc?.versions?.node === "string" &&
    typeof (globalThis as { window?: unknown }).window === "undefined"
  );
}

/**
 * hostPlatform loads the worker host's adapter for where this code runs. The Node adapter is
 * imported through a specifier bundlers do not follow, so a browser bundle never contains it
 * (it imports node:fs, worker_threads through web-worker, and the esbuild build script).
 */
async function hostPlatform(): Promise<HostPlatform> {
  if (runsInNode()) {
    const nodeAdapter = "./host/node-platform.ts";
    return (
      (await import(/* @vite-ignore */ nodeAdapter)) as typeof import("./host/node-platform.ts")
    ).nodePlatform;
  }
  return (await import("./host/browser-platform.ts")).browserPlatform;
}

/**
 * startProcessCluster loads the process runtime, through a specifier bundlers do not follow (it
 * needs node:child_process; a browser has no processes to start).
 */
async function startProcessCluster(
  options: ClusterOptions,
  servers: number,
): Promise<ClusterHandle> {
  if (!runsInNode())
    throw new RookeryError(
      "InvalidRuntime",
      'the process runtime starts operating-system processes, so it runs in Node only; in a browser use runtime "worker"',
    );
  if (options.storage !== undefined && options.storage !== "fs")
    throw new RookeryError(
      "InvalidStorage",
      `the process runtime keeps each server's data in its own folder; storage "${String(options.storage)}" is not available there (use "fs")`,
    );
  if (options.faults)
    throw new RookeryError(
      "InvalidOption",
      "faults describe the simulated network; in the process runtime use partition, isolate and heal",
    );
  const processRuntime = "./process/process-cluster.ts";
  const { ProcessCluster } = (await import(
    /* @vite-ignore */ processRuntime
  )) as typeof import("./process/process-cluster.ts");
  return (await ProcessCluster.start({
    servers,
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.timing ? { timing: options.timing } : {}),
    ...(options.replicationLimits ? { replicationLimits: options.replicationLimits } : {}),
    ...(options.addresses ? { addresses: options.addresses } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.http ? { http: options.http } : {}),
  })) as ClusterHandle;
}

/** Cluster starts clusters; see ClusterHandle for what one can do. */
export const Cluster = {
  async start(options: ClusterOptions = {}): Promise<ClusterHandle> {
    const runtime = options.runtime ?? "sim";
    if (runtime !== "sim" && runtime !== "worker" && runtime !== "process") {
      throw new RookeryError(
        "InvalidRuntime",
        `unknown runtime "${String(runtime)}"; use "sim", "worker" or "process"`,
      );
    }
    const servers = options.servers ?? 1;
    if (!Number.isInteger(servers) || servers < 1 || servers > 26) {
      throw new RookeryError(
        "InvalidServers",
        `servers must be a whole number from 1 to 26, got ${String(servers)}`,
      );
    }
    if (runtime !== "process" && (options.addresses || options.port !== undefined || options.http))
      throw new RookeryError(
        "InvalidOption",
        `addresses, port and http are for the process runtime; the ${runtime} runtime has no real addresses`,
      );
    if (runtime === "process") return await startProcessCluster(options, servers);
    if (runtime === "worker") {
      const storage = options.storage;
      if (
        storage !== undefined &&
        storage !== "fs" &&
        storage !== "memory" &&
        storage !== "indexeddb"
      ) {
        throw new RookeryError(
          "InvalidStorage",
          `unknown storage "${String(storage)}"; use "fs", "indexeddb" or "memory"`,
        );
      }
      if (options.faults) {
        throw new RookeryError(
          "InvalidOption",
          "faults describe the simulated network; in the worker runtime use partition, isolate and heal",
        );
      }
      const platform = await hostPlatform();
      return (await WorkerCluster.start({
        platform,
        servers,
        ...(storage ? { storage } : {}),
        ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.timing ? { timing: options.timing } : {}),
        ...(options.replicationLimits ? { replicationLimits: options.replicationLimits } : {}),
      })) as ClusterHandle;
    }
    const storage = options.storage ?? "memory";
    if (storage !== "memory") {
      throw new RookeryError(
        "InvalidStorage",
        `the sim runtime keeps its servers' data in memory; storage "${String(storage)}" is not available there`,
      );
    }
    if (options.dataDir !== undefined) {
      throw new RookeryError(
        "InvalidStorage",
        'the sim runtime keeps its servers\' data in memory; dataDir is for the worker runtime with storage "fs"',
      );
    }
    return new SimCluster({ ...options, servers }) as ClusterHandle;
  },
};

export type { NodeTag };
