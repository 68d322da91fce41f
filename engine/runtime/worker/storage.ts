/**
 * Opens the storage a server's worker was told to use and adapts it to the server's port. The fs
 * backend is not imported here: the Node worker entry (server-worker-node.ts) passes its opener
 * in, so nothing a browser loads can reach node:fs.
 */
import { RookeryError } from "../../core/index.ts";
import { MemoryDisk, openIndexedDbStorage, openMemoryStorage } from "../../storage/index.ts";
import type { Storage, StorageWarning } from "../../storage/index.ts";
import type { StorageWrite } from "../../server/index.ts";
import { adaptStorage, asOperations } from "../server-store.ts";
import type { ServerStore } from "../server-store.ts";
import type { StorageChoice, StorageSnapshot } from "./protocol.ts";

export type { ServerStore };

/** Operations per batch when a memory disk is refilled from a snapshot (below the storage limit). */
const restoreBatchOperationsMax = 10_000;

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
      return adaptStorage(await openFs({ dir: choice.dir, onWarning }), null);
    }
    case "indexeddb":
      return adaptStorage(
        await openIndexedDbStorage({ cluster: choice.cluster, server: url }),
        null,
      );
    case "memory": {
      const disk = new MemoryDisk(url);
      const storage = openMemoryStorage({ disk });
      if (choice.contents) await restore(storage, choice.contents);
      return adaptStorage(storage, disk);
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
