import type { NodeTag } from "../core/index.ts";

/**
 * ClusterState is everything the cluster agrees on through Rachis: which servers form the cluster
 * and which databases live where. Every server holds an identical copy, rebuilt by applying the same
 * committed log entries in the same order. It is plain JSON (no classes, Maps or undefined values
 * that matter), so it can be structured-cloned to a worker, persisted, and sent as a Raft snapshot.
 */
export interface ClusterState {
  readonly topology: ClusterTopology;
  /**
   * Database records keyed by the lower-cased name: names are case-insensitive and
   * case-preserving, so "spade" finds the record whose `name` is "Spade".
   */
  readonly databases: Readonly<Record<string, DatabaseRecord>>;
  /** Raft index of the last command that was applied successfully (0 before the first). */
  readonly lastAppliedIndex: number;
}

/**
 * ClusterTopology lists the servers of the cluster by tag. `members` vote in Rachis; `promotables`
 * are joining and do not vote yet; `watchers` never vote but can host databases.
 */
export interface ClusterTopology {
  /** Identifier of this cluster, chosen when the first server bootstraps; null before that. */
  readonly topologyId: string | null;
  readonly members: Readonly<Record<NodeTag, string>>;
  readonly promotables: Readonly<Record<NodeTag, string>>;
  readonly watchers: Readonly<Record<NodeTag, string>>;
  /**
   * The highest tag ever assigned, including tags of removed servers, so a tag is never handed out
   * twice (RavenDB's LastNodeId). Null before bootstrap.
   */
  readonly lastNodeTag: NodeTag | null;
  /** Raft index of the last change to the server list (the cluster topology etag). */
  readonly etag: number;
  /**
   * The server id of each node, by tag: which server's storage the cluster added under that tag.
   * A server that lost its storage comes back with a new id, so the cluster can tell it is not
   * the node it was. Absent (or a tag missing) in states written before ids were recorded.
   */
  readonly serverIds?: Readonly<Record<NodeTag, string>>;
}

/**
 * DatabaseTopology is where one database group lives. `members[0]` is the preferred node: clients
 * send their requests there. Promotables are catching up from a mentor; rehabs were members that
 * stopped answering and must catch up before they come back (at the end of `members`).
 */
export interface DatabaseTopology {
  readonly members: readonly NodeTag[];
  readonly promotables: readonly NodeTag[];
  readonly rehabs: readonly NodeTag[];
}

/** ConflictResolution is how a database settles concurrent writes to one document. */
export type ConflictResolution = "latest" | "none";

/** RevisionsCollectionConfiguration says whether and how revisions are kept for a collection. */
export interface RevisionsCollectionConfiguration {
  readonly disabled: boolean;
  /** Revisions kept per document; null keeps them all. */
  readonly minimumRevisionsToKeep: number | null;
  /** Whether deleting a document also deletes its revisions. */
  readonly purgeOnDelete: boolean;
}

/**
 * RevisionsConfiguration follows RavenDB's shape: a default for every collection plus overrides per
 * collection name.
 */
export interface RevisionsConfiguration {
  readonly default: RevisionsCollectionConfiguration | null;
  readonly collections: Readonly<Record<string, RevisionsCollectionConfiguration>>;
}

/** TopologyChangeKind names what happened to a database group. */
export type TopologyChangeKind =
  "created" | "added" | "promoted" | "movedToRehab" | "rotated" | "removed";

/** TopologyChange is one entry of a record's recent history, kept so the UI can show "why". */
export interface TopologyChange {
  /** Raft index of the command that made the change. */
  readonly raftIndex: number;
  readonly kind: TopologyChangeKind;
  /** The node the change is about. */
  readonly tag: NodeTag;
  /** Why, as given by the command (for the supervisor: what it observed). */
  readonly reason: string;
  /** One sentence for people, e.g. "C moved to rehab: no heartbeat for 3000 ms". */
  readonly message: string;
  /** The topology right after the change. */
  readonly topology: DatabaseTopology;
}

/**
 * ExternalReplicationTask is an ongoing task that copies a database, one way, to a database of
 * another cluster (or another database of this one): documents, tombstones, attachments and
 * revisions, in the group's replication protocol. The destination never joins the source's group:
 * it is no failover target for clients and does not count towards write assurance. One node of the
 * group runs the task, the responsible node; the supervisor moves it when that node stops being a
 * member (RavenDB's WhoseTaskIsIt, see responsibleNodeFor).
 */
export interface ExternalReplicationTask {
  /** The Raft index of the command that created the task (RavenDB's task id is the same). */
  readonly taskId: number;
  /** Unique within the database, compared case-insensitively. */
  readonly name: string;
  /** The database the task writes to, in the destination cluster. */
  readonly destinationDatabase: string;
  /**
   * Where to find the destination cluster, normalised (RavenDB's connection string's topology
   * discovery URLs): any server of that cluster will do; one that does not host the database
   * tells the sender which servers do.
   */
  readonly destinationUrls: readonly string[];
  /** The node the user prefers to run the task; used while it is a member of the group. */
  readonly mentorNode: NodeTag | null;
  /** A disabled task keeps its place and progress but sends nothing. */
  readonly disabled: boolean;
  /** The node that runs the task now; null only when no member exists to run it. */
  readonly responsibleNode: NodeTag | null;
  /** Why that node runs it, for the UI ("chosen by hash among the members", "B moved to rehab"). */
  readonly responsibleReason: string;
}

/** DatabaseRecord is the cluster's description of one database group. */
export interface DatabaseRecord {
  /** The name as created, with its original case. */
  readonly name: string;
  readonly topology: DatabaseTopology;
  /** Mentor of each promotable: the member that sends it the data it is missing. */
  readonly mentors: Readonly<Record<NodeTag, NodeTag>>;
  /**
   * How many nodes host the database. Kept equal to the number of nodes in the topology: adding a
   * node to the group raises it, removing one lowers it.
   */
  readonly replicationFactor: number;
  /** Raft index of the last topology change; clients refresh their topology when it moves. */
  readonly topologyEtag: number;
  /**
   * Raft index of the createDatabase that made this database: it tells it from an earlier one of
   * the same name, whose records a server that was away for the delete may still keep on disk.
   * Absent in records persisted before it existed.
   */
  readonly createdAtIndex?: number;
  /** Null when revisions were never configured. */
  readonly revisions: RevisionsConfiguration | null;
  readonly conflictResolution: ConflictResolution;
  /** The last changes to the topology, oldest first, at most clusterLimits.topologyChangesMax. */
  readonly recentChanges: readonly TopologyChange[];
  /**
   * The database's external replication tasks, by task id. Absent until the first task is added
   * (and in records persisted before tasks existed), which reads as none.
   */
  readonly externalReplications?: readonly ExternalReplicationTask[];
}

/** emptyClusterState returns the state of a fresh server that has not joined any cluster. */
export function emptyClusterState(): ClusterState {
  return {
    topology: {
      topologyId: null,
      members: {},
      promotables: {},
      watchers: {},
      lastNodeTag: null,
      etag: 0,
    },
    databases: {},
    lastAppliedIndex: 0,
  };
}
