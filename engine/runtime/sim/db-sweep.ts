import { isRookeryError, SeededRandom } from "../../core/index.ts";
import type { NodeTag, Random } from "../../core/index.ts";
import type { ClusterState } from "../../cluster/index.ts";
import { databaseKey, databaseStore } from "../../server/index.ts";
import { reliableNetwork } from "../../transport/index.ts";
import type { NetworkFaults, ServerResponse } from "../../transport/index.ts";
import type { SeedVerdict } from "./raft-sweep.ts";
import { SimCluster } from "./sim-cluster.ts";
import { SimulationStalled } from "./simulator.ts";
import type { Watchdog } from "./simulator.ts";

/** DbSeedOptions set the size of one randomized database run. */
export interface DbSeedOptions {
  readonly servers: 3 | 5;
  /** Virtual milliseconds of faults and load before the final heal. */
  readonly chaosMs?: number;
  /** Bounds past which the seed counts as stalled (defaults: dbWatchdog). */
  readonly watchdog?: Partial<Watchdog>;
}

/**
 * dbWatchdog bounds one seed of the database workload. A healthy seed runs a few thousand events
 * (see the sweep's summary); the virtual time bound covers the chaos plus every bounded wait of
 * the setup and the final checks.
 */
export function dbWatchdog(servers: number, chaosMs: number): Watchdog {
  return { eventsMax: 100_000 * servers, virtualMsMax: chaosMs + 300_000 };
}

/** DbSeedResult is the verdict on one seed of the database workload. */
export interface DbSeedResult extends SeedVerdict {
  readonly acknowledged: number;
  readonly revisions: boolean;
}

class Violation extends Error {
  constructor(
    readonly property: string,
    message: string,
  ) {
    super(message);
  }
}

const accountsPerNode = 3;
const balanceStart = 100;

function randomFaults(random: Random): NetworkFaults {
  const latencyMinMs = random.between(0, 4);
  return {
    latencyMinMs,
    latencyMaxMs: latencyMinMs + random.between(1, 20),
    lossRate: random.pick([0, 0.02, 0.1]),
    duplicateRate: random.pick([0, 0.02]),
    reorderRate: random.pick([0, 0.05]),
    reorderDelayMaxMs: random.between(5, 200),
  };
}

function documentsOf(cluster: SimCluster, tag: NodeTag, database: string): Map<string, string> {
  const result = new Map<string, string>();
  const db = cluster.server(tag)?.hostedDatabase(database);
  if (!db) return result;
  for (const item of db.instance.itemsAfterEtag(0)) {
    if (item.kind === "document" || item.kind === "tombstone" || item.kind === "conflict") {
      result.set(`${item.kind}:${item.id.toLowerCase()}`, item.changeVector);
    }
  }
  return result;
}

interface Account {
  readonly id: string;
  readonly body: { amount: number };
}

/**
 * runDbSeed runs one randomized schedule of the database layer: clients write transactions on
 * random servers (transfers between a server's own accounts, and documents never written twice),
 * some with write assurance, while servers crash and restart and the network loses, duplicates,
 * reorders and partitions. Checkers: every server applies the same cluster commands at the same
 * indexes; write assurance held whenever it was acknowledged; with revisions on, no reader ever
 * sees half a transfer; after healing, every instance of the group converges to the same
 * documents and change vectors, and no acknowledged document is missing anywhere.
 */
export async function runDbSeed(seed: number, options: DbSeedOptions): Promise<DbSeedResult> {
  const run = new DbSeedRun(seed, options);
  try {
    await run.build();
    run.watchAtomicity();
    await run.chaos(options.chaosMs ?? 8_000);
    await run.settle();
    await run.cluster.stop();
  } catch (error) {
    if (error instanceof Violation) run.fail(error.property, error.message);
    else if (!(error instanceof SimulationStalled))
      run.fail("crash", (error as Error).stack ?? String(error));
  }
  return run.result();
}

/** DbSeedRun is one seed's cluster, workload, trace and checkers (see runDbSeed). */
class DbSeedRun {
  readonly cluster: SimCluster;
  private readonly random: Random;
  private readonly revisions: boolean;
  private readonly chaosFaults: NetworkFaults;
  private readonly tags: NodeTag[];
  private readonly trace: string[] = [];
  private readonly acknowledged = new Map<string, NodeTag>();
  private readonly commandAt = new Map<number, string>();
  private readonly accounts: Record<string, Account[]> = {};
  private violation: Violation | undefined;
  private written = 0;

  constructor(
    private readonly seed: number,
    options: DbSeedOptions,
  ) {
    const random = (this.random = new SeededRandom(seed ^ 0xdb5eed));
    this.revisions = random.chance(0.5);
    this.chaosFaults = random.chance(0.3) ? reliableNetwork : randomFaults(random);
    // The cluster is built on a quiet network; the faults start with the chaos.
    this.cluster = new SimCluster({
      servers: options.servers,
      seed,
      replicationLimits: { batchItemsMax: random.pick([1, 2, 8, 1024]) },
    });
    this.cluster.sim.watchdog = {
      ...dbWatchdog(options.servers, options.chaosMs ?? 8_000),
      ...options.watchdog,
    };
    this.tags = Array.from({ length: options.servers }, (_, i) => String.fromCharCode(65 + i));
    this.cluster.on("trace", (events) => {
      for (const event of events)
        if (event.type !== "replication-batch")
          this.note(`${event.type} ${JSON.stringify(event).slice(0, 160)}`);
    });
    this.cluster.on("trace", (events) => {
      for (const event of events) {
        if (event.type !== "cluster-command") continue;
        const seen = this.commandAt.get(event.index);
        if (seen === undefined) this.commandAt.set(event.index, event.text);
        else if (seen !== event.text)
          this.fail(
            "cluster state",
            `node ${event.tag} applied "${event.text}" at index ${event.index}, another node applied "${seen}"`,
          );
      }
    });
  }

  note(text: string): void {
    this.trace.push(`${this.cluster.nowMs().toFixed(1).padStart(9)}ms  ${text}`);
    if (this.trace.length > 40) this.trace.shift();
  }

  fail(property: string, message: string): void {
    this.violation ??= new Violation(property, message);
  }

  result(): DbSeedResult {
    const violation = this.violation;
    const stalled = this.cluster.sim.stalled;
    return {
      seed: this.seed,
      ok: violation === undefined && stalled === undefined,
      // A stall explains whatever failed after it (waits that timed out, missing documents).
      ...(stalled
        ? { broken: "stalled", message: stalled.message }
        : violation
          ? { broken: violation.property, message: violation.message }
          : {}),
      trace: this.trace,
      acknowledged: this.acknowledged.size,
      revisions: this.revisions,
      virtualMs: this.cluster.nowMs(),
    };
  }

  /** build makes the cluster: every server joins, Spade lives on all of them with accounts. */
  async build(): Promise<void> {
    const { cluster, tags } = this;
    const first = cluster.urls[0]!;
    await setup(
      cluster.request(first, {
        type: "create-database",
        name: "Spade",
        ...(this.revisions
          ? {
              revisions: {
                default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
                collections: {},
              },
            }
          : {}),
      }),
      "create Spade",
    );
    for (const url of cluster.urls.slice(1))
      await setup(cluster.request(first, { type: "add-node", url }), `add ${url}`);
    for (const tag of tags.slice(1))
      await setup(
        cluster.request(first, { type: "add-database-node", database: "Spade", tag }),
        `add ${tag} to Spade`,
      );
    await cluster.waitFor(
      () => (cluster.databaseRecord("Spade")?.topology.members.length ?? 0) === tags.length,
      { what: "Spade on every server", timeoutMs: 20_000 },
    );
    for (const tag of tags) {
      this.accounts[tag] = Array.from({ length: accountsPerNode }, (_, k) => ({
        id: `accounts/${tag}-${k}`,
        body: { amount: balanceStart },
      }));
      await setup(
        cluster.request(cluster.urls[tags.indexOf(tag)]!, {
          type: "batch",
          database: "Spade",
          transaction: { puts: this.accounts[tag]! },
        }),
        "open accounts",
      );
    }
    await cluster.waitFor(
      () =>
        tags.every(
          (tag) => documentsOf(cluster, tag, "Spade").size === tags.length * accountsPerNode,
        ),
      { what: "accounts everywhere", timeoutMs: 20_000 },
    );
  }

  /** watchAtomicity: with revisions on, a transfer is never seen half-done anywhere, at any moment. */
  watchAtomicity(): void {
    if (!this.revisions) return;
    const { cluster, tags } = this;
    // Only an instance whose last etag moved can show something new.
    const seenEtag = new Map<NodeTag, number>();
    cluster.sim.afterEach = () => {
      for (const on of tags) {
        const etag = cluster.server(on)?.hostedDatabase("Spade")?.instance.lastEtag ?? -1;
        if (seenEtag.get(on) === etag) continue;
        seenEtag.set(on, etag);
        for (const owner of tags) this.checkBalance(on, owner);
      }
    };
  }

  private checkBalance(on: NodeTag, owner: NodeTag): void {
    const sum = this.balanceOf(on, owner);
    if (sum === undefined || sum === accountsPerNode * balanceStart) return;
    const instance = this.cluster.server(on)!.hostedDatabase("Spade")!.instance;
    const shown = Array.from({ length: accountsPerNode }, (_, k) => {
      const doc = instance.get(`accounts/${owner}-${k}`);
      return `${owner}-${k}=${String(doc?.body.amount)}@${doc?.metadata["@change-vector"] ?? "-"}`;
    }).join(" ");
    this.fail(
      "transaction atomicity",
      `node ${on} shows ${owner}'s accounts summing to ${sum}, not ${accountsPerNode * balanceStart}: half a transfer is visible (${shown})`,
    );
  }

  private balanceOf(on: NodeTag, owner: NodeTag): number | undefined {
    const instance = this.cluster.server(on)?.hostedDatabase("Spade")?.instance;
    if (!instance) return undefined;
    let sum = 0;
    for (let k = 0; k < accountsPerNode; k++) {
      try {
        sum += Number(instance.get(`accounts/${owner}-${k}`)?.body.amount ?? 0);
      } catch (error) {
        if (isRookeryError(error, "DocumentConflict")) return undefined;
        throw error;
      }
    }
    return sum;
  }

  /** chaos writes and breaks things for `chaosMs` of virtual time. */
  async chaos(chaosMs: number): Promise<void> {
    const { cluster, random } = this;
    cluster.net.faults = { ...this.chaosFaults };
    const end = cluster.nowMs() + chaosMs;
    cluster.sim.every(random.between(200, 800), () => {
      if (cluster.nowMs() >= end) return false;
      this.fault();
    });
    cluster.sim.every(random.between(10, 60), () => {
      if (cluster.nowMs() >= end) return false;
      this.write();
    });
    await cluster.runFor(chaosMs);
  }

  /**
   * write sends one transfer between a server's own accounts, read first and written with the
   * change vectors read: a concurrent transfer makes it fail (optimistic concurrency) instead of
   * silently losing an update. It also writes a document that is never written again.
   */
  private write(): void {
    const { cluster, random, tags } = this;
    const tag = random.pick(tags);
    const url = cluster.urls[tags.indexOf(tag)]!;
    const own = this.accounts[tag]!;
    const from = random.int(accountsPerNode);
    const to = (from + 1 + random.int(accountsPerNode - 1)) % accountsPerNode;
    const instance = cluster.server(tag)?.hostedDatabase("Spade")?.instance;
    const read = (k: number): { amount: number; changeVector: string } | undefined => {
      try {
        const doc = instance?.get(own[k]!.id);
        return doc
          ? { amount: Number(doc.body.amount), changeVector: doc.metadata["@change-vector"] }
          : undefined;
      } catch {
        return undefined;
      }
    };
    const source = read(from);
    const target = read(to);
    // A client that cannot read its balances (its server is down) does not write blind.
    if (!source || !target) return;
    const moved = random.between(1, 5);
    const id = `acked/${this.seed}-${this.written++}`;
    const assured = random.chance(0.3);
    void cluster
      .request(url, {
        type: "batch",
        database: "Spade",
        transaction: {
          puts: [
            {
              id: own[from]!.id,
              body: { amount: source.amount - moved },
              expectedChangeVector: source.changeVector,
            },
            {
              id: own[to]!.id,
              body: { amount: target.amount + moved },
              expectedChangeVector: target.changeVector,
            },
            { id, body: { by: tag } },
          ],
        },
        ...(assured ? { writeAssurance: { replicas: 1, timeoutMs: 300 } } : {}),
      })
      .then((response) => {
        if (!response.ok) return;
        this.acknowledged.set(id, tag);
        if (assured) this.checkAssured(id);
      });
  }

  /** checkAssured: a write acknowledged with 1 replica is durable on at least 2 servers. */
  private checkAssured(id: string): void {
    // A holder may have crashed since it acknowledged; what it made durable still counts.
    // A holder may have crashed since it acknowledged; what it made durable still counts.
    const holders = this.tags.filter((t) => {
      const kept = this.cluster
        .storageOf(t)
        .durableValue(databaseStore("documents"), databaseKey("Spade", id.toLowerCase()));
      return (kept as { kind?: string } | undefined)?.kind === "document";
    });
    if (holders.length < 2)
      this.fail(
        "write assurance",
        `${id} was acknowledged with 1 replica but only ${holders.join(", ") || "nobody"} holds it`,
      );
  }

  /** fault kills, restarts, partitions, heals or changes the network, at random. */
  private fault(): void {
    const { cluster, random, tags } = this;
    const tag = random.pick(tags);
    const pick = random.next();
    const alive = cluster.servers.filter((s) => s.alive).length;
    if (pick < 0.25 && alive > 1 && cluster.server(tag)) {
      this.note(`kill ${tag}`);
      void cluster.kill(tag);
    } else if (pick < 0.5) {
      for (const t of tags)
        if (!cluster.server(t) && random.chance(0.7)) {
          this.note(`restart ${t}`);
          void cluster.restart(t);
        }
    } else if (pick < 0.65) {
      const shuffled = [...tags].sort(() => random.next() - 0.5);
      const cut = random.between(1, tags.length - 1);
      this.note(`partition ${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}`);
      cluster.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    } else if (pick < 0.9) {
      this.note("heal");
      cluster.heal();
    } else {
      cluster.net.faults = random.chance(0.4) ? { ...reliableNetwork } : randomFaults(random);
    }
  }

  /** settle heals, restarts everyone, lets replication settle, then compares every instance. */
  async settle(): Promise<void> {
    const { cluster, tags } = this;
    cluster.heal();
    cluster.net.faults = { ...reliableNetwork };
    for (const tag of tags) if (!cluster.server(tag)) await cluster.restart(tag);
    let convergedAt = "";
    const converged = (): boolean => {
      const etags = tags
        .map((tag) => cluster.server(tag)?.hostedDatabase("Spade")?.instance.lastEtag ?? -1)
        .join(",");
      if (etags === convergedAt) return false;
      convergedAt = etags;
      return sameDocuments(cluster, tags, "Spade");
    };
    try {
      await cluster.waitFor(converged, {
        what: "every instance of Spade to converge",
        timeoutMs: 30_000,
      });
    } catch {
      const sizes = tags
        .map((tag) => `${tag}:${documentsOf(cluster, tag, "Spade").size}`)
        .join(" ");
      this.fail(
        "convergence",
        `after healing, the instances of Spade did not converge within 30 s (documents ${sizes})`,
      );
    }
    await cluster
      .waitFor(() => sameClusterState(cluster, tags), {
        what: "the same cluster state everywhere",
        timeoutMs: 20_000,
      })
      .catch(() =>
        this.fail("cluster state", "after healing, the servers hold different cluster states"),
      );
    this.checkAcknowledged();
  }

  /** checkAcknowledged: no acknowledged document is missing on any server. */
  private checkAcknowledged(): void {
    for (const [id, by] of this.acknowledged) {
      for (const tag of this.tags) {
        if (!documentsOf(this.cluster, tag, "Spade").has(`document:${id.toLowerCase()}`)) {
          this.fail(
            "acknowledged write lost",
            `${id} was acknowledged by ${by} but is missing on ${tag}`,
          );
          break;
        }
      }
    }
  }
}

async function setup(response: Promise<ServerResponse>, what: string): Promise<void> {
  const answer = await response;
  if (!answer.ok) throw new Violation("setup", `${what}: ${answer.error.message}`);
}

function sameDocuments(cluster: SimCluster, tags: readonly NodeTag[], database: string): boolean {
  const first = documentsOf(cluster, tags[0]!, database);
  return tags.every((tag) => {
    const docs = documentsOf(cluster, tag, database);
    if (docs.size !== first.size) return false;
    for (const [key, vector] of first) if (docs.get(key) !== vector) return false;
    return true;
  });
}

function sameClusterState(cluster: SimCluster, tags: readonly NodeTag[]): boolean {
  const states = tags
    .map((tag) => cluster.server(tag)?.clusterState)
    .filter((s): s is ClusterState => s !== undefined);
  if (states.length !== tags.length) return false;
  const first = JSON.stringify(states[0]);
  return states.every((state) => JSON.stringify(state) === first);
}
