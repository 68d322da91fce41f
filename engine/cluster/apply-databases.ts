import { assert } from "../core/index.ts";
import type {
  AddDatabaseNodeCommand,
  CreateDatabaseCommand,
  DeleteDatabaseCommand,
  MoveToRehabCommand,
  PromoteDatabaseNodeCommand,
  RemoveDatabaseNodeCommand,
  RotatePreferredCommand,
  SetConflictResolutionCommand,
  SetRevisionsCommand,
} from "./commands.ts";
import type { ClusterState, DatabaseRecord, DatabaseTopology } from "./model.ts";
import { chooseMentor, chooseNodeToAdd, placeDatabase, placedByLoad } from "./placement.ts";
import { databaseKey, findDatabase } from "./queries.ts";
import { without, withTopologyChange } from "./record-change.ts";
import type { TopologyUpdate } from "./record-change.ts";
import type { Applied } from "./results.ts";

function requireRecord(state: ClusterState, name: string): DatabaseRecord {
  const record = findDatabase(state, name);
  assert(record !== undefined, () => `a validated command names a missing database '${name}'`);
  return record;
}

function withRecord(state: ClusterState, record: DatabaseRecord): ClusterState {
  return { ...state, databases: { ...state.databases, [databaseKey(record.name)]: record } };
}

/** applyCreateDatabase stores a new record, placing the database when the command did not. */
export function applyCreateDatabase(
  state: ClusterState,
  command: CreateDatabaseCommand,
  raftIndex: number,
): Applied {
  const nodes = command.nodes ?? placeDatabase(state, command.replicationFactor ?? 1);
  const topology: DatabaseTopology = { members: [...nodes], promotables: [], rehabs: [] };
  const revisions = command.revisions ?? null;
  const blank: DatabaseRecord = {
    name: command.name,
    topology,
    mentors: {},
    replicationFactor: nodes.length,
    topologyEtag: raftIndex,
    createdAtIndex: raftIndex,
    // A copy, so the caller's object and the replicated state never share structure.
    revisions: revisions === null ? null : structuredClone(revisions),
    conflictResolution: command.conflictResolution ?? "latest",
    recentChanges: [],
  };
  const record = withTopologyChange(
    blank,
    {
      kind: "created",
      tag: nodes[0]!,
      headline: `created on ${nodes.join(", ")} with ${nodes[0]} preferred`,
      reason:
        command.reason ??
        (command.nodes === undefined
          ? placedByLoad(nodes.length)
          : "placed on the requested nodes"),
      topology,
    },
    raftIndex,
  );
  return {
    state: withRecord(state, record),
    message: `database '${command.name}' created on ${nodes.join(", ")}`,
    nodes: record.topology.members,
  };
}

/** applyDeleteDatabase drops the record; each host deletes its copy when it sees it gone. */
export function applyDeleteDatabase(state: ClusterState, command: DeleteDatabaseCommand): Applied {
  const record = requireRecord(state, command.name);
  const key = databaseKey(record.name);
  const databases = Object.fromEntries(
    Object.entries(state.databases).filter(([other]) => other !== key),
  );
  return { state: { ...state, databases }, message: `database '${record.name}' deleted` };
}

/** applyAddDatabaseNode adds the node as a promotable with a mentor among the members. */
export function applyAddDatabaseNode(
  state: ClusterState,
  command: AddDatabaseNodeCommand,
  raftIndex: number,
): Applied {
  const record = requireRecord(state, command.database);
  const tag = command.tag ?? chooseNodeToAdd(state, record.topology);
  assert(tag !== undefined, "addDatabaseNode: validated, so a node can be chosen");
  const { members, promotables, rehabs } = record.topology;
  const mentor = command.mentor ?? chooseMentor(members, record.mentors);
  const next = withTopologyChange(
    record,
    {
      kind: "added",
      tag,
      headline: `${tag} joined as a promotable, mentored by ${mentor}`,
      reason: `added to the group; it becomes a member once ${mentor} has sent it everything`,
      topology: { members, promotables: [...promotables, tag], rehabs },
      mentors: { ...record.mentors, [tag]: mentor },
    },
    raftIndex,
  );
  return {
    state: withRecord(state, next),
    message: `${tag} added to '${record.name}' as a promotable; mentor ${mentor}`,
    tag,
    mentor,
  };
}

function change(
  state: ClusterState,
  record: DatabaseRecord,
  update: TopologyUpdate,
  raftIndex: number,
): Applied {
  const next = withTopologyChange(record, update, raftIndex);
  const message = `'${record.name}': ${next.recentChanges[next.recentChanges.length - 1]!.message}`;
  return { state: withRecord(state, next), message, tag: update.tag };
}

/**
 * applyPromoteDatabaseNode appends the node to the members, so it does not take over as preferred
 * (the chapter: it comes back "as the last option in the pool"), unless the command carries a full
 * members order.
 */
export function applyPromoteDatabaseNode(
  state: ClusterState,
  command: PromoteDatabaseNodeCommand,
  raftIndex: number,
): Applied {
  const record = requireRecord(state, command.database);
  const { tag } = command;
  const { members, promotables, rehabs } = record.topology;
  const wasRehab = rehabs.includes(tag);
  const topology = {
    members: command.membersOrder === undefined ? [...members, tag] : [...command.membersOrder],
    promotables: without(promotables, tag),
    rehabs: without(rehabs, tag),
  };
  const headline = wasRehab
    ? `${tag} recovered from rehab and is a member again`
    : `${tag} promoted to member`;
  const update: TopologyUpdate = {
    kind: "promoted",
    tag,
    headline,
    reason: command.reason,
    topology,
  };
  return change(state, record, update, raftIndex);
}

/** applyMoveToRehab moves a member to the end of the rehabs. */
export function applyMoveToRehab(
  state: ClusterState,
  command: MoveToRehabCommand,
  raftIndex: number,
): Applied {
  const record = requireRecord(state, command.database);
  const { tag } = command;
  const { members, promotables, rehabs } = record.topology;
  const topology = { members: without(members, tag), promotables, rehabs: [...rehabs, tag] };
  const headline = `${tag} moved to rehab`;
  const update: TopologyUpdate = {
    kind: "movedToRehab",
    tag,
    headline,
    reason: command.reason,
    topology,
  };
  return change(state, record, update, raftIndex);
}

/** applyRotatePreferred moves the preferred node to the end of the members. */
export function applyRotatePreferred(
  state: ClusterState,
  command: RotatePreferredCommand,
  raftIndex: number,
): Applied {
  const record = requireRecord(state, command.database);
  const [preferred, ...rest] = record.topology.members;
  assert(preferred === command.tag && rest.length > 0, "rotatePreferred: validated");
  const topology = { ...record.topology, members: [...rest, preferred] };
  const headline = `${preferred} is no longer the preferred node, ${rest[0]} is`;
  const update: TopologyUpdate = {
    kind: "rotated",
    tag: preferred,
    headline,
    reason: command.reason,
    topology,
  };
  return change(state, record, update, raftIndex);
}

/** applyRemoveDatabaseNode removes the node from the group in whatever role it had. */
export function applyRemoveDatabaseNode(
  state: ClusterState,
  command: RemoveDatabaseNodeCommand,
  raftIndex: number,
): Applied {
  const record = requireRecord(state, command.database);
  const { tag } = command;
  const { members, promotables, rehabs } = record.topology;
  const topology = {
    members: without(members, tag),
    promotables: without(promotables, tag),
    rehabs: without(rehabs, tag),
  };
  const headline = `${tag} removed from the group`;
  const update: TopologyUpdate = {
    kind: "removed",
    tag,
    headline,
    reason: command.reason,
    topology,
  };
  return change(state, record, update, raftIndex);
}

/** applySetRevisions replaces the revisions configuration; the topology etag does not move. */
export function applySetRevisions(state: ClusterState, command: SetRevisionsCommand): Applied {
  const record = requireRecord(state, command.database);
  const revisions = command.revisions === null ? null : structuredClone(command.revisions);
  const next: DatabaseRecord = { ...record, revisions };
  const what = command.revisions === null ? "turned off" : "configured";
  return { state: withRecord(state, next), message: `revisions ${what} for '${record.name}'` };
}

/** applySetConflictResolution changes how the database settles conflicts. */
export function applySetConflictResolution(
  state: ClusterState,
  command: SetConflictResolutionCommand,
): Applied {
  const record = requireRecord(state, command.database);
  const next: DatabaseRecord = { ...record, conflictResolution: command.resolution };
  return {
    state: withRecord(state, next),
    message:
      `conflicts in '${record.name}' now resolve ` +
      (command.resolution === "latest" ? "to the latest version" : "manually"),
  };
}
