/**
 * The crash workload: RavenDB's own client writes documents with write assurance to a process
 * cluster while random servers are killed with SIGKILL and started again; afterwards every
 * document the client was told is saved must be on every member of the group, with the content
 * it was saved with. The test runs it short; `npm run bench -- crash` runs it long (30 kills, or
 * ROOKERY_CRASH_KILLS).
 */
import { CreateDatabaseOperation, DocumentStore } from "ravendb";
import { SeededRandom } from "../../engine/core/index.ts";
import type { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { patientMs, startProcesses } from "../runtime/process-helpers.ts";

/** CrashOptions shape one run. */
export interface CrashOptions {
  readonly kills: number;
  readonly servers?: number;
  readonly writers?: number;
  readonly seed?: number;
  /** How long a killed server stays down before it is started again. */
  readonly downMsMin?: number;
  readonly downMsMax?: number;
  /** How long the cluster runs between a restart and the next kill. */
  readonly upMsMin?: number;
  readonly upMsMax?: number;
  readonly log?: (line: string) => void;
}

/** CrashReport is what a run found. */
export interface CrashReport {
  readonly seed: number;
  readonly kills: number;
  /** Kills whose victim was the Raft leader at the time. */
  readonly leaderKills: number;
  readonly servers: number;
  /** Saves the client was told succeeded (each one new document). */
  readonly acknowledged: number;
  /** Saves that failed (the client got an error; the write may or may not be there). */
  readonly failed: number;
  /** Acknowledged documents missing, or different, on some member, as "tag: id". */
  readonly lost: readonly string[];
  readonly durationMs: number;
}

class Doc {
  constructor(
    public writer = 0,
    public n = 0,
    public payload = "",
  ) {}
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** formCluster joins every server to the first and creates `database` on all of them. */
async function formCluster(cluster: ProcessCluster, database: string): Promise<void> {
  for (const url of cluster.urls.slice(1)) {
    const response = await cluster.network.request(
      cluster.urls[0]!,
      { type: "add-node", url },
      { timeoutMs: patientMs },
    );
    if (!response.ok) throw new Error(`adding ${url}: ${response.error.message}`);
  }
  await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), {
    timeoutMs: patientMs,
    what: "every server in the cluster",
  });
  const admin = new DocumentStore(cluster.urls, database).initialize();
  try {
    await admin.maintenance.server.send(
      new CreateDatabaseOperation({ databaseName: database }, cluster.urls.length),
    );
  } finally {
    admin.dispose();
  }
}

/** runCrashWorkload runs the workload on a fresh cluster and stops it, whatever happens. */
export async function runCrashWorkload(options: CrashOptions): Promise<CrashReport> {
  const seed = options.seed ?? Date.now() % 100_000;
  const random = new SeededRandom(seed);
  const log = options.log ?? (() => {});
  const servers = options.servers ?? 3;
  const database = "Crash";
  const started = Date.now();
  const cluster = await startProcesses({ servers });
  const stores: DocumentStore[] = [];
  try {
    await formCluster(cluster, database);
    log(`cluster formed in ${Date.now() - started} ms`);
    const acknowledged = new Map<string, Doc>();
    let failed = 0;
    let writing = true;
    const writer = async (w: number): Promise<void> => {
      const store = new DocumentStore(cluster.urls, database);
      store.initialize();
      stores.push(store);
      for (let n = 1; writing; n++) {
        const id = `docs/${w}-${n}`;
        const doc = new Doc(w, n, `written by writer ${w} as its ${n}th document`);
        try {
          const session = store.openSession();
          await session.store(doc, id);
          session.advanced.waitForReplicationAfterSaveChanges({ replicas: 1, timeout: 5_000 });
          await session.saveChanges();
          acknowledged.set(id, doc);
        } catch {
          failed++;
          await sleep(50);
        }
      }
    };
    const writers = Array.from({ length: options.writers ?? 3 }, (_, w) => writer(w + 1));

    let leaderKills = 0;
    for (let kill = 1; kill <= options.kills; kill++) {
      await sleep(random.between(options.upMsMin ?? 300, options.upMsMax ?? 1_000));
      const victim = random.pick(cluster.servers.filter((s) => s.alive));
      const wasLeader = victim.role === "leader" ? " (the leader)" : "";
      if (wasLeader) leaderKills++;
      await cluster.kill(victim.url);
      log(
        `kill ${kill}/${options.kills}: ${victim.tag}${wasLeader}, ${acknowledged.size} acknowledged so far`,
      );
      await sleep(random.between(options.downMsMin ?? 100, options.downMsMax ?? 800));
      await cluster.restart(victim.url);
    }
    writing = false;
    await Promise.all(writers);
    log(`kills done at ${Date.now() - started} ms`);

    // Every member must come to hold every acknowledged document, with its content.
    await cluster.waitFor(
      (c) => {
        const db = c.describe().databases.find((d) => d.name === database);
        return db !== undefined && db.members.length === servers;
      },
      { timeoutMs: patientMs * 2, what: `${database} with all ${servers} servers as members` },
    );
    const ids = [...acknowledged.keys()];
    const tags = cluster.servers.map((s) => s.tag);
    await cluster
      .waitFor(
        (c) =>
          tags.every((tag) => (c.describe().documents[tag]?.[database]?.length ?? 0) >= ids.length),
        { timeoutMs: patientMs * 2, what: "every member to catch up" },
      )
      .catch(() => undefined);
    log(`caught up at ${Date.now() - started} ms`);
    const lost: string[] = [];
    for (const server of cluster.servers) {
      const node = new DocumentStore(server.url, database);
      node.conventions.disableTopologyUpdates = true;
      node.initialize();
      stores.push(node);
      for (let k = 0; k < ids.length; k += 200) {
        const slice = ids.slice(k, k + 200);
        const found = await node.openSession().load(slice, Doc);
        for (const id of slice) {
          const expected = acknowledged.get(id)!;
          const got = found[id];
          if (!got || got.payload !== expected.payload || got.n !== expected.n)
            lost.push(`${server.tag}: ${id}`);
        }
      }
    }
    return {
      seed,
      kills: options.kills,
      leaderKills,
      servers,
      acknowledged: acknowledged.size,
      failed,
      lost,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const store of stores) store.dispose();
    await cluster.stop();
  }
}
