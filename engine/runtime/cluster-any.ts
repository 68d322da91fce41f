/**
 * Cluster for wherever it runs: in Node the worker host's Node adapter (threads, folders on disk),
 * in a browser the browser adapter. The Node adapter is imported through a specifier bundlers do
 * not follow, so a browser bundle never contains it (it imports node:fs and worker_threads); an
 * entry that must not even name it uses cluster-browser.ts.
 */
import { RookeryError } from "../core/index.ts";
import { clusterStarter } from "./cluster.ts";
import type { ClusterHandle, StartProcesses } from "./cluster.ts";
import type { HostPlatform } from "./host/index.ts";

function runsInNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return (
    typeof proc?.versions?.node === "string" &&
    typeof (globalThis as { window?: unknown }).window === "undefined"
  );
}

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
 * startProcesses loads the process runtime in Node, through a specifier bundlers do not follow (it
 * needs node:child_process); in a browser there are no processes to start.
 */
const startProcesses: StartProcesses = async (options, servers) => {
  if (!runsInNode())
    throw new RookeryError(
      "InvalidRuntime",
      'the process runtime starts operating-system processes, so it runs in Node only; in a browser use runtime "worker"',
    );
  const processRuntime = "./process/process-cluster.ts";
  const { ProcessCluster } = (await import(
    /* @vite-ignore */ processRuntime
  )) as typeof import("./process/process-cluster.ts");
  return (await ProcessCluster.start({
    servers,
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.fresh !== undefined ? { fresh: options.fresh } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.timing ? { timing: options.timing } : {}),
    ...(options.replicationLimits ? { replicationLimits: options.replicationLimits } : {}),
    ...(options.addresses ? { addresses: options.addresses } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.http ? { http: options.http } : {}),
  })) as ClusterHandle;
};

/** Cluster starts clusters; see ClusterHandle for what one can do. */
export const Cluster = clusterStarter(hostPlatform, startProcesses);
