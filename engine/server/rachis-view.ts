import { renderClusterCommand } from "../cluster/index.ts";
import type { ClusterCommand } from "../cluster/index.ts";
import type { Entry, Snapshot, Status } from "../raft/index.ts";

/** RachisEntryView is one slot of a server's Raft log as the book draws it. */
export interface RachisEntryView {
  readonly index: number;
  readonly term: number;
  readonly kind: Entry["type"];
  /** What the entry does, in words: "createDatabase Spade …", "no-op", "add learner C". */
  readonly text: string;
}

/**
 * RachisView is one server's Rachis as a RaftScope-style view shows it: role, term and vote, the
 * election timer (ticks elapsed of its timeout), the tail of its log with terms, the commit and
 * apply points, the snapshot the log was compacted into, the configuration, and on a leader what
 * each follower has.
 */
export interface RachisView {
  readonly tag: string;
  readonly role: Status["role"];
  readonly term: number;
  readonly vote: string | null;
  readonly leader: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly electionElapsedTicks: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly entries: readonly RachisEntryView[];
  /** Leader only: each follower's matched and next index. */
  readonly progress: Readonly<Record<string, { readonly match: number; readonly next: number }>>;
}

/** Log entries a view carries at most (the newest). */
export const rachisViewEntriesMax = 12;

/** rachisView builds the view from a Raft node's status, its log tail and its snapshot. */
export function rachisView(
  tag: string,
  status: Status,
  heartbeatTicks: number,
  entryAt: (index: number) => Entry | undefined,
  snapshot: Snapshot,
): RachisView {
  const entries: RachisEntryView[] = [];
  const from = Math.max(status.firstIndex, status.lastIndex - rachisViewEntriesMax + 1);
  for (let index = from; index <= status.lastIndex; index++) {
    const entry = entryAt(index);
    if (entry) entries.push({ index, term: entry.term, kind: entry.type, text: entryText(entry) });
  }
  const progress: Record<string, { match: number; next: number }> = {};
  for (const [peer, pr] of Object.entries(status.progress))
    if (peer !== tag) progress[peer] = { match: pr.match, next: pr.next };
  return {
    tag,
    role: status.role,
    term: status.term,
    vote: status.vote,
    leader: status.leader,
    commit: status.commit,
    applied: status.applied,
    lastIndex: status.lastIndex,
    snapshotIndex: snapshot.index,
    snapshotTerm: snapshot.term,
    electionElapsedTicks: status.electionElapsed,
    electionTimeoutTicks: status.electionTimeout,
    heartbeatTicks,
    voters: status.membership.voters,
    learners: status.membership.learners,
    entries,
    progress,
  };
}

function entryText(entry: Entry): string {
  switch (entry.type) {
    case "noop":
      return "no-op: a new leader takes office";
    case "membership": {
      const change = entry.change;
      return change.op === "bootstrap"
        ? `bootstrap with ${change.voters.join(", ")}`
        : change.op === "addLearner"
          ? `add ${change.node} as a learner`
          : `${change.op} ${change.node}`;
    }
    case "command":
      try {
        return renderClusterCommand(JSON.parse(entry.data) as ClusterCommand);
      } catch {
        return "a command this server cannot read";
      }
  }
}
