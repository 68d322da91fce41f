import { RookeryError, tickMsDefault } from "../core/index.ts";
import type { RaftTiming } from "../raft/index.ts";
import type { SupervisorTiming } from "../cluster/index.ts";
import { supervisorTimingDefault } from "../cluster/index.ts";

/**
 * ServerTiming collects every interval a server uses. The defaults are teaching timings: slow
 * enough to watch an election, fast enough that a test in virtual time takes milliseconds.
 */
export interface ServerTiming {
  readonly tickMs: number;
  readonly raft: RaftTiming;
  readonly supervisor: SupervisorTiming;
  /** How often the supervisor runs on the leader. */
  readonly supervisorIntervalMs: number;
  /** How often every server reports its health and replication progress to the leader. */
  readonly healthReportIntervalMs: number;
  /** How long a cluster-wide operation waits for a leader before it fails. */
  readonly clusterOperationTimeoutMs: number;
  /** How long an unanswered replication batch or connect waits before it is sent again. */
  readonly replicationRetryMs: number;
  /**
   * How often a sender saves where each destination stands (its replication cursors), when they
   * moved. A cursor is only where to resume after a restart, and the destination's answer to the
   * reconnect corrects it, so a late one costs nothing; saving it more often costs a disk sync.
   */
  readonly replicationCursorSaveMs: number;
  /** How long adding a server waits for it to answer. */
  readonly joinTimeoutMs: number;
  /** A peer heard from within this window counts as reachable in error messages. */
  readonly reachableWithinMs: number;
  /** Compact the Raft log once this many entries were applied since the last snapshot. */
  readonly raftSnapshotEveryEntries: number;
}

export const serverTimingDefault: ServerTiming = {
  tickMs: tickMsDefault,
  raft: { heartbeatTicks: 10, electionTicks: 30 },
  supervisor: supervisorTimingDefault,
  supervisorIntervalMs: 250,
  healthReportIntervalMs: 200,
  clusterOperationTimeoutMs: 3_000,
  replicationRetryMs: 300,
  replicationCursorSaveMs: 1_000,
  joinTimeoutMs: 1_000,
  reachableWithinMs: 1_000,
  raftSnapshotEveryEntries: 200,
};

/** TimingOptions override some of a server's teaching timings; the rest keep their defaults. */
export type TimingOptions = Partial<Omit<ServerTiming, "raft" | "supervisor">> & {
  readonly raft?: Partial<RaftTiming>;
  readonly supervisor?: Partial<SupervisorTiming>;
};

/** withTiming merges partial timings over the defaults, and refuses timings nothing can run on. */
export function withTiming(partial: TimingOptions = {}): ServerTiming {
  const timing: ServerTiming = {
    ...serverTimingDefault,
    ...partial,
    raft: { ...serverTimingDefault.raft, ...partial.raft },
    supervisor: { ...serverTimingDefault.supervisor, ...partial.supervisor },
  };
  const problem = timingProblem(timing);
  if (problem !== undefined)
    throw new RookeryError("InvalidTiming", `timing.${problem}; leave it out for the default`);
  return timing;
}

const positiveMs = [
  "tickMs",
  "supervisorIntervalMs",
  "healthReportIntervalMs",
  "clusterOperationTimeoutMs",
  "replicationRetryMs",
  "replicationCursorSaveMs",
  "joinTimeoutMs",
  "reachableWithinMs",
] as const;

const positiveSupervisorMs = [
  "rotatePreferredAfterMs",
  "moveToRehabAfterMs",
  "heardWithinMs",
] as const;

/** timingProblem says what is wrong with a timing, or returns undefined when it can run. */
function timingProblem(timing: ServerTiming): string | undefined {
  const positive = (value: unknown): boolean =>
    typeof value === "number" && Number.isFinite(value) && value > 0;
  const whole = (value: unknown, min: number): boolean =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= min;
  for (const name of positiveMs)
    if (!positive(timing[name]))
      return `${name} must be a positive number of ms, got ${String(timing[name])}`;
  for (const name of positiveSupervisorMs) {
    const value = timing.supervisor[name];
    if (!positive(value))
      return `supervisor.${name} must be a positive number of ms, got ${String(value)}`;
  }
  const { heartbeatTicks, electionTicks } = timing.raft;
  if (!whole(heartbeatTicks, 1))
    return `raft.heartbeatTicks must be a whole number of ticks, at least 1, got ${String(heartbeatTicks)}`;
  // Rachis needs two heartbeats per election timeout (engine/raft/limits.ts asserts it).
  if (!whole(electionTicks, 2 * heartbeatTicks))
    return `raft.electionTicks must be a whole number of ticks, at least twice raft.heartbeatTicks (${heartbeatTicks}), got ${String(electionTicks)}`;
  if (!whole(timing.raftSnapshotEveryEntries, 1))
    return `raftSnapshotEveryEntries must be a whole number, at least 1, got ${String(timing.raftSnapshotEveryEntries)}`;
  return undefined;
}
