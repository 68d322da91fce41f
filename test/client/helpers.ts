import { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { SimClusterOptions } from "../../engine/runtime/sim/index.ts";
import { DocumentStore } from "../../engine/client/index.ts";
import type { ClientEvent, DocumentConventions } from "../../engine/client/index.ts";
import { isRookeryError } from "../../engine/core/index.ts";
import type { RookeryError } from "../../engine/core/index.ts";

/**
 * clusterWith starts `servers` simulated servers, joins them into one cluster through a
 * maintenance store (as the chapter does from the Studio), and creates `database` on `nodes`
 * (or with a replication factor). Everything runs in virtual time.
 */
export async function clusterWith(options: {
  readonly servers: number;
  readonly seed?: number;
  readonly database?: string;
  readonly nodes?: readonly string[];
  readonly replicationFactor?: number;
  readonly sim?: Omit<SimClusterOptions, "servers" | "seed">;
}): Promise<SimCluster> {
  const cluster = new SimCluster({
    servers: options.servers,
    seed: options.seed ?? 1,
    ...options.sim,
  });
  const admin = new DocumentStore({
    urls: cluster.urls,
    network: cluster.network,
    address: "admin",
  }).initialize();
  for (const url of cluster.urls.slice(1)) await admin.maintenance.addNodeToCluster(url);
  if (options.servers > 1) {
    // Every server tagged and following a leader, and every one a voter (not a learner still).
    await cluster.waitFor(
      (c) =>
        c.servers.every((s) => s.tag !== "?" && s.leader !== null) &&
        c.servers.every(
          (s) => (c.server(s.url)?.raftStatus()?.membership.voters.length ?? 0) === options.servers,
        ),
      { what: "every server a voting member of the cluster" },
    );
  }
  if (options.database) {
    await admin.maintenance.createDatabase(
      options.nodes
        ? { name: options.database, nodes: options.nodes }
        : {
            name: options.database,
            replicationFactor: options.replicationFactor ?? options.servers,
          },
    );
  }
  return cluster;
}

/** storeFor opens an initialized store on `database` and records its events. */
export function storeFor(
  cluster: SimCluster,
  database: string,
  options: {
    readonly urls?: readonly string[];
    readonly conventions?: DocumentConventions;
    readonly address?: string;
  } = {},
): { store: DocumentStore; events: ClientEvent[] } {
  const store = new DocumentStore({
    urls: options.urls ?? cluster.urls,
    database,
    network: cluster.network,
    ...(options.conventions ? { conventions: options.conventions } : {}),
    ...(options.address ? { address: options.address } : {}),
  }).initialize();
  const events: ClientEvent[] = [];
  store.on("event", (event) => events.push(event));
  return { store, events };
}

/** servedBy lists, in order, the tags that answered requests of `type` (not probes or races). */
export function servedBy(events: readonly ClientEvent[], type?: string): string[] {
  return events.flatMap((e) =>
    e.type === "request" &&
    e.ok &&
    e.purpose !== "health-check" &&
    e.purpose !== "speed-test" &&
    (type === undefined || e.request === type)
      ? [e.tag]
      : [],
  );
}

/** caught runs `action` and returns the RookeryError it raised (failing if it raised none or another). */
export async function caught(action: () => Promise<unknown>): Promise<RookeryError> {
  try {
    await action();
  } catch (error) {
    if (isRookeryError(error)) return error;
    throw error;
  }
  throw new Error("expected a RookeryError, but the action succeeded");
}

/** documentOn reads a document straight from one server's instance (what a replica holds). */
export function documentOn(
  cluster: SimCluster,
  tag: string,
  database: string,
  id: string,
): Record<string, unknown> | undefined {
  return cluster.server(tag)?.hostedDatabase(database)?.instance.get(id)?.body as
    Record<string, unknown> | undefined;
}
