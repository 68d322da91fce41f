/**
 * The entry of one server's Web Worker, the same file in the browser (loaded by Vite from this
 * TypeScript source) and in Node (bundled to dist/server-worker.js by scripts/build-worker.mjs
 * and run through the `web-worker` package). It only exposes a ServerRuntime to the host through
 * Comlink on the worker's global scope; everything else happens in server-runtime.ts.
 */
import { expose } from "comlink";
import { ServerRuntime } from "./server-runtime.ts";

// In a browser worker the global scope is `self`; under web-worker in Node `globalThis` is a
// WorkerGlobalScope shim with the same postMessage/addEventListener, Comlink's default endpoint.
expose(new ServerRuntime());
