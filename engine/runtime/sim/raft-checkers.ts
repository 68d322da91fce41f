import type { Entry, NodeId, RawNode, Snapshot, SoftState } from "../../raft/index.ts";

/** InvariantViolation is thrown the moment a simulated run breaks a Raft safety property. */
export class InvariantViolation extends Error {
  override name = "InvariantViolation";
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(`${invariant}: ${message}`);
  }
}

function entryKey(entry: Entry): string {
  switch (entry.type) {
    case "command":
      return `c:${entry.data}`;
    case "noop":
      return "noop";
    case "membership":
      return `m:${JSON.stringify(entry.change)}`;
  }
}

/**
 * RaftCheckers watches every node of a simulated cluster and throws at the first broken property:
 * - election safety: at most one leader per term;
 * - log matching: two logs with an entry of the same index and term agree on it and on all before;
 * - leader completeness: a new leader holds every entry committed before its term;
 * - state machine safety: every node applies the same entry at each index, in order;
 * - a node's commit index never moves back while it runs.
 * Each check is incremental, so they can run after every simulated step.
 */
export class RaftCheckers {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** `${index}:${term}` → what the entry is and the term before it. */
  private readonly entriesSeen = new Map<string, { key: string; prevTerm: number | undefined }>();
  /** index → the entry every node must apply there. */
  private readonly applied = new Map<number, { key: string; term: number }>();
  private readonly lastApplied = new Map<NodeId, number>();
  private readonly lastCommit = new Map<NodeId, number>();
  private maxApplied = 0;

  /** onPersist checks entries a node just made durable against every other node's. */
  onPersist(node: RawNode, entries: readonly Entry[]): void {
    for (const entry of entries) {
      const key = entryKey(entry);
      const prevTerm = entry.index > 1 ? node.termAt(entry.index - 1) : 0;
      const id = `${entry.index}:${entry.term}`;
      const seen = this.entriesSeen.get(id);
      if (!seen) {
        this.entriesSeen.set(id, { key, prevTerm });
        continue;
      }
      if (seen.key !== key) {
        throw new InvariantViolation(
          "log matching",
          `${node.id} holds "${key}" at index ${entry.index} term ${entry.term}, another node holds "${seen.key}"`,
        );
      }
      if (prevTerm !== undefined && seen.prevTerm !== undefined && prevTerm !== seen.prevTerm) {
        throw new InvariantViolation(
          "log matching",
          `${node.id}'s entry ${entry.index}@${entry.term} follows term ${prevTerm}, another node's follows ${seen.prevTerm}`,
        );
      }
    }
  }

  /** onSoftState checks election safety and, for a new leader, leader completeness. */
  onSoftState(node: RawNode, soft: SoftState): void {
    if (soft.role !== "leader") return;
    const existing = this.leaderOfTerm.get(soft.term);
    if (existing !== undefined && existing !== node.id) {
      throw new InvariantViolation(
        "election safety",
        `term ${soft.term} has two leaders: ${existing} and ${node.id}`,
      );
    }
    if (existing === node.id) return;
    this.leaderOfTerm.set(soft.term, node.id);
    const snapshotIndex = node.snapshot().index;
    for (let index = snapshotIndex + 1; index <= this.maxApplied; index++) {
      const committed = this.applied.get(index);
      if (!committed || committed.term >= soft.term) continue;
      const term = node.termAt(index);
      if (term !== committed.term) {
        throw new InvariantViolation(
          "leader completeness",
          `${node.id} leads term ${soft.term} without committed entry ${index}@${committed.term} (it has ${term === undefined ? "nothing" : "term " + term})`,
        );
      }
    }
  }

  /** onRestore records that a node reset its state machine to a snapshot. */
  onRestore(node: NodeId, snapshot: Snapshot): void {
    this.lastApplied.set(node, snapshot.index);
  }

  /** onApply checks state machine safety: same entry at each index, applied in order. */
  onApply(node: NodeId, entry: Entry): void {
    const expected = (this.lastApplied.get(node) ?? 0) + 1;
    if (entry.index !== expected) {
      throw new InvariantViolation(
        "state machine safety",
        `${node} applied index ${entry.index}, expected ${expected}`,
      );
    }
    this.lastApplied.set(node, entry.index);
    const key = entryKey(entry);
    const other = this.applied.get(entry.index);
    if (!other) {
      this.applied.set(entry.index, { key, term: entry.term });
      this.maxApplied = Math.max(this.maxApplied, entry.index);
    } else if (other.key !== key || other.term !== entry.term) {
      throw new InvariantViolation(
        "state machine safety",
        `${node} applied "${key}"@${entry.term} at index ${entry.index}, another node applied "${other.key}"@${other.term}`,
      );
    }
  }

  /** onCommit checks that a running node's commit index never moves back. */
  onCommit(node: NodeId, commit: number): void {
    const before = this.lastCommit.get(node) ?? 0;
    if (commit < before) {
      throw new InvariantViolation(
        "commit monotonic",
        `${node}'s commit index moved back from ${before} to ${commit}`,
      );
    }
    this.lastCommit.set(node, commit);
  }

  /** onRestart forgets a node's volatile commit index: it restarts from what it persisted. */
  onRestart(node: NodeId, persistedCommit: number): void {
    this.lastCommit.set(node, persistedCommit);
    this.lastApplied.set(node, 0);
  }

  /** committedEntry returns what was applied at `index` anywhere, if anything. */
  committedAt(index: number): string | undefined {
    return this.applied.get(index)?.key;
  }

  highestApplied(): number {
    return this.maxApplied;
  }
}
