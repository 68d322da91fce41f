import type { NodeTag } from "../core/index.ts";
import type { ClusterError } from "./errors.ts";
import type { ClusterState } from "./model.ts";

/** ClusterCommandAccepted is the answer to a command that changed the state. */
export interface ClusterCommandAccepted {
  readonly ok: true;
  readonly raftIndex: number;
  /** What happened, for logs and the UI, e.g. "http://127.0.0.2:8080 joined the cluster as B". */
  readonly message: string;
  /** The node the command was about: the tag assigned by addNode, the node added to a group … */
  readonly tag?: NodeTag;
  /** Where createDatabase placed the database (members order; the first is preferred). */
  readonly nodes?: readonly NodeTag[];
  /** The mentor chosen for a node added to a group. */
  readonly mentor?: NodeTag;
  /** The external replication task the command was about (its id, for a new one). */
  readonly taskId?: number;
}

/** ClusterCommandRejected is the answer to a command refused without changing the state. */
export interface ClusterCommandRejected {
  readonly ok: false;
  readonly raftIndex: number;
  readonly error: ClusterError;
}

/** ClusterCommandResult is what applying one log entry answers to whoever proposed it. */
export type ClusterCommandResult = ClusterCommandAccepted | ClusterCommandRejected;

/** ClusterApplyOutcome is the state after an entry, and the entry's result. */
export interface ClusterApplyOutcome {
  readonly state: ClusterState;
  readonly result: ClusterCommandResult;
}

/** Applied is what one command handler returns: the new state and the accepted result's payload. */
export type Applied = { readonly state: ClusterState } & Omit<
  ClusterCommandAccepted,
  "ok" | "raftIndex"
>;
