import { assert, AssertionError } from "../core/index.ts";
import type { Entry, Membership, Snapshot } from "./types.ts";

export const emptyMembership: Membership = { voters: [], learners: [] };
export const emptySnapshot: Snapshot = { index: 0, term: 0, membership: emptyMembership, data: "" };

/**
 * RaftLog is a node's log: a snapshot standing for everything up to its index, then entries.
 * Invariant: entries[k].index === snapshot.index + 1 + k, and terms never decrease.
 */
export class RaftLog {
  snapshot: Snapshot;
  private entries: Entry[];
  /** Highest index known to be committed. */
  committed: number;
  /** Highest index handed to the caller for applying. */
  applied: number;
  /** Entries from here on are not yet durable (see Ready.persist). */
  unstableFrom: number;
  /** Set when stored entries from this index on must be dropped before the next append. */
  truncateFrom: number | undefined;

  constructor(snapshot: Snapshot, entries: readonly Entry[], committed: number) {
    this.snapshot = snapshot;
    this.entries = [...entries];
    this.committed = Math.max(committed, snapshot.index);
    this.applied = snapshot.index;
    this.unstableFrom = this.lastIndex() + 1;
    this.truncateFrom = undefined;
    entries.forEach((entry, k) =>
      assert(entry.index === snapshot.index + 1 + k, () => `log gap at ${entry.index}`),
    );
    assert(
      this.committed <= this.lastIndex(),
      () => `commit ${committed} beyond log end ${this.lastIndex()}`,
    );
  }

  firstIndex(): number {
    return this.snapshot.index + 1;
  }

  lastIndex(): number {
    return this.snapshot.index + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** term returns the term of entry `index`, or undefined when it is compacted away or absent. */
  term(index: number): number | undefined {
    if (index === this.snapshot.index) return this.snapshot.term;
    if (index < this.snapshot.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshot.index - 1]!.term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshot.index) return undefined;
    return this.entries[index - this.snapshot.index - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** slice returns entries [low, high] limited by count and bytes, always at least one. */
  slice(low: number, high: number, countMax: number, bytesMax: number): Entry[] {
    if (low <= this.snapshot.index) throw new AssertionError(`slice from compacted index ${low}`);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = low; index <= Math.min(high, this.lastIndex()); index++) {
      const entry = this.entry(index)!;
      bytes += entryBytes(entry);
      if (result.length > 0 && (result.length >= countMax || bytes > bytesMax)) break;
      result.push(entry);
    }
    return result;
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(this.unstableFrom - this.snapshot.index - 1);
  }

  /** append adds entries at the end of the log (the leader's own proposals). */
  append(entry: Entry): void {
    const last = this.lastIndex();
    if (entry.index !== last + 1) throw new AssertionError(`append ${entry.index} after ${last}`);
    checkTermOrder(entry, this.term(last));
    this.entries.push(entry);
  }

  /**
   * appendAfter merges entries that follow a matching (prevIndex, prevTerm): entries already
   * present with the same term are kept (a stale or reordered append must never cut the log), the
   * first conflicting entry and everything after it are replaced. Returns the first index changed.
   */
  appendAfter(prevIndex: number, entries: readonly Entry[]): number | undefined {
    let firstNew: number | undefined;
    for (const entry of entries) {
      if (entry.index <= this.snapshot.index) continue;
      const existing = this.entry(entry.index);
      if (existing?.term === entry.term) {
        checkSameEntry(existing, entry);
        continue;
      }
      firstNew = entry.index;
      break;
    }
    if (firstNew === undefined) return undefined;
    if (firstNew <= this.committed)
      throw new AssertionError(
        `would overwrite committed entry ${firstNew} (commit ${this.committed})`,
      );
    if (firstNew <= prevIndex) throw new AssertionError("appendAfter conflict before prevIndex");
    if (firstNew <= this.lastIndex()) this.truncate(firstNew);
    let previousTerm = this.term(firstNew - 1);
    for (const entry of entries) {
      if (entry.index < firstNew) continue;
      if (entry.index !== this.lastIndex() + 1)
        throw new AssertionError(`append ${entry.index} after ${this.lastIndex()} (log gap)`);
      checkTermOrder(entry, previousTerm);
      previousTerm = entry.term;
      this.entries.push(entry);
    }
    return firstNew;
  }

  /**
   * checkAgrees asserts that the entries a leader sent up to `upTo` (our commit index) are the
   * ones we committed there: an entry both logs hold at one index must be the same entry.
   */
  checkAgrees(entries: readonly Entry[], upTo: number): void {
    for (const entry of entries) {
      if (entry.index > upTo) return;
      const ours = this.entry(entry.index);
      if (ours === undefined) continue;
      if (ours.term !== entry.term)
        throw new AssertionError(
          `committed entry ${ours.index}@${ours.term} differs from the leader's ${entry.index}@${entry.term} (log matching)`,
        );
      checkSameEntry(ours, entry);
    }
  }

  private truncate(from: number): void {
    this.entries.length = from - this.snapshot.index - 1;
    if (from < this.unstableFrom) {
      this.truncateFrom = Math.min(this.truncateFrom ?? from, from);
      this.unstableFrom = from;
    }
  }

  /** firstIndexOfTerm scans back from `index` to the first entry of the same term. */
  firstIndexOfTerm(index: number): number {
    const term = this.term(index);
    let first = index;
    while (first - 1 > this.snapshot.index && this.term(first - 1) === term) first--;
    return first;
  }

  /** lastIndexOfTerm returns the last index at or before `from` whose term is `term`, or 0. */
  lastIndexOfTerm(term: number, from: number): number {
    for (let index = Math.min(from, this.lastIndex()); index > this.snapshot.index; index--) {
      const entryTerm = this.term(index)!;
      if (entryTerm === term) return index;
      if (entryTerm < term) return 0;
    }
    return 0;
  }

  /** isUpToDate is the election restriction: is (lastIndex, lastTerm) at least as complete as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return (
      lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex())
    );
  }

  /** compact replaces entries up to `snapshot.index` (which must be applied) by the snapshot. */
  compact(snapshot: Snapshot): void {
    assert(
      snapshot.index <= this.applied,
      () => `compact ${snapshot.index} beyond applied ${this.applied}`,
    );
    assert(snapshot.index > this.snapshot.index, "compact must move forward");
    this.entries = this.entries.slice(snapshot.index - this.snapshot.index);
    this.snapshot = snapshot;
  }

  /** restore replaces the whole log with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    const keepsTail = this.matchTerm(snapshot.index, snapshot.term);
    this.entries = keepsTail ? this.entries.slice(snapshot.index - this.snapshot.index) : [];
    this.snapshot = snapshot;
    this.committed = Math.max(this.committed, snapshot.index);
    this.applied = snapshot.index;
    if (!keepsTail) {
      this.truncateFrom = snapshot.index + 1;
      this.unstableFrom = snapshot.index + 1;
    } else {
      this.unstableFrom = Math.max(this.unstableFrom, snapshot.index + 1);
    }
  }

  membershipAt(index: number): Membership {
    for (let i = Math.min(index, this.lastIndex()); i > this.snapshot.index; i--) {
      const entry = this.entry(i)!;
      if (entry.type === "membership") return entry.membership;
    }
    return this.snapshot.membership;
  }

  /** lastMembershipIndex is the index of the newest membership entry, or the snapshot's index. */
  lastMembershipIndex(): number {
    for (let i = this.lastIndex(); i > this.snapshot.index; i--) {
      if (this.entry(i)!.type === "membership") return i;
    }
    return this.snapshot.index;
  }
}

/** Terms never decrease along a log: an entry's term is at least the one before it. */
function checkTermOrder(entry: Entry, previousTerm: number | undefined): void {
  if (previousTerm !== undefined && entry.term < previousTerm)
    throw new AssertionError(
      `entry ${entry.index}@${entry.term} follows an entry of the later term ${previousTerm}`,
    );
}

/**
 * Log matching: two entries with the same index and term are the same entry. Compares the kind
 * and, for a command, its data (the same string object in one process, so usually at once).
 */
function checkSameEntry(ours: Entry, theirs: Entry): void {
  const same =
    ours.type === theirs.type &&
    (ours.type !== "command" || ours.data === (theirs as typeof ours).data);
  if (!same)
    throw new AssertionError(
      `two different entries at ${ours.index}@${ours.term} (log matching): ${ours.type} and ${theirs.type}`,
    );
}

/** entryBytes approximates the wire size of an entry, for message size limits and benches. */
export function entryBytes(entry: Entry): number {
  return 24 + (entry.type === "command" ? entry.data.length : entry.type === "membership" ? 64 : 0);
}
