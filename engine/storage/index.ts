/**
 * The Storage port and the backends a browser bundle may import: memory and IndexedDB. The fs
 * backend lives behind engine/storage/node.ts so that no browser bundle ever pulls in node:fs.
 */
export * from "./storage.ts";
export { decodeValue, encodeValue } from "./codec.ts";
export { MemoryDisk, MemoryStorage, openMemoryStorage } from "./memory.ts";
export type { MemoryCrashOptions, MemoryStorageOptions, MemorySyncMode } from "./memory.ts";
export {
  IndexedDbStorage,
  deleteIndexedDbStorage,
  indexedDbName,
  openIndexedDbStorage,
} from "./indexeddb.ts";
export type { IndexedDbStorageOptions } from "./indexeddb.ts";
