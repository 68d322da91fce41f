/**
 * The entry of one server's worker in Node, run through the `web-worker` package: the browser's
 * entry plus fs storage (one folder per server). From a clone it runs bundled by
 * scripts/build-worker.mjs; from the installed package, as compiled.
 */
import { expose } from "comlink";
import { openFsStorage } from "../../storage/node.ts";
import { ServerRuntime } from "./server-runtime.ts";

// Under web-worker `globalThis` is a WorkerGlobalScope shim with the same postMessage and
// addEventListener as a browser worker's `self`: Comlink's default endpoint.
expose(new ServerRuntime(openFsStorage));
