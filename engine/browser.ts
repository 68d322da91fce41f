/**
 * rookery/browser: the same API as "rookery" for browser bundles. Worker clusters run native Web
 * Workers on IndexedDB, and no module reachable from here imports Node's (test/package checks).
 */
export { Cluster } from "./runtime/cluster-browser.ts";
export * from "./api.ts";
