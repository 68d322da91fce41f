import { describe, nodeTagAt, tickMsDefault } from "../../core/index.ts";
import { RawNode } from "../../raft/index.ts";
import type {
  Entry,
  MembershipChange,
  RaftLimits,
  RaftTiming,
  Message,
  NodeId,
  PersistedState,
  ProposeResult,
  RaftConfig,
  Ready,
  Snapshot,
  Status,
} from "../../raft/index.ts";
import { RaftStore } from "../../server/index.ts";
import type { Storage } from "../../storage/index.ts";
import { reliableNetwork, SimNetwork } from "../../transport/index.ts";
import type { NetworkFaults } from "../../transport/index.ts";
import { asOperations } from "../server-store.ts";
import { RaftCheckers } from "./raft-checkers.ts";
import { reliableStorage, SimDisk } from "./sim-disk.ts";
import type { StorageFaults } from "./sim-disk.ts";
import { Simulator } from "./simulator.ts";

/** RaftSimOptions describes a simulated Rachis cluster. */
export interface RaftSimOptions {
  readonly seed: number;
  /** How many founding voters (tagged A, B, C …). */
  readonly nodes: number;
  readonly tickMs?: number;
  readonly timing?: Partial<RaftTiming>;
  readonly limits?: Partial<RaftLimits>;
  readonly faults?: NetworkFaults;
  /**
   * How the nodes' disks behave: fsync latency and storage faults. Without it, a disk is durable
   * the moment it is written (the scripted scenarios' world: nothing waits for an fsync).
   */
  readonly storageFaults?: StorageFaults;
  /** Compact the log once this many applied entries follow the last snapshot (0: never). */
  readonly snapshotEveryEntries?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly autoPromoteLearners?: boolean;
  readonly unsafe?: RaftConfig["unsafe"];
  /** Run the invariant checkers after every step (default true). */
  readonly checkers?: boolean;
  /** How many recent events to keep for a failure report. */
  readonly traceEventsMax?: number;
}

/** TraceEvent is one thing that happened, kept raw and rendered only when a run fails. */
export interface TraceEvent {
  readonly atMs: number;
  readonly what: string | Message;
}

/** The simulated state machine: the command applied at each index (null for noop/membership). */
class AppliedLog {
  commands: (string | null)[] = [null];
  snapshotIndex = 0;

  lastIndex(): number {
    return this.commands.length - 1;
  }

  apply(entry: Entry): void {
    this.commands[entry.index] = entry.type === "command" ? entry.data : null;
  }

  restore(snapshot: Snapshot): void {
    this.commands =
      snapshot.data === "" ? [null] : (JSON.parse(snapshot.data) as (string | null)[]);
    this.commands.length = snapshot.index + 1;
    this.snapshotIndex = snapshot.index;
  }

  encode(upTo: number): string {
    return JSON.stringify(this.commands.slice(0, upTo + 1));
  }
}

/** Input is what reaches a node while it waits for its disk, kept to be stepped in order. */
type Input =
  | { readonly kind: "tick" }
  | { readonly kind: "campaign" }
  | { readonly kind: "step"; readonly message: Message };

interface SimNode {
  readonly id: NodeId;
  raw: RawNode | null;
  /** The node's disk, for its whole life: the product's memory backend in virtual time. */
  disk: SimDisk;
  /** The storage open on the disk while the node runs, and the product's Raft encoding over it. */
  storage: Storage | null;
  store: RaftStore;
  applied: AppliedLog;
  /** The Ready whose writes are on their way to the disk; the node takes no input meanwhile. */
  persisting: Ready | null;
  readonly queued: Input[];
  pumpScheduled: boolean;
  requestsSent: number;
  requestBytesSent: number;
}

const requestTypes = new Set(["preVote", "vote", "append", "installSnapshot"]);

function messageBytes(message: Message): number {
  if (message.type === "append") {
    let bytes = 48;
    for (const entry of message.entries)
      bytes += 24 + (entry.type === "command" ? entry.data.length : 16);
    return bytes;
  }
  if (message.type === "installSnapshot") return 64 + message.snapshot.data.length;
  return 40;
}

/**
 * RaftSimCluster runs Rachis nodes in the simulator with the primitives of the MIT 6.5840 tester:
 * start N peers, disconnect/connect, crash/restart from persisted state, propose, observe roles
 * and applied entries, plus partitions and network faults. Checkers run after every step.
 */
export class RaftSimCluster {
  readonly sim: Simulator;
  readonly net: SimNetwork<Message>;
  readonly checkers: RaftCheckers | undefined;
  readonly ids: NodeId[];
  readonly tickMs: number;
  readonly electionTimeoutMs: number;
  /** How the disks behave from now on (a sweep turns faults off for its final checks). */
  storageFaults: StorageFaults;
  /** Disks durable at once (no storageFaults given): a Ready never waits. */
  private readonly synchronousDisks: boolean;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly retired = new Set<NodeId>();
  private readonly trace: TraceEvent[] = [];
  private traceNext = 0;
  private readonly traceEventsMax: number;
  /**
   * Called the moment a node becomes leader, after the Ready that made it one: a workload may act
   * before anything else happens (the membership workload proposes a change there).
   */
  onLeaderElected: ((id: NodeId) => void) | undefined;

  constructor(readonly options: RaftSimOptions) {
    this.sim = new Simulator(options.seed);
    this.tickMs = options.tickMs ?? tickMsDefault;
    this.electionTimeoutMs = (options.timing?.electionTicks ?? 30) * this.tickMs;
    this.net = new SimNetwork<Message>(
      this.sim,
      (message) => this.deliver(message),
      options.faults ?? reliableNetwork,
    );
    this.checkers = options.checkers === false ? undefined : new RaftCheckers();
    this.traceEventsMax = options.traceEventsMax ?? 40;
    this.ids = Array.from({ length: options.nodes }, (_, i) => nodeTagAt(i));
    this.synchronousDisks = options.storageFaults === undefined;
    this.storageFaults = { ...(options.storageFaults ?? reliableStorage) };
    for (const id of this.ids) {
      const node = this.newNode(id);
      node.raw!.bootstrap(this.ids);
      this.pump(node);
    }
    this.sim.every(this.tickMs, () => {
      for (const node of this.nodes.values()) this.input(node, { kind: "tick" });
    });
  }

  // --- the tester's primitives -----------------------------------------------------------------

  /** nextNodeId is the name the next addNode() will give. */
  nextNodeId(): NodeId {
    return nodeTagAt(this.ids.length);
  }

  /** addNode creates a fresh, empty server (not yet in any configuration). */
  addNode(): NodeId {
    const id = this.nextNodeId();
    this.ids.push(id);
    this.newNode(id);
    this.note(`add node ${id}`);
    return id;
  }

  disconnect(id: NodeId): void {
    this.note(`disconnect ${id}`);
    this.net.disconnect(id);
  }

  connect(id: NodeId): void {
    this.note(`connect ${id}`);
    this.net.connect(id);
  }

  partition(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    this.note(`partition [${groupA.join(",")}] | [${groupB.join(",")}]`);
    this.net.partition(groupA, groupB);
  }

  heal(): void {
    this.note("heal");
    this.net.heal();
  }

  /**
   * crash stops a node at once: its volatile state is gone, and so is whatever its disk had not
   * synced yet (under storage faults some of it may have reached the disk, the last batch torn).
   */
  crash(id: NodeId): void {
    const node = this.node(id);
    this.note(`crash ${id}`);
    this.stop(node);
  }

  /** restart brings a crashed node back from exactly what its disk kept. */
  restart(id: NodeId): void {
    const node = this.node(id);
    if (this.retired.has(id)) throw new Error(`${id} is retired; it never comes back`);
    if (node.raw) this.crash(id);
    this.note(`restart ${id}`);
    const persisted = RaftStore.read(node.disk.contents());
    node.applied = new AppliedLog();
    this.checkers?.onRestart(id, persisted?.hardState.commit ?? 0);
    this.open(node, persisted);
    this.pump(node);
  }

  /**
   * retire stops a node for good: a server removed from the configuration is shut down. It is
   * never brought back under its name (a replacement joins under a new one, as RavenDB gives a
   * re-added server a new tag): Raft assumes a name carries its storage, and a wiped server that
   * answered under its old name could vote in a configuration that still lists it.
   */
  retire(id: NodeId): void {
    this.note(`retire ${id}`);
    this.stop(this.node(id));
    this.retired.add(id);
  }

  isRetired(id: NodeId): boolean {
    return this.retired.has(id);
  }

  /** serving lists the nodes that are not retired, alive or not. */
  serving(): NodeId[] {
    return this.ids.filter((id) => !this.retired.has(id));
  }

  /**
   * propose appends a command on `id` if it leads. A node waiting for its disk takes no input,
   * so it refuses ("busy": propose again); proposals of one instant share one Ready and one fsync.
   */
  propose(id: NodeId, data: string): ProposeResult {
    const node = this.node(id);
    const refused = this.refuseWhileDown(node);
    if (refused) return refused;
    const result = node.raw!.propose(data);
    if (result.accepted) this.schedulePump(node);
    return result;
  }

  proposeMembership(
    id: NodeId,
    change: Exclude<MembershipChange, { op: "bootstrap" }>,
  ): ProposeResult {
    const node = this.node(id);
    const result = this.refuseWhileDown(node) ?? node.raw!.proposeMembership(change);
    this.note(
      `propose ${change.op} ${change.node} on ${id}: ${result.accepted ? "accepted" : result.reason}`,
    );
    if (result.accepted) this.schedulePump(node);
    return result;
  }

  /** campaign makes a node start an election now (for scripted scenarios). */
  campaign(id: NodeId): void {
    this.input(this.node(id), { kind: "campaign" });
  }

  runFor(durationMs: number): void {
    this.sim.runFor(durationMs);
  }

  runUntil(condition: () => boolean, timeoutMs: number): boolean {
    return this.sim.runUntil(condition, timeoutMs);
  }

  // --- observation -------------------------------------------------------------------------------

  isAlive(id: NodeId): boolean {
    return this.node(id).raw !== null;
  }

  status(id: NodeId): Status | undefined {
    return this.node(id).raw?.status();
  }

  /** connected tells whether a node is alive and not cut off by disconnect(). */
  isConnected(id: NodeId): boolean {
    return this.isAlive(id) && this.net.linkUp(id, id);
  }

  /** leaders returns the live, connected nodes that believe they lead, with their terms. */
  leaders(): { id: NodeId; term: number }[] {
    const result: { id: NodeId; term: number }[] = [];
    for (const id of this.ids) {
      const soft = this.isConnected(id) ? this.node(id).raw?.soft() : undefined;
      if (soft?.role === "leader") result.push({ id, term: soft.term });
    }
    return result;
  }

  /**
   * leader returns the one leader of the highest term among connected nodes, or undefined when
   * none (MIT's checkOneLeader without the waiting).
   */
  leader(): NodeId | undefined {
    const leaders = this.leaders();
    if (leaders.length === 0) return undefined;
    const top = Math.max(...leaders.map((l) => l.term));
    const atTop = leaders.filter((l) => l.term === top);
    return atTop.length === 1 ? atTop[0]!.id : undefined;
  }

  /** appliedAt returns what node `id` applied at `index` (undefined: not yet). */
  appliedAt(id: NodeId, index: number): string | null | undefined {
    const node = this.node(id);
    if (index > node.applied.lastIndex()) return undefined;
    return node.applied.commands[index];
  }

  appliedIndex(id: NodeId): number {
    return this.node(id).applied.lastIndex();
  }

  /** nCommitted counts nodes that applied `index`, and what they applied there (MIT nCommitted). */
  nCommitted(index: number): { count: number; command: string | null | undefined } {
    let count = 0;
    let command: string | null | undefined;
    for (const id of this.ids) {
      const node = this.node(id);
      if (!node.raw) continue;
      const applied = this.appliedAt(id, index);
      if (applied === undefined) continue;
      count++;
      command = applied;
    }
    return { count, command };
  }

  /**
   * one is MIT's `one()`: find a leader, propose `command`, and wait until `expectedServers`
   * nodes applied it. It retries for up to 10 election timeouts (or once, without `retry`) and
   * returns the index, or throws with what it saw.
   */
  one(command: string, expectedServers: number, retry = true): number {
    const deadline = this.sim.nowMs() + 10 * 2 * this.electionTimeoutMs;
    let starts = 0;
    while (this.sim.nowMs() < deadline) {
      let index = -1;
      for (let k = 0; k < this.ids.length; k++) {
        starts = (starts + 1) % this.ids.length;
        const id = this.ids[starts]!;
        if (!this.isConnected(id)) continue;
        const result = this.propose(id, command);
        if (result.accepted) {
          index = result.index;
          break;
        }
      }
      if (index !== -1) {
        const done = this.runUntil(() => {
          const { count, command: seen } = this.nCommitted(index);
          return count >= expectedServers && seen === command;
        }, 2 * this.electionTimeoutMs);
        if (done) return index;
        if (!retry) throw new Error(`one(${command}) failed to reach agreement at index ${index}`);
      } else {
        this.runFor(50);
      }
    }
    throw new Error(`one(${command}) failed to reach agreement on ${expectedServers} servers`);
  }

  /** requestsSent counts Raft requests (votes, appends, snapshots) sent by all nodes. */
  requestsSent(): number {
    let total = 0;
    for (const node of this.nodes.values()) total += node.requestsSent;
    return total;
  }

  requestBytesSent(): number {
    let total = 0;
    for (const node of this.nodes.values()) total += node.requestBytesSent;
    return total;
  }

  /** logSizeBytes is the persisted Raft state without the snapshot (MIT's RaftStateSize). */
  logSizeBytes(id: NodeId): number {
    const persisted = RaftStore.read(this.node(id).disk.contents());
    return (persisted?.entries ?? []).reduce(
      (sum, e) => sum + 24 + (e.type === "command" ? e.data.length : 16),
      64,
    );
  }

  /** recentTrace renders the last events, newest last, one line each. */
  recentTrace(): string[] {
    const start = Math.max(0, this.traceNext - this.traceEventsMax);
    const events: TraceEvent[] = [];
    for (let k = start; k < this.traceNext; k++) events.push(this.trace[k % this.traceEventsMax]!);
    return events.map((event) => `${event.atMs.toFixed(1).padStart(9)}ms  ${describe(event.what)}`);
  }

  // --- internals ---------------------------------------------------------------------------------

  private node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`unknown node ${id}; the cluster has ${this.ids.join(", ")}`);
    return node;
  }

  private newDisk(id: NodeId): SimDisk {
    return new SimDisk(id, this.sim, this.sim.random.fork(), () => this.storageFaults);
  }

  private newNode(id: NodeId): SimNode {
    const node: SimNode = {
      id,
      raw: null,
      disk: this.newDisk(id),
      storage: null,
      store: new RaftStore(),
      applied: new AppliedLog(),
      persisting: null,
      queued: [],
      pumpScheduled: false,
      requestsSent: 0,
      requestBytesSent: 0,
    };
    this.nodes.set(id, node);
    this.open(node, undefined);
    return node;
  }

  /** open starts a node on its disk, recovered from `persisted`. */
  private open(node: SimNode, persisted: PersistedState | undefined): void {
    node.storage = this.synchronousDisks ? node.disk.openDurableAtOnce() : node.disk.open();
    node.store = new RaftStore(persisted);
    node.disk.watcher = {
      durable: () => this.persisted(node),
      failed: (error) => {
        // Fail-stop, as a server does on an I/O error: the host reports it crashed.
        this.note(`${node.id} stopped: ${error.message}`);
        this.stop(node);
      },
    };
    node.raw = this.newRawNode(node.id, persisted);
  }

  /** stop ends a node's life: the disk crashes, waiting input is dropped. */
  private stop(node: SimNode): void {
    node.raw = null;
    node.persisting = null;
    node.queued.length = 0;
    node.disk.watcher = undefined;
    node.storage?.crash();
    node.storage = null;
  }

  private newRawNode(id: NodeId, persisted: PersistedState | undefined): RawNode {
    const config: RaftConfig = {
      id,
      random: this.sim.random.fork(),
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      ...(this.options.limits ? { limits: this.options.limits } : {}),
      ...(this.options.preVote !== undefined ? { preVote: this.options.preVote } : {}),
      ...(this.options.checkQuorum !== undefined ? { checkQuorum: this.options.checkQuorum } : {}),
      ...(this.options.autoPromoteLearners !== undefined
        ? { autoPromoteLearners: this.options.autoPromoteLearners }
        : {}),
      ...(this.options.unsafe ? { unsafe: this.options.unsafe } : {}),
    };
    return new RawNode(config, persisted);
  }

  private refuseWhileDown(node: SimNode): ProposeResult | undefined {
    if (!node.raw) return { accepted: false, reason: "not-leader", leader: null };
    if (!node.persisting) return undefined;
    const soft = node.raw.soft();
    return { accepted: false, reason: "not-leader", leader: soft.leader, detail: "busy" };
  }

  private deliver(message: Message): void {
    const node = this.nodes.get(message.to);
    if (!node?.raw) return;
    this.record(message);
    this.input(node, { kind: "step", message });
  }

  /** input steps a node now, or after its disk answers when it is waiting for it. */
  private input(node: SimNode, input: Input): void {
    const raw = node.raw;
    if (!raw) return;
    if (node.persisting) {
      node.queued.push(input);
      return;
    }
    if (input.kind === "tick") raw.tick();
    else if (input.kind === "campaign") raw.campaign();
    else raw.step(input.message);
    this.pump(node);
  }

  /** A proposal's Ready waits for the end of the instant, so a burst shares one fsync. */
  private schedulePump(node: SimNode): void {
    if (this.synchronousDisks) return this.pump(node);
    if (node.pumpScheduled) return;
    node.pumpScheduled = true;
    this.sim.schedule(0, () => {
      node.pumpScheduled = false;
      this.pump(node);
    });
  }

  /**
   * pump runs the Ready loop: persist, then send, then apply, then advance. A Ready with writes
   * waits for its fsync (persisted), and the node takes no input until then.
   */
  private pump(node: SimNode): void {
    const raw = node.raw;
    while (raw && raw === node.raw && !node.persisting && raw.hasReady()) {
      const ready = raw.ready();
      const writes = node.store.writesFor(ready.persist);
      if (writes.length > 0) {
        // The outcome arrives through the disk's watcher, inside the fsync's event; a disk
        // durable at once has synced the writes before write() returns.
        node.persisting = this.synchronousDisks ? null : ready;
        node.storage!.write(asOperations(writes)).catch(() => {});
        if (node.persisting) return;
      }
      this.finish(node, raw, ready);
    }
  }

  /** persisted: the Ready waiting for the disk is durable; finish it, then take waiting input. */
  private persisted(node: SimNode): void {
    const raw = node.raw;
    const ready = node.persisting;
    if (!raw || !ready) return;
    node.persisting = null;
    this.finish(node, raw, ready);
    while (node.raw === raw && !node.persisting && node.queued.length > 0) {
      this.input(node, node.queued.shift()!);
    }
    this.pump(node);
  }

  private finish(node: SimNode, raw: RawNode, ready: Ready): void {
    this.checkers?.onPersist(raw, ready.persist.entries);
    if (ready.softChanged) {
      this.note(`${node.id} is ${ready.soft.role} of term ${ready.soft.term}`);
      this.checkers?.onSoftState(raw, ready.soft);
    }
    for (const message of ready.messages) {
      if (requestTypes.has(message.type)) {
        node.requestsSent++;
        node.requestBytesSent += messageBytes(message);
      }
      this.net.send(message);
    }
    if (ready.restore) {
      node.applied.restore(ready.restore);
      this.checkers?.onRestore(node.id, ready.restore);
    }
    for (const entry of ready.committed) {
      node.applied.apply(entry);
      this.checkers?.onApply(node.id, entry);
    }
    raw.advance();
    if (ready.persist.hardState) this.checkers?.onCommit(node.id, ready.persist.hardState.commit);
    this.maybeCompact(node, raw);
    if (ready.softChanged && ready.soft.role === "leader") this.onLeaderElected?.(node.id);
  }

  private maybeCompact(node: SimNode, raw: RawNode): void {
    const every = this.options.snapshotEveryEntries ?? 0;
    if (every <= 0) return;
    const applied = node.applied.lastIndex();
    if (applied - raw.snapshot().index < every) return;
    raw.compact(applied, node.applied.encode(applied));
  }

  private note(text: string): void {
    this.record(text);
  }

  private record(what: string | Message): void {
    // A ring buffer: the trace is kept on every step and read only when a run fails.
    this.trace[this.traceNext % this.traceEventsMax] = { atMs: this.sim.nowMs(), what };
    this.traceNext++;
  }
}
