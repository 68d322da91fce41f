import type { NodeTag } from "../core/index.ts";

/** NodeId names a Raft peer; in a RavenDB cluster it is the server's node tag. */
export type NodeId = NodeTag;

/** Role is where a node stands in an election. A pre-candidate has not yet raised its term. */
export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/**
 * Membership is the configuration in force: voters count towards quorums, learners only receive
 * the log (a new server catches up as a learner, the chapter's "promotable", before it votes).
 */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** MembershipChange adds, promotes or removes one server at a time (Raft thesis §4.1). */
export type MembershipChange =
  | { readonly op: "bootstrap"; readonly voters: readonly NodeId[] }
  | { readonly op: "addLearner"; readonly node: NodeId }
  | { readonly op: "promote"; readonly node: NodeId }
  | { readonly op: "remove"; readonly node: NodeId };

interface EntryBase {
  readonly index: number;
  readonly term: number;
}

/**
 * Entry is one slot of the replicated log. Commands are opaque strings (the cluster layer encodes
 * JSON); a noop is what a new leader appends to take office; a membership entry carries the
 * configuration that results from its change, and takes effect as soon as it is appended.
 */
export type Entry =
  | (EntryBase & { readonly type: "command"; readonly data: string })
  | (EntryBase & { readonly type: "noop" })
  | (EntryBase & {
      readonly type: "membership";
      readonly change: MembershipChange;
      readonly membership: Membership;
    });

/** HardState is what a node must persist before it sends anything that depends on it. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

/** Snapshot stands for every entry up to `index`: the state machine's data and the membership. */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  readonly data: string;
}

/** PersistedState is what a restarted node is rebuilt from: exactly what its Readies persisted. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  readonly entries: readonly Entry[];
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** VoteRequest asks for a vote; a pre-vote asks "would you vote for me?" without raising terms. */
export interface VoteRequest extends MessageBase {
  readonly type: "preVote" | "vote";
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

/** VoteResponse answers a VoteRequest. */
export interface VoteResponse extends MessageBase {
  readonly type: "preVoteResponse" | "voteResponse";
  readonly granted: boolean;
}

/** AppendRequest carries entries after (prevIndex, prevTerm); with no entries it is a heartbeat. */
export interface AppendRequest extends MessageBase {
  readonly type: "append";
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  commit: number;
}

/**
 * AppendResponse acknowledges up to matchIndex, or rejects prevIndex (`rejectedIndex`) with a hint
 * for fast backup: the follower's first index of `conflictTerm`, or its log end when it is short.
 */
export interface AppendResponse extends MessageBase {
  readonly type: "appendResponse";
  readonly success: boolean;
  readonly matchIndex: number;
  readonly rejectedIndex: number;
  readonly conflictIndex: number;
  readonly conflictTerm: number;
}

/** InstallSnapshot brings a follower that is behind the leader's compacted log up to date. */
export interface InstallSnapshot extends MessageBase {
  readonly type: "installSnapshot";
  readonly snapshot: Snapshot;
}

/** Message is everything Rachis nodes say to each other: plain, structured-clone-safe objects. */
export type Message = VoteRequest | VoteResponse | AppendRequest | AppendResponse | InstallSnapshot;

export const raftMessageTypes = [
  "preVote",
  "vote",
  "preVoteResponse",
  "voteResponse",
  "append",
  "appendResponse",
  "installSnapshot",
] as const;

/** isRaftMessage tells whether an unknown value is a Rachis message. */
export function isRaftMessage(value: unknown): value is Message {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return typeof type === "string" && (raftMessageTypes as readonly string[]).includes(type);
}

/** Persist is what the caller must make durable, in this order, before sending the messages. */
export interface Persist {
  /** A snapshot replaces every stored entry up to its index. */
  readonly snapshot?: Snapshot;
  /** Stored entries from this index on are dropped before `entries` are appended. */
  readonly truncateFrom?: number;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
}

/** SoftState is volatile: who leads and in what role this node is. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: number;
}

/**
 * Ready is one batch of work for the caller. The contract, as in etcd-io/raft:
 * 1. persist `persist` durably (snapshot, then truncation and entries, then hard state);
 * 2. only then send `messages` (a vote or an acknowledgement must never outrun the disk);
 * 3. if `restore` is set, reset the state machine to that snapshot; then apply `committed`;
 * 4. call advance().
 * No other method may be called between ready() and advance().
 */
export interface Ready {
  readonly soft: SoftState;
  readonly softChanged: boolean;
  readonly persist: Persist;
  readonly restore?: Snapshot;
  readonly committed: readonly Entry[];
  readonly messages: readonly Message[];
}

/** ProposeResult says where a proposal landed, or why it was refused. */
export type ProposeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number }
  | {
      readonly accepted: false;
      readonly reason:
        | "not-leader"
        | "too-many-uncommitted"
        | "too-large"
        | "membership-change-pending"
        | "invalid-membership-change";
      readonly leader: NodeId | null;
      readonly detail?: string;
    };

/** PeerProgress is the leader's view of one follower, shown in status for the UI and tests. */
export interface PeerProgress {
  readonly match: number;
  readonly next: number;
  readonly state: "probe" | "replicate" | "snapshot";
  readonly recentActive: boolean;
}

/** Status is a read-only picture of a node for tests, logs and the UI. */
export interface Status extends SoftState {
  readonly id: NodeId;
  readonly vote: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly membership: Membership;
  /** Index of the entry that set `membership`; it is in force for sure once commit reaches it. */
  readonly membershipIndex: number;
  /** True once a leader's noop of this term committed (RavenDB's LeaderElect → Leader). */
  readonly leaderInOffice: boolean;
  /**
   * Ticks since the election timer was last reset (a heartbeat, a granted vote, a new term), and
   * the ticks at which it fires: this node's randomized timeout, or a leader's quorum check. A
   * view can draw the timer filling up and resetting.
   */
  readonly electionElapsed: number;
  readonly electionTimeout: number;
  readonly progress: Readonly<Record<NodeId, PeerProgress>>;
}
