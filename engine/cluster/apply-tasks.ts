import { assert } from "../core/index.ts";
import type {
  DeleteExternalReplicationCommand,
  MoveExternalReplicationCommand,
  UpdateExternalReplicationCommand,
} from "./commands.ts";
import type { ClusterState, DatabaseRecord, ExternalReplicationTask } from "./model.ts";
import { databaseKey, findDatabase } from "./queries.ts";
import { shortenReason } from "./record-change.ts";
import type { Applied } from "./results.ts";
import { externalReplicationsOf, findExternalReplication, responsibleNodeFor } from "./tasks.ts";
import { normaliseDestination, taskNameOf } from "./validate-tasks.ts";

function requireRecord(state: ClusterState, name: string): DatabaseRecord {
  const record = findDatabase(state, name);
  assert(record !== undefined, () => `a validated command names a missing database '${name}'`);
  return record;
}

function withTasks(
  state: ClusterState,
  record: DatabaseRecord,
  tasks: readonly ExternalReplicationTask[],
): ClusterState {
  const next: DatabaseRecord = { ...record, externalReplications: tasks };
  return { ...state, databases: { ...state.databases, [databaseKey(record.name)]: next } };
}

/** describeDestination renders where a task writes, e.g. "Backup at http://127.0.1.1:8080". */
export function describeDestination(task: ExternalReplicationTask): string {
  const [first, ...others] = task.destinationUrls;
  return `${task.destinationDatabase} at ${first}${others.length > 0 ? ` (+${others.length})` : ""}`;
}

/**
 * applyUpdateExternalReplication adds a task (its id is this entry's Raft index, as in RavenDB)
 * or replaces an existing task's settings, and chooses the node that runs it.
 */
export function applyUpdateExternalReplication(
  state: ClusterState,
  command: UpdateExternalReplicationCommand,
  raftIndex: number,
): Applied {
  const record = requireRecord(state, command.database);
  const existing =
    command.taskId === undefined ? undefined : findExternalReplication(record, command.taskId);
  const destination = normaliseDestination(
    record,
    command.destinationDatabase,
    command.destinationUrls,
  );
  assert("urls" in destination, "updateExternalReplication: validated destination");
  const identity = {
    taskId: existing?.taskId ?? raftIndex,
    name: taskNameOf(command, existing, destination.urls),
    destinationDatabase: command.destinationDatabase,
    mentorNode: command.mentorNode ?? null,
  };
  const responsibleNode = responsibleNodeFor(record, identity);
  const responsibleReason =
    existing !== undefined && existing.responsibleNode === responsibleNode
      ? existing.responsibleReason
      : responsibleNode !== null && responsibleNode === identity.mentorNode
        ? `${responsibleNode} is the task's mentor node`
        : `chosen by hash among the members`;
  const task: ExternalReplicationTask = {
    ...identity,
    destinationUrls: destination.urls,
    disabled: command.disabled ?? false,
    responsibleNode,
    responsibleReason,
  };
  const tasks = externalReplicationsOf(record);
  const next =
    existing === undefined
      ? [...tasks, task]
      : tasks.map((other) => (other.taskId === existing.taskId ? task : other));
  const runs = task.disabled ? "disabled" : `runs on ${responsibleNode ?? "no node"}`;
  return {
    state: withTasks(state, record, next),
    message:
      `external replication '${task.name}' (task ${task.taskId}) of '${record.name}' ` +
      `${existing === undefined ? "added" : "updated"}: to ${describeDestination(task)}, ${runs}`,
    taskId: task.taskId,
    ...(responsibleNode !== null ? { tag: responsibleNode } : {}),
  };
}

/** applyDeleteExternalReplication removes a task; the destination keeps what it received. */
export function applyDeleteExternalReplication(
  state: ClusterState,
  command: DeleteExternalReplicationCommand,
): Applied {
  const record = requireRecord(state, command.database);
  const task = findExternalReplication(record, command.taskId);
  assert(task !== undefined, "deleteExternalReplication: validated task");
  const tasks = externalReplicationsOf(record).filter((other) => other.taskId !== task.taskId);
  return {
    state: withTasks(state, record, tasks),
    message: `external replication '${task.name}' (task ${task.taskId}) of '${record.name}' deleted`,
    taskId: task.taskId,
  };
}

/** applyMoveExternalReplication hands a task to another member of the group. */
export function applyMoveExternalReplication(
  state: ClusterState,
  command: MoveExternalReplicationCommand,
): Applied {
  const record = requireRecord(state, command.database);
  const task = findExternalReplication(record, command.taskId);
  assert(task !== undefined, "moveExternalReplication: validated task");
  const reason = shortenReason(command.reason);
  const moved: ExternalReplicationTask = {
    ...task,
    responsibleNode: command.to,
    responsibleReason: reason,
  };
  const tasks = externalReplicationsOf(record).map((other) =>
    other.taskId === task.taskId ? moved : other,
  );
  return {
    state: withTasks(state, record, tasks),
    message:
      `'${record.name}': task '${task.name}' moved from ${command.from ?? "no node"} to ` +
      `${command.to}: ${reason}`,
    taskId: task.taskId,
    tag: command.to,
  };
}
