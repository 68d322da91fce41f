import type { NodeTag } from "../core/index.ts";
import type { DatabaseSummary, ExternalReplicationSummary } from "../cluster/index.ts";
import type { ExternalReplicationStatus } from "../replication/index.ts";

/** ExternalReplicationDescription is a task as describe() shows it, with its progress. */
export interface ExternalReplicationDescription extends ExternalReplicationSummary {
  /** As the node running the task reports it; null while that node is down or not running it. */
  readonly progress: ExternalReplicationStatus | null;
}

/**
 * DatabaseDescription is one database as describe() shows it: its group, and its external
 * replication tasks (present only when it has some), which are not part of the group.
 */
export interface DatabaseDescription extends Omit<DatabaseSummary, "externalReplications"> {
  readonly externalReplications?: readonly ExternalReplicationDescription[];
}

/**
 * describeDatabases adds to each database's tasks the progress its responsible node reports;
 * `progressOf` returns the statuses of the tasks a node runs for a database (none if it is down).
 */
export function describeDatabases(
  summaries: readonly DatabaseSummary[],
  progressOf: (database: string, tag: NodeTag) => readonly ExternalReplicationStatus[],
): DatabaseDescription[] {
  return summaries.map(({ externalReplications: tasks, ...group }) => {
    if (tasks === undefined) return group;
    return {
      ...group,
      externalReplications: tasks.map((task) => ({
        ...task,
        progress:
          task.responsibleNode === null
            ? null
            : (progressOf(group.name, task.responsibleNode).find(
                (status) => status.taskId === task.taskId,
              ) ?? null),
      })),
    };
  });
}
