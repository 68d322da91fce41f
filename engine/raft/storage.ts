import { AssertionError } from "../core/index.ts";
import { emptySnapshot } from "./log.ts";
import type { Entry, HardState, PersistedState, Persist, Snapshot } from "./types.ts";

/**
 * MemoryRaftStorage keeps what a node's Readies persisted, exactly as a disk would: a restarted
 * node built from load() has lost everything that never reached persist(). The simulator uses it;
 * durable backends store the same three things (hard state, snapshot, entries).
 */
export class MemoryRaftStorage {
  private hardState: HardState = { term: 0, vote: null, commit: 0 };
  private snapshot: Snapshot = emptySnapshot;
  private entries: Entry[] = [];

  /** persist applies one Ready's persist section, in the contract's order. */
  persist(persist: Persist): void {
    if (persist.snapshot) this.applySnapshot(persist.snapshot);
    const cut = persist.truncateFrom ?? persist.entries[0]?.index;
    if (cut !== undefined) this.dropFrom(cut);
    for (const entry of persist.entries) {
      const expected = this.snapshot.index + this.entries.length + 1;
      if (entry.index !== expected)
        throw new AssertionError(`persisting entry ${entry.index}, expected ${expected}`);
      this.entries.push(entry);
    }
    if (persist.hardState) this.hardState = persist.hardState;
  }

  load(): PersistedState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries] };
  }

  /** sizeBytes approximates the persisted Raft state's size (the MIT lab's persister size). */
  sizeBytes(): number {
    let bytes = 64 + this.snapshot.data.length;
    for (const entry of this.entries)
      bytes += 24 + (entry.type === "command" ? entry.data.length : 16);
    return bytes;
  }

  private applySnapshot(snapshot: Snapshot): void {
    const keep = this.entries.filter((entry) => entry.index > snapshot.index);
    this.snapshot = snapshot;
    this.entries = keep[0]?.index === snapshot.index + 1 ? keep : [];
  }

  private dropFrom(index: number): void {
    const keep = index - this.snapshot.index - 1;
    if (keep < this.entries.length) this.entries.length = Math.max(0, keep);
  }
}
