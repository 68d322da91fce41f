/** The client for Node: everything in the browser barrel plus the file-system topology cache. */
export * from "./index.ts";
export { FsTopologyCache } from "./cache-fs.ts";
