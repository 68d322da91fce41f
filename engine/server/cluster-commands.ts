import { escapeInvisible, RookeryError } from "../core/index.ts";
import type { ClusterCommand } from "../cluster/index.ts";
import type { ServerRequest } from "../transport/index.ts";

/** ClusterOperationRequest is a request that changes the cluster state (a Raft command). */
export type ClusterOperationRequest = Extract<
  ServerRequest,
  {
    type:
      | "add-node"
      | "remove-node"
      | "create-database"
      | "delete-database"
      | "add-database-node"
      | "set-revisions"
      | "set-conflict-resolution";
  }
>;

const clusterOperationTypes = new Set<ServerRequest["type"]>([
  "add-node",
  "remove-node",
  "create-database",
  "delete-database",
  "add-database-node",
  "set-revisions",
  "set-conflict-resolution",
]);

/** The operations a passive server may start its own one-node cluster for. */
const bootstrapsCluster = new Set<ServerRequest["type"]>([
  "add-node",
  "create-database",
  "add-database-node",
]);

/** isClusterOperation tells whether a request goes through the leader as a Raft command. */
export function isClusterOperation(request: ServerRequest): request is ClusterOperationRequest {
  return clusterOperationTypes.has(request.type);
}

/** bootstrapsACluster tells whether a passive server may found a cluster to run `request`. */
export function bootstrapsACluster(request: ClusterOperationRequest): boolean {
  return bootstrapsCluster.has(request.type);
}

/** describeOperation names a cluster-wide operation the way errors speak of it. */
export function describeOperation(request: ServerRequest): string {
  switch (request.type) {
    case "add-node":
      return `adding ${request.url} to the cluster`;
    case "remove-node":
      return `removing node ${request.tag} from the cluster`;
    case "create-database":
      return `creating database '${escapeInvisible(request.name)}'`;
    case "delete-database":
      return `deleting database '${escapeInvisible(request.name)}'`;
    case "add-database-node":
      return `adding ${request.tag ?? "a node"} to database '${request.database}'`;
    case "set-revisions":
      return `changing revisions of '${request.database}'`;
    case "set-conflict-resolution":
      return `changing conflict resolution of '${request.database}'`;
    default:
      return request.type;
  }
}

/** commandFor turns a cluster-wide request (other than add-node) into its cluster command. */
export function commandFor(request: ServerRequest): ClusterCommand {
  switch (request.type) {
    case "remove-node":
      return { type: "removeNode", tag: request.tag };
    case "create-database":
      return {
        type: "createDatabase",
        name: request.name,
        ...(request.replicationFactor !== undefined
          ? { replicationFactor: request.replicationFactor }
          : {}),
        ...(request.nodes !== undefined ? { nodes: request.nodes } : {}),
        ...(request.revisions !== undefined ? { revisions: request.revisions } : {}),
        ...(request.conflictResolution !== undefined
          ? { conflictResolution: request.conflictResolution }
          : {}),
      };
    case "delete-database":
      return { type: "deleteDatabase", name: request.name };
    case "add-database-node":
      return {
        type: "addDatabaseNode",
        database: request.database,
        ...(request.tag !== undefined ? { tag: request.tag } : {}),
      };
    case "set-revisions":
      return { type: "setRevisions", database: request.database, revisions: request.revisions };
    case "set-conflict-resolution":
      return {
        type: "setConflictResolution",
        database: request.database,
        resolution: request.resolution,
      };
    default:
      throw new RookeryError("InvalidRequest", `${request.type} is not a cluster-wide operation`);
  }
}
