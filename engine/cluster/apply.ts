import { assert } from "../core/index.ts";
import type { ClusterCommand } from "./commands.ts";
import {
  applyAddDatabaseNode,
  applyCreateDatabase,
  applyDeleteDatabase,
  applyMoveToRehab,
  applyPromoteDatabaseNode,
  applyRemoveDatabaseNode,
  applyRotatePreferred,
  applySetConflictResolution,
  applySetRevisions,
} from "./apply-databases.ts";
import { applyAddNode, applyBootstrap, applyPromoteNode, applyRemoveNode } from "./apply-nodes.ts";
import {
  applyDeleteExternalReplication,
  applyMoveExternalReplication,
  applyUpdateExternalReplication,
} from "./apply-tasks.ts";
import type { ClusterState } from "./model.ts";
import type { Applied, ClusterApplyOutcome } from "./results.ts";
import { validateClusterCommand } from "./validate.ts";

/**
 * applyClusterCommand applies one committed log entry. It never mutates `state`: it returns a new
 * state (sharing unchanged parts) and the result for the proposer. A command that is refused —
 * malformed, or no longer valid against this state — leaves the state exactly as it was (the same
 * object) and answers a ClusterError; since every server applies the same log to the same state,
 * every server refuses it identically. `raftIndex` must grow from one applied command to the next.
 */
export function applyClusterCommand(
  state: ClusterState,
  command: unknown,
  raftIndex: number,
): ClusterApplyOutcome {
  assert(
    Number.isInteger(raftIndex) && raftIndex > state.lastAppliedIndex,
    () =>
      `applyClusterCommand: raft index ${raftIndex} after ${state.lastAppliedIndex}; ` +
      `entries apply in log order`,
  );
  const error = validateClusterCommand(state, command);
  if (error !== undefined) return { state, result: { ok: false, raftIndex, error } };
  const { state: next, ...accepted } = dispatch(state, command as ClusterCommand, raftIndex);
  return {
    state: { ...next, lastAppliedIndex: raftIndex },
    result: { ok: true, raftIndex, ...accepted },
  };
}

function dispatch(state: ClusterState, command: ClusterCommand, raftIndex: number): Applied {
  switch (command.type) {
    case "bootstrap":
      return applyBootstrap(state, command, raftIndex);
    case "addNode":
      return applyAddNode(state, command, raftIndex);
    case "promoteNode":
      return applyPromoteNode(state, command, raftIndex);
    case "removeNode":
      return applyRemoveNode(state, command, raftIndex);
    case "createDatabase":
      return applyCreateDatabase(state, command, raftIndex);
    case "deleteDatabase":
      return applyDeleteDatabase(state, command);
    case "addDatabaseNode":
      return applyAddDatabaseNode(state, command, raftIndex);
    case "promoteDatabaseNode":
      return applyPromoteDatabaseNode(state, command, raftIndex);
    case "moveToRehab":
      return applyMoveToRehab(state, command, raftIndex);
    case "rotatePreferred":
      return applyRotatePreferred(state, command, raftIndex);
    case "removeDatabaseNode":
      return applyRemoveDatabaseNode(state, command, raftIndex);
    case "setRevisions":
      return applySetRevisions(state, command);
    case "setConflictResolution":
      return applySetConflictResolution(state, command);
    case "updateExternalReplication":
      return applyUpdateExternalReplication(state, command, raftIndex);
    case "deleteExternalReplication":
      return applyDeleteExternalReplication(state, command);
    case "moveExternalReplication":
      return applyMoveExternalReplication(state, command);
  }
}
