/**
 * rookery: a RavenDB-style cluster you can run, break and watch (DESIGN.md §7). This entry works
 * in Node and in browsers: a worker cluster picks its host adapter where it runs. Browser
 * bundles that must not even name Node's modules import "rookery/browser" (browser.ts).
 */
export { Cluster } from "./runtime/cluster-any.ts";
export * from "./api.ts";
