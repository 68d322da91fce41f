import { assert, compareNodeTags } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { ClusterState, DatabaseTopology } from "./model.ts";
import { hostedDatabaseCounts, isInGroup, placementCandidates } from "./queries.ts";

/**
 * byLoadThenTag orders servers by how many databases they host, fewest first, then by tag. It is
 * the whole placement policy: deterministic (every server computes the same answer from the same
 * state) and it spreads databases evenly, which RavenDB gets from a random start offset instead.
 */
function byLoadThenTag(counts: Readonly<Record<NodeTag, number>>) {
  return (a: NodeTag, b: NodeTag): number =>
    (counts[a] ?? 0) - (counts[b] ?? 0) || compareNodeTags(a, b);
}

/**
 * placeDatabase chooses `replicationFactor` servers for a new database: the least loaded first,
 * ties broken by tag. The result is the members list, so its first entry becomes the preferred
 * node; among the chosen servers, the one that is preferred for the fewest databases goes first
 * (ties keep the load-then-tag order), because clients send all their requests to the preferred
 * node and the chosen set alone would make the same server preferred every time.
 * The caller has checked that enough candidates exist.
 */
export function placeDatabase(
  state: ClusterState,
  replicationFactor: number,
  unreachable: readonly NodeTag[] = [],
): NodeTag[] {
  const candidates = placementCandidates(state);
  assert(
    Number.isInteger(replicationFactor) && replicationFactor >= 1,
    () => `placeDatabase: bad replication factor ${replicationFactor}`,
  );
  assert(
    replicationFactor <= candidates.length,
    () => `placeDatabase: factor ${replicationFactor} > ${candidates.length} candidates`,
  );
  // Like RavenDB, leave servers the leader cannot reach aside unless the factor needs them.
  const byLoad = byLoadThenTag(hostedDatabaseCounts(state));
  const down = (tag: NodeTag): number => (unreachable.includes(tag) ? 1 : 0);
  const chosen = candidates
    .sort((a, b) => down(a) - down(b) || byLoad(a, b))
    .slice(0, replicationFactor);
  assert(new Set(chosen).size === chosen.length, "placeDatabase chose a node twice");
  const preferred = preferredCounts(state);
  return chosen
    .map((tag, rank) => ({ tag, rank }))
    .sort((a, b) => (preferred[a.tag] ?? 0) - (preferred[b.tag] ?? 0) || a.rank - b.rank)
    .map(({ tag }) => tag);
}

/** preferredCounts counts, per server, the databases it is the preferred node of. */
export function preferredCounts(state: ClusterState): Record<NodeTag, number> {
  const counts: Record<NodeTag, number> = {};
  for (const record of Object.values(state.databases)) {
    const first = record.topology.members[0];
    if (first !== undefined) counts[first] = (counts[first] ?? 0) + 1;
  }
  return counts;
}

/** placedByLoad is the reason recorded for a database placed by placeDatabase. */
export function placedByLoad(replicationFactor: number): string {
  return `replication factor ${replicationFactor}, placed on the least loaded nodes`;
}

/**
 * chooseNodeToAdd picks the server to add to a group when the user did not name one: the least
 * loaded server outside the group. Undefined when the database is already everywhere.
 */
export function chooseNodeToAdd(
  state: ClusterState,
  topology: DatabaseTopology,
): NodeTag | undefined {
  const outside = placementCandidates(state).filter((tag) => !isInGroup(topology, tag));
  return outside.sort(byLoadThenTag(hostedDatabaseCounts(state)))[0];
}

/**
 * chooseMentor picks the member that will feed a promotable: the member mentoring the fewest
 * promotables of this group, ties broken by tag (not by position, so rotating the preferred node
 * does not move mentorships). Spreading mentorships keeps one member from sending every copy.
 */
export function chooseMentor(
  members: readonly NodeTag[],
  mentors: Readonly<Record<NodeTag, NodeTag>>,
): NodeTag {
  assert(members.length > 0, "chooseMentor: a group always keeps at least one member");
  const mentees: Record<NodeTag, number> = {};
  for (const mentor of Object.values(mentors)) mentees[mentor] = (mentees[mentor] ?? 0) + 1;
  const [mentor] = [...members].sort(byLoadThenTag(mentees));
  return mentor!;
}

/**
 * assignMentors returns the mentors map for a topology: every promotable keeps its mentor while
 * that mentor is still a member, and gets a new one (chooseMentor) otherwise. Entries for nodes that
 * are no longer promotables are dropped. Promotables are handled in order, so the result is the
 * same on every server.
 */
export function assignMentors(
  topology: DatabaseTopology,
  previous: Readonly<Record<NodeTag, NodeTag>>,
): Record<NodeTag, NodeTag> {
  const kept: Record<NodeTag, NodeTag> = {};
  for (const tag of topology.promotables) {
    const mentor = previous[tag];
    if (mentor !== undefined && topology.members.includes(mentor)) kept[tag] = mentor;
  }
  for (const tag of topology.promotables) {
    if (kept[tag] === undefined) kept[tag] = chooseMentor(topology.members, kept);
  }
  // Rebuild in promotables order so the JSON does not depend on which mentors were replaced.
  const mentors: Record<NodeTag, NodeTag> = {};
  for (const tag of topology.promotables) mentors[tag] = kept[tag]!;
  return mentors;
}
