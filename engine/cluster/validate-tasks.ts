import { escapeInvisible, isNodeTag } from "../core/index.ts";
import type {
  DeleteExternalReplicationCommand,
  MoveExternalReplicationCommand,
  UpdateExternalReplicationCommand,
} from "./commands.ts";
import { clusterError } from "./errors.ts";
import type { ClusterError } from "./errors.ts";
import { clusterLimits } from "./limits.ts";
import type { ClusterState, DatabaseRecord, ExternalReplicationTask } from "./model.ts";
import { databaseNameProblem, normaliseServerUrl } from "./names.ts";
import { findTagByUrl, formatTags, groupNodes } from "./queries.ts";
import { databaseRoleOn } from "./status.ts";
import { defaultTaskName, externalReplicationsOf, findExternalReplication } from "./tasks.ts";
import { requireDatabase } from "./validate-databases.ts";

/** Destination is a task's destination with its URLs normalised, or why they are not valid. */
export type Destination = { readonly urls: readonly string[] } | { readonly error: ClusterError };

/**
 * normaliseDestination checks a task's destination: a valid database name and 1 to
 * clusterLimits.destinationUrlsMax server URLs, each named once. Apply and validation share it,
 * so the stored URLs are the ones validation accepted.
 */
export function normaliseDestination(
  record: DatabaseRecord,
  destinationDatabase: string,
  destinationUrls: readonly string[],
): Destination {
  const what = `Cannot replicate '${record.name}' to '${destinationDatabase}'`;
  const nameProblem = databaseNameProblem(destinationDatabase);
  if (nameProblem !== undefined) {
    return {
      error: clusterError("InvalidDestination", `${what}: ${nameProblem}.`, {
        database: record.name,
        destinationDatabase,
      }),
    };
  }
  const urlsMax = clusterLimits.destinationUrlsMax;
  if (destinationUrls.length === 0 || destinationUrls.length > urlsMax) {
    return {
      error: clusterError(
        "InvalidDestination",
        `${what}: give from 1 to ${urlsMax} URLs of the destination cluster's servers ` +
          `(got ${destinationUrls.length}).`,
        { database: record.name, destinationDatabase },
      ),
    };
  }
  const urls: string[] = [];
  for (const raw of destinationUrls) {
    const normalised = normaliseServerUrl(raw);
    if ("problem" in normalised) {
      return {
        error: clusterError(
          "InvalidUrl",
          `${what}: '${escapeInvisible(raw)}' ${normalised.problem}.`,
          {
            database: record.name,
            url: raw,
          },
        ),
      };
    }
    if (urls.includes(normalised.url)) {
      return {
        error: clusterError(
          "InvalidDestination",
          `${what}: ${normalised.url} is listed twice; name each server of the destination once.`,
          { database: record.name, url: normalised.url },
        ),
      };
    }
    urls.push(normalised.url);
  }
  return { urls };
}

function taskNotFound(record: DatabaseRecord, taskId: number, action: string): ClusterError {
  const ids = externalReplicationsOf(record).map((task) => `${task.taskId} (${task.name})`);
  return clusterError(
    "TaskNotFound",
    `Cannot ${action} task ${taskId} of '${record.name}': there is no such external replication ` +
      `task (tasks: ${ids.length === 0 ? "none" : ids.join(", ")}).`,
    { database: record.name, taskId },
  );
}

/** TaskLookup is a found record and task, or the error to return. */
type TaskLookup =
  | { readonly record: DatabaseRecord; readonly task: ExternalReplicationTask }
  | { readonly error: ClusterError };

function requireTask(
  state: ClusterState,
  database: string,
  taskId: number,
  action: string,
): TaskLookup {
  const found = requireDatabase(state, database, `${action} a task of`);
  if ("error" in found) return found;
  const task = findExternalReplication(found.record, taskId);
  return task === undefined
    ? { error: taskNotFound(found.record, taskId, action) }
    : { record: found.record, task };
}

/**
 * validateUpdateExternalReplication checks a new or changed task: the destination, that it is not
 * the database's own group, a unique name, a mentor that hosts the database, and the task count.
 */
export function validateUpdateExternalReplication(
  state: ClusterState,
  command: UpdateExternalReplicationCommand,
): ClusterError | undefined {
  const found = requireDatabase(state, command.database, "set up external replication of");
  if ("error" in found) return found.error;
  const { record } = found;
  const tasks = externalReplicationsOf(record);
  const existing =
    command.taskId === undefined ? undefined : findExternalReplication(record, command.taskId);
  if (command.taskId !== undefined && existing === undefined) {
    return taskNotFound(record, command.taskId, "update");
  }
  if (existing === undefined && tasks.length >= clusterLimits.externalReplicationsMax) {
    return clusterError(
      "TooManyTasks",
      `Cannot add another external replication to '${record.name}': it has the most allowed ` +
        `(${clusterLimits.externalReplicationsMax}). Delete one first.`,
      { database: record.name },
    );
  }
  const destination = normaliseDestination(
    record,
    command.destinationDatabase,
    command.destinationUrls,
  );
  if ("error" in destination) return destination.error;
  const ownNode = destination.urls
    .map((url) => findTagByUrl(state, url))
    .find((tag) => tag !== undefined);
  if (
    ownNode !== undefined &&
    command.destinationDatabase.toLowerCase() === record.name.toLowerCase()
  ) {
    return clusterError(
      "InvalidDestination",
      `Cannot replicate '${record.name}' to itself: ${ownNode} is a server of this cluster, and ` +
        `the instances of '${record.name}' already replicate to each other inside its group. ` +
        `Name a database of another cluster, or add the node to the group (addDatabaseNode).`,
      { database: record.name, tag: ownNode },
    );
  }
  const name = taskNameOf(command, existing, destination.urls);
  const nameProblem = taskNameProblem(name);
  if (nameProblem !== undefined) {
    return clusterError("InvalidSetting", `Cannot name the task '${name}': ${nameProblem}.`, {
      database: record.name,
    });
  }
  const clash = tasks.find(
    (task) => task.taskId !== existing?.taskId && task.name.toLowerCase() === name.toLowerCase(),
  );
  if (clash !== undefined) {
    return clusterError(
      "TaskNameInUse",
      `Cannot ${existing ? "rename" : "add"} the task: '${record.name}' already has task ` +
        `${clash.taskId} named '${clash.name}'` +
        (command.name === undefined ? `, which replicates to the same destination` : "") +
        `. Give the task another name, or update task ${clash.taskId}.`,
      { database: record.name, taskId: clash.taskId, name: clash.name },
    );
  }
  const mentor = command.mentorNode ?? null;
  if (mentor !== null && (!isNodeTag(mentor) || databaseRoleOn(record, mentor) === undefined)) {
    return clusterError(
      "InvalidMentor",
      `Cannot have ${mentor} run '${name}': a task's mentor node must host '${record.name}' ` +
        `(nodes: ${formatTags(groupNodes(record.topology))}).`,
      { database: record.name, mentor },
    );
  }
  return undefined;
}

/** taskNameOf is the name a task will have: the one given, the one it had, or a default. */
export function taskNameOf(
  command: UpdateExternalReplicationCommand,
  existing: ExternalReplicationTask | undefined,
  destinationUrls: readonly string[],
): string {
  return (
    command.name?.trim() ??
    existing?.name ??
    defaultTaskName(command.destinationDatabase, destinationUrls)
  );
}

function taskNameProblem(name: string): string | undefined {
  if (name === "") return "a task name cannot be empty";
  if (name.length > clusterLimits.taskNameLengthMax) {
    return `it has ${name.length} characters; at most ${clusterLimits.taskNameLengthMax} are allowed`;
  }
  return undefined;
}

/** validateDeleteExternalReplication needs the task to exist. */
export function validateDeleteExternalReplication(
  state: ClusterState,
  command: DeleteExternalReplicationCommand,
): ClusterError | undefined {
  const found = requireTask(state, command.database, command.taskId, "delete");
  return "error" in found ? found.error : undefined;
}

/**
 * validateMoveExternalReplication refuses a stale move (the task changed hands after the proposal)
 * and a move to a node that is not a member of the group.
 */
export function validateMoveExternalReplication(
  state: ClusterState,
  command: MoveExternalReplicationCommand,
): ClusterError | undefined {
  const found = requireTask(state, command.database, command.taskId, "move");
  if ("error" in found) return found.error;
  const { record, task } = found;
  if (task.responsibleNode !== command.from) {
    return clusterError(
      "StaleTopology",
      `Not moving task '${task.name}' of '${record.name}': the command expected ` +
        `${command.from ?? "no node"} to run it, but ${task.responsibleNode ?? "no node"} does; ` +
        `it changed hands after the command was proposed.`,
      { database: record.name, taskId: task.taskId },
    );
  }
  if (!record.topology.members.includes(command.to)) {
    return clusterError(
      "WrongRole",
      `Cannot move task '${task.name}' of '${record.name}' to ${command.to}: only a member of the ` +
        `group runs tasks (members: ${formatTags(record.topology.members)}).`,
      { database: record.name, taskId: task.taskId, tag: command.to },
    );
  }
  return undefined;
}
