/**
 * The messages that travel between clients and servers and between servers: plain,
 * structured-clone-safe, `type`- or `kind`-tagged objects. Every runtime's transport (the
 * simulated network, the MessagePort mesh, sockets) carries exactly these.
 */
import type { NodeTag } from "../core/index.ts";
import type {
  ConflictResolution,
  ExternalReplicationSummary,
  RevisionsConfiguration,
  UpdateExternalReplicationCommand,
} from "../cluster/index.ts";
import type {
  AttachmentInfo,
  DocumentMetadata,
  JsonObject,
  TransactionInput,
} from "../database/index.ts";
import type { Message as RaftMessage } from "../raft/index.ts";
import type {
  ExternalEnvelope,
  ExternalReplicationStatus,
  ReplicationWireMessage,
} from "../replication/index.ts";

// ------------------------------------------------------------------------------------------------
// Requests: what clients, the CLI and the UI ask a server. One request API for all of them.

/** WriteAssuranceRequest is waitForReplicationAfterSaveChanges as it travels with a batch. */
export interface WriteAssuranceRequest {
  readonly replicas?: number;
  readonly majority?: boolean;
  readonly timeoutMs: number;
  readonly throwOnTimeout?: boolean;
}

/** ServerRequest is every request a server answers; `type` tags it. */
export type ServerRequest =
  | { readonly type: "node-info" }
  | { readonly type: "cluster-topology" }
  | { readonly type: "database-topology"; readonly database: string }
  | { readonly type: "database-status"; readonly database: string }
  /** `tag` asks for a tag of one's choosing instead of the next free one (RavenDB's `tag=`). */
  | { readonly type: "add-node"; readonly url: string; readonly tag?: NodeTag }
  | { readonly type: "remove-node"; readonly tag: NodeTag }
  | {
      readonly type: "create-database";
      readonly name: string;
      readonly replicationFactor?: number;
      readonly nodes?: readonly NodeTag[];
      readonly revisions?: RevisionsConfiguration | null;
      readonly conflictResolution?: ConflictResolution;
    }
  | { readonly type: "delete-database"; readonly name: string }
  | { readonly type: "add-database-node"; readonly database: string; readonly tag?: NodeTag }
  | {
      readonly type: "set-revisions";
      readonly database: string;
      readonly revisions: RevisionsConfiguration | null;
    }
  | {
      readonly type: "set-conflict-resolution";
      readonly database: string;
      readonly resolution: ConflictResolution;
    }
  /** The cluster command's fields: without `taskId` it adds a task, with one it changes it. */
  | ({ readonly type: "update-external-replication" } & Omit<
      UpdateExternalReplicationCommand,
      "type"
    >)
  | {
      readonly type: "delete-external-replication";
      readonly database: string;
      readonly taskId: number;
    }
  | { readonly type: "ongoing-tasks"; readonly database: string }
  | { readonly type: "get-documents"; readonly database: string; readonly ids: readonly string[] }
  /**
   * load-documents is get-documents with RavenDB's includes: each path (`Employee`,
   * `Lines[].Product`) names fields whose values are ids of documents sent along (a LoadResult).
   */
  | {
      readonly type: "load-documents";
      readonly database: string;
      readonly ids: readonly string[];
      readonly include?: readonly string[];
    }
  /** database-record reads one database record from this server's copy of the cluster state. */
  | { readonly type: "database-record"; readonly database: string }
  /** list-databases lists every database record of the cluster (DatabaseSummary[]). */
  | { readonly type: "list-databases" }
  /**
   * hilo-next hands out the next range of ids of a collection for client-side id generation
   * (RavenDB's HiLo): a HiloRange the client uses as `${collection}/${n}-${serverTag}`.
   * `lastMax` is the top of the range the client used last, so a range never goes back.
   */
  | {
      readonly type: "hilo-next";
      readonly database: string;
      readonly collection: string;
      readonly lastMax?: number;
    }
  | { readonly type: "list-documents"; readonly database: string }
  /** A document's revisions as this server stores them (RavenDB's GET /revisions?id=). */
  | { readonly type: "get-revisions"; readonly database: string; readonly id: string }
  /** One attachment of a document, with its content (RavenDB's GET /attachments?id=&name=). */
  | {
      readonly type: "get-attachment";
      readonly database: string;
      readonly id: string;
      readonly name: string;
    }
  | {
      readonly type: "batch";
      readonly database: string;
      readonly transaction: TransactionInput;
      readonly writeAssurance?: WriteAssuranceRequest;
    };

export type ServerRequestType = ServerRequest["type"];

/** RevisionView is one revision of a document; `body: null` is the revision a delete left. */
export interface RevisionView {
  readonly changeVector: string;
  readonly etag: number;
  readonly lastModifiedMs: number;
  readonly body: JsonObject | null;
  readonly attachments: readonly AttachmentInfo[];
}

/** AttachmentView is an attachment with its content; `text` when the content type is text/*. */
export interface AttachmentView extends AttachmentInfo {
  readonly contentBase64: string;
  readonly text?: string;
}

/** DocumentView is a document as a client receives it. */
export interface DocumentView {
  readonly id: string;
  readonly body: JsonObject;
  readonly metadata: DocumentMetadata;
}

/** LoadResult answers load-documents: one slot per asked id, and the included documents. */
export interface LoadResult {
  readonly results: readonly (DocumentView | null)[];
  /** Included documents by id as found in the path; null for an id with no document. */
  readonly includes: Readonly<Record<string, DocumentView | null>>;
}

/** HiloRange answers hilo-next: the ids low..high (inclusive) are the client's to use. */
export interface HiloRange {
  readonly low: number;
  readonly high: number;
  /** The tag of the server that gave the range; clients end their ids with it. */
  readonly serverTag: NodeTag;
}

/** TopologyView is a database topology as a client receives it (RavenDB's GET /topology). */
export interface TopologyView {
  readonly database: string;
  readonly etag: number;
  readonly members: readonly NodeTag[];
  readonly promotables: readonly NodeTag[];
  readonly rehabs: readonly NodeTag[];
  /** Every node of the group with its URL, preferred node first. */
  readonly nodes: readonly {
    readonly tag: NodeTag;
    readonly url: string;
    readonly role: "member" | "promotable" | "rehab";
  }[];
}

/**
 * OngoingTaskView is one external replication task as a client reads it (RavenDB's
 * GetOngoingTaskInfoOperation): the task from the database record, and its progress when the
 * server that answered is the one running it.
 */
export interface OngoingTaskView extends ExternalReplicationSummary {
  readonly database: string;
  /** The node that answered. */
  readonly answeredBy: NodeTag;
  /** Progress as the running node sees it; null when the answering node does not run the task. */
  readonly progress: ExternalReplicationStatus | null;
}

/** ServerError is an error as it travels: a stable code and a message that says what to do. */
export interface ServerError {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** ServerResponse answers one request. `topologyEtag` lets a client notice a newer topology. */
export type ServerResponse =
  | { readonly ok: true; readonly result: unknown; readonly topologyEtag?: number }
  | { readonly ok: false; readonly error: ServerError; readonly topologyEtag?: number };

// ------------------------------------------------------------------------------------------------
// Server to server.

/** Peer messages travel between servers; every one names the sender by URL and, if known, tag. */
export type PeerMessage =
  | {
      readonly type: "raft";
      readonly topologyId: string;
      readonly toTag: NodeTag;
      /** The sending server's id (ClusterTopology.serverIds), so a stranger under a tag is refused. */
      readonly fromServerId: string;
      /** The id the sender knows for the server it addresses; null when it knows none. */
      readonly toServerId: string | null;
      readonly message: RaftMessage;
    }
  | { readonly type: "replication"; readonly message: ReplicationWireMessage }
  /** An external replication task's traffic, between servers of two clusters (found by URL). */
  | { readonly type: "external-replication"; readonly envelope: ExternalEnvelope }
  | {
      readonly type: "forward";
      readonly requestId: number;
      readonly request: ServerRequest;
      readonly description: string;
    }
  | {
      readonly type: "forward-result";
      readonly requestId: number;
      readonly response: ServerResponse;
    }
  | { readonly type: "node-info-request"; readonly requestId: number }
  | {
      readonly type: "node-info-result";
      readonly requestId: number;
      readonly tag: NodeTag;
      readonly topologyId: string | null;
      /** The server's id, which the leader records when it adds the server. */
      readonly serverId: string;
    }
  | {
      readonly type: "health-report";
      readonly tag: NodeTag;
      readonly databases: Readonly<
        Record<
          string,
          { readonly lastEtag: number; readonly acceptedEtags: Readonly<Record<NodeTag, number>> }
        >
      >;
    };

/** Envelope is what the transport carries: a peer message or a client request/response. */
export type Envelope =
  | {
      readonly kind: "peer";
      readonly from: string;
      readonly to: string;
      readonly message: PeerMessage;
    }
  | {
      readonly kind: "request";
      readonly from: string;
      readonly to: string;
      readonly requestId: number;
      readonly request: ServerRequest;
    }
  | {
      readonly kind: "response";
      readonly from: string;
      readonly to: string;
      readonly requestId: number;
      readonly response: ServerResponse;
    };

/** ServerTransport is the port a server sends through: envelopes to server or client addresses. */
export interface ServerTransport {
  send(envelope: Envelope): void;
}
