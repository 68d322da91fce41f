import { escapeInvisible, isNodeTag } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { CreateDatabaseCommand, DeleteDatabaseCommand } from "./commands.ts";
import { clusterError } from "./errors.ts";
import type { ClusterError } from "./errors.ts";
import { clusterLimits } from "./limits.ts";
import type { ClusterState, DatabaseRecord } from "./model.ts";
import { databaseNameProblem } from "./names.ts";
import {
  clusterNodeTags,
  clusterNodeUrl,
  databaseNames,
  findDatabase,
  formatTags,
  placementCandidates,
} from "./queries.ts";
import { revisionsProblem } from "./validate-settings.ts";

/** DatabaseLookup is a found record, or the error to return when it is missing. */
export type DatabaseLookup = { readonly record: DatabaseRecord } | { readonly error: ClusterError };

/** requireDatabase finds `name` for `action` ("delete", "add a node to" …) or explains it is missing. */
export function requireDatabase(state: ClusterState, name: string, action: string): DatabaseLookup {
  const record = findDatabase(state, name);
  if (record !== undefined) return { record };
  const names = databaseNames(state);
  return {
    error: clusterError(
      "DatabaseNotFound",
      `Cannot ${action} database '${escapeInvisible(name)}': there is no such database ` +
        `(databases: ${names.length === 0 ? "none" : names.join(", ")}).`,
      { database: name },
    ),
  };
}

/** validateCreateDatabase checks the name, the settings and where the database would go. */
export function validateCreateDatabase(
  state: ClusterState,
  command: CreateDatabaseCommand,
): ClusterError | undefined {
  const { name } = command;
  const nameProblem = databaseNameProblem(name);
  if (nameProblem !== undefined) {
    return clusterError(
      "InvalidDatabaseName",
      `Cannot create database '${escapeInvisible(name)}': ${nameProblem}.`,
      {
        database: name,
      },
    );
  }
  const existing = findDatabase(state, name);
  if (existing !== undefined) {
    const caseNote = existing.name === name ? "" : " (database names are case-insensitive)";
    return clusterError(
      "DatabaseExists",
      `Cannot create database '${name}': a database named '${existing.name}' already exists${caseNote}. ` +
        `Pick another name or delete '${existing.name}' first.`,
      { database: name, existing: existing.name },
    );
  }
  if (Object.keys(state.databases).length >= clusterLimits.databasesMax) {
    return clusterError(
      "TooManyDatabases",
      `Cannot create database '${name}': the cluster already holds ${clusterLimits.databasesMax} databases.`,
      { database: name },
    );
  }
  const settings =
    command.revisions === undefined ? undefined : revisionsProblem(command.revisions);
  if (settings !== undefined) {
    return clusterError("InvalidSetting", `Cannot create database '${name}': ${settings}.`, {
      database: name,
    });
  }
  return command.nodes === undefined
    ? validateFactor(state, name, command.replicationFactor ?? 1)
    : validateExplicitNodes(state, name, command.nodes, command.replicationFactor);
}

function validateFactor(
  state: ClusterState,
  name: string,
  factor: number,
): ClusterError | undefined {
  const candidates = placementCandidates(state);
  const all = clusterNodeTags(state);
  const hosts =
    candidates.length === all.length
      ? `the cluster has ${all.length} node${all.length === 1 ? "" : "s"} (${formatTags(all)})`
      : `the cluster has ${candidates.length} node${candidates.length === 1 ? "" : "s"} that can host ` +
        `databases (${formatTags(candidates)}; the others are still joining)`;
  if (!Number.isInteger(factor) || factor < 1) {
    return clusterError(
      "InvalidReplicationFactor",
      `Cannot create database '${name}' with replication factor ${factor}: a database needs at least ` +
        `one copy, as a whole number. Use a factor from 1 to ${candidates.length} (${hosts}).`,
      { database: name, replicationFactor: factor },
    );
  }
  if (factor > candidates.length) {
    return clusterError(
      "NotEnoughNodes",
      `Cannot create database '${name}' with replication factor ${factor}: ${hosts}. ` +
        `Add nodes or lower the factor.`,
      { database: name, replicationFactor: factor, nodes: candidates },
    );
  }
  return undefined;
}

function validateExplicitNodes(
  state: ClusterState,
  name: string,
  nodes: readonly NodeTag[],
  factor: number | undefined,
): ClusterError | undefined {
  const listed = `[${nodes.join(", ")}]`;
  if (nodes.length === 0) {
    return clusterError(
      "InvalidReplicationFactor",
      `Cannot create database '${name}' on no nodes: list at least one node, ` +
        `or give a replication factor instead.`,
      { database: name },
    );
  }
  const unknown = nodes.filter(
    (tag) => !isNodeTag(tag) || clusterNodeUrl(state, tag) === undefined,
  );
  if (unknown.length > 0) {
    return clusterError(
      "UnknownNode",
      `Cannot create database '${name}' on nodes ${listed}: ${formatTags(unknown)} ` +
        `${unknown.length === 1 ? "is" : "are"} not in the cluster ` +
        `(nodes: ${formatTags(clusterNodeTags(state))}).`,
      { database: name, unknown },
    );
  }
  const twice = nodes.filter((tag, index) => nodes.indexOf(tag) !== index);
  if (twice.length > 0) {
    return clusterError(
      "InvalidCommand",
      `Cannot create database '${name}' on nodes ${listed}: ${formatTags([...new Set(twice)])} ` +
        `is listed more than once; each node holds at most one copy.`,
      { database: name },
    );
  }
  if (factor !== undefined && factor !== nodes.length) {
    return clusterError(
      "InvalidReplicationFactor",
      `Cannot create database '${name}' with replication factor ${factor} on ${nodes.length} ` +
        `node${nodes.length === 1 ? "" : "s"} ${listed}: the factor is the number of nodes. ` +
        `Leave the factor out or list ${factor} nodes.`,
      { database: name, replicationFactor: factor },
    );
  }
  return undefined;
}

/** validateDeleteDatabase only needs the database to exist. */
export function validateDeleteDatabase(
  state: ClusterState,
  command: DeleteDatabaseCommand,
): ClusterError | undefined {
  const found = requireDatabase(state, command.name, "delete");
  return "error" in found ? found.error : undefined;
}
