import { assert, compareChangeVectors, RookeryError, type NodeTag } from "../core/index.ts";

/** WrittenMark identifies a committed write: its last local etag and, optionally, its vector. */
export interface WrittenMark {
  readonly etag: number;
  readonly changeVector?: string;
}

/** SiblingProgress is what one destination has acknowledged. */
export interface SiblingProgress {
  readonly lastAcceptedEtag: number;
  readonly changeVector?: string;
}

/**
 * siblingHasWrite tells whether a destination has a write: it acknowledged the write's etag, or
 * its change vector already contains the write's (it got it through another sibling), which is
 * RavenDB's test (the destination's vector is "already merged" with the write's).
 */
export function siblingHasWrite(write: WrittenMark, sibling: SiblingProgress): boolean {
  if (sibling.lastAcceptedEtag >= write.etag) return true;
  if (write.changeVector === undefined || sibling.changeVector === undefined) return false;
  const order = compareChangeVectors(sibling.changeVector, write.changeVector);
  return order === "equal" || order === "already-merged";
}

/** replicasHaving counts the distinct siblings that have a write. */
export function replicasHaving(
  write: WrittenMark,
  siblings: ReadonlyMap<NodeTag, SiblingProgress>,
): number {
  let count = 0;
  for (const progress of siblings.values()) if (siblingHasWrite(write, progress)) count += 1;
  return count;
}

/**
 * majorityReplicas is how many siblings "majority" waits for, as RavenDB 4.x computes it
 * (siblings / 2 + 1): 1 of 1, 2 of 2 or 3, 3 of 4 or 5.
 */
export function majorityReplicas(siblings: number): number {
  assert(Number.isSafeInteger(siblings) && siblings >= 0, () => `sibling count ${siblings}`);
  return Math.floor(siblings / 2) + 1;
}

/** WriteAssuranceOutcome is where a wait stands; `reached` counts siblings that have the write. */
export type WriteAssuranceOutcome =
  | { readonly status: "pending"; readonly reached: number; readonly wanted: number }
  | { readonly status: "satisfied"; readonly reached: number; readonly wanted: number }
  | { readonly status: "timed-out"; readonly reached: number; readonly wanted: number };

/** WriteAssuranceOptions describe one waitForReplicationAfterSaveChanges. */
export interface WriteAssuranceOptions {
  readonly write: WrittenMark;
  /** Siblings to wait for (RavenDB's default is 1). Ignored when `majority` is set. */
  readonly replicas?: number;
  /** Wait for a majority of the siblings instead (see majorityReplicas). */
  readonly majority?: boolean;
  /** Siblings in the group, needed for `majority`. */
  readonly siblings?: number;
  /** The time (in the caller's ms) after which the wait gives up. */
  readonly deadlineMs: number;
}

/**
 * WriteAssuranceWait follows one write until enough distinct siblings have it or the deadline
 * passes. It never reads a clock: acks and `nowMs` are fed to it, and each call returns the
 * outcome. Once settled it stays settled; a timeout does not undo the write, it only reports.
 */
export class WriteAssuranceWait {
  readonly wanted: number;
  private readonly write: WrittenMark;
  private readonly deadlineMs: number;
  private readonly having = new Set<NodeTag>();
  private settled: WriteAssuranceOutcome | undefined;

  constructor(options: WriteAssuranceOptions) {
    const wanted =
      options.majority === true ? majorityReplicas(options.siblings ?? 0) : (options.replicas ?? 1);
    if (!Number.isSafeInteger(wanted) || wanted < 0) {
      throw new RookeryError(
        "InvalidWriteAssurance",
        `replicas must be a non-negative integer, got ${wanted}`,
      );
    }
    this.wanted = wanted;
    this.write = options.write;
    this.deadlineMs = options.deadlineMs;
    if (wanted === 0) this.settled = { status: "satisfied", reached: 0, wanted };
  }

  /** outcome is where the wait stands now. */
  get outcome(): WriteAssuranceOutcome {
    return this.settled ?? { status: "pending", reached: this.having.size, wanted: this.wanted };
  }

  /** onAck records what `sibling` has acknowledged, then returns the outcome. */
  onAck(sibling: NodeTag, progress: SiblingProgress): WriteAssuranceOutcome {
    if (this.settled !== undefined) return this.settled;
    if (siblingHasWrite(this.write, progress)) this.having.add(sibling);
    if (this.having.size >= this.wanted) {
      this.settled = { status: "satisfied", reached: this.having.size, wanted: this.wanted };
    }
    return this.outcome;
  }

  /** onTime tells the wait what time it is; at or past the deadline a pending wait times out. */
  onTime(nowMs: number): WriteAssuranceOutcome {
    if (this.settled === undefined && nowMs >= this.deadlineMs) {
      this.settled = { status: "timed-out", reached: this.having.size, wanted: this.wanted };
    }
    return this.outcome;
  }
}

/**
 * writeAssuranceTimeoutError is the error a client gets when a wait timed out, worded like
 * RavenDB's: the data stays written, only the replication could not be verified in time.
 */
export function writeAssuranceTimeoutError(
  outcome: WriteAssuranceOutcome,
  timeoutMs: number,
): RookeryError {
  return new RookeryError(
    "WriteAssuranceTimeout",
    `Could not verify that the write was replicated to ${outcome.wanted} servers ` +
      `in ${timeoutMs} ms. ` +
      `So far, it only replicated to ${outcome.reached}. The write itself is committed.`,
    { reached: outcome.reached, wanted: outcome.wanted },
  );
}
