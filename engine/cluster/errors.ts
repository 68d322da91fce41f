import { RookeryError } from "../core/index.ts";

/**
 * ClusterErrorCode names every way a cluster command can be refused. The codes are stable: tests,
 * the UI and exercises match on them, never on message text.
 */
export type ClusterErrorCode =
  | "InvalidCommand"
  | "NotBootstrapped"
  | "AlreadyBootstrapped"
  | "InvalidUrl"
  | "NodeAlreadyInCluster"
  | "InvalidNodeTag"
  | "NodeTagInUse"
  | "UnknownNode"
  | "LastClusterNode"
  | "InvalidDatabaseName"
  | "DatabaseExists"
  | "DatabaseNotFound"
  | "TooManyDatabases"
  | "InvalidReplicationFactor"
  | "NotEnoughNodes"
  | "NodeAlreadyInGroup"
  | "NodeNotInGroup"
  | "DatabaseOnAllNodes"
  | "LastMember"
  | "InvalidMentor"
  | "WrongRole"
  | "StaleTopology"
  | "InvalidSetting"
  | "TaskNotFound"
  | "TaskNameInUse"
  | "InvalidDestination"
  | "TooManyTasks";

/** JsonValue is what may appear in error details: plain, structured-clone-safe data. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;

/** JsonObject is a plain object of JSON values. */
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/**
 * ClusterError is a refused command, as plain data: every server that applies the same log entry
 * produces the same ClusterError, and it can travel back to the client that proposed it.
 */
export interface ClusterError {
  readonly code: ClusterErrorCode;
  /** What was wrong and what to do about it. */
  readonly message: string;
  readonly details: JsonObject;
}

/** clusterError builds a ClusterError. */
export function clusterError(
  code: ClusterErrorCode,
  message: string,
  details: JsonObject = {},
): ClusterError {
  return { code, message, details };
}

/** toRookeryError turns a refused command into the error type users see. */
export function toRookeryError(error: ClusterError): RookeryError {
  return new RookeryError(error.code, error.message, error.details);
}
