/**
 * Starting states the exercises share, built through the public API only (as a reader would build
 * them in the playground): join servers into one cluster, create a database on chosen nodes and
 * wait for every node of its group to be a member, write documents.
 */
import type { ClusterHandle, DocumentStore } from "../engine/index.ts";

/**
 * joinAll adds every server after the first to the cluster (the first bootstraps as A) and waits
 * until all of them are voting members: a server that just joined is a promotable (a Raft learner)
 * until it has caught up, and a cluster whose voters are only A and B cannot elect anyone without A.
 */
export async function joinAll(cluster: ClusterHandle, store: DocumentStore): Promise<void> {
  for (const url of cluster.urls.slice(1)) await store.maintenance.addNodeToCluster(url);
  for (let attempt = 0; ; attempt++) {
    const topology = await store.maintenance.getClusterTopology();
    const voters = Object.keys(topology.members).length;
    const following = cluster.servers.every((s) => s.tag !== "?" && s.leader !== null && s.leader === topology.leader);
    if (voters === cluster.urls.length && following) return;
    if (attempt === 200) throw new Error(`the cluster has ${voters} voting members of ${cluster.urls.length} after ${attempt} tries`);
    await cluster.runFor(20);
  }
}

/** membersOf is a database's members as describe() reports them (empty if it does not exist). */
export function membersOf(cluster: ClusterHandle, database: string): readonly string[] {
  return cluster.describe().databases.find((db) => db.name.toLowerCase() === database.toLowerCase())?.members ?? [];
}

/**
 * hostedEverywhere tells whether every member of a database has opened it. describe() reads the
 * topology from the leader, so a member can be listed before it has applied the command that put
 * it there; until then it answers DatabaseDoesNotExist, which a client does not fail over on.
 */
export function hostedEverywhere(cluster: ClusterHandle, database: string): boolean {
  const described = cluster.describe();
  const members = membersOf(cluster, database);
  return members.every((tag) => described.documents[tag]?.[database] !== undefined);
}

/** createOn creates a database on explicit nodes and waits until all of them are members. */
export async function createOn(cluster: ClusterHandle, store: DocumentStore, name: string, nodes: readonly string[], options: { readonly conflictResolution?: "latest" | "none" } = {}): Promise<void> {
  await store.maintenance.createDatabase({ name, nodes, ...options });
  await cluster.waitFor((c) => membersOf(c, name).length === nodes.length && hostedEverywhere(c, name), { what: `${name} on ${nodes.join(", ")}`, timeoutMs: 10_000 });
}

/** put writes documents in one session (one transaction) through a store on `database`. */
export async function put(store: DocumentStore, documents: Readonly<Record<string, object>>): Promise<void> {
  const session = store.openSession();
  for (const [id, body] of Object.entries(documents)) session.store({ ...body }, id);
  await session.saveChanges();
}

/** everywhere waits until every member of `database` holds `ids`. */
export async function everywhere(cluster: ClusterHandle, database: string, ids: readonly string[]): Promise<void> {
  await cluster.waitFor((c) => {
    const described = c.describe();
    const members = membersOf(c, database);
    return members.length > 0 && members.every((tag) => ids.every((id) => described.documents[tag]?.[database]?.includes(id) ?? false));
  }, { what: `${ids.join(", ")} on every member of ${database}`, timeoutMs: 10_000 });
}
