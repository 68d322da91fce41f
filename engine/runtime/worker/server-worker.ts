/**
 * The entry of one server's Web Worker in a browser (Vite loads it from this TypeScript source;
 * the package ships it compiled): memory and IndexedDB storage, and nothing that needs Node. The
 * Node entry is server-worker-node.ts. It only exposes a ServerRuntime to the host through Comlink
 * on the worker's global scope; everything else happens in server-runtime.ts.
 */
import { expose } from "comlink";
import { ServerRuntime } from "./server-runtime.ts";

expose(new ServerRuntime());
