import { describe, registerRenderer } from "../core/index.ts";
import type { Entry, Membership, PeerProgress, Ready, Snapshot, Status } from "./types.ts";

/** describeEntry renders one log entry as `index@term kind`. */
export function describeEntry(entry: Entry): string {
  switch (entry.type) {
    case "command":
      return `${entry.index}@${entry.term} ${entry.data.length > 24 ? entry.data.slice(0, 23) + "…" : entry.data}`;
    case "noop":
      return `${entry.index}@${entry.term} noop`;
    case "membership": {
      const change = entry.change;
      const what = change.op === "bootstrap" ? `(${change.voters.join(",")})` : change.node;
      return `${entry.index}@${entry.term} ${change.op} ${what}`;
    }
  }
}

/** describeEntries names up to three entries, or the first and last of a longer run. */
export function describeEntries(entries: readonly Entry[]): string {
  if (entries.length <= 3) return entries.map(describeEntry).join(", ");
  const first = describeEntry(entries[0]!);
  const last = describeEntry(entries[entries.length - 1]!);
  return `${first} … ${last} (${entries.length} entries)`;
}

/** describeMembership renders a configuration as `voters=(A,B,C) learners=(D)`. */
export function describeMembership(membership: Membership): string {
  const learners = membership.learners.length > 0 ? ` learners=(${membership.learners})` : "";
  return `voters=(${membership.voters.join(",")})${learners}`;
}

/** describeSnapshot renders a snapshot as `snapshot 10@2`. */
export function describeSnapshot(snapshot: Snapshot): string {
  return `snapshot ${snapshot.index}@${snapshot.term}`;
}

/**
 * describeLog renders a whole log on one line, oldest first: the snapshot standing for the
 * compacted prefix (if any), then each entry, separated by " · ".
 */
export function describeLog(snapshot: Snapshot, entries: readonly Entry[]): string {
  const parts = snapshot.index > 0 ? [`[${describeSnapshot(snapshot)}]`] : [];
  for (const entry of entries) parts.push(describeEntry(entry));
  return parts.length > 0 ? parts.join(" · ") : "(empty)";
}

function describeProgress(peer: string, progress: PeerProgress): string {
  const active = progress.recentActive ? " active" : "";
  return `${peer} match=${progress.match} next=${progress.next} ${progress.state}${active}`;
}

/**
 * describeStatus renders a node's status: the first line is the node itself; a leader adds one
 * line per follower with the leader's view of it.
 */
export function describeStatus(status: Status): string[] {
  const leader =
    status.role === "leader" ? "" : ` leader=${status.leader === null ? "none" : status.leader}`;
  const head =
    `${status.id}: ${status.role} term=${status.term} vote=${status.vote ?? "none"}${leader}` +
    ` commit=${status.commit} applied=${status.applied}` +
    ` log=${status.firstIndex}..${status.lastIndex} last=${status.lastIndex}@${status.lastTerm}` +
    ` ${describeMembership(status.membership)}@${status.membershipIndex}`;
  const lines = [head];
  for (const [peer, progress] of Object.entries(status.progress)) {
    if (peer !== status.id) lines.push(`  ${describeProgress(peer, progress)}`);
  }
  return lines;
}

/**
 * describeReady renders what a node asks of its caller in one Ready, one line per duty, in the
 * order the caller performs them: its new role, what it persists, what it restores and applies,
 * and the messages it sends (rendered by describe()).
 */
export function describeReady(id: string, ready: Ready): string[] {
  const lines: string[] = [];
  if (ready.softChanged) {
    const leader = ready.soft.leader === null ? "no leader" : `leader ${ready.soft.leader}`;
    lines.push(`${id}: becomes ${ready.soft.role} in term ${ready.soft.term} (${leader})`);
  }
  const { snapshot, truncateFrom, entries, hardState } = ready.persist;
  if (snapshot) lines.push(`${id}: persist ${describeSnapshot(snapshot)}`);
  if (truncateFrom !== undefined) lines.push(`${id}: persist: drop entries from ${truncateFrom}`);
  if (entries.length > 0) lines.push(`${id}: persist ${describeEntries(entries)}`);
  if (hardState) {
    const vote = hardState.vote ?? "none";
    lines.push(`${id}: persist term=${hardState.term} vote=${vote} commit=${hardState.commit}`);
  }
  if (ready.restore) lines.push(`${id}: restore ${describeSnapshot(ready.restore)}`);
  if (ready.committed.length > 0) lines.push(`${id}: apply ${describeEntries(ready.committed)}`);
  for (const message of ready.messages) lines.push(`${id}: send ${describe(message)}`);
  return lines;
}

type Fields = Readonly<Record<string, unknown>>;
const head = (m: Fields): string =>
  `${String(m.type)} ${String(m.from)}→${String(m.to)} t${String(m.term)}`;

registerRenderer(
  "preVote",
  (m) => `${head(m)} last=${String(m.lastLogIndex)}@${String(m.lastLogTerm)}`,
);
registerRenderer(
  "vote",
  (m) => `${head(m)} last=${String(m.lastLogIndex)}@${String(m.lastLogTerm)}`,
);
registerRenderer("preVoteResponse", (m) => `${head(m)} ${m.granted ? "granted" : "rejected"}`);
registerRenderer("voteResponse", (m) => `${head(m)} ${m.granted ? "granted" : "rejected"}`);
registerRenderer("append", (m) => {
  const entries = m.entries as Entry[];
  const carried = entries.length === 0 ? "heartbeat" : `[${describeEntries(entries)}]`;
  return `${head(m)} prev=${String(m.prevIndex)}@${String(m.prevTerm)} ${carried} commit=${String(m.commit)}`;
});
registerRenderer("appendResponse", (m) =>
  m.success
    ? `${head(m)} ok match=${String(m.matchIndex)}`
    : `${head(m)} reject ${String(m.rejectedIndex)} hint=${String(m.conflictIndex)}@${String(m.conflictTerm)}`,
);
registerRenderer("installSnapshot", (m) => {
  const snapshot = m.snapshot as Snapshot;
  return `${head(m)} ${describeSnapshot(snapshot)} ${describeMembership(snapshot.membership)}`;
});
