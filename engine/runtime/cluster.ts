import { quote, RookeryError } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { ReplicationLimits } from "../replication/index.ts";
import type { TimingOptions } from "../server/index.ts";
import type { NetworkFaults } from "../transport/index.ts";
import type { ClusterHandle } from "./handle.ts";
import { WorkerCluster } from "./host/index.ts";
import type { HostPlatform } from "./host/index.ts";

export type { ClusterDescription, ClusterHandle } from "./handle.ts";

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
  /**
   * worker + fs + dataDir: what to do with data an earlier run left in dataDir. true wipes the
   * servers' folders and starts fresh servers; false recovers those servers; omitted, start
   * refuses with ExistingData. Elsewhere every cluster is fresh and this changes nothing.
   */
  readonly fresh?: boolean;
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

/** ClusterStarter starts clusters; see ClusterHandle for what one can do. */
export interface ClusterStarter {
  start(options?: ClusterOptions): Promise<ClusterHandle>;
}

/**
 * StartProcesses starts a process cluster (validated options, a checked server count); only an
 * entry that can run in Node has one.
 */
export type StartProcesses = (options: ClusterOptions, servers: number) => Promise<ClusterHandle>;

/**
 * clusterStarter makes `Cluster` for one place: `loadPlatform` loads the worker host's adapter
 * (only when a worker cluster starts), so an entry for browsers never reaches the Node adapter
 * (cluster-browser.ts) while the universal one picks at run time (cluster-any.ts).
 * `startProcesses` runs the process runtime where there is one.
 */
export function clusterStarter(
  loadPlatform: () => Promise<HostPlatform>,
  startProcesses?: StartProcesses,
): ClusterStarter {
  return { start: (options = {}) => startCluster(options, loadPlatform, startProcesses) };
}

async function startCluster(
  options: ClusterOptions,
  loadPlatform: () => Promise<HostPlatform>,
  startProcesses: StartProcesses | undefined,
): Promise<ClusterHandle> {
  const runtime = options.runtime ?? "sim";
  if (runtime !== "sim" && runtime !== "worker" && runtime !== "process") {
    throw new RookeryError(
      "InvalidRuntime",
      `unknown runtime ${quote(String(runtime))}; use "sim", "worker" or "process"`,
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
  if (runtime === "process") {
    if (!startProcesses)
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
    return await startProcesses(options, servers);
  }
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
        `unknown storage ${quote(String(storage))}; use "fs", "indexeddb" or "memory"`,
      );
    }
    if (options.faults) {
      throw new RookeryError(
        "InvalidOption",
        "faults describe the simulated network; in the worker runtime use partition, isolate and heal",
      );
    }
    const platform = await loadPlatform();
    return await WorkerCluster.start({
      platform,
      servers,
      ...(storage ? { storage } : {}),
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.fresh !== undefined ? { fresh: options.fresh } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.timing ? { timing: options.timing } : {}),
      ...(options.replicationLimits ? { replicationLimits: options.replicationLimits } : {}),
    });
  }
  const storage = options.storage ?? "memory";
  if (storage !== "memory") {
    throw new RookeryError(
      "InvalidStorage",
      `the sim runtime keeps its servers' data in memory; storage ${quote(String(storage))} is not available there`,
    );
  }
  if (options.dataDir !== undefined) {
    throw new RookeryError(
      "InvalidStorage",
      'the sim runtime keeps its servers\' data in memory; dataDir is for the worker runtime with storage "fs"',
    );
  }
  const { fresh: _fresh, addresses: _addresses, port: _port, http: _http, ...simOptions } = options;
  // Imported here, so a page that only runs workers never loads the simulator.
  const { SimCluster } = await import("./sim/sim-cluster.ts");
  return new SimCluster({ ...simOptions, servers });
}

export type { NodeTag };
