/**
 * What the host needs to know about a server's worker: the protocol types. The entry itself
 * (server-worker.ts) is loaded as a worker, never imported.
 */
export * from "./protocol.ts";
