import type { PeerProgress } from "./types.ts";

/**
 * Progress is the leader's bookkeeping for one follower (etcd-io/raft's tracker.Progress, cut down).
 * - probe: we do not know where the follower's log ends; send one append per heartbeat or answer.
 * - replicate: the follower is in sync; pipeline appends, at most `inflightAppendsMax` unanswered.
 * - snapshot: the follower needs an InstallSnapshot; wait for its answer.
 */
export class Progress {
  match = 0;
  next: number;
  state: PeerProgress["state"] = "probe";
  /** In probe and snapshot state: an append or snapshot is out and unanswered. */
  paused = false;
  /** Last index of every append in flight, oldest first (replicate state). */
  inflight: number[] = [];
  /** The follower answered since the last quorum check. */
  recentActive = false;
  /** Ticks since anything was sent to this follower; a heartbeat is due at heartbeatTicks. */
  idleTicks = 0;
  /** Highest commit index we told the follower about. */
  commitSent = 0;

  constructor(next: number) {
    this.next = next;
  }

  becomeProbe(): void {
    this.state = "probe";
    this.paused = false;
    this.inflight = [];
    this.next = this.match + 1;
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.paused = false;
    this.inflight = [];
    this.next = this.match + 1;
  }

  /** acknowledge records a success up to `index`; returns true when it moved match forward. */
  acknowledge(index: number): boolean {
    this.inflight = this.inflight.filter((last) => last > index);
    if (index <= this.match) return false;
    this.match = index;
    if (this.next <= index) this.next = index + 1;
    return true;
  }

  view(): PeerProgress {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      recentActive: this.recentActive,
    };
  }
}
