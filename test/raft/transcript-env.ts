/**
 * The world a Rachis transcript (test/raft/testdata/*.txt) runs in: real RawNodes over in-memory
 * storage that keeps exactly what each Ready persisted, a network the script drives by hand, and
 * the simulator's invariant checkers watching every step. Nothing happens unless a command says
 * so: messages wait in flight until `deliver`, time moves only on `tick`. Each command prints
 * what the nodes did, with the engine's own describe() renderers; the commands are listed in
 * test/raft/testdata/README.md.
 */
import { AssertionError, describe } from "../../engine/core/index.ts";
import type { Random } from "../../engine/core/index.ts";
import {
  describeLog,
  describeReady,
  describeStatus,
  emptySnapshot,
  MemoryRaftStorage,
  RawNode,
} from "../../engine/raft/index.ts";
import type {
  Entry,
  MembershipChange,
  Message,
  NodeId,
  PersistedState,
  ProposeResult,
  RaftConfig,
} from "../../engine/raft/index.ts";
import { InvariantViolation, RaftCheckers } from "../../engine/runtime/sim/raft-checkers.ts";
import type { Directive } from "./datadriven.ts";

/** Ticks of the transcripts' nodes: three heartbeats fit in one election timeout. */
export const transcriptTiming = { heartbeatTicks: 3, electionTicks: 10 } as const;

/** Rounds of delivery `stabilize` runs before it gives up on a cluster that never goes quiet. */
const stabilizeRoundsMax = 200;

/**
 * MaxJitter is the transcripts' Random: a node's election timer always draws the largest jitter,
 * so a follower that hears nothing campaigns after 2 × electionTicks - 1 ticks, and a script
 * decides exactly who times out first (by ticking it, or by `campaign`).
 */
class MaxJitter implements Random {
  next(): number {
    return 1 - Number.EPSILON;
  }
  int(bound: number): number {
    return bound - 1;
  }
  between(_low: number, high: number): number {
    return high;
  }
  chance(): boolean {
    return false;
  }
  pick<T>(items: readonly T[]): T {
    return items[items.length - 1]!;
  }
  fork(): Random {
    return this;
  }
}

interface TranscriptNode {
  readonly id: NodeId;
  readonly config: RaftConfig;
  raw: RawNode | null;
  readonly storage: MemoryRaftStorage;
  /** The checkers of this node's cluster (a transcript may run two clusters side by side). */
  readonly checkers: RaftCheckers;
  /** The state machine: the command applied at each index ("" for noop and membership). */
  applied: string[];
}

type Change = Exclude<MembershipChange, { op: "bootstrap" }>;

/** TranscriptEnv runs one transcript's directives and returns what each printed. */
export class TranscriptEnv {
  private readonly nodes = new Map<NodeId, TranscriptNode>();
  /** The checkers of the cluster that nodes added without `voters=` join: the latest one. */
  private checkers = new RaftCheckers();
  private inflight: Message[] = [];
  /** Cut links, as "from>to". */
  private readonly cut = new Set<string>();
  private out: string[] = [];

  /** run runs one directive; a mistake in the script (an unknown command or node) throws. */
  run(directive: Directive): string {
    this.out = [];
    this.dispatch(directive);
    return this.out.length > 0 ? this.out.join("\n") : "ok";
  }

  private dispatch(d: Directive): void {
    switch (d.command) {
      case "add-nodes":
        return this.addNodes(d);
      case "campaign":
        return this.each(d.words, (node) => this.drive(node, (raw) => raw.campaign()));
      case "propose":
        return this.propose(d);
      case "propose-membership":
        return this.proposeMembership(d);
      case "tick":
        return this.tick(d.words, Number(this.arg(d, "n") ?? 1));
      case "tick-heartbeat":
        return this.tick(d.words, transcriptTiming.heartbeatTicks);
      case "tick-election":
        return this.tick(d.words, transcriptTiming.electionTicks);
      case "deliver":
        return this.deliverRound(d.args.get("from"), d.args.get("to"), d.args.get("drop"));
      case "stabilize":
        return this.stabilize();
      case "partition":
        return this.partition(d.words);
      case "heal":
        this.cut.clear();
        return void this.out.push("every link is up");
      case "crash":
        return this.each(d.words, (node) => this.crash(node));
      case "restart":
        return this.each(d.words, (node) => this.restart(node));
      case "compact":
        return this.each(d.words, (node) => this.compact(node));
      case "status":
        return this.each(this.named(d.words), (node) => this.status(node));
      case "log":
        return this.each(this.named(d.words), (node) => this.log(node));
      case "applied":
        return this.each(this.named(d.words), (node) => this.applied(node));
      default:
        throw new Error(`unknown command "${d.command}" (see test/raft/testdata/README.md)`);
    }
  }

  // --- commands ----------------------------------------------------------------------------------

  /**
   * add-nodes A B C [voters=(A,B,C)] [log=(1,1,2) term=T commit=N] [prevote=false]
   * [checkquorum=false] [autopromote=false] [unsafe-commit=true] [append-entries-max=N]
   */
  private addNodes(d: Directive): void {
    const voters = d.args.get("voters");
    const terms = d.args.get("log");
    // Nodes that bootstrap a configuration no existing node is in form a new cluster.
    if (voters && !voters.some((id) => this.nodes.has(id))) this.checkers = new RaftCheckers();
    const checkers = this.checkers;
    const config = (id: NodeId): RaftConfig => ({
      id,
      random: new MaxJitter(),
      timing: transcriptTiming,
      preVote: this.arg(d, "prevote") !== "false",
      checkQuorum: this.arg(d, "checkquorum") !== "false",
      autoPromoteLearners: this.arg(d, "autopromote") !== "false",
      unsafe: { commitEarlierTermsByCounting: this.arg(d, "unsafe-commit") === "true" },
      ...(d.args.has("append-entries-max")
        ? { limits: { appendEntriesMax: Number(this.arg(d, "append-entries-max")) } }
        : {}),
    });
    for (const id of d.words) {
      if (this.nodes.has(id)) throw new Error(`node ${id} already exists`);
      const storage = new MemoryRaftStorage();
      if (terms) {
        if (!voters) throw new Error("log= needs voters=");
        storage.persist(prefilled(terms, voters, d));
      }
      const node: TranscriptNode = {
        id,
        config: config(id),
        raw: null,
        storage,
        checkers,
        applied: [""],
      };
      node.raw = new RawNode(node.config, storage.load());
      this.nodes.set(id, node);
      if (voters && !terms) node.raw.bootstrap(voters);
      this.pump(node, false);
      this.status(node);
    }
  }

  private propose(d: Directive): void {
    const [id, data] = d.words;
    this.drive(this.node(id), (raw) => this.reportProposal(id!, raw.propose(data ?? "")));
  }

  private proposeMembership(d: Directive): void {
    const [id, op, target] = d.words;
    if (op !== "addLearner" && op !== "promote" && op !== "remove")
      throw new Error(`propose-membership ${id} takes addLearner, promote or remove, not ${op}`);
    const change: Change = { op, node: target ?? "" };
    this.drive(this.node(id), (raw) =>
      this.reportProposal(id!, raw.proposeMembership(change), `${op} ${target}`),
    );
  }

  private reportProposal(id: NodeId, result: ProposeResult, what = "proposal"): void {
    if (result.accepted) {
      this.out.push(`${id}: ${what} accepted at ${result.index}@${result.term}`);
      return;
    }
    const leader = result.leader === null ? "" : ` (leader ${result.leader})`;
    const detail = result.detail ? `: ${result.detail}` : "";
    this.out.push(`${id}: ${what} refused, ${result.reason}${leader}${detail}`);
  }

  private tick(ids: readonly string[], times: number): void {
    for (const node of ids.map((id) => this.node(id))) {
      for (let k = 0; k < times && node.raw; k++) this.drive(node, (raw) => raw.tick());
    }
  }

  /** deliverRound delivers every message in flight that matches, once; replies wait in flight. */
  private deliverRound(
    from: readonly string[] | undefined,
    to: readonly string[] | undefined,
    drop: readonly string[] | undefined,
  ): void {
    const matches = (m: Message): boolean =>
      (from === undefined || from.includes(m.from)) && (to === undefined || to.includes(m.to));
    const round = this.inflight.filter(matches);
    this.inflight = this.inflight.filter((m) => !matches(m));
    for (const message of round) {
      const line = describe(message);
      const node = this.nodes.get(message.to);
      if (drop?.includes(message.to) || drop?.includes("all")) this.out.push(`${line} → dropped`);
      else if (this.cut.has(`${message.from}>${message.to}`))
        this.out.push(`${line} → lost: partitioned`);
      else if (!node?.raw) this.out.push(`${line} → lost: ${message.to} is down`);
      else {
        this.out.push(line);
        this.drive(node, (raw) => raw.step(message), "  ");
      }
    }
  }

  private stabilize(): void {
    for (let round = 0; this.inflight.length > 0; round++) {
      if (round === stabilizeRoundsMax) {
        this.out.push(`!! still ${this.inflight.length} messages in flight after ${round} rounds`);
        return;
      }
      this.deliverRound(undefined, undefined, undefined);
    }
  }

  /** partition A B | C D: cuts every link between the groups, both ways, until `heal`. */
  private partition(words: readonly string[]): void {
    const groups: string[][] = [[]];
    for (const word of words) {
      if (word === "|") groups.push([]);
      else groups[groups.length - 1]!.push(word);
    }
    for (const [k, group] of groups.entries()) {
      for (const other of groups.slice(k + 1)) {
        for (const a of group) {
          for (const b of other) {
            this.cut.add(`${a}>${b}`);
            this.cut.add(`${b}>${a}`);
          }
        }
      }
    }
    this.out.push(`links cut between ${groups.map((g) => g.join(" ")).join(" | ")}`);
  }

  private crash(node: TranscriptNode): void {
    node.raw = null;
    const { hardState, entries, snapshot } = node.storage.load();
    const last = snapshot.index + entries.length;
    this.out.push(
      `${node.id}: crashed; on disk: term=${hardState.term} vote=${hardState.vote ?? "none"} commit=${hardState.commit}, log up to ${last}`,
    );
  }

  private restart(node: TranscriptNode): void {
    if (node.raw) this.crash(node);
    const persisted = node.storage.load();
    node.checkers.onRestart(node.id, persisted.hardState.commit);
    node.applied = [""];
    node.raw = new RawNode(node.config, persisted);
    this.out.push(`${node.id}: restarted`);
    this.pump(node, true);
  }

  /** compact X: X snapshots its state machine at its applied index and drops the log before it. */
  private compact(node: TranscriptNode): void {
    this.drive(node, (raw) => {
      const index = raw.appliedIndex();
      raw.compact(index, JSON.stringify(node.applied.slice(0, index + 1)));
    });
  }

  private status(node: TranscriptNode): void {
    if (!node.raw) return void this.out.push(`${node.id}: down`);
    this.out.push(...describeStatus(node.raw.status()));
  }

  private log(node: TranscriptNode): void {
    if (!node.raw) {
      const { snapshot, entries } = node.storage.load();
      return void this.out.push(`${node.id} (down, on disk): ${describeLog(snapshot, entries)}`);
    }
    const raw = node.raw;
    const status = raw.status();
    const entries: Entry[] = [];
    for (let index = status.firstIndex; index <= status.lastIndex; index++)
      entries.push(raw.entryAt(index)!);
    this.out.push(`${node.id} (commit ${status.commit}): ${describeLog(raw.snapshot(), entries)}`);
  }

  /** applied prints the node's state machine: the commands it applied, in order. */
  private applied(node: TranscriptNode): void {
    const commands = node.applied.filter((command) => command !== "");
    const upTo = node.applied.length - 1;
    const shown = commands.length > 0 ? commands.join(", ") : "nothing";
    this.out.push(`${node.id} (applied up to ${upTo}): ${shown}`);
  }

  // --- the Ready loop ----------------------------------------------------------------------------

  /** drive feeds one input to a live node, then runs its Ready loop and prints what it did. */
  private drive(node: TranscriptNode, input: (raw: RawNode) => void, indent = ""): void {
    const raw = node.raw;
    if (!raw) return void this.out.push(`${indent}${node.id} is down`);
    try {
      input(raw);
      this.pump(node, true, indent);
    } catch (error) {
      if (!(error instanceof AssertionError)) throw error;
      // An engine assertion is a bug caught at its cause: the node stops, the script goes on.
      node.raw = null;
      this.out.push(`${indent}!! ${node.id} stopped by an assertion: ${error.message}`);
    }
  }

  /** pump persists, sends, applies and advances until the node has nothing more to do. */
  private pump(node: TranscriptNode, print: boolean, indent = ""): void {
    const raw = node.raw!;
    while (raw.hasReady()) {
      const ready = raw.ready();
      if (print) for (const line of describeReady(node.id, ready)) this.out.push(indent + line);
      node.storage.persist(ready.persist);
      this.check(indent, () => node.checkers.onPersist(raw, ready.persist.entries));
      if (ready.softChanged) this.check(indent, () => node.checkers.onSoftState(raw, ready.soft));
      this.inflight.push(...ready.messages);
      if (ready.restore) {
        const restored = JSON.parse(ready.restore.data || '[""]') as string[];
        node.applied = restored.slice(0, ready.restore.index + 1);
        this.check(indent, () => node.checkers.onRestore(node.id, ready.restore!));
      }
      for (const entry of ready.committed) {
        node.applied[entry.index] = entry.type === "command" ? entry.data : "";
        this.check(indent, () => node.checkers.onApply(node.id, entry));
      }
      raw.advance();
      const commit = ready.persist.hardState?.commit;
      if (commit !== undefined) this.check(indent, () => node.checkers.onCommit(node.id, commit));
    }
  }

  /** check runs one invariant checker and prints a violation instead of stopping the script. */
  private check(indent: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      if (!(error instanceof InvariantViolation)) throw error;
      this.out.push(`${indent}!! ${error.message}`);
    }
  }

  // --- helpers -----------------------------------------------------------------------------------

  private node(id: string | undefined): TranscriptNode {
    const node = id === undefined ? undefined : this.nodes.get(id);
    if (!node) throw new Error(`no node ${id ?? "named"}; add it with add-nodes first`);
    return node;
  }

  private named(ids: readonly string[]): string[] {
    return ids.length > 0 ? [...ids] : [...this.nodes.keys()];
  }

  private each(ids: readonly string[], run: (node: TranscriptNode) => void): void {
    for (const id of ids) run(this.node(id));
  }

  private arg(d: Directive, key: string): string | undefined {
    return d.args.get(key)?.[0];
  }
}

/**
 * prefilled builds what a node would have on disk with the given entry terms (one command "x"
 * per index), for figures that start from logs that already diverge. The configuration is in
 * an empty snapshot at index 0, since entry 1 is a command here, not a bootstrap entry.
 */
function prefilled(terms: readonly string[], voters: readonly string[], d: Directive) {
  const entries: Entry[] = terms.map((term, k) => ({
    index: k + 1,
    term: Number(term),
    type: "command",
    data: "x",
  }));
  const lastTerm = entries[entries.length - 1]?.term ?? 0;
  const state: PersistedState = {
    hardState: {
      term: Number(d.args.get("term")?.[0] ?? lastTerm),
      vote: null,
      commit: Number(d.args.get("commit")?.[0] ?? 0),
    },
    snapshot: { ...emptySnapshot, membership: { voters: [...voters], learners: [] } },
    entries,
  };
  return state;
}
