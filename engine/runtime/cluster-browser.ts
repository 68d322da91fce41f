/**
 * Cluster for browsers only: worker clusters run native Web Workers with IndexedDB storage, and
 * nothing here can reach Node's modules (the package's "rookery/browser" entry).
 */
import { clusterStarter } from "./cluster.ts";

/** Cluster starts clusters; see ClusterHandle for what one can do. */
export const Cluster = clusterStarter(
  async () => (await import("./host/browser-platform.ts")).browserPlatform,
);
