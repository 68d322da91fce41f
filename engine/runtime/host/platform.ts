/**
 * HostPlatform is what the worker host needs from the place it runs: how to spawn a server's
 * worker, and where data folders live. Two adapters implement it, one file each:
 * node-platform.ts (web-worker over worker_threads, the bundled worker entry, folders on disk)
 * and browser-platform.ts (native module workers from the TypeScript source, IndexedDB).
 */
import type { Endpoint } from "comlink";

/** SpawnedWorker is one running worker as the host controls it. */
export interface SpawnedWorker {
  /** The worker as a Comlink endpoint (postMessage with transfer, message listeners). */
  readonly endpoint: Endpoint;
  /** terminate stops the thread at once and resolves when it is gone. */
  terminate(): Promise<void>;
  /** onExit calls back once when the worker dies by itself (an uncaught error), not on terminate. */
  onExit(listener: (reason: string) => void): void;
}

/** HostPlatform adapts the host to Node or the browser. */
export interface HostPlatform {
  readonly name: "node" | "browser";
  /** The storage a worker cluster uses when the caller names none. */
  readonly defaultStorage: "fs" | "indexeddb";
  /** spawn starts one server worker (not yet initialised); `name` shows in debuggers. */
  spawn(name: string): Promise<SpawnedWorker>;
  /** serverDir is the folder of server number `index` (0-based) under `dataDir`: DIR/1, DIR/2 … */
  serverDir(dataDir: string, index: number): string;
  /** makeTempDataDir creates a fresh, empty data folder for a cluster that was given none. */
  makeTempDataDir(): Promise<string>;
  /** removeDataDir deletes a data folder the host created itself. */
  removeDataDir(dataDir: string): Promise<void>;
  /**
   * serversWithData lists the servers (0-based, ascending) whose folders under `dataDir` hold data
   * from an earlier run; none when the folder does not exist yet. A `dataDir` that is a file is
   * refused with StorageNotDirectory.
   */
  serversWithData(dataDir: string): Promise<number[]>;
  /** removeServerDirs deletes those servers' folders (fresh: true), and nothing else in dataDir. */
  removeServerDirs(dataDir: string, indexes: readonly number[]): Promise<void>;
}
