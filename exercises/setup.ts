/**
 * Starting states the exercises share, built through the public API only (as a reader would build
 * them in the playground): join servers into one cluster, create a database on chosen nodes and
 * wait for every node of its group to be a member, write documents.
 */
import { DocumentStore } from "../engine/index.ts";
import type { ClusterHandle } from "../engine/index.ts";

/**
 * joinAll adds every server after the first to the cluster (the first bootstraps as A) and waits
 * until every server itself lists all of them as members and follows one leader, and then until
 * Rachis has made them voters. A server that just joined is a Raft learner until it has caught up;
 * killing the leader before the learners are promoted leaves a cluster that can never elect.
 */
export async function joinAll(cluster: ClusterHandle, store: DocumentStore): Promise<void> {
  for (const url of cluster.urls.slice(1)) await store.maintenance.addNodeToCluster(url);
  const views = cluster.urls.map((url) =>
    new DocumentStore({ urls: [url], network: cluster.network, address: "setup" }).initialize(),
  );
  for (let attempt = 0; ; attempt++) {
    const topologies = await Promise.all(
      views.map((view) => view.maintenance.getClusterTopology()),
    );
    const leader = topologies[0]?.leader ?? null;
    const settled =
      leader !== null &&
      topologies.every(
        (t) => Object.keys(t.members).length === cluster.urls.length && t.leader === leader,
      );
    if (settled) {
      // The cluster topology calls a new server a member as soon as addNode is applied, but Rachis
      // promotes it from learner to voter only once it has caught up, a little later, and nothing
      // in the public API shows that step. Give it a virtual second before anything is killed.
      await cluster.runFor(1_000);
      return;
    }
    if (attempt === 200)
      throw new Error(
        `the servers do not yet agree on ${cluster.urls.length} voting members: ${JSON.stringify(topologies.map((t) => Object.keys(t.members)))}`,
      );
    await cluster.runFor(20);
  }
}

/** membersOf is a database's members as describe() reports them (empty if it does not exist). */
export function membersOf(cluster: ClusterHandle, database: string): readonly string[] {
  return (
    cluster.describe().databases.find((db) => db.name.toLowerCase() === database.toLowerCase())
      ?.members ?? []
  );
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
export async function createOn(
  cluster: ClusterHandle,
  store: DocumentStore,
  name: string,
  nodes: readonly string[],
  options: { readonly conflictResolution?: "latest" | "none" } = {},
): Promise<void> {
  await store.maintenance.createDatabase({ name, nodes, ...options });
  await cluster.waitFor(
    (c) => membersOf(c, name).length === nodes.length && hostedEverywhere(c, name),
    { what: `${name} on ${nodes.join(", ")}`, timeoutMs: 10_000 },
  );
}

/** put writes documents in one session (one transaction) through a store on `database`. */
export async function put(
  store: DocumentStore,
  documents: Readonly<Record<string, object>>,
): Promise<void> {
  const session = store.openSession();
  for (const [id, body] of Object.entries(documents)) session.store({ ...body }, id);
  await session.saveChanges();
}

/** everywhere waits until every member of `database` holds `ids`. */
export async function everywhere(
  cluster: ClusterHandle,
  database: string,
  ids: readonly string[],
): Promise<void> {
  await cluster.waitFor(
    (c) => {
      const described = c.describe();
      const members = membersOf(c, database);
      return (
        members.length > 0 &&
        members.every((tag) =>
          ids.every((id) => described.documents[tag]?.[database]?.includes(id) ?? false),
        )
      );
    },
    { what: `${ids.join(", ")} on every member of ${database}`, timeoutMs: 10_000 },
  );
}
