/**
 * The adapter between a Storage backend and the port a Server needs, shared by every runtime
 * (sim, worker, process), so that a server writes and recovers through the same code wherever it
 * runs, and a kill means the same thing everywhere.
 */
import { MemoryStorage } from "../storage/index.ts";
import type { MemoryDisk, Storage, StorageOperation } from "../storage/index.ts";
import type { ServerStorage, StorageWrite } from "../server/index.ts";

/** DiskContents is a memory disk's synced contents: store name → key → value. */
export type DiskContents = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

/**
 * ServerStore is a server's storage as its runtime handles it: the server's port, plus the two
 * ways a process ends.
 */
export interface ServerStore {
  readonly port: ServerStorage;
  /** crash stops at once (unsynced writes are lost); memory storage returns what it kept. */
  crash(): DiskContents | null;
  /** close waits for queued writes, then releases the storage; memory returns what it kept. */
  close(): Promise<DiskContents | null>;
  /**
   * failDisk makes the disk fail as after an I/O error (memory storage only: it refuses every
   * write from now on, as fs does after a failed fsync); false when the backend cannot.
   */
  failDisk(cause: string): boolean;
}

// The server's writes are checked again by the storage at runtime (StorageValue), so the cast
// only bridges the server's `unknown` values to the storage's declared value type.
export function asOperations(batch: readonly StorageWrite[]): readonly StorageOperation[] {
  return batch as unknown as readonly StorageOperation[];
}

/**
 * adaptStorage gives a server `storage` as its port. A write that fails reaches the server as a
 * rejection (it fail-stops); once the runtime crashed the store, unfinished writes neither
 * succeed nor fail, as in a killed process. `disk` is the memory disk behind a memory backend,
 * whose synced contents crash and close return.
 */
export function adaptStorage(storage: Storage, disk: MemoryDisk | null): ServerStore {
  let crashed = false;
  const kept = (): DiskContents | null => (disk ? disk.durable.contents() : null);
  return {
    port: {
      write: (batch) =>
        storage.write(asOperations(batch)).catch((error: unknown) => {
          // A crashed process does nothing more: its unfinished writes neither succeed nor fail.
          if (crashed) return new Promise<void>(() => {});
          throw error;
        }),
      load: () => storage.load(),
    },
    crash: () => {
      crashed = true;
      storage.crash();
      return kept();
    },
    close: async () => {
      await storage.close();
      return kept();
    },
    failDisk: (cause) => {
      if (!(storage instanceof MemoryStorage)) return false;
      storage.fail(cause);
      return true;
    },
  };
}
