import type { NodeTag } from "../core/index.ts";
import type { ClusterState, DatabaseRecord, ExternalReplicationTask } from "./model.ts";

/** DatabaseRole is how a node takes part in a database group. */
export type DatabaseRole = "member" | "promotable" | "rehab";

/** databaseRoleOn returns the role of `tag` in the group, or undefined if it does not host it. */
export function databaseRoleOn(record: DatabaseRecord, tag: NodeTag): DatabaseRole | undefined {
  const { members, promotables, rehabs } = record.topology;
  if (members.includes(tag)) return "member";
  if (promotables.includes(tag)) return "promotable";
  if (rehabs.includes(tag)) return "rehab";
  return undefined;
}

/** DatabaseStatus is what the Studio shows for a database on one server. */
export type DatabaseStatus = "Online" | "Offline";

/**
 * databaseStatusOn says whether the database runs on server `tag`: Online when the server hosts it
 * in any role, Offline when it does not (the chapter's "Spade is offline on D": every server sees
 * every database, but only the hosts run it).
 */
export function databaseStatusOn(record: DatabaseRecord, tag: NodeTag): DatabaseStatus {
  return databaseRoleOn(record, tag) === undefined ? "Offline" : "Online";
}

/**
 * replicationDestinations lists where the instance on `tag` sends its changes. Members and rehabs
 * form a full mesh among themselves; a member also feeds the promotables it mentors. A promotable
 * sends nothing: it is still receiving a copy it cannot vouch for.
 */
export function replicationDestinations(record: DatabaseRecord, tag: NodeTag): NodeTag[] {
  const role = databaseRoleOn(record, tag);
  if (role === undefined || role === "promotable") return [];
  const { members, rehabs, promotables } = record.topology;
  const mesh = [...members, ...rehabs].filter((other) => other !== tag);
  const mentees = promotables.filter((promotable) => record.mentors[promotable] === tag);
  return [...mesh, ...mentees];
}

/** replicationSources lists where the instance on `tag` receives changes from. */
export function replicationSources(record: DatabaseRecord, tag: NodeTag): NodeTag[] {
  const role = databaseRoleOn(record, tag);
  if (role === undefined) return [];
  if (role === "promotable") {
    const mentor = record.mentors[tag];
    return mentor === undefined ? [] : [mentor];
  }
  const { members, rehabs } = record.topology;
  return [...members, ...rehabs].filter((other) => other !== tag);
}

/** ReplicationLink is one directed connection of a database group. */
export interface ReplicationLink {
  readonly from: NodeTag;
  readonly to: NodeTag;
}

/** replicationMesh lists every connection of the group, source by source in topology order. */
export function replicationMesh(record: DatabaseRecord): ReplicationLink[] {
  const { members, rehabs } = record.topology;
  return [...members, ...rehabs].flatMap((from) =>
    replicationDestinations(record, from).map((to) => ({ from, to })),
  );
}

/**
 * ExternalReplicationSummary is one external replication task as describe() shows it: where it
 * writes and which node of the group runs it. The destination is not in the group's lists.
 */
export interface ExternalReplicationSummary {
  readonly taskId: number;
  readonly name: string;
  readonly destinationDatabase: string;
  readonly destinationUrls: readonly string[];
  readonly responsibleNode: NodeTag | null;
  readonly responsibleReason: string;
  readonly mentorNode: NodeTag | null;
  readonly disabled: boolean;
}

/** DatabaseSummary is one database record as describe() shows it: its group and factor. */
export interface DatabaseSummary {
  readonly name: string;
  readonly members: readonly NodeTag[];
  readonly promotables: readonly NodeTag[];
  readonly rehabs: readonly NodeTag[];
  readonly replicationFactor: number;
  /** The database's external replication tasks; present only when it has some. */
  readonly externalReplications?: readonly ExternalReplicationSummary[];
}

function summariseTask(task: ExternalReplicationTask): ExternalReplicationSummary {
  return {
    taskId: task.taskId,
    name: task.name,
    destinationDatabase: task.destinationDatabase,
    destinationUrls: task.destinationUrls,
    responsibleNode: task.responsibleNode,
    responsibleReason: task.responsibleReason,
    mentorNode: task.mentorNode,
    disabled: task.disabled,
  };
}

/** databaseSummaries lists every database of the cluster state by name, as describe() shows them. */
export function databaseSummaries(state: ClusterState): DatabaseSummary[] {
  return Object.values(state.databases)
    .map((record) => ({
      name: record.name,
      members: record.topology.members,
      promotables: record.topology.promotables,
      rehabs: record.topology.rehabs,
      replicationFactor: record.replicationFactor,
      ...(record.externalReplications !== undefined && record.externalReplications.length > 0
        ? { externalReplications: record.externalReplications.map(summariseTask) }
        : {}),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
