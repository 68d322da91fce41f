import { RookeryError } from "../core/index.ts";
import type { ServerError } from "../transport/index.ts";

/**
 * The error codes a client raises. Server errors keep their server code (so `isRookeryError(e,
 * "ConcurrencyViolation")` works whichever node answered); the client adds AllTopologyNodesDown.
 */
export const ClientErrorCodes = {
  /** A put or delete expected a change vector the document no longer has. */
  concurrencyViolation: "ConcurrencyViolation",
  /** The document has conflicting versions kept for manual resolution. */
  documentConflict: "DocumentConflict",
  /** No database by that name in the cluster. */
  databaseDoesNotExist: "DatabaseDoesNotExist",
  /** A cluster-wide operation found no leader (no majority) within its wait. */
  noLeader: "NoLeader",
  /** Write assurance could not verify enough replicas in time; the write itself is committed. */
  writeAssuranceTimeout: "WriteAssuranceTimeout",
  /** No node of the database group (or of the given URLs) could be reached. */
  allTopologyNodesDown: "AllTopologyNodesDown",
} as const;

/** NodeFailure is why one node could not serve a request. */
export interface NodeFailure {
  readonly tag: string;
  readonly url: string;
  readonly role: string;
  readonly code: string;
  readonly message: string;
}

/**
 * serverError turns an error a server answered into the RookeryError the caller sees, keeping its
 * code, message and details and adding which node said it (useful when failover moved the request).
 */
export function serverError(
  error: ServerError,
  node: { readonly url: string; readonly tag?: string },
): RookeryError {
  return new RookeryError(error.code, error.message, {
    ...error.details,
    url: node.url,
    ...(node.tag !== undefined ? { tag: node.tag } : {}),
  });
}

/**
 * allNodesDown is RavenDB's AllTopologyNodesDownException: one error naming every node tried and
 * what went wrong with each, so a reader can tell "all killed" from "partitioned" from "not there".
 */
export function allNodesDown(
  what: string,
  failures: readonly NodeFailure[],
  topologySource?: string,
): RookeryError {
  const lines = failures.map(
    (f) => `  [${f.tag === "" ? "?" : f.tag}] ${f.url} (${f.role}): ${f.code}: ${f.message}`,
  );
  const source = topologySource ? ` The topology came from ${topologySource}.` : "";
  return new RookeryError(
    ClientErrorCodes.allTopologyNodesDown,
    `Tried to send ${what} to all ${failures.length} node(s) and none of the attempts succeeded.${source}\n${lines.join("\n")}`,
    { nodes: failures.map((f) => ({ ...f })) },
  );
}
