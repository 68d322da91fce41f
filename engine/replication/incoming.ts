import type { NodeTag } from "../core/index.ts";
import type { ReplicatedBatchResult } from "../database/index.ts";
import type {
  EtagRange,
  ReplicationAck,
  ReplicationBatch,
  ReplicationConnect,
} from "./messages.ts";
import type { ReplicationTarget } from "./ports.ts";

/** IncomingResult is what receiving a batch yields: the reply, and the commit to persist. */
export interface IncomingResult {
  readonly ack: ReplicationAck;
  /** Undefined when the batch was refused for a gap; persist it before sending the ack. */
  readonly commit: ReplicatedBatchResult | undefined;
}

/**
 * receiveBatch applies a batch on the receiving instance, atomically, and answers with the last
 * source etag now applied. A batch that starts after what was applied from its source would skip
 * etags (a batch was lost); it is refused and the ack tells the sender where to start again.
 * Duplicates (old or repeated batches) change nothing and are acknowledged again.
 */
export function receiveBatch(target: ReplicationTarget, batch: ReplicationBatch): IncomingResult {
  const applied = target.lastEtagFrom(batch.sourceDatabaseId);
  const answers = { afterEtag: batch.afterEtag, lastEtag: batch.lastEtag };
  if (batch.afterEtag > applied) {
    return { ack: ackFor(target, batch, applied, "gap", answers), commit: undefined };
  }
  const commit = target.applyReplicatedBatch(batch);
  const reason = commit.duplicate ? "duplicate" : "applied";
  return { ack: ackFor(target, batch, commit.lastAcceptedEtag, reason, answers), commit };
}

/** answerConnect tells a (re)connecting sender what this instance already has from it. */
export function answerConnect(
  target: ReplicationTarget,
  connect: ReplicationConnect,
): ReplicationAck {
  return ackFor(target, connect, target.lastEtagFrom(connect.sourceDatabaseId), "connect", null);
}

function ackFor(
  target: ReplicationTarget,
  request: {
    readonly database: string;
    readonly from: NodeTag;
    readonly to: NodeTag;
    readonly sourceDatabaseId: string;
  },
  lastAcceptedEtag: number,
  reason: ReplicationAck["reason"],
  answers: EtagRange | null,
): ReplicationAck {
  return {
    type: "replication-ack",
    database: request.database,
    from: request.to,
    to: request.from,
    sourceDatabaseId: request.sourceDatabaseId,
    lastAcceptedEtag,
    changeVector: target.changeVector,
    reason,
    answers,
  };
}
