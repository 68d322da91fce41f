import { compareNodeTags } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { ClusterState, DatabaseRecord, DatabaseTopology } from "./model.ts";

/** isBootstrapped tells whether the state belongs to a cluster (a bootstrap command was applied). */
export function isBootstrapped(state: ClusterState): boolean {
  return state.topology.topologyId !== null;
}

/** clusterNodeTags lists every server of the cluster (members, promotables, watchers) in tag order. */
export function clusterNodeTags(state: ClusterState): NodeTag[] {
  const { members, promotables, watchers } = state.topology;
  return [...Object.keys(members), ...Object.keys(promotables), ...Object.keys(watchers)].sort(
    compareNodeTags,
  );
}

/**
 * placementCandidates lists the servers a new database may be placed on, in tag order: members and
 * watchers, not promotables, because a promotable has not finished joining (RavenDB's
 * AssignNodesToDatabase does the same).
 */
export function placementCandidates(state: ClusterState): NodeTag[] {
  const { members, watchers } = state.topology;
  return [...Object.keys(members), ...Object.keys(watchers)].sort(compareNodeTags);
}

/** clusterNodeUrl returns the URL of the server with `tag`, or undefined if it is not in the cluster. */
export function clusterNodeUrl(state: ClusterState, tag: NodeTag): string | undefined {
  const { members, promotables, watchers } = state.topology;
  return members[tag] ?? promotables[tag] ?? watchers[tag];
}

/** clusterNodeRole says how a server takes part in Rachis, or undefined if it is not in the cluster. */
export function clusterNodeRole(
  state: ClusterState,
  tag: NodeTag,
): "member" | "promotable" | "watcher" | undefined {
  const { members, promotables, watchers } = state.topology;
  if (members[tag] !== undefined) return "member";
  if (promotables[tag] !== undefined) return "promotable";
  if (watchers[tag] !== undefined) return "watcher";
  return undefined;
}

/** findTagByUrl returns the tag of the server at `url` (already normalised), if any. */
export function findTagByUrl(state: ClusterState, url: string): NodeTag | undefined {
  for (const tag of clusterNodeTags(state)) {
    if (clusterNodeUrl(state, tag) === url) return tag;
  }
  return undefined;
}

/** databaseKey is the key of a database in ClusterState.databases: its lower-cased name. */
export function databaseKey(name: string): string {
  return name.toLowerCase();
}

/** findDatabase returns the record of `name`, compared case-insensitively. */
export function findDatabase(state: ClusterState, name: string): DatabaseRecord | undefined {
  return Object.hasOwn(state.databases, databaseKey(name))
    ? state.databases[databaseKey(name)]
    : undefined;
}

/** databaseNames lists the names of all databases, in the order they were created. */
export function databaseNames(state: ClusterState): string[] {
  return Object.values(state.databases).map((record) => record.name);
}

/** groupNodes lists every node of a group: members (in order), then promotables, then rehabs. */
export function groupNodes(topology: DatabaseTopology): NodeTag[] {
  return [...topology.members, ...topology.promotables, ...topology.rehabs];
}

/** isInGroup tells whether `tag` hosts the database in any role. */
export function isInGroup(topology: DatabaseTopology, tag: NodeTag): boolean {
  return groupNodes(topology).includes(tag);
}

/**
 * hostedDatabaseCounts counts, for each server, how many databases it hosts in any role; servers
 * hosting none are present with 0. Placement uses it to fill the least loaded servers first.
 */
export function hostedDatabaseCounts(state: ClusterState): Record<NodeTag, number> {
  const counts: Record<NodeTag, number> = {};
  for (const tag of clusterNodeTags(state)) counts[tag] = 0;
  for (const record of Object.values(state.databases)) {
    for (const tag of groupNodes(record.topology)) counts[tag] = (counts[tag] ?? 0) + 1;
  }
  return counts;
}

/** formatTags renders tags for messages: "A, B, C", or "none" for an empty list. */
export function formatTags(tags: readonly NodeTag[]): string {
  return tags.length === 0 ? "none" : tags.join(", ");
}
