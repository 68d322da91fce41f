import { RookeryError } from "../core/index.ts";

/**
 * serverLimits bound every queue a server keeps; the unit is the last word of each name. When one
 * is full the server refuses more with ServerBusy (serverBusy below) instead of growing: a server
 * that cannot keep up says so, and a client may try again or elsewhere.
 */
export const serverLimits = {
  /**
   * Inputs (ticks, Raft messages, proposals) waiting while the Raft node's last Ready is being
   * written. Past it, ticks and messages are dropped (Raft copes with lost messages and late
   * ticks) and proposals are refused.
   */
  raftInputsQueuedMax: 10_000,
  /** Conditions waited for at once (cluster operations, reads catching up on the cluster). */
  waitersMax: 10_000,
  /** Calls to other servers awaiting an answer (forwarded operations, node-info). */
  peerCallsMax: 1_000,
  /** Write assurance waits of one hosted database. */
  assuranceWaitsMax: 10_000,
  /** Client transactions handed to storage and not yet durable. */
  writesInFlightMax: 10_000,
  /** Replication connects kept for databases not hosted yet; the oldest goes first. */
  earlyConnectsMax: 64,
} as const;

/** serverBusy is the error a full queue answers with: which queue, its limit, what to do. */
export function serverBusy(
  url: string,
  what: string,
  limit: keyof typeof serverLimits,
): RookeryError {
  return new RookeryError(
    "ServerBusy",
    `${url} is busy: ${what} (${limit} = ${serverLimits[limit]}). Try again shortly, or ask another node.`,
    { url, limit, max: serverLimits[limit] },
  );
}
