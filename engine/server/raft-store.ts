import { assert } from "../core/index.ts";
import type { Entry, HardState, PersistedState, Persist, Snapshot } from "../raft/index.ts";
import { emptySnapshot } from "../raft/index.ts";
import type { StorageWrite } from "./ports.ts";

export const raftStateStore = "raft";
export const raftLogStore = "raft-log";

const logKey = (index: number): string => String(index).padStart(12, "0");

/**
 * RaftStore is how a server keeps its Raft node on disk: the hard state and the last snapshot
 * under "raft", one key per log entry under "raft-log". It turns each Ready's persist section
 * into storage writes (deleting what a snapshot covers and what a truncation cuts) and reads the
 * node back for a restart. The simulator's Rachis harness stores its nodes the same way.
 */
export class RaftStore {
  private firstStoredIndex = 1;
  private lastStoredIndex = 0;

  constructor(persisted?: PersistedState) {
    if (!persisted) return;
    const first = persisted.entries[0];
    this.firstStoredIndex = first ? first.index : persisted.snapshot.index + 1;
    this.lastStoredIndex = persisted.snapshot.index + persisted.entries.length;
  }

  /** read turns what storage kept into the Raft node's persisted state (undefined: never ran). */
  static read(
    stores: ReadonlyMap<string, ReadonlyMap<string, unknown>>,
  ): PersistedState | undefined {
    const state = stores.get(raftStateStore);
    const hardState = state?.get("hard") as HardState | undefined;
    if (!hardState) return undefined;
    const snapshot = (state?.get("snapshot") as Snapshot | undefined) ?? emptySnapshot;
    const log = stores.get(raftLogStore);
    const entries: Entry[] = [];
    if (log) {
      const keys = [...log.keys()].sort();
      for (const key of keys) {
        const entry = log.get(key) as Entry;
        if (entry.index > snapshot.index) entries.push(entry);
      }
    }
    return { hardState, snapshot, entries };
  }

  /** writesFor returns the storage writes of one Ready's persist section, in the contract's order. */
  writesFor(persist: Persist): StorageWrite[] {
    const writes: StorageWrite[] = [];
    if (persist.snapshot) this.storeSnapshot(persist.snapshot, writes);
    const cut = persist.truncateFrom ?? persist.entries[0]?.index;
    if (cut !== undefined) {
      for (let index = Math.max(cut, this.firstStoredIndex); index <= this.lastStoredIndex; index++)
        writes.push({ store: raftLogStore, op: "delete", key: logKey(index) });
      this.lastStoredIndex = Math.min(this.lastStoredIndex, cut - 1);
    }
    for (const entry of persist.entries) {
      assert(
        entry.index === this.lastStoredIndex + 1,
        () => `storing entry ${entry.index} after ${this.lastStoredIndex}`,
      );
      writes.push({ store: raftLogStore, op: "put", key: logKey(entry.index), value: entry });
      this.lastStoredIndex = entry.index;
    }
    if (persist.hardState)
      writes.push({ store: raftStateStore, op: "put", key: "hard", value: persist.hardState });
    return writes;
  }

  private storeSnapshot(snapshot: Snapshot, writes: StorageWrite[]): void {
    writes.push({ store: raftStateStore, op: "put", key: "snapshot", value: snapshot });
    const coveredTo = Math.min(snapshot.index, this.lastStoredIndex);
    for (let index = this.firstStoredIndex; index <= coveredTo; index++)
      writes.push({ store: raftLogStore, op: "delete", key: logKey(index) });
    this.firstStoredIndex = Math.max(this.firstStoredIndex, snapshot.index + 1);
    this.lastStoredIndex = Math.max(this.lastStoredIndex, snapshot.index);
  }
}
