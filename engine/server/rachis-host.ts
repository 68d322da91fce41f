import type { NodeTag, Random } from "../core/index.ts";
import { applyClusterCommand, emptyClusterState } from "../cluster/index.ts";
import type { ClusterCommand, ClusterCommandResult, ClusterState } from "../cluster/index.ts";
import { RawNode } from "../raft/index.ts";
import type {
  Entry,
  MembershipChange,
  Message,
  PersistedState,
  Persist,
  ProposeResult,
  Snapshot,
  SoftState,
  Status,
} from "../raft/index.ts";
import type { StorageWrite } from "./ports.ts";
import { serverLimits } from "./limits.ts";
import { RaftStore } from "./raft-store.ts";
import type { ServerTiming } from "./timing.ts";

/** RachisHostEvents are what the host tells its server. */
export interface RachisHostEvents {
  send(tag: NodeTag, message: Message): void;
  /** Persist writes durably, then call `done` (at once for synchronous storage). */
  persist(writes: readonly StorageWrite[], done: () => void): void;
  applied(
    index: number,
    command: ClusterCommand,
    result: ClusterCommandResult,
    state: ClusterState,
  ): void;
  restored(state: ClusterState): void;
  roleChanged(soft: SoftState): void;
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (outcome: ClusterCommandResult | "lost") => void;
}

/**
 * RachisHost runs one server's Rachis node: it drives the Ready loop (persist, then send, then
 * apply, then advance), applies committed cluster commands to the ClusterState, compacts the log
 * into snapshots of that state, and settles proposals when their entry is applied.
 */
export class RachisHost {
  private raw: RawNode;
  private clusterState: ClusterState = emptyClusterState();
  private readonly pending = new Map<number, PendingProposal>();
  private busy = false;
  private readonly queued: (
    | { kind: "step"; message: Message }
    | { kind: "tick" }
    | { kind: "propose"; data: string; resolve: (outcome: ClusterCommandResult | "lost") => void }
  )[] = [];
  private readonly store: RaftStore;
  private snapshotIndex = 0;

  constructor(
    readonly tag: NodeTag,
    private readonly random: Random,
    private readonly timing: ServerTiming,
    private readonly events: RachisHostEvents,
    persisted?: PersistedState,
  ) {
    this.raw = new RawNode({ id: tag, random, timing: timing.raft }, persisted);
    this.store = new RaftStore(persisted);
    if (persisted) this.snapshotIndex = persisted.snapshot.index;
  }

  /** readPersisted turns what storage kept into the Raft node's persisted state. */
  static readPersisted(
    stores: ReadonlyMap<string, ReadonlyMap<string, unknown>>,
  ): PersistedState | undefined {
    return RaftStore.read(stores);
  }

  get state(): ClusterState {
    return this.clusterState;
  }

  status(): Status {
    return this.raw.status();
  }

  soft(): SoftState {
    return this.raw.soft();
  }

  appliedIndex(): number {
    return this.raw.appliedIndex();
  }

  isLeaderInOffice(): boolean {
    const soft = this.raw.soft();
    return soft.role === "leader" && this.raw.status().leaderInOffice;
  }

  /** bootstrap makes this server a one-node cluster and its leader at once. */
  bootstrap(): void {
    this.raw.bootstrap([this.tag]);
    this.raw.campaign();
    this.pump();
  }

  /** start emits what a restarted node must redo (restore the snapshot, re-apply entries). */
  start(): void {
    this.pump();
  }

  /**
   * tick moves the node's clock; while a Ready is being written it waits its turn. Past
   * raftInputsQueuedMax waiting inputs it is dropped: a late tick only delays a timeout.
   */
  tick(): void {
    if (this.busy) {
      if (!this.queueFull()) this.queued.push({ kind: "tick" });
      return;
    }
    this.raw.tick();
    this.pump();
  }

  /** step takes a peer's message; while a Ready is being written it waits (or, past the limit,
   * is dropped, as the network may drop it: Raft sends again). */
  step(message: Message): void {
    if (this.busy) {
      if (!this.queueFull()) this.queued.push({ kind: "step", message });
      return;
    }
    this.raw.step(message);
    this.pump();
  }

  /** queueFull tells whether the inputs waiting for the disk reached raftInputsQueuedMax. */
  private queueFull(): boolean {
    return this.queued.length >= serverLimits.raftInputsQueuedMax;
  }

  /**
   * propose appends a cluster command on the leader and resolves with its result once applied
   * here, or "lost" when another entry took its place (leadership changed before it committed).
   */
  propose(
    command: ClusterCommand,
  ):
    | { accepted: false; result: ProposeResult }
    | { accepted: true; outcome: Promise<ClusterCommandResult | "lost"> } {
    if (this.busy) {
      // With asynchronous storage a Ready may still be persisting; the Raft node must not change
      // before it advances, so the proposal waits its turn like a tick or a message. If this node
      // is no longer leader by then, the proposal is "lost", as one overtaken by an election.
      if (this.queueFull()) {
        const detail = `${this.queued.length} inputs wait for the disk (raftInputsQueuedMax)`;
        return {
          accepted: false,
          result: { accepted: false, reason: "too-many-uncommitted", leader: this.tag, detail },
        };
      }
      const data = JSON.stringify(command);
      const outcome = new Promise<ClusterCommandResult | "lost">((resolve) =>
        this.queued.push({ kind: "propose", data, resolve }),
      );
      return { accepted: true, outcome };
    }
    const result = this.raw.propose(JSON.stringify(command));
    if (!result.accepted) return { accepted: false, result };
    const outcome = new Promise<ClusterCommandResult | "lost">((resolve) => {
      this.pending.set(result.index, { term: result.term, resolve });
    });
    this.pump();
    return { accepted: true, outcome };
  }

  proposeMembership(change: Exclude<MembershipChange, { op: "bootstrap" }>): ProposeResult {
    if (this.busy)
      return { accepted: false, reason: "not-leader", leader: null, detail: "busy persisting" };
    const result = this.raw.proposeMembership(change);
    this.pump();
    return result;
  }

  /** pump runs the Ready loop until there is nothing left, pausing while storage is busy. */
  private pump(): void {
    while (!this.busy && this.raw.hasReady()) {
      const ready = this.raw.ready();
      const writes = this.persistWrites(ready.persist);
      const finish = (): void => {
        for (const message of ready.messages) this.events.send(message.to, message);
        if (ready.softChanged) this.events.roleChanged(ready.soft);
        if (ready.restore) this.restore(ready.restore);
        for (const entry of ready.committed) this.apply(entry);
        this.raw.advance();
        this.maybeCompact();
      };
      if (writes.length === 0) {
        finish();
        continue;
      }
      let synchronous = true;
      let finished = false;
      this.busy = true;
      this.events.persist(writes, () => {
        this.busy = false;
        finish();
        finished = true;
        if (!synchronous) this.drainQueued();
      });
      synchronous = false;
      if (!finished) return;
    }
  }

  private drainQueued(): void {
    while (!this.busy && this.queued.length > 0) {
      const next = this.queued.shift()!;
      if (next.kind === "tick") this.raw.tick();
      else if (next.kind === "step") this.raw.step(next.message);
      else {
        const result = this.raw.propose(next.data);
        if (result.accepted)
          this.pending.set(result.index, { term: result.term, resolve: next.resolve });
        else next.resolve("lost");
      }
      this.pump();
    }
  }

  private persistWrites(persist: Persist): StorageWrite[] {
    if (persist.snapshot) this.snapshotIndex = persist.snapshot.index;
    return this.store.writesFor(persist);
  }

  private restore(snapshot: Snapshot): void {
    this.clusterState =
      snapshot.data === "" ? emptyClusterState() : (JSON.parse(snapshot.data) as ClusterState);
    this.events.restored(this.clusterState);
  }

  private apply(entry: Entry): void {
    const pending = this.pending.get(entry.index);
    if (entry.type !== "command") {
      if (pending) {
        this.pending.delete(entry.index);
        pending.resolve("lost");
      }
      return;
    }
    const command = JSON.parse(entry.data) as ClusterCommand;
    const { state, result } = applyClusterCommand(this.clusterState, command, entry.index);
    this.clusterState = state;
    this.events.applied(entry.index, command, result, state);
    if (pending) {
      this.pending.delete(entry.index);
      pending.resolve(pending.term === entry.term ? result : "lost");
    }
  }

  private maybeCompact(): void {
    const applied = this.raw.status().applied;
    if (applied - this.snapshotIndex < this.timing.raftSnapshotEveryEntries) return;
    this.raw.compact(applied, JSON.stringify(this.clusterState));
    this.pump();
  }
}
