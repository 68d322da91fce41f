/**
 * Opens the storage a server's worker was told to use and adapts it to the server's port. The fs
 * backend is imported lazily so that a browser bundle of the worker never loads node:fs: a
 * browser never asks for fs, so the chunk that would need it is never fetched.
 */
import { MemoryDisk, openIndexedDbStorage, openMemoryStorage } from "../../storage/index.ts";
import type { Storage, StorageWarning } from "../../storage/index.ts";
import type { StorageWrite } from "../../server/index.ts";
import { adaptStorage, asOperations } from "../server-store.ts";
import type { ServerStore } from "../server-store.ts";
import type { StorageChoice, StorageSnapshot } from "./protocol.ts";

export type { ServerStore };

/** Operations per batch when a memory disk is refilled from a snapshot (below the storage limit). */
const restoreBatchOperationsMax = 10_000;

/**
 * openServerStore opens `choice` for the server at `url`. Warnings from recovery (a torn tail cut
 * off) go to `onWarning`; a damaged store rejects with the backend's error (StorageCorrupt …).
 */
export async function openServerStore(
  choice: StorageChoice,
  url: string,
  onWarning: (warning: StorageWarning) => void,
): Promise<ServerStore> {
  switch (choice.kind) {
    case "fs": {
      const { openFsStorage } = await import("../../storage/node.ts");
      return adaptStorage(await openFsStorage({ dir: choice.dir, onWarning }), null);
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
