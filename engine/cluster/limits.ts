/**
 * clusterLimits bounds what the cluster state machine keeps and accepts. The unit is the last word
 * of each name. Everything here is part of the replicated state's contract: every server must use
 * the same values, or the same log could be accepted on one server and rejected on another.
 */
export const clusterLimits = {
  /** Characters in a database name (RavenDB's Constants.Documents.MaxDatabaseNameLength). */
  databaseNameLengthMax: 128,
  /** Characters in a server URL. */
  urlLengthMax: 2048,
  /** Recent topology changes kept per database record, newest last, for the UI's "why". */
  topologyChangesMax: 16,
  /** Characters of a change reason kept in the record; longer reasons are cut with "…". */
  reasonLengthMax: 240,
  /** Databases one cluster holds; a command creating more is refused. */
  databasesMax: 10_000,
  /** Revisions kept per document when a configuration asks for a minimum. */
  revisionsToKeepMax: 1_000_000,
  /** Collections one revisions configuration may name. */
  revisionsCollectionsMax: 1_000,
  /** External replication tasks one database may have. */
  externalReplicationsMax: 64,
  /** Characters in a task name. */
  taskNameLengthMax: 256,
  /** URLs one external replication task may list for its destination cluster. */
  destinationUrlsMax: 16,
} as const;

/** ClusterLimits is the shape of clusterLimits. */
export type ClusterLimits = { -readonly [K in keyof typeof clusterLimits]: number };
