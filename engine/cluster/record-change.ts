import { assert } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import { clusterLimits } from "./limits.ts";
import type {
  DatabaseRecord,
  DatabaseTopology,
  TopologyChange,
  TopologyChangeKind,
} from "./model.ts";
import { assignMentors } from "./placement.ts";
import { groupNodes } from "./queries.ts";

/** shortenReason cuts a reason to clusterLimits.reasonLengthMax characters, marking the cut. */
export function shortenReason(reason: string): string {
  const lengthMax = clusterLimits.reasonLengthMax;
  return reason.length <= lengthMax ? reason : reason.slice(0, lengthMax - 1) + "…";
}

/** TopologyUpdate describes one change to a group, before it is stamped into the record. */
export interface TopologyUpdate {
  readonly kind: TopologyChangeKind;
  readonly tag: NodeTag;
  readonly reason: string;
  /** What happened, e.g. "C moved to rehab"; the stored message is `${headline}: ${reason}`. */
  readonly headline: string;
  readonly topology: DatabaseTopology;
  /** Mentors to keep where still valid; assignMentors fills in the rest. */
  readonly mentors?: Readonly<Record<NodeTag, NodeTag>>;
}

/** checkTopology asserts the invariants every stored topology keeps. */
export function checkTopology(topology: DatabaseTopology, where: string): void {
  const nodes = groupNodes(topology);
  assert(
    new Set(nodes).size === nodes.length,
    () => `${where}: a node appears twice in ${JSON.stringify(topology)}`,
  );
  assert(topology.members.length > 0, () => `${where}: a group lost its last member`);
}

/**
 * withTopologyChange returns `record` with the new topology, mentors reassigned, the topology etag
 * moved to `raftIndex`, the replication factor kept equal to the number of hosts, and the change
 * appended to the bounded history.
 */
export function withTopologyChange(
  record: DatabaseRecord,
  update: TopologyUpdate,
  raftIndex: number,
): DatabaseRecord {
  checkTopology(update.topology, `${update.kind} ${update.tag} in '${record.name}'`);
  const reason = shortenReason(update.reason);
  const change: TopologyChange = {
    raftIndex,
    kind: update.kind,
    tag: update.tag,
    reason,
    message: `${update.headline}: ${reason}`,
    topology: update.topology,
  };
  const recentChanges = [...record.recentChanges, change].slice(-clusterLimits.topologyChangesMax);
  return {
    ...record,
    topology: update.topology,
    mentors: assignMentors(update.topology, update.mentors ?? record.mentors),
    replicationFactor: groupNodes(update.topology).length,
    topologyEtag: raftIndex,
    recentChanges,
  };
}

/** without returns `tags` without `tag`, keeping the order. */
export function without(tags: readonly NodeTag[], tag: NodeTag): NodeTag[] {
  return tags.filter((other) => other !== tag);
}
