import { RookeryError } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { ConflictResolution, RevisionsConfiguration } from "../cluster/index.ts";
import type { ServerError, ServerRequest, TopologyView } from "../transport/index.ts";
import { allNodesDown, ClientErrorCodes, serverError } from "./errors.ts";
import type { NodeFailure } from "./errors.ts";
import { send } from "./network.ts";
import type { ClientNetwork } from "./network.ts";

/**
 * Answers after which a cluster-wide operation is tried on the next URL: the server is down or
 * slow, not in a cluster, or cannot see a leader (a node on the minority side of a partition
 * cannot, while one on the majority side can).
 */
const tryNextCodes = new Set([
  "ServerUnavailable",
  "RequestTimeout",
  "NetworkError",
  "NoLeader",
  "NotLeader",
  "NotInCluster",
]);

/** CreateDatabaseOptions: a replication factor (placed by the cluster) or explicit nodes. */
export type CreateDatabaseOptions = {
  readonly name: string;
  readonly revisions?: RevisionsConfiguration | null;
  readonly conflictResolution?: ConflictResolution;
} & (
  | { readonly replicationFactor?: number; readonly nodes?: undefined }
  | { readonly nodes: readonly NodeTag[]; readonly replicationFactor?: undefined }
);

/** OperationResult is what a cluster-wide operation returns (raftIndex, message, and its own fields). */
export type OperationResult = Readonly<Record<string, unknown>> & {
  readonly raftIndex?: number;
  readonly message?: string;
};

/** ClusterTopologyView is what getClusterTopology returns: the servers by tag, leader and term. */
export interface ClusterTopologyView {
  readonly tag: NodeTag;
  readonly leader: NodeTag | null;
  readonly term: number;
  readonly topologyId: string | null;
  readonly members: Readonly<Record<NodeTag, string>>;
  readonly promotables: Readonly<Record<NodeTag, string>>;
  readonly watchers: Readonly<Record<NodeTag, string>>;
  readonly etag: number;
}

/** MaintenanceHost is what maintenance needs from its store. */
export interface MaintenanceHost {
  readonly network: ClientNetwork;
  readonly database: string | undefined;
  readonly address: string;
  readonly timeoutMs: number;
  /** URLs to try, in order: the given ones, then those the client learned. */
  knownUrls(): string[];
  /** A tag for a URL if the client knows it (for error messages). */
  tagOf(url: string): string | undefined;
}

/**
 * MaintenanceOperations are RavenDB's `store.maintenance.server.send(...)`: cluster-wide
 * operations and topology reads. They go to any reachable server of the cluster; the server
 * forwards a cluster-wide operation to the leader, so the client needs no idea who leads.
 */
export class MaintenanceOperations {
  private lastGoodUrl: string | undefined;

  constructor(private readonly host: MaintenanceHost) {}

  /** addNodeToCluster adds a server by URL; the leader assigns it the next tag. */
  addNodeToCluster(url: string): Promise<OperationResult & { readonly tag?: NodeTag }> {
    return this.operation({ type: "add-node", url });
  }

  /** removeNode removes a server from the cluster by tag. */
  removeNode(tag: NodeTag): Promise<OperationResult> {
    return this.operation({ type: "remove-node", tag });
  }

  /** createDatabase creates a database with a replication factor or on explicit nodes. */
  createDatabase(
    options: CreateDatabaseOptions,
  ): Promise<OperationResult & { readonly nodes?: readonly NodeTag[] }> {
    return this.operation({
      type: "create-database",
      name: options.name,
      ...(options.replicationFactor !== undefined
        ? { replicationFactor: options.replicationFactor }
        : {}),
      ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
      ...(options.revisions !== undefined ? { revisions: options.revisions } : {}),
      ...(options.conflictResolution !== undefined
        ? { conflictResolution: options.conflictResolution }
        : {}),
    });
  }

  /** deleteDatabase deletes a database from every node of its group. */
  deleteDatabase(name: string): Promise<OperationResult> {
    return this.operation({ type: "delete-database", name });
  }

  /** addDatabaseNode adds a node (a chosen one, or one the cluster picks) to a database group. */
  addDatabaseNode(
    database: string,
    tag?: NodeTag,
  ): Promise<OperationResult & { readonly tag?: NodeTag }> {
    return this.operation({
      type: "add-database-node",
      database,
      ...(tag !== undefined ? { tag } : {}),
    });
  }

  /** setRevisions turns revisions on (with a configuration) or off (null) for a database. */
  setRevisions(
    database: string,
    revisions: RevisionsConfiguration | null,
  ): Promise<OperationResult> {
    return this.operation({ type: "set-revisions", database, revisions });
  }

  /** setConflictResolution chooses "latest" (resolve to latest) or "none" (keep conflicts). */
  setConflictResolution(
    database: string,
    resolution: ConflictResolution,
  ): Promise<OperationResult> {
    return this.operation({ type: "set-conflict-resolution", database, resolution });
  }

  /** getClusterTopology reads the cluster's servers, leader and term from a reachable server. */
  async getClusterTopology(): Promise<ClusterTopologyView> {
    return (await this.send({ type: "cluster-topology" })) as ClusterTopologyView;
  }

  /** getDatabaseTopology reads a database's topology (the store's database when no name is given). */
  async getDatabaseTopology(name?: string): Promise<TopologyView> {
    const database = name ?? this.host.database;
    if (database === undefined) {
      throw serverError(
        {
          code: "NoDatabase",
          message: "getDatabaseTopology needs a database name: this store has none",
        },
        { url: "" },
      );
    }
    return (await this.send({ type: "database-topology", database })) as TopologyView;
  }

  private async operation<R extends OperationResult>(request: ServerRequest): Promise<R> {
    return (await this.send(request)) as R;
  }

  /**
   * send sends any request to the first server that can answer it: the one that answered last,
   * then every known URL in order. It raises the server's own error when one refuses the request,
   * NoLeader when the reachable servers saw no leader, or AllTopologyNodesDown when none answered.
   */
  async send(request: ServerRequest): Promise<unknown> {
    const urls = this.host.knownUrls();
    const ordered =
      this.lastGoodUrl && urls.includes(this.lastGoodUrl)
        ? [this.lastGoodUrl, ...urls.filter((u) => u !== this.lastGoodUrl)]
        : urls;
    const failures: NodeFailure[] = [];
    let noLeader: { error: ServerError; url: string } | undefined;
    for (const url of ordered) {
      const response = await send(
        this.host.network,
        url,
        request,
        this.host.timeoutMs,
        this.host.address,
      );
      if (response.ok) {
        this.lastGoodUrl = url;
        return response.result;
      }
      const error = response.error;
      if (!tryNextCodes.has(error.code)) throw serverError(error, { url, ...this.tagged(url) });
      if (error.code === ClientErrorCodes.noLeader && !noLeader) noLeader = { error, url };
      failures.push({
        tag: this.host.tagOf(url) ?? "?",
        url,
        role: "server",
        code: error.code,
        message: error.message,
      });
    }
    if (noLeader) {
      // The operation needs a majority: the most useful thing to say is the server's own account of
      // the quorum, plus what the other servers said.
      throw new RookeryError(noLeader.error.code, noLeader.error.message, {
        ...noLeader.error.details,
        url: noLeader.url,
        ...this.tagged(noLeader.url),
        attempts: failures,
      });
    }
    throw allNodesDown(request.type, failures);
  }

  private tagged(url: string): { tag?: string } {
    const tag = this.host.tagOf(url);
    return tag !== undefined ? { tag } : {};
  }
}
