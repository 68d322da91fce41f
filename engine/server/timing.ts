import { tickMsDefault } from "../core/index.ts";
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
  joinTimeoutMs: 1_000,
  reachableWithinMs: 1_000,
  raftSnapshotEveryEntries: 200,
};

/** TimingOptions override some of a server's teaching timings; the rest keep their defaults. */
export type TimingOptions = Partial<Omit<ServerTiming, "raft" | "supervisor">> & {
  readonly raft?: Partial<RaftTiming>;
  readonly supervisor?: Partial<SupervisorTiming>;
};

/** withTiming merges partial timings over the defaults. */
export function withTiming(partial: TimingOptions = {}): ServerTiming {
  return {
    ...serverTimingDefault,
    ...partial,
    raft: { ...serverTimingDefault.raft, ...partial.raft },
    supervisor: { ...serverTimingDefault.supervisor, ...partial.supervisor },
  };
}
