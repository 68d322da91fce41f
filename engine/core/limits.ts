/**
 * Limits that belong to no single layer. Every queue and message in the engine is bounded by a
 * named limit, with its unit as the last word of its name; each layer declares its own in its
 * limits module (engine/raft/limits.ts, engine/replication/limits.ts …).
 */

/** Milliseconds in one tick under the default runtimes (so an election takes 300–600 ms). */
export const tickMsDefault = 10;
