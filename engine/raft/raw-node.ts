import { assert, AssertionError, unreachable } from "../core/index.ts";
import type { Random } from "../core/index.ts";
import { assertRaftLimits, assertRaftTiming, raftLimits, raftTiming } from "./limits.ts";
import type { RaftLimits, RaftTiming } from "./limits.ts";
import { emptySnapshot, entryBytes, RaftLog } from "./log.ts";
import { Progress } from "./progress.ts";
import type {
  AppendRequest,
  AppendResponse,
  Entry,
  HardState,
  InstallSnapshot,
  Membership,
  MembershipChange,
  Message,
  NodeId,
  PersistedState,
  ProposeResult,
  Ready,
  Role,
  Snapshot,
  SoftState,
  Status,
  VoteRequest,
  VoteResponse,
} from "./types.ts";

/** RaftConfig configures one Rachis node. Everything it needs from the outside arrives here. */
export interface RaftConfig {
  readonly id: NodeId;
  /** Seeded randomness for election timeouts; the same seed replays the same elections. */
  readonly random: Random;
  readonly timing?: Partial<RaftTiming>;
  readonly limits?: Partial<RaftLimits>;
  /** Pre-vote (thesis §9.6): a node that was cut off cannot disrupt a healthy leader. Default on. */
  readonly preVote?: boolean;
  /** A leader that hears from no quorum for an election timeout steps down. Default on. */
  readonly checkQuorum?: boolean;
  /** The leader promotes a learner to voter once it has caught up. Default on. */
  readonly autoPromoteLearners?: boolean;
  /**
   * Deliberately broken behaviour, for teaching and for proving that the checkers catch bugs.
   * `commitEarlierTermsByCounting` commits entries of earlier terms by counting replicas, the
   * mistake the Raft paper's Figure 8 warns about. `membershipChangeBeforeNoop` lets a new leader
   * change the configuration before its noop commits (defect 1 of issue 12, the 2015 erratum).
   */
  readonly unsafe?: {
    readonly commitEarlierTermsByCounting?: boolean;
    readonly membershipChangeBeforeNoop?: boolean;
  };
}

const noPersisted: PersistedState = {
  hardState: { term: 0, vote: null, commit: 0 },
  snapshot: emptySnapshot,
  entries: [],
};

/**
 * RawNode is Rachis: a synchronous Raft state machine in the shape of etcd-io/raft's RawNode.
 * It reads no clock, draws randomness only from its config, and does no I/O: time arrives through
 * tick(), peers' messages through step(), and everything it wants done leaves through ready().
 */
export class RawNode {
  readonly id: NodeId;
  private readonly random: Random;
  private readonly timing: RaftTiming;
  private readonly limits: RaftLimits;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly autoPromoteLearners: boolean;
  private readonly unsafeCommit: boolean;
  private readonly unsafeMembership: boolean;

  private term: number;
  private vote: NodeId | null;
  private role: Role = "follower";
  private leader: NodeId | null = null;
  private readonly log: RaftLog;
  private membership: Membership;
  private membershipIndex: number;

  private electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  /**
   * A leader holds a new membership change until the entry at this index has committed: the
   * previous change, or, just after an election, the leader's own noop. A configuration takes
   * effect when it is appended, so a leader must not change it before an entry of its own term has
   * committed (Ongaro's 2015 erratum to the thesis, §4.1): otherwise two leaders of different
   * terms can change it from different starting points, with majorities that do not overlap.
   */
  private pendingMembershipIndex = 0;
  /** A follower may be told of a newer commit index at the next ready(). */
  private commitUpdatesDue = false;

  private messages: Message[] = [];
  private lastHardState: HardState;
  private lastSoft: SoftState;
  private pendingSnapshot: Snapshot | undefined;
  private pendingRestore: Snapshot | undefined;
  private readyOutstanding: { lastEntry: number; committedTo: number } | undefined;

  constructor(config: RaftConfig, persisted: PersistedState = noPersisted) {
    this.id = config.id;
    this.random = config.random;
    this.timing = { ...raftTiming, ...config.timing };
    this.limits = { ...raftLimits, ...config.limits };
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.autoPromoteLearners = config.autoPromoteLearners ?? true;
    this.unsafeCommit = config.unsafe?.commitEarlierTermsByCounting ?? false;
    this.unsafeMembership = config.unsafe?.membershipChangeBeforeNoop ?? false;
    assertRaftTiming(this.timing);
    assertRaftLimits(this.limits);

    this.term = persisted.hardState.term;
    this.vote = persisted.hardState.vote;
    this.log = new RaftLog(persisted.snapshot, persisted.entries, persisted.hardState.commit);
    this.membershipIndex = this.log.lastMembershipIndex();
    this.membership = this.log.membershipAt(this.log.lastIndex());
    this.lastHardState = persisted.hardState;
    this.lastSoft = this.softState();
    // The caller rebuilds its state machine the same way after a restart as after an install.
    if (persisted.snapshot.index > 0) this.pendingRestore = persisted.snapshot;
    this.resetElectionTimer();
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs.

  /**
   * bootstrap starts a brand-new cluster with `voters` (every founding node calls it with the same
   * list, or a RavenDB server alone when it becomes "A"). It writes the configuration as entry 1.
   */
  bootstrap(voters: readonly NodeId[]): void {
    this.assertNoReadyOutstanding();
    assert(
      this.log.lastIndex() === 0 && this.term === 0,
      "bootstrap needs a node with an empty log",
    );
    assert(voters.length > 0, "bootstrap needs at least one voter");
    const membership: Membership = { voters: [...voters], learners: [] };
    this.term = 1;
    const change: MembershipChange = { op: "bootstrap", voters: [...voters] };
    this.log.append({ index: 1, term: 1, type: "membership", change, membership });
    this.log.committed = 1;
    this.membership = membership;
    this.membershipIndex = 1;
    this.resetElectionTimer();
  }

  /** tick advances logical time by one tick (the runtime decides how many milliseconds). */
  tick(): void {
    this.assertNoReadyOutstanding();
    if (this.role === "leader") this.tickLeader();
    else this.tickFollower();
  }

  /** campaign starts an election now, as if the election timer had fired. */
  campaign(): void {
    this.assertNoReadyOutstanding();
    if (!this.isVoter(this.id) || this.role === "leader") return;
    if (this.preVote) this.becomePreCandidate();
    else this.becomeCandidate();
  }

  /** propose appends a command to the leader's log; followers refuse and name the leader. */
  propose(data: string): ProposeResult {
    this.assertNoReadyOutstanding();
    const refused = this.refuseProposal();
    if (refused) return refused;
    if (data.length > this.limits.commandBytesMax) {
      return {
        accepted: false,
        reason: "too-large",
        leader: this.leader,
        detail: `command of ${data.length} bytes exceeds commandBytesMax ${this.limits.commandBytesMax}`,
      };
    }
    return this.appendAsLeader({
      index: this.log.lastIndex() + 1,
      term: this.term,
      type: "command",
      data,
    });
  }

  /** proposeMembership changes the configuration by one server; one change may be pending. */
  proposeMembership(change: Exclude<MembershipChange, { op: "bootstrap" }>): ProposeResult {
    this.assertNoReadyOutstanding();
    const refused = this.refuseProposal();
    if (refused) return refused;
    if (this.pendingMembershipIndex > this.log.committed) {
      const pending = this.log.entry(this.pendingMembershipIndex);
      const what =
        pending?.type === "noop"
          ? `this leader's first entry of term ${this.term}`
          : "the previous membership change";
      return {
        accepted: false,
        reason: "membership-change-pending",
        leader: this.leader,
        detail: `${what} (index ${this.pendingMembershipIndex}) has not committed yet`,
      };
    }
    const next = applyMembershipChange(this.membership, change);
    if (typeof next === "string") {
      return {
        accepted: false,
        reason: "invalid-membership-change",
        leader: this.leader,
        detail: next,
      };
    }
    const index = this.log.lastIndex() + 1;
    const result = this.appendAsLeader({
      index,
      term: this.term,
      type: "membership",
      change,
      membership: next,
    });
    return result;
  }

  /** step feeds one message from a peer into the state machine. */
  step(message: Message): void {
    this.assertNoReadyOutstanding();
    if (message.to !== this.id)
      throw new AssertionError(`message for ${message.to} stepped into ${this.id}`);
    if (message.term > this.term) {
      if (this.ignoresDisruptiveVote(message)) return;
      const keepsTerm =
        message.type === "preVote" || (message.type === "preVoteResponse" && message.granted);
      if (!keepsTerm) {
        const leader =
          message.type === "append" || message.type === "installSnapshot" ? message.from : null;
        this.becomeFollower(message.term, leader);
      }
    } else if (message.term < this.term) {
      this.answerStaleMessage(message);
      return;
    }

    switch (message.type) {
      case "preVote":
      case "vote":
        return this.handleVoteRequest(message);
      case "preVoteResponse":
      case "voteResponse":
        return this.handleVoteResponse(message);
      case "append":
        this.followLeader(message.from);
        return this.handleAppend(message);
      case "installSnapshot":
        this.followLeader(message.from);
        return this.handleInstallSnapshot(message);
      case "appendResponse":
        return this.handleAppendResponse(message);
      default:
        return unreachable(message, "raft message");
    }
  }

  /**
   * compact replaces the applied log up to `index` by a snapshot of the caller's state machine
   * (`data`), bounding the log's size. The snapshot appears in the next Ready's persist.
   */
  compact(index: number, data: string): void {
    this.assertNoReadyOutstanding();
    assert(
      data.length <= this.limits.snapshotBytesMax,
      () =>
        `snapshot of ${data.length} bytes exceeds snapshotBytesMax ${this.limits.snapshotBytesMax}`,
    );
    if (index <= this.log.snapshot.index) return;
    const term = this.log.term(index);
    assert(term !== undefined, () => `compact at unknown index ${index}`);
    const snapshot: Snapshot = { index, term, membership: this.log.membershipAt(index), data };
    this.log.compact(snapshot);
    this.pendingSnapshot = snapshot;
  }

  // ---------------------------------------------------------------------------------------------
  // Outputs.

  hasReady(): boolean {
    return (
      this.messages.length > 0 ||
      this.commitUpdatesDue ||
      this.log.unstableFrom <= this.log.lastIndex() ||
      this.log.truncateFrom !== undefined ||
      this.pendingSnapshot !== undefined ||
      this.pendingRestore !== undefined ||
      this.log.committed > this.log.applied ||
      !sameHardState(this.hardState(), this.lastHardState) ||
      !sameSoftState(this.softState(), this.lastSoft)
    );
  }

  /** ready hands out the next batch of work; see the Ready contract in types.ts. */
  ready(): Ready {
    this.assertNoReadyOutstanding();
    if (this.role === "leader" && this.commitUpdatesDue) this.sendCommitUpdates();
    this.commitUpdatesDue = false;
    for (const message of this.messages) {
      // Appends created before the commit moved carry the newest commit index out.
      if (message.type === "append") message.commit = this.log.committed;
    }
    const hardState = this.hardState();
    checkHardStateMove(this.id, this.lastHardState, hardState, this.log.lastIndex());
    const soft = this.softState();
    const entries = this.log.unstableEntries();
    const committed: Entry[] = [];
    for (let index = this.log.applied + 1; index <= this.log.committed; index++) {
      committed.push(this.log.entry(index)!);
    }
    const ready: Ready = {
      soft,
      softChanged: !sameSoftState(soft, this.lastSoft),
      persist: {
        ...(this.pendingSnapshot ? { snapshot: this.pendingSnapshot } : {}),
        ...(this.log.truncateFrom !== undefined ? { truncateFrom: this.log.truncateFrom } : {}),
        entries,
        ...(sameHardState(hardState, this.lastHardState) ? {} : { hardState }),
      },
      ...(this.pendingRestore ? { restore: this.pendingRestore } : {}),
      committed,
      messages: this.messages,
    };
    this.messages = [];
    this.lastHardState = hardState;
    this.lastSoft = soft;
    this.pendingSnapshot = undefined;
    this.pendingRestore = undefined;
    this.log.truncateFrom = undefined;
    this.readyOutstanding = { lastEntry: this.log.lastIndex(), committedTo: this.log.committed };
    return ready;
  }

  /** advance tells the node that the last Ready was persisted, sent and applied. */
  advance(): void {
    const outstanding = this.readyOutstanding;
    assert(outstanding !== undefined, "advance without ready");
    this.readyOutstanding = undefined;
    this.log.unstableFrom = outstanding.lastEntry + 1;
    this.log.applied = Math.max(this.log.applied, outstanding.committedTo);
    // The leader counts its own copy only once it is durable.
    if (this.role === "leader") {
      this.selfProgress().acknowledge(outstanding.lastEntry);
      this.maybeCommit();
    }
    this.maybeStepDownAfterRemoval();
  }

  status(): Status {
    const progress: Record<NodeId, ReturnType<Progress["view"]>> = {};
    if (this.role === "leader") for (const [peer, pr] of this.progress) progress[peer] = pr.view();
    return {
      ...this.softState(),
      id: this.id,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      membership: this.membership,
      membershipIndex: this.membershipIndex,
      leaderInOffice: this.role === "leader" && this.log.term(this.log.committed) === this.term,
      electionElapsed: this.electionElapsed,
      electionTimeout:
        this.role === "leader" ? this.timing.electionTicks : this.randomizedElectionTimeout,
      progress,
    };
  }

  /** appliedIndex is the index of the last entry applied, without building the whole status. */
  appliedIndex(): number {
    return this.log.applied;
  }

  /** soft is the cheap part of status(): role, leader and term. */
  soft(): SoftState {
    return this.softState();
  }

  /** entryAt returns the log entry at `index` if it is still in the log (tests and checkers). */
  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  /** termAt returns the term of entry `index`, or undefined when it is compacted or absent. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  snapshot(): Snapshot {
    return this.log.snapshot;
  }

  // ---------------------------------------------------------------------------------------------
  // Roles.

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = "follower";
    this.leader = leader;
    this.progress.clear();
    this.votes.clear();
    this.resetElectionTimer();
  }

  private becomePreCandidate(): void {
    this.role = "preCandidate";
    this.leader = null;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer();
    if (this.pollWon()) return this.becomeCandidate();
    this.requestVotes("preVote", this.term + 1);
  }

  private becomeCandidate(): void {
    this.term += 1;
    this.vote = this.id;
    this.role = "candidate";
    this.leader = null;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer();
    if (this.pollWon()) return this.becomeLeader();
    this.requestVotes("vote", this.term);
  }

  private becomeLeader(): void {
    if (!this.pollWon())
      throw new AssertionError(`${this.id} becomes leader of term ${this.term} without a quorum`);
    this.role = "leader";
    this.leader = this.id;
    this.votes.clear();
    this.progress.clear();
    const next = this.log.lastIndex() + 1;
    for (const peer of this.peers()) {
      const pr = new Progress(next);
      pr.recentActive = true;
      this.progress.set(peer, pr);
    }
    const self = new Progress(next);
    self.match = this.log.unstableFrom - 1;
    this.progress.set(this.id, self);
    this.electionElapsed = 0;
    // Taking office: a noop of the new term lets earlier-term entries commit (paper §5.4.2).
    this.appendAsLeader({ index: next, term: this.term, type: "noop" });
    // No membership change until that noop, an entry of this term, has committed.
    this.pendingMembershipIndex = this.unsafeMembership ? next - 1 : next;
  }

  private followLeader(leader: NodeId): void {
    if (this.role !== "follower") this.becomeFollower(this.term, leader);
    this.leader = leader;
    this.electionElapsed = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Time.

  private tickFollower(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      if (this.isVoter(this.id)) this.campaign();
      else this.resetElectionTimer();
    }
  }

  private tickLeader(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.timing.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, null);
        return;
      }
      for (const [peer, pr] of this.progress) if (peer !== this.id) pr.recentActive = false;
    }
    for (const [peer, pr] of this.progress) {
      if (peer === this.id) continue;
      pr.idleTicks++;
      if (pr.idleTicks >= this.timing.heartbeatTicks) this.sendHeartbeat(peer, pr);
    }
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const min = this.timing.electionTicks;
    this.randomizedElectionTimeout = min + this.random.int(min);
  }

  // ---------------------------------------------------------------------------------------------
  // Elections.

  private requestVotes(type: "preVote" | "vote", term: number): void {
    for (const voter of this.membership.voters) {
      if (voter === this.id) continue;
      this.send({
        type,
        from: this.id,
        to: voter,
        term,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
      } satisfies VoteRequest);
    }
  }

  /** A node that recently heard from a leader ignores elections: they could only disrupt it. */
  private ignoresDisruptiveVote(message: Message): boolean {
    if (message.type !== "preVote" && message.type !== "vote") return false;
    return (
      this.checkQuorum && this.leader !== null && this.electionElapsed < this.timing.electionTicks
    );
  }

  private handleVoteRequest(message: VoteRequest): void {
    const isPreVote = message.type === "preVote";
    const mayVote = isPreVote
      ? message.term > this.term ||
        this.vote === message.from ||
        (this.vote === null && this.leader === null)
      : this.vote === message.from || (this.vote === null && this.leader === null);
    const granted = mayVote && this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
    if (granted && !isPreVote) {
      this.vote = message.from;
      this.electionElapsed = 0;
    }
    this.send({
      type: isPreVote ? "preVoteResponse" : "voteResponse",
      from: this.id,
      to: message.from,
      term: granted && isPreVote ? message.term : this.term,
      granted,
    } satisfies VoteResponse);
  }

  private handleVoteResponse(message: VoteResponse): void {
    const polling = message.type === "preVoteResponse" ? "preCandidate" : "candidate";
    if (this.role !== polling) return;
    if (!this.isVoter(message.from)) return;
    this.votes.set(message.from, message.granted);
    if (this.pollWon()) {
      if (this.role === "preCandidate") this.becomeCandidate();
      else this.becomeLeader();
    } else if (this.pollLost()) {
      this.becomeFollower(this.term, null);
    }
  }

  private pollWon(): boolean {
    let granted = 0;
    for (const voter of this.membership.voters) if (this.votes.get(voter) === true) granted++;
    return granted >= quorum(this.membership.voters.length);
  }

  private pollLost(): boolean {
    let rejected = 0;
    for (const voter of this.membership.voters) if (this.votes.get(voter) === false) rejected++;
    return rejected > this.membership.voters.length - quorum(this.membership.voters.length);
  }

  private answerStaleMessage(message: Message): void {
    // A deposed leader or stale candidate learns the newer term from our answer and steps down.
    if (message.type === "append" || message.type === "installSnapshot") {
      this.send(this.appendResponse(message.from, false, 0, 0, 0, 0));
    } else if (message.type === "preVote") {
      this.send({
        type: "preVoteResponse",
        from: this.id,
        to: message.from,
        term: this.term,
        granted: false,
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Log replication: follower side.

  private handleAppend(message: AppendRequest): void {
    const { prevIndex, prevTerm, entries } = message;
    if (prevIndex < this.log.committed) {
      // Everything up to our commit index is known to match the leader's log.
      const ours = this.log.term(prevIndex);
      if (ours !== undefined && ours !== prevTerm)
        throw new AssertionError(
          `${this.id}: committed entry ${prevIndex}@${ours} differs from leader ${message.from}'s ${prevIndex}@${prevTerm} (log matching)`,
        );
      this.log.checkAgrees(entries, this.log.committed);
      const fresh = entries.filter((entry) => entry.index > this.log.committed);
      const lastNew = prevIndex + entries.length;
      if (fresh.length > 0) {
        const first = fresh[0]!;
        this.mergeEntries(first.index - 1, fresh);
      }
      this.commitTo(Math.min(message.commit, lastNew));
      this.send(
        this.appendResponse(message.from, true, Math.max(this.log.committed, lastNew), 0, 0, 0),
      );
      return;
    }
    if (!this.log.matchTerm(prevIndex, prevTerm)) {
      const [conflictIndex, conflictTerm] = this.conflictHint(prevIndex);
      this.send(
        this.appendResponse(message.from, false, 0, prevIndex, conflictIndex, conflictTerm),
      );
      return;
    }
    this.mergeEntries(prevIndex, entries);
    const lastNew = prevIndex + entries.length;
    this.commitTo(Math.min(message.commit, lastNew));
    this.send(this.appendResponse(message.from, true, lastNew, 0, 0, 0));
  }

  private mergeEntries(prevIndex: number, entries: readonly Entry[]): void {
    const firstChanged = this.log.appendAfter(prevIndex, entries);
    if (firstChanged === undefined) return;
    if (firstChanged <= this.membershipIndex) {
      this.membershipIndex = this.log.lastMembershipIndex();
      this.membership = this.log.membershipAt(this.log.lastIndex());
      return;
    }
    for (const entry of entries) {
      if (entry.index >= firstChanged && entry.type === "membership") {
        this.membershipIndex = entry.index;
        this.membership = entry.membership;
      }
    }
  }

  /** conflictHint lets the leader skip a whole divergent term per round trip (fast backup). */
  private conflictHint(prevIndex: number): [number, number] {
    if (prevIndex > this.log.lastIndex()) return [this.log.lastIndex() + 1, 0];
    const conflictTerm = this.log.term(prevIndex) ?? 0;
    const first = Math.max(this.log.firstIndexOfTerm(prevIndex), this.log.committed + 1);
    return [first, conflictTerm];
  }

  private commitTo(index: number): void {
    if (index > this.log.committed) this.log.committed = Math.min(index, this.log.lastIndex());
  }

  private handleInstallSnapshot(message: InstallSnapshot): void {
    const { snapshot } = message;
    if (snapshot.index <= this.log.committed) {
      this.send(this.appendResponse(message.from, true, this.log.committed, 0, 0, 0));
      return;
    }
    this.log.restore(snapshot);
    this.pendingSnapshot = snapshot;
    this.pendingRestore = snapshot;
    this.membershipIndex = this.log.lastMembershipIndex();
    this.membership = this.log.membershipAt(this.log.lastIndex());
    this.send(this.appendResponse(message.from, true, snapshot.index, 0, 0, 0));
  }

  private appendResponse(
    to: NodeId,
    success: boolean,
    matchIndex: number,
    rejectedIndex: number,
    conflictIndex: number,
    conflictTerm: number,
  ): AppendResponse {
    return {
      type: "appendResponse",
      from: this.id,
      to,
      term: this.term,
      success,
      matchIndex,
      rejectedIndex,
      conflictIndex,
      conflictTerm,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Log replication: leader side.

  private refuseProposal(): ProposeResult | undefined {
    if (this.role !== "leader")
      return { accepted: false, reason: "not-leader", leader: this.leader };
    const uncommitted = this.log.lastIndex() - this.log.committed;
    if (uncommitted >= this.limits.uncommittedEntriesMax) {
      return {
        accepted: false,
        reason: "too-many-uncommitted",
        leader: this.leader,
        detail: `${uncommitted} entries await commit (uncommittedEntriesMax ${this.limits.uncommittedEntriesMax})`,
      };
    }
    return undefined;
  }

  private appendAsLeader(entry: Entry): ProposeResult {
    this.log.append(entry);
    if (entry.type === "membership") {
      // One change at a time, and none before this leader's own first entry has committed.
      if (this.pendingMembershipIndex > this.log.committed)
        throw new AssertionError(
          `${this.id} appends a membership change at ${entry.index} while ${this.pendingMembershipIndex} is uncommitted (commit ${this.log.committed})`,
        );
      this.pendingMembershipIndex = entry.index;
      this.membershipIndex = entry.index;
      this.membership = entry.membership;
      this.syncProgressWithMembership();
    }
    this.broadcastAppend();
    return { accepted: true, index: entry.index, term: entry.term };
  }

  private syncProgressWithMembership(): void {
    const wanted = new Set(this.peers());
    for (const peer of [...this.progress.keys()]) {
      if (peer !== this.id && !wanted.has(peer)) this.progress.delete(peer);
    }
    for (const peer of wanted) {
      if (!this.progress.has(peer)) {
        const pr = new Progress(this.log.lastIndex());
        pr.recentActive = true;
        this.progress.set(peer, pr);
      }
    }
  }

  private broadcastAppend(): void {
    for (const [peer, pr] of this.progress) if (peer !== this.id) this.sendAppend(peer, pr);
  }

  /** sendAppend sends what the follower is missing, unless its pipeline is full or paused. */
  private sendAppend(peer: NodeId, pr: Progress): void {
    if (pr.state === "replicate" && pr.inflight.length >= this.limits.inflightAppendsMax) return;
    if (pr.state !== "replicate" && pr.paused) return;
    if (pr.state === "replicate" && pr.next > this.log.lastIndex()) return;
    this.sendAppendFrom(peer, pr);
  }

  private sendAppendFrom(peer: NodeId, pr: Progress): void {
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) return this.sendSnapshot(peer, pr);
    const entries =
      pr.next <= this.log.lastIndex()
        ? this.log.slice(
            pr.next,
            this.log.lastIndex(),
            this.limits.appendEntriesMax,
            this.limits.appendBytesMax,
          )
        : [];
    this.send({
      type: "append",
      from: this.id,
      to: peer,
      term: this.term,
      prevIndex,
      prevTerm,
      entries,
      commit: this.log.committed,
    } satisfies AppendRequest);
    pr.idleTicks = 0;
    // The follower commits no further than the last entry this append proves it holds.
    pr.commitSent = Math.min(this.log.committed, prevIndex + entries.length);
    if (pr.state === "replicate") {
      if (entries.length > 0) {
        const last = entries[entries.length - 1]!.index;
        pr.inflight.push(last);
        pr.next = last + 1;
      }
    } else {
      pr.paused = true;
    }
  }

  private sendSnapshot(peer: NodeId, pr: Progress): void {
    pr.state = "snapshot";
    pr.paused = true;
    pr.idleTicks = 0;
    this.send({
      type: "installSnapshot",
      from: this.id,
      to: peer,
      term: this.term,
      snapshot: this.log.snapshot,
    } satisfies InstallSnapshot);
  }

  /**
   * sendHeartbeat keeps followers from timing out and retransmits anything unanswered: it is the
   * one mechanism that recovers from lost messages.
   */
  private sendHeartbeat(peer: NodeId, pr: Progress): void {
    if (pr.state === "replicate" && pr.next > pr.match + 1) pr.becomeReplicate();
    pr.paused = false;
    if (pr.state === "snapshot") return this.sendSnapshot(peer, pr);
    this.sendAppendFrom(peer, pr);
  }

  /** sendCommitUpdates tells followers of a newer commit index when nothing else is going out. */
  private sendCommitUpdates(): void {
    const addressed = new Set<NodeId>();
    for (const message of this.messages) if (message.type === "append") addressed.add(message.to);
    for (const [peer, pr] of this.progress) {
      if (peer === this.id || addressed.has(peer)) continue;
      if (pr.commitSent >= this.log.committed || pr.match <= pr.commitSent) continue;
      const prevTerm = this.log.term(pr.match);
      if (prevTerm === undefined) continue;
      this.send({
        type: "append",
        from: this.id,
        to: peer,
        term: this.term,
        prevIndex: pr.match,
        prevTerm,
        entries: [],
        commit: this.log.committed,
      } satisfies AppendRequest);
      pr.idleTicks = 0;
      pr.commitSent = Math.min(this.log.committed, pr.match);
    }
  }

  private handleAppendResponse(message: AppendResponse): void {
    if (this.role !== "leader") return;
    const pr = this.progress.get(message.from);
    if (!pr) return;
    pr.recentActive = true;
    if (!message.success) {
      if (message.rejectedIndex <= pr.match) return; // stale
      // In probe state only the answer to the probe at next - 1 counts; an older probe's rejection
      // (reordered, or a heartbeat's duplicate probe) would move `next` back where we came from.
      if (pr.state === "probe" && message.rejectedIndex !== pr.next - 1) return;
      pr.next = this.nextAfterRejection(message, pr);
      pr.state = "probe";
      pr.paused = false;
      pr.inflight = [];
      this.sendAppend(message.from, pr);
      return;
    }
    if (message.matchIndex > this.log.lastIndex())
      throw new AssertionError(
        `${this.id}: ${message.from} acknowledges ${message.matchIndex}, beyond the leader's log end ${this.log.lastIndex()}`,
      );
    const moved = pr.acknowledge(message.matchIndex);
    if (pr.state !== "replicate" && pr.match + 1 >= this.log.firstIndex()) pr.becomeReplicate();
    else if (pr.state !== "replicate") pr.paused = false;
    if (moved) {
      this.commitUpdatesDue = true;
      this.maybeCommit();
    }
    // Checked on every answer: a learner may have caught up while another change was pending.
    this.maybePromoteLearner(message.from, pr);
    if (this.role === "leader" && pr.next <= this.log.lastIndex())
      this.sendAppend(message.from, pr);
  }

  private nextAfterRejection(message: AppendResponse, pr: Progress): number {
    let next = message.conflictIndex;
    if (message.conflictTerm > 0) {
      const last = this.log.lastIndexOfTerm(message.conflictTerm, message.rejectedIndex);
      if (last > 0) next = last + 1;
    }
    return Math.max(pr.match + 1, Math.min(next, message.rejectedIndex));
  }

  private maybeCommit(): void {
    const matches = this.membership.voters
      .map((voter) => this.progress.get(voter)?.match ?? 0)
      .sort((a, b) => b - a);
    if (matches.length === 0) return;
    const candidate = matches[quorum(matches.length) - 1]!;
    if (candidate <= this.log.committed) return;
    // Figure 8: only an entry of the current term commits by counting replicas.
    if (!this.unsafeCommit && this.log.term(candidate) !== this.term) return;
    this.log.committed = candidate;
    this.commitUpdatesDue = true;
  }

  private maybePromoteLearner(peer: NodeId, pr: Progress): void {
    if (!this.autoPromoteLearners || !this.membership.learners.includes(peer)) return;
    if (pr.match < this.log.committed || this.pendingMembershipIndex > this.log.committed) return;
    this.proposeMembershipInternal({ op: "promote", node: peer });
  }

  private proposeMembershipInternal(change: Exclude<MembershipChange, { op: "bootstrap" }>): void {
    const next = applyMembershipChange(this.membership, change);
    if (typeof next === "string") return;
    this.appendAsLeader({
      index: this.log.lastIndex() + 1,
      term: this.term,
      type: "membership",
      change,
      membership: next,
    });
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const voter of this.membership.voters) {
      if (voter === this.id || this.progress.get(voter)?.recentActive) active++;
    }
    return active >= quorum(this.membership.voters.length);
  }

  /** A leader whose own removal committed hands over by stepping down. */
  private maybeStepDownAfterRemoval(): void {
    if (this.role !== "leader" || this.isVoter(this.id)) return;
    if (this.membershipIndex <= this.log.committed) this.becomeFollower(this.term, null);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers.

  private send(message: Message): void {
    if (this.messages.length >= this.limits.outboxMessagesMax)
      throw new AssertionError(
        `${this.id} queued more than outboxMessagesMax ${this.limits.outboxMessagesMax} messages`,
      );
    this.messages.push(message);
  }

  private selfProgress(): Progress {
    let pr = this.progress.get(this.id);
    if (!pr) {
      pr = new Progress(this.log.lastIndex() + 1);
      this.progress.set(this.id, pr);
    }
    return pr;
  }

  private peers(): NodeId[] {
    const all = [...this.membership.voters, ...this.membership.learners];
    return all.filter((peer) => peer !== this.id);
  }

  private isVoter(id: NodeId): boolean {
    return this.membership.voters.includes(id);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.leader, term: this.term };
  }

  private assertNoReadyOutstanding(): void {
    if (this.readyOutstanding !== undefined)
      throw new AssertionError(`${this.id}: call advance() before anything else after ready()`);
  }
}

/** quorum is the number of voters that make a majority. */
export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** applyMembershipChange returns the configuration after `change`, or why it cannot apply. */
export function applyMembershipChange(
  current: Membership,
  change: MembershipChange,
): Membership | string {
  const { voters, learners } = current;
  switch (change.op) {
    case "bootstrap":
      return { voters: [...change.voters], learners: [] };
    case "addLearner":
      if (voters.includes(change.node) || learners.includes(change.node))
        return `${change.node} is already in the cluster`;
      return { voters, learners: [...learners, change.node] };
    case "promote":
      if (!learners.includes(change.node)) return `${change.node} is not a learner`;
      return {
        voters: [...voters, change.node],
        learners: learners.filter((n) => n !== change.node),
      };
    case "remove":
      if (!voters.includes(change.node) && !learners.includes(change.node))
        return `${change.node} is not in the cluster`;
      if (voters.length === 1 && voters[0] === change.node)
        return `${change.node} is the last voter`;
      return {
        voters: voters.filter((n) => n !== change.node),
        learners: learners.filter((n) => n !== change.node),
      };
    default:
      return unreachable(change, "membership change");
  }
}

/**
 * checkHardStateMove asserts what may change in a node's hard state between two Readies: the term
 * never goes back, a vote once cast stands for the rest of its term, and the commit index never
 * goes back nor past the log's end. Plain comparisons, no allocation: it runs on every Ready.
 */
function checkHardStateMove(
  id: NodeId,
  before: HardState,
  after: HardState,
  lastIndex: number,
): void {
  if (after.term < before.term)
    throw new AssertionError(`${id}: term went back from ${before.term} to ${after.term}`);
  if (after.term === before.term && before.vote !== null && after.vote !== before.vote)
    throw new AssertionError(
      `${id}: voted for ${before.vote} and then ${after.vote ?? "nobody"} in term ${after.term}`,
    );
  if (after.commit < before.commit)
    throw new AssertionError(`${id}: commit went back from ${before.commit} to ${after.commit}`);
  if (after.commit > lastIndex)
    throw new AssertionError(`${id}: commit ${after.commit} is past the log's end ${lastIndex}`);
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}

export { entryBytes };
