/**
 * The worker runtime's host: WorkerCluster and the platform port its two adapters implement.
 * The adapters themselves (node-platform.ts, browser-platform.ts) are not re-exported here, so
 * importing the host never pulls one platform's code into the other's bundle.
 */
export { WorkerCluster } from "./worker-cluster.ts";
export type { TimedAnswer, WorkerClusterOptions, WorkerStorageKind } from "./worker-cluster.ts";
export type { HostPlatform, SpawnedWorker } from "./platform.ts";
