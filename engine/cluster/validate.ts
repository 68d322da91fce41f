import { shapeProblem } from "./commands.ts";
import type { ClusterCommand } from "./commands.ts";
import { clusterError } from "./errors.ts";
import type { ClusterError } from "./errors.ts";
import type { ClusterState } from "./model.ts";
import { isBootstrapped } from "./queries.ts";
import { validateCreateDatabase, validateDeleteDatabase } from "./validate-databases.ts";
import {
  validateAddDatabaseNode,
  validateMoveToRehab,
  validatePromoteDatabaseNode,
  validateRemoveDatabaseNode,
  validateRotatePreferred,
  validateSetConflictResolution,
  validateSetRevisions,
} from "./validate-group.ts";
import {
  validateDeleteExternalReplication,
  validateMoveExternalReplication,
  validateUpdateExternalReplication,
} from "./validate-tasks.ts";
import {
  validateAddNode,
  validateBootstrap,
  validatePromoteNode,
  validateRemoveNode,
} from "./validate-nodes.ts";

/**
 * validateClusterCommand returns why `command` would be refused against `state`, or undefined if it
 * would apply. The leader runs it before proposing, to answer bad requests at once; apply runs the
 * very same checks, because the state may have moved between proposal and commit, and every server
 * must refuse (or accept) an entry identically.
 */
export function validateClusterCommand(
  state: ClusterState,
  command: unknown,
): ClusterError | undefined {
  const problem = shapeProblem(command);
  if (problem !== undefined) {
    return clusterError("InvalidCommand", `Cannot apply the command: ${problem}.`);
  }
  const valid = command as ClusterCommand;
  if (valid.type !== "bootstrap" && !isBootstrapped(state)) {
    return clusterError(
      "NotBootstrapped",
      `Cannot ${valid.type}: this server is not part of a cluster yet. Bootstrap it first ` +
        `(any cluster-wide operation on a fresh server makes it node A).`,
    );
  }
  return validateBootstrapped(state, valid);
}

function validateBootstrapped(
  state: ClusterState,
  command: ClusterCommand,
): ClusterError | undefined {
  switch (command.type) {
    case "bootstrap":
      return validateBootstrap(state, command);
    case "addNode":
      return validateAddNode(state, command);
    case "promoteNode":
      return validatePromoteNode(state, command);
    case "removeNode":
      return validateRemoveNode(state, command);
    case "createDatabase":
      return validateCreateDatabase(state, command);
    case "deleteDatabase":
      return validateDeleteDatabase(state, command);
    case "addDatabaseNode":
      return validateAddDatabaseNode(state, command);
    case "promoteDatabaseNode":
      return validatePromoteDatabaseNode(state, command);
    case "moveToRehab":
      return validateMoveToRehab(state, command);
    case "rotatePreferred":
      return validateRotatePreferred(state, command);
    case "removeDatabaseNode":
      return validateRemoveDatabaseNode(state, command);
    case "setRevisions":
      return validateSetRevisions(state, command);
    case "setConflictResolution":
      return validateSetConflictResolution(state, command);
    case "updateExternalReplication":
      return validateUpdateExternalReplication(state, command);
    case "deleteExternalReplication":
      return validateDeleteExternalReplication(state, command);
    case "moveExternalReplication":
      return validateMoveExternalReplication(state, command);
  }
}
