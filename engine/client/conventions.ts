import { RookeryError } from "../core/index.ts";
import type { TopologyCache } from "./cache.ts";
import type { FastestNodeRules } from "./node-selector.ts";

/** ReadBalance is RavenDB's ReadBalanceBehavior: where reads go (writes always go to the preferred node). */
export type ReadBalance = "none" | "roundRobin" | "fastestNode";

/** DocumentConventions tune a DocumentStore; every field is optional. */
export interface DocumentConventions {
  /** none: every read to the preferred node; roundRobin: by session; fastestNode: measured. */
  readonly readBalance?: ReadBalance;
  /** How long one database request may take before the client fails over (ms). */
  readonly requestTimeoutMs?: number;
  /**
   * How long a cluster-wide operation may take (ms). Longer than a server's own wait for a leader,
   * so the server's "no leader" explanation reaches the caller instead of a bare timeout.
   */
  readonly maintenanceTimeoutMs?: number;
  /** Where the last topology is kept for restarts; no cache when omitted. */
  readonly topologyCache?: TopologyCache;
  /** First health check of a failed node this long after it failed (RavenDB: 100 ms). */
  readonly healthCheckAfterMs?: number;
  /** Later health checks of a node that still fails (RavenDB: 5 s; scaled for teaching). */
  readonly healthCheckIntervalMs?: number;
  /** Speed-test rules for fastestNode. */
  readonly fastestNode?: Partial<FastestNodeRules>;
  /** Default timeout of waitForReplicationAfterSaveChanges (RavenDB: 15 s). */
  readonly waitForReplicationTimeoutMs?: number;
}

/** ResolvedConventions are the conventions with every default filled in. */
export interface ResolvedConventions {
  readonly readBalance: ReadBalance;
  readonly requestTimeoutMs: number;
  readonly maintenanceTimeoutMs: number;
  readonly topologyCache: TopologyCache | undefined;
  readonly healthCheckAfterMs: number;
  readonly healthCheckIntervalMs: number;
  readonly fastestNode: FastestNodeRules;
  readonly waitForReplicationTimeoutMs: number;
}

/** conventionDefaults: RavenDB's values, with the multi-second ones scaled down like the supervisor's. */
export const conventionDefaults: Omit<ResolvedConventions, "topologyCache"> = {
  readBalance: "none",
  requestTimeoutMs: 2_000,
  maintenanceTimeoutMs: 10_000,
  healthCheckAfterMs: 100,
  healthCheckIntervalMs: 1_000,
  fastestNode: { winsToSelect: 10, reevaluateAfterReads: 100 },
  waitForReplicationTimeoutMs: 15_000,
};

const readBalances: readonly ReadBalance[] = ["none", "roundRobin", "fastestNode"];

/** resolveConventions fills defaults and rejects values that cannot work, saying which. */
export function resolveConventions(conventions: DocumentConventions = {}): ResolvedConventions {
  const resolved: ResolvedConventions = {
    readBalance: conventions.readBalance ?? conventionDefaults.readBalance,
    requestTimeoutMs: conventions.requestTimeoutMs ?? conventionDefaults.requestTimeoutMs,
    maintenanceTimeoutMs:
      conventions.maintenanceTimeoutMs ?? conventionDefaults.maintenanceTimeoutMs,
    topologyCache: conventions.topologyCache,
    healthCheckAfterMs: conventions.healthCheckAfterMs ?? conventionDefaults.healthCheckAfterMs,
    healthCheckIntervalMs:
      conventions.healthCheckIntervalMs ?? conventionDefaults.healthCheckIntervalMs,
    fastestNode: { ...conventionDefaults.fastestNode, ...conventions.fastestNode },
    waitForReplicationTimeoutMs:
      conventions.waitForReplicationTimeoutMs ?? conventionDefaults.waitForReplicationTimeoutMs,
  };
  if (!readBalances.includes(resolved.readBalance)) {
    throw new RookeryError(
      "InvalidConventions",
      `conventions.readBalance must be one of ${readBalances.join(", ")}, got ${JSON.stringify(resolved.readBalance)}`,
    );
  }
  for (const key of [
    "requestTimeoutMs",
    "maintenanceTimeoutMs",
    "healthCheckIntervalMs",
    "waitForReplicationTimeoutMs",
  ] as const) {
    if (!(resolved[key] > 0))
      throw new RookeryError(
        "InvalidConventions",
        `conventions.${key} must be a positive number of ms, got ${resolved[key]}`,
      );
  }
  if (!(resolved.healthCheckAfterMs >= 0))
    throw new RookeryError(
      "InvalidConventions",
      `conventions.healthCheckAfterMs must be >= 0, got ${resolved.healthCheckAfterMs}`,
    );
  const { winsToSelect, reevaluateAfterReads } = resolved.fastestNode;
  if (
    !Number.isInteger(winsToSelect) ||
    winsToSelect < 1 ||
    !Number.isInteger(reevaluateAfterReads) ||
    reevaluateAfterReads < 1
  ) {
    throw new RookeryError(
      "InvalidConventions",
      `conventions.fastestNode needs whole numbers >= 1, got ${JSON.stringify(resolved.fastestNode)}`,
    );
  }
  return resolved;
}
