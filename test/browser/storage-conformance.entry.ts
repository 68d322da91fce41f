/**
 * The storage conformance suite against Chromium's real IndexedDB. esbuild bundles this file with
 * "vitest" aliased to mini-vitest.ts; the browser test injects the bundle into a page of the book
 * and reads window.rookeryConformance.
 */
import { deleteIndexedDbStorage, openIndexedDbStorage } from "../../engine/storage/index.ts";
import type { StorageLimits } from "../../engine/storage/index.ts";
import { runStorageConformance } from "../storage/conformance.ts";
import { run } from "./mini-vitest.ts";

const server = "http://127.0.0.1:8080";
let next = 0;

runStorageConformance(
  "indexeddb (Chromium)",
  () => {
    // A fresh cluster name per test is a fresh database: nothing leaks between tests.
    const cluster = `conformance-${Date.now().toString(36)}-${next++}`;
    return {
      open: (limits?: Partial<StorageLimits>) =>
        openIndexedDbStorage({ cluster, server, ...(limits ? { limits } : {}) }),
      cleanup: () => deleteIndexedDbStorage(cluster, server),
    };
  },
  { groupsConcurrentWrites: true },
);

(globalThis as { rookeryConformance?: ReturnType<typeof run> }).rookeryConformance = run();
