/**
 * Cluster for wherever it runs: in Node the worker host's Node adapter (threads, folders on disk),
 * in a browser the browser adapter. The Node adapter is imported through a specifier bundlers do
 * not follow, so a browser bundle never contains it (it imports node:fs and worker_threads); an
 * entry that must not even name it uses cluster-browser.ts.
 */
import { clusterStarter } from "./cluster.ts";
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

/** Cluster starts clusters; see ClusterHandle for what one can do. */
export const Cluster = clusterStarter(hostPlatform);
