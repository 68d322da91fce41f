/**
 * Opens the storage a server's worker was told to use and adapts it to the server's port. The fs
 * backend is not imported here: the Node worker entry (server-worker-node.ts) passes its opener
 * in, so nothing a browser loads can reach node:fs.
 */
import { RookeryError } from "../../core/index.ts";
import { MemoryDisk, openIndexedDbStorage, openMemoryStorage } from "../../storage/index.ts";
import type { Storage, StorageOperation, StorageWarning } from "../../storage/index.ts";
import type { ServerStorage, StorageWrite } from "../../server/index.ts";
import type { StorageChoice, StorageSnapshot } from "./protocol.ts";

/** Operations per batch when a memory disk is refilled from a snapshot (below the storage limit). */
const restoreBatchOperationsMax = 10_000;

/**
 * ServerStore is a server's storage as the worker handles it: the server's port, plus the two
 * ways a process ends.
 */
export interface ServerStore {
  readonly port: ServerStorage;
  /** crash stops at once (unsynced writes are lost); memory storage returns what it kept. */
  crash(): StorageSnapshot | null;
  /** close waits for queued writes, then releases the storage; memory returns what it kept. */
  close(): Promise<StorageSnapshot | null>;
}

/** OpenFsStorage opens a server's folder; only the Node worker entry has one. */
export type OpenFsStorage = (options: {
  readonly dir: string;
  readonly onWarning: (warning: StorageWarning) => void;
}) => Promise<Storage>;

/**
 * openServerStore opens `choice` for the server at `url`. Warnings from recovery (a torn tail cut
 * off) go to `onWarning`; a damaged store rejects with the backend's error (StorageCorrupt …).
 * `openFs` is the fs backend where there is one (Node); without it fs is refused.
 */
export async function openServerStore(
  choice: StorageChoice,
  url: string,
  onWarning: (warning: StorageWarning) => void,
  openFs: OpenFsStorage | undefined,
): Promise<ServerStore> {
  switch (choice.kind) {
    case "fs": {
      if (!openFs)
        throw new RookeryError(
          "InvalidStorage",
          'fs storage needs Node; in a browser use storage "indexeddb" (or "memory")',
        );
      return adapt(await openFs({ dir: choice.dir, onWarning }), null);
    }
    case "indexeddb":
      return adapt(await openIndexedDbStorage({ cluster: choice.cluster, server: url }), null);
    case "memory": {
      const disk = new MemoryDisk(url);
      const storage = openMemoryStorage({ disk });
      if (choice.contents) await restore(storage, choice.contents);
      return adapt(storage, disk);
    }
  }
}

async function restore(storage: Storage, contents: StorageSnapshot): Promise<void> {
  let batch: StorageWrite[] = [];
  for (const [store, entries] of contents) {
    for (const [key, value] of entries) {
      batch.push({ store, op: "put", key, value });
      if (batch.length === restoreBatchOperationsMax) {
        await storage.write(asOperations(batch));
        batch = [];
      }
    }
  }
  if (batch.length > 0) await storage.write(asOperations(batch));
}

// The server's writes are checked again by the storage at runtime (StorageValue), so the cast
// only bridges the server's `unknown` values to the storage's declared value type.
function asOperations(batch: readonly StorageWrite[]): readonly StorageOperation[] {
  return batch as unknown as readonly StorageOperation[];
}

function adapt(storage: Storage, disk: MemoryDisk | null): ServerStore {
  let crashed = false;
  const kept = (): StorageSnapshot | null => (disk ? disk.durable.contents() : null);
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
  };
}
