/**
 * Everything in engine/storage/index.ts plus the fs backend, for Node (CLI, Node workers, tests).
 * Kept apart so a browser bundle that imports the storage barrel never reaches node:fs.
 */
export * from "./index.ts";
export { FsStorage, fsStorageTuning, logFileName, openFsStorage } from "./fs.ts";
export type { FsCompactionReport, FsRecoveryReport, FsStorageOptions } from "./fs.ts";
