import type { NodeTag } from "../core/index.ts";
import type {
  ConflictResolution,
  RevisionsCollectionConfiguration,
  RevisionsConfiguration,
} from "./model.ts";

/** BootstrapCommand turns a fresh server into a one-node cluster; it becomes "A". */
export interface BootstrapCommand {
  readonly type: "bootstrap";
  readonly url: string;
  /** Identifier of the new cluster, drawn by the proposer (RavenDB uses a GUID). */
  readonly topologyId: string;
  /** The founding server's id (see ClusterTopology.serverIds). */
  readonly serverId?: string;
}

/**
 * AddNodeCommand adds the server at `url` under `tag`. The leader writes the next tag into the
 * command before proposing it (prepareClusterCommand), so the log records who became B; applying
 * a command without a tag gives the next one too. A server that was in the cluster before may ask
 * for its old tag.
 */
export interface AddNodeCommand {
  readonly type: "addNode";
  readonly url: string;
  readonly tag?: NodeTag;
  /** How the server joins Rachis: a voting member (default), a promotable, or a watcher. */
  readonly joinAs?: "member" | "promotable" | "watcher";
  /** The server's id, from its node-info answer to the leader (see ClusterTopology.serverIds). */
  readonly serverId?: string;
}

/** PromoteNodeCommand makes a promotable or watcher server a voting member of the cluster. */
export interface PromoteNodeCommand {
  readonly type: "promoteNode";
  readonly tag: NodeTag;
}

/** RemoveNodeCommand removes a server from the cluster and from every database group. */
export interface RemoveNodeCommand {
  readonly type: "removeNode";
  readonly tag: NodeTag;
}

/**
 * CreateDatabaseCommand creates a database group. With `nodes`, the database goes exactly there
 * (members in that order, the first preferred); without, on `replicationFactor` nodes chosen by
 * placeDatabase. The leader normally fills `nodes` before proposing (prepareClusterCommand), so the
 * log records where the database went.
 */
export interface CreateDatabaseCommand {
  readonly type: "createDatabase";
  readonly name: string;
  readonly replicationFactor?: number;
  readonly nodes?: readonly NodeTag[];
  readonly revisions?: RevisionsConfiguration | null;
  readonly conflictResolution?: ConflictResolution;
  /** Why the database went where it did; prepareClusterCommand says it chose by load. */
  readonly reason?: string;
}

/** DeleteDatabaseCommand deletes a database group from every node. */
export interface DeleteDatabaseCommand {
  readonly type: "deleteDatabase";
  readonly name: string;
}

/**
 * AddDatabaseNodeCommand adds a node to a database group as a promotable; it becomes a member once
 * its mentor has sent it everything. Without `tag`, the least loaded server outside the group is
 * chosen; without `mentor`, a member is chosen (chooseMentor).
 */
export interface AddDatabaseNodeCommand {
  readonly type: "addDatabaseNode";
  readonly database: string;
  readonly tag?: NodeTag;
  readonly mentor?: NodeTag;
}

/**
 * PromoteDatabaseNodeCommand makes a promotable or rehab a member, appended at the end of the
 * members so it does not take over as preferred node. `membersOrder`, when given, is the complete
 * new order of members (the product's shuffle after promotion).
 */
export interface PromoteDatabaseNodeCommand {
  readonly type: "promoteDatabaseNode";
  readonly database: string;
  readonly tag: NodeTag;
  readonly reason: string;
  readonly membersOrder?: readonly NodeTag[];
}

/** MoveToRehabCommand moves a member that stopped answering to the rehabs. */
export interface MoveToRehabCommand {
  readonly type: "moveToRehab";
  readonly database: string;
  readonly tag: NodeTag;
  readonly reason: string;
}

/**
 * RotatePreferredCommand moves the preferred node to the end of the members. `tag` is the preferred
 * node the proposer saw: if another node is preferred by the time the entry applies, the command
 * is stale and refused, so two rounds never rotate twice for one failure.
 */
export interface RotatePreferredCommand {
  readonly type: "rotatePreferred";
  readonly database: string;
  readonly tag: NodeTag;
  readonly reason: string;
}

/** RemoveDatabaseNodeCommand removes one node from a database group. */
export interface RemoveDatabaseNodeCommand {
  readonly type: "removeDatabaseNode";
  readonly database: string;
  readonly tag: NodeTag;
  readonly reason: string;
}

/** SetRevisionsCommand replaces a database's revisions configuration (null turns it off). */
export interface SetRevisionsCommand {
  readonly type: "setRevisions";
  readonly database: string;
  readonly revisions: RevisionsConfiguration | null;
}

/** SetConflictResolutionCommand chooses how a database settles conflicts. */
export interface SetConflictResolutionCommand {
  readonly type: "setConflictResolution";
  readonly database: string;
  readonly resolution: ConflictResolution;
}

/**
 * UpdateExternalReplicationCommand adds an external replication task (without `taskId`) or
 * replaces the settings of an existing one (RavenDB's UpdateExternalReplicationOperation does
 * both: task id 0 adds). The state machine chooses the responsible node.
 */
export interface UpdateExternalReplicationCommand {
  readonly type: "updateExternalReplication";
  readonly database: string;
  readonly taskId?: number;
  /** Unique in the database; a default is made from the destination when absent. */
  readonly name?: string;
  readonly destinationDatabase: string;
  readonly destinationUrls: readonly string[];
  readonly mentorNode?: NodeTag | null;
  readonly disabled?: boolean;
}

/** DeleteExternalReplicationCommand removes a task; the destination keeps what it received. */
export interface DeleteExternalReplicationCommand {
  readonly type: "deleteExternalReplication";
  readonly database: string;
  readonly taskId: number;
}

/**
 * MoveExternalReplicationCommand hands a task to another node of the group: the supervisor
 * proposes it when the responsible node is no longer where the task belongs. `from` is the
 * responsible node the proposer saw; if it changed meanwhile the command is stale and refused.
 */
export interface MoveExternalReplicationCommand {
  readonly type: "moveExternalReplication";
  readonly database: string;
  readonly taskId: number;
  readonly from: NodeTag | null;
  readonly to: NodeTag;
  readonly reason: string;
}

/** ClusterCommand is every command the cluster state machine applies from the Raft log. */
export type ClusterCommand =
  | BootstrapCommand
  | AddNodeCommand
  | PromoteNodeCommand
  | RemoveNodeCommand
  | CreateDatabaseCommand
  | DeleteDatabaseCommand
  | AddDatabaseNodeCommand
  | PromoteDatabaseNodeCommand
  | MoveToRehabCommand
  | RotatePreferredCommand
  | RemoveDatabaseNodeCommand
  | SetRevisionsCommand
  | SetConflictResolutionCommand
  | UpdateExternalReplicationCommand
  | DeleteExternalReplicationCommand
  | MoveExternalReplicationCommand;

/** ClusterCommandType is the `type` tag of a cluster command. */
export type ClusterCommandType = ClusterCommand["type"];

/** TopologyCommand is a command the supervisor proposes: each carries a reason for the UI. */
export type TopologyCommand =
  | PromoteDatabaseNodeCommand
  | MoveToRehabCommand
  | RotatePreferredCommand
  | RemoveDatabaseNodeCommand;

/** SupervisorCommand is anything the supervisor proposes: a topology change or a task's move. */
export type SupervisorCommand = TopologyCommand | MoveExternalReplicationCommand;

type Fields = Readonly<Record<string, unknown>>;

const isString = (value: unknown): value is string => typeof value === "string";
const isOptional = (check: (value: unknown) => boolean) => (value: unknown) =>
  value === undefined || check(value);
const isStringList = (value: unknown): boolean => Array.isArray(value) && value.every(isString);
const isTagList = isStringList;
const isNumber = (value: unknown): boolean => typeof value === "number";
const isBoolean = (value: unknown): boolean => typeof value === "boolean";
const isStringOrNull = (value: unknown): boolean => value === null || isString(value);

function isCollectionConfiguration(value: unknown): value is RevisionsCollectionConfiguration {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const fields = value as Fields;
  return (
    typeof fields.disabled === "boolean" &&
    (fields.minimumRevisionsToKeep === null || isNumber(fields.minimumRevisionsToKeep)) &&
    typeof fields.purgeOnDelete === "boolean"
  );
}

function isRevisions(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== "object" || Array.isArray(value)) return false;
  const fields = value as Fields;
  const collections = fields.collections;
  return (
    (fields.default === null || isCollectionConfiguration(fields.default)) &&
    typeof collections === "object" &&
    collections !== null &&
    !Array.isArray(collections) &&
    Object.values(collections).every(isCollectionConfiguration)
  );
}

const isResolution = (value: unknown): boolean => value === "latest" || value === "none";
const isJoinAs = (value: unknown): boolean =>
  value === "member" || value === "promotable" || value === "watcher";

/**
 * The fields each command must have, with a check per field. Optional fields accept undefined;
 * extra fields are ignored by the checks and by apply.
 */
type Shape = Readonly<Record<string, (value: unknown) => boolean>>;

const commandShapes: { readonly [T in ClusterCommandType]: Shape } = {
  bootstrap: { url: isString, topologyId: isString, serverId: isOptional(isString) },
  addNode: {
    url: isString,
    tag: isOptional(isString),
    joinAs: isOptional(isJoinAs),
    serverId: isOptional(isString),
  },
  promoteNode: { tag: isString },
  removeNode: { tag: isString },
  createDatabase: {
    name: isString,
    replicationFactor: isOptional(isNumber),
    nodes: isOptional(isTagList),
    revisions: isOptional(isRevisions),
    conflictResolution: isOptional(isResolution),
    reason: isOptional(isString),
  },
  deleteDatabase: { name: isString },
  addDatabaseNode: { database: isString, tag: isOptional(isString), mentor: isOptional(isString) },
  promoteDatabaseNode: {
    database: isString,
    tag: isString,
    reason: isString,
    membersOrder: isOptional(isTagList),
  },
  moveToRehab: { database: isString, tag: isString, reason: isString },
  rotatePreferred: { database: isString, tag: isString, reason: isString },
  removeDatabaseNode: { database: isString, tag: isString, reason: isString },
  setRevisions: { database: isString, revisions: isRevisions },
  setConflictResolution: { database: isString, resolution: isResolution },
  updateExternalReplication: {
    database: isString,
    taskId: isOptional(isNumber),
    name: isOptional(isString),
    destinationDatabase: isString,
    destinationUrls: isStringList,
    mentorNode: isOptional(isStringOrNull),
    disabled: isOptional(isBoolean),
  },
  deleteExternalReplication: { database: isString, taskId: isNumber },
  moveExternalReplication: {
    database: isString,
    taskId: isNumber,
    from: isStringOrNull,
    to: isString,
    reason: isString,
  },
};

/** clusterCommandTypes lists every command type, in declaration order. */
export const clusterCommandTypes = Object.keys(commandShapes) as readonly ClusterCommandType[];

/** isClusterCommandType tells whether `type` names a cluster command. */
export function isClusterCommandType(type: unknown): type is ClusterCommandType {
  return typeof type === "string" && Object.hasOwn(commandShapes, type);
}

/** shapeProblem names the first field of `value` that does not fit its command, if any. */
export function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "a cluster command must be an object with a `type`";
  }
  const fields = value as Fields;
  if (!isClusterCommandType(fields.type)) {
    const expected = clusterCommandTypes.join(", ");
    return `unknown command type ${JSON.stringify(fields.type)}; expected one of ${expected}`;
  }
  for (const [field, check] of Object.entries(commandShapes[fields.type])) {
    if (!check(fields[field])) return `field \`${field}\` of ${fields.type} has the wrong type`;
  }
  return undefined;
}

/** isClusterCommand tells whether `value` is a well-formed cluster command. */
export function isClusterCommand(value: unknown): value is ClusterCommand {
  return shapeProblem(value) === undefined;
}

function guard<T extends ClusterCommandType>(type: T) {
  return (value: unknown): value is Extract<ClusterCommand, { type: T }> =>
    isClusterCommand(value) && value.type === type;
}

/** isBootstrapCommand narrows to BootstrapCommand. */
export const isBootstrapCommand = guard("bootstrap");
/** isAddNodeCommand narrows to AddNodeCommand. */
export const isAddNodeCommand = guard("addNode");
/** isPromoteNodeCommand narrows to PromoteNodeCommand. */
export const isPromoteNodeCommand = guard("promoteNode");
/** isRemoveNodeCommand narrows to RemoveNodeCommand. */
export const isRemoveNodeCommand = guard("removeNode");
/** isCreateDatabaseCommand narrows to CreateDatabaseCommand. */
export const isCreateDatabaseCommand = guard("createDatabase");
/** isDeleteDatabaseCommand narrows to DeleteDatabaseCommand. */
export const isDeleteDatabaseCommand = guard("deleteDatabase");
/** isAddDatabaseNodeCommand narrows to AddDatabaseNodeCommand. */
export const isAddDatabaseNodeCommand = guard("addDatabaseNode");
/** isPromoteDatabaseNodeCommand narrows to PromoteDatabaseNodeCommand. */
export const isPromoteDatabaseNodeCommand = guard("promoteDatabaseNode");
/** isMoveToRehabCommand narrows to MoveToRehabCommand. */
export const isMoveToRehabCommand = guard("moveToRehab");
/** isRotatePreferredCommand narrows to RotatePreferredCommand. */
export const isRotatePreferredCommand = guard("rotatePreferred");
/** isRemoveDatabaseNodeCommand narrows to RemoveDatabaseNodeCommand. */
export const isRemoveDatabaseNodeCommand = guard("removeDatabaseNode");
/** isSetRevisionsCommand narrows to SetRevisionsCommand. */
export const isSetRevisionsCommand = guard("setRevisions");
/** isSetConflictResolutionCommand narrows to SetConflictResolutionCommand. */
export const isSetConflictResolutionCommand = guard("setConflictResolution");
/** isUpdateExternalReplicationCommand narrows to UpdateExternalReplicationCommand. */
export const isUpdateExternalReplicationCommand = guard("updateExternalReplication");
/** isDeleteExternalReplicationCommand narrows to DeleteExternalReplicationCommand. */
export const isDeleteExternalReplicationCommand = guard("deleteExternalReplication");
/** isMoveExternalReplicationCommand narrows to MoveExternalReplicationCommand. */
export const isMoveExternalReplicationCommand = guard("moveExternalReplication");
