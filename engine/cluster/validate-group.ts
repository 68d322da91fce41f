import { escapeInvisible, isNodeTag } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type {
  AddDatabaseNodeCommand,
  MoveToRehabCommand,
  PromoteDatabaseNodeCommand,
  RemoveDatabaseNodeCommand,
  RotatePreferredCommand,
  SetConflictResolutionCommand,
  SetRevisionsCommand,
} from "./commands.ts";
import { clusterError } from "./errors.ts";
import type { ClusterError } from "./errors.ts";
import type { ClusterState, DatabaseRecord } from "./model.ts";
import { chooseNodeToAdd } from "./placement.ts";
import { clusterNodeTags, clusterNodeUrl, formatTags, groupNodes } from "./queries.ts";
import { databaseRoleOn } from "./status.ts";
import { requireDatabase } from "./validate-databases.ts";
import { revisionsProblem } from "./validate-settings.ts";

/** validateAddDatabaseNode checks the node to add (or that one can be chosen) and the mentor. */
export function validateAddDatabaseNode(
  state: ClusterState,
  command: AddDatabaseNodeCommand,
): ClusterError | undefined {
  const found = requireDatabase(state, command.database, "add a node to");
  if ("error" in found) return found.error;
  const { record } = found;
  const tag = command.tag ?? chooseNodeToAdd(state, record.topology);
  if (tag === undefined) {
    const all = clusterNodeTags(state);
    return clusterError(
      "DatabaseOnAllNodes",
      `Cannot add a node to '${record.name}': it already exists on every node that can host it ` +
        `(cluster nodes: ${formatTags(all)}). Add a node to the cluster first.`,
      { database: record.name },
    );
  }
  if (!isNodeTag(tag) || clusterNodeUrl(state, tag) === undefined) {
    return clusterError(
      "UnknownNode",
      `Cannot add node ${escapeInvisible(tag)} to '${record.name}': there is no such node in the cluster ` +
        `(nodes: ${formatTags(clusterNodeTags(state))}).`,
      { database: record.name, tag },
    );
  }
  const role = databaseRoleOn(record, tag);
  if (role !== undefined) {
    return clusterError(
      "NodeAlreadyInGroup",
      `Cannot add node ${tag} to '${record.name}': it is already part of it (as ${role}).`,
      { database: record.name, tag, role },
    );
  }
  if (command.mentor !== undefined && !record.topology.members.includes(command.mentor)) {
    return clusterError(
      "InvalidMentor",
      `Cannot use ${command.mentor} as mentor of ${tag} in '${record.name}': a mentor must be a member ` +
        `of the group (members: ${formatTags(record.topology.members)}).`,
      { database: record.name, tag, mentor: command.mentor },
    );
  }
  return undefined;
}

/** GroupLookup is a record and the role of the node a command is about, or an error. */
type GroupLookup =
  | { readonly record: DatabaseRecord; readonly role: "member" | "promotable" | "rehab" }
  | { readonly error: ClusterError };

function requireGroupNode(
  state: ClusterState,
  database: string,
  tag: NodeTag,
  action: string,
): GroupLookup {
  const found = requireDatabase(state, database, `${action} ${tag} in`);
  if ("error" in found) return found;
  const { record } = found;
  const role = databaseRoleOn(record, tag);
  if (role === undefined) {
    return {
      error: clusterError(
        "NodeNotInGroup",
        `Cannot ${action} ${tag} in '${record.name}': ${tag} does not host it ` +
          `(nodes: ${formatTags(groupNodes(record.topology))}).`,
        { database: record.name, tag },
      ),
    };
  }
  return { record, role };
}

/** validatePromoteDatabaseNode accepts a promotable or rehab, and a complete `membersOrder`. */
export function validatePromoteDatabaseNode(
  state: ClusterState,
  command: PromoteDatabaseNodeCommand,
): ClusterError | undefined {
  const found = requireGroupNode(state, command.database, command.tag, "promote");
  if ("error" in found) return found.error;
  const { record, role } = found;
  if (role === "member") {
    return clusterError(
      "WrongRole",
      `Node ${command.tag} is already a member of '${record.name}'.`,
      {
        database: record.name,
        tag: command.tag,
        role,
      },
    );
  }
  const order = command.membersOrder;
  if (order === undefined) return undefined;
  const expected = [...record.topology.members, command.tag].sort();
  if (order.length !== expected.length || [...order].sort().some((tag, i) => tag !== expected[i])) {
    return clusterError(
      "InvalidCommand",
      `Cannot promote ${command.tag} in '${record.name}' with members order [${order.join(", ")}]: ` +
        `the order must list the members and ${command.tag} once each (${formatTags(expected)}).`,
      { database: record.name, tag: command.tag },
    );
  }
  return undefined;
}

function lastMember(
  record: DatabaseRecord,
  tag: NodeTag,
  what: string,
  advice: string,
): ClusterError {
  return clusterError(
    "LastMember",
    `Cannot ${what}: ${tag} is the only member of '${record.name}', and a database group needs at ` +
      `least one member to serve clients.${advice === "" ? "" : ` ${advice}`}`,
    { database: record.name, tag },
  );
}

/** validateMoveToRehab accepts a member that is not the last one. */
export function validateMoveToRehab(
  state: ClusterState,
  command: MoveToRehabCommand,
): ClusterError | undefined {
  const found = requireGroupNode(state, command.database, command.tag, "demote");
  if ("error" in found) return found.error;
  const { record, role } = found;
  if (role !== "member") {
    return clusterError(
      "WrongRole",
      `Cannot move ${command.tag} of '${record.name}' to rehab: it is a ${role}, ` +
        `and only members move to rehab.`,
      { database: record.name, tag: command.tag, role },
    );
  }
  if (record.topology.members.length === 1) {
    return lastMember(record, command.tag, `move ${command.tag} of '${record.name}' to rehab`, "");
  }
  return undefined;
}

/** validateRotatePreferred refuses a stale rotation and a group with a single member. */
export function validateRotatePreferred(
  state: ClusterState,
  command: RotatePreferredCommand,
): ClusterError | undefined {
  const found = requireDatabase(state, command.database, "rotate the preferred node of");
  if ("error" in found) return found.error;
  const { record } = found;
  const preferred = record.topology.members[0];
  if (preferred !== command.tag) {
    return clusterError(
      "StaleTopology",
      `Not rotating the preferred node of '${record.name}': the command expected ${command.tag} to be ` +
        `preferred, but ${preferred ?? "no node"} is; the topology changed after it was proposed.`,
      { database: record.name, tag: command.tag, preferred: preferred ?? null },
    );
  }
  if (record.topology.members.length === 1) {
    return lastMember(record, command.tag, `rotate the preferred node of '${record.name}'`, "");
  }
  return undefined;
}

/** validateRemoveDatabaseNode keeps at least one member in the group. */
export function validateRemoveDatabaseNode(
  state: ClusterState,
  command: RemoveDatabaseNodeCommand,
): ClusterError | undefined {
  const found = requireGroupNode(state, command.database, command.tag, "remove");
  if ("error" in found) return found.error;
  const { record, role } = found;
  const { members, promotables, rehabs } = record.topology;
  if (role !== "member" || members.length > 1) return undefined;
  const others = [...promotables, ...rehabs];
  return lastMember(
    record,
    command.tag,
    `remove ${command.tag} from '${record.name}'`,
    others.length === 0
      ? "Delete the database instead."
      : `Promote another node (${formatTags(others)}) first.`,
  );
}

/** validateSetRevisions checks the configuration's values. */
export function validateSetRevisions(
  state: ClusterState,
  command: SetRevisionsCommand,
): ClusterError | undefined {
  const found = requireDatabase(state, command.database, "configure revisions of");
  if ("error" in found) return found.error;
  const problem = revisionsProblem(command.revisions);
  if (problem === undefined) return undefined;
  return clusterError(
    "InvalidSetting",
    `Cannot configure revisions of '${found.record.name}': ${problem}.`,
    { database: found.record.name },
  );
}

/** validateSetConflictResolution only needs the database to exist. */
export function validateSetConflictResolution(
  state: ClusterState,
  command: SetConflictResolutionCommand,
): ClusterError | undefined {
  const found = requireDatabase(state, command.database, "set conflict resolution of");
  return "error" in found ? found.error : undefined;
}
