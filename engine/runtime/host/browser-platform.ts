/**
 * The host's browser adapter: native module workers loaded from the worker's TypeScript source
 * (Vite recognises exactly this `new Worker(new URL(…, import.meta.url), …)` form and bundles
 * the worker), IndexedDB storage. There are no data folders in a browser.
 */
import { RookeryError } from "../../core/index.ts";
import type { Endpoint } from "comlink";
import type { HostPlatform, SpawnedWorker } from "./platform.ts";

function noFolders(): never {
  throw new RookeryError(
    "InvalidStorage",
    'a browser has no data folders: use storage "indexeddb" (or "memory")',
  );
}

/** browserPlatform runs each server in a native Web Worker. */
export const browserPlatform: HostPlatform = {
  name: "browser",
  defaultStorage: "indexeddb",

  async spawn(name: string): Promise<SpawnedWorker> {
    const worker = new Worker(new URL("../worker/server-worker.ts", import.meta.url), {
      type: "module",
      name,
    });
    let terminated = false;
    let exitListener: ((reason: string) => void) | undefined;
    // A browser worker does not exit on an uncaught error; an error while loading the module
    // (or an uncaught exception) is reported here, and the host treats the server as crashed.
    worker.addEventListener("error", (event: ErrorEvent) => {
      if (!terminated) exitListener?.(event.message || "the worker failed");
    });
    return {
      endpoint: worker as unknown as Endpoint,
      async terminate() {
        terminated = true;
        worker.terminate();
      },
      onExit(listener) {
        exitListener = listener;
      },
    };
  },

  serverDir: noFolders,
  makeTempDataDir: async () => noFolders(),
  removeDataDir: async () => noFolders(),
  serversWithData: async () => noFolders(),
  removeServerDirs: async () => noFolders(),
};
