import { isRookeryError, SeededRandom } from "../../core/index.ts";
import type { NodeTag, Random } from "../../core/index.ts";
import type { ClusterState } from "../../cluster/index.ts";
import type { DatabaseInstance } from "../../database/index.ts";
import { databaseKey, databaseStore } from "../../server/index.ts";
import { reliableNetwork } from "../../transport/index.ts";
import type { NetworkFaults, ServerRequest, ServerResponse } from "../../transport/index.ts";
import { checkAckDurability, DeletionChecker } from "./db-checkers.ts";
import type { Fail } from "./db-checkers.ts";
import type { SeedVerdict } from "./raft-sweep.ts";
import { SimCluster } from "./sim-cluster.ts";
import { randomStorageFaults, reliableStorage } from "./sim-disk.ts";
import type { StorageFaults } from "./sim-disk.ts";
import { SimulationStalled } from "./simulator.ts";
import type { Watchdog } from "./simulator.ts";

/** DbSeedOptions set the size of one randomized database run. */
export interface DbSeedOptions {
  readonly servers: 3 | 5;
  /** Virtual milliseconds of faults and load before the final heal. */
  readonly chaosMs?: number;
  /** Bounds past which the seed counts as stalled (defaults: dbWatchdog). */
  readonly watchdog?: Partial<Watchdog>;
  /** Whether the seed may choose storage faults (slow and failing fsyncs, torn tails); true. */
  readonly storageFaults?: boolean;
}

/** DbSeedResult is the verdict on one seed of the database workload. */
export interface DbSeedResult extends SeedVerdict {
  readonly acknowledged: number;
  readonly deleted: number;
  readonly revisions: boolean;
  /** Storage faults the seed's disks injected: failed fsyncs (each a fail-stop), torn tails. */
  readonly storage: { readonly failedFsyncs: number; readonly tornTails: number };
}

/**
 * dbWatchdog bounds one seed of the database workload. A healthy seed runs a few thousand events
 * (see the sweep's summary); the virtual time bound covers the chaos plus every bounded wait of
 * the setup and the final checks.
 */
export function dbWatchdog(servers: number, chaosMs: number): Watchdog {
  return { eventsMax: 100_000 * servers, virtualMsMax: chaosMs + 300_000 };
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
const database = "Spade";

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

function documentsOf(cluster: SimCluster, tag: NodeTag): Map<string, string> {
  const result = new Map<string, string>();
  const instance = cluster.server(tag)?.hostedDatabase(database)?.instance;
  if (!instance) return result;
  for (const item of instance.itemsAfterEtag(0)) {
    if (item.kind === "document" || item.kind === "tombstone" || item.kind === "conflict") {
      result.set(`${item.kind}:${item.id.toLowerCase()}`, item.changeVector);
    }
  }
  return result;
}

/**
 * runDbSeed runs one randomized schedule of the database layer: clients write transactions on
 * random servers (transfers between a server's own accounts, and documents written once and some
 * later deleted once), some with write assurance, while servers crash and restart, disks are slow
 * or fail, and the network loses, duplicates, reorders and partitions. Checkers: every server
 * applies the same cluster commands at the same indexes; write assurance held whenever it was
 * acknowledged; every replication ack states only what its sender's disk holds; with revisions
 * on, no reader ever sees half a transfer; a deleted document never comes back; after healing,
 * every instance of the group converges to the same documents and change vectors, and no
 * acknowledged document is missing anywhere.
 */
export async function runDbSeed(seed: number, options: DbSeedOptions): Promise<DbSeedResult> {
  const run = new DbSeedRun(seed, options);
  try {
    await run.setUp();
    await run.chaos();
    await run.finalChecks();
  } catch (error) {
    if (error instanceof Violation) run.fail(error.property, error.message);
    else if (!(error instanceof SimulationStalled))
      run.fail("crash", (error as Error).stack ?? String(error));
  }
  return run.verdict();
}

/** DbSeedRun is one seed of the database workload: its cluster, its clients and its checkers. */
class DbSeedRun {
  private readonly random: Random;
  private readonly cluster: SimCluster;
  private readonly tags: NodeTag[];
  private readonly chaosMs: number;
  private readonly revisions: boolean;
  private readonly storageFaults: StorageFaults;
  private readonly trace: string[] = [];
  private readonly acknowledged = new Map<string, NodeTag>();
  /** Documents a delete was sent for (acknowledged or not): a final read need not find them. */
  private readonly deleteSent = new Set<string>();
  private readonly deletions: DeletionChecker;
  private readonly accounts = new Map<NodeTag, string[]>();
  private violation: Violation | undefined;
  private written = 0;

  constructor(
    readonly seed: number,
    options: DbSeedOptions,
  ) {
    this.random = new SeededRandom(seed ^ 0xdb5eed);
    const random = this.random;
    this.chaosMs = options.chaosMs ?? 8_000;
    this.revisions = random.chance(0.5);
    const storageFaults = options.storageFaults ?? true;
    this.storageFaults =
      storageFaults && random.chance(0.7) ? randomStorageFaults(random) : reliableStorage;
    // The cluster is built on a quiet network and healthy disks; the faults start with the chaos.
    this.cluster = new SimCluster({
      servers: options.servers,
      seed,
      replicationLimits: { batchItemsMax: random.pick([1, 2, 8, 1024]) },
    });
    this.cluster.sim.watchdog = {
      ...dbWatchdog(options.servers, this.chaosMs),
      ...options.watchdog,
    };
    this.tags = Array.from({ length: options.servers }, (_, i) => String.fromCharCode(65 + i));
    this.deletions = new DeletionChecker(this.cluster, this.tags, database, this.fail);
    this.watch();
  }

  readonly fail: Fail = (property, message) => {
    this.violation ??= new Violation(property, message);
  };

  private note(text: string): void {
    this.trace.push(`${this.cluster.nowMs().toFixed(1).padStart(9)}ms  ${text}`);
    if (this.trace.length > 40) this.trace.shift();
  }

  verdict(): DbSeedResult {
    const stalled = this.cluster.sim.stalled;
    return {
      seed: this.seed,
      ok: this.violation === undefined && stalled === undefined,
      // A stall explains whatever failed after it (waits that timed out, missing documents).
      ...(stalled
        ? { broken: "stalled", message: stalled.message }
        : this.violation
          ? { broken: this.violation.property, message: this.violation.message }
          : {}),
      trace: this.trace,
      acknowledged: this.acknowledged.size,
      deleted: this.deletions.deletions,
      revisions: this.revisions,
      storage: this.diskFaults(),
      virtualMs: this.cluster.nowMs(),
      events: this.cluster.sim.eventsRun,
    };
  }

  private diskFaults(): DbSeedResult["storage"] {
    let failedFsyncs = 0;
    let tornTails = 0;
    for (const tag of this.tags) {
      const stats = this.cluster.storageOf(tag).stats;
      failedFsyncs += stats.failedFsyncs;
      tornTails += stats.tornTails;
    }
    return { failedFsyncs, tornTails };
  }

  /** watch hangs the checkers that look at every trace event and every message sent. */
  private watch(): void {
    const commandAt = new Map<number, string>();
    this.cluster.on("trace", (events) => {
      for (const event of events) {
        if (event.type !== "replication-batch")
          this.note(`${event.type} ${JSON.stringify(event).slice(0, 160)}`);
        if (event.type !== "cluster-command") continue;
        const seen = commandAt.get(event.index);
        if (seen === undefined) commandAt.set(event.index, event.text);
        else if (seen !== event.text)
          this.fail(
            "cluster state",
            `node ${event.tag} applied "${event.text}" at index ${event.index}, another node applied "${seen}"`,
          );
      }
    });
    this.cluster.watchSends((envelope) => checkAckDurability(this.cluster, envelope, this.fail));
  }

  /** watchEvents hangs the checkers that look at the servers after every event (once all joined). */
  private watchEvents(): void {
    const atomicity = this.revisions ? this.atomicityChecker() : () => {};
    this.cluster.sim.afterEach = () => {
      atomicity();
      this.deletions.afterEvent();
    };
  }

  private async request(tag: NodeTag, request: ServerRequest): Promise<ServerResponse> {
    return await this.cluster.request(this.cluster.urls[this.tags.indexOf(tag)]!, request);
  }

  private async setupStep(response: Promise<ServerResponse>, what: string): Promise<void> {
    const answer = await response;
    if (!answer.ok) throw new Violation("setup", `${what}: ${answer.error.message}`);
  }

  /** setUp builds the cluster: every server joins, the database lives on all of them. */
  async setUp(): Promise<void> {
    const [first, ...others] = this.tags as [NodeTag, ...NodeTag[]];
    const revisions = {
      default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
      collections: {},
    };
    await this.setupStep(
      this.request(first, {
        type: "create-database",
        name: database,
        ...(this.revisions ? { revisions } : {}),
      }),
      `create ${database}`,
    );
    for (const url of this.cluster.urls.slice(1))
      await this.setupStep(this.request(first, { type: "add-node", url }), `add ${url}`);
    for (const tag of others)
      await this.setupStep(
        this.request(first, { type: "add-database-node", database, tag }),
        `add ${tag} to ${database}`,
      );
    await this.cluster.waitFor(
      () =>
        (this.cluster.databaseRecord(database)?.topology.members.length ?? 0) === this.tags.length,
      { what: `${database} on every server`, timeoutMs: 20_000 },
    );
    for (const tag of this.tags) {
      const ids = Array.from({ length: accountsPerNode }, (_, k) => `accounts/${tag}-${k}`);
      this.accounts.set(tag, ids);
      const puts = ids.map((id) => ({ id, body: { amount: balanceStart } }));
      await this.setupStep(
        this.request(tag, { type: "batch", database, transaction: { puts } }),
        "open accounts",
      );
    }
    const everywhere = this.tags.length * accountsPerNode;
    await this.cluster.waitFor(
      () => this.tags.every((tag) => this.instance(tag)?.list().length === everywhere),
      { what: "accounts everywhere", timeoutMs: 20_000 },
    );
  }

  private instance(tag: NodeTag): DatabaseInstance | undefined {
    return this.cluster.server(tag)?.hostedDatabase(database)?.instance;
  }

  /** atomicityChecker: with revisions on, a transfer is never seen half-done, anywhere. */
  private atomicityChecker(): () => void {
    const seenEtag = new Map<NodeTag, number>();
    return () => {
      for (const on of this.tags) {
        // Only an instance whose last etag moved can show something new.
        const instance = this.instance(on);
        const etag = instance?.lastEtag ?? -1;
        if (!instance || seenEtag.get(on) === etag) continue;
        seenEtag.set(on, etag);
        for (const owner of this.tags) this.checkBalance(on, instance, owner);
      }
    };
  }

  private checkBalance(on: NodeTag, instance: DatabaseInstance, owner: NodeTag): void {
    const total = accountsPerNode * balanceStart;
    let sum = 0;
    let present = 0;
    for (const id of this.accounts.get(owner) ?? []) {
      try {
        const account = instance.get(id);
        if (account) present++;
        sum += Number(account?.body.amount ?? 0);
      } catch (error) {
        if (isRookeryError(error, "DocumentConflict")) return;
        throw error;
      }
    }
    // None of them is whole too: a server that lost the unsynced opening transaction in a crash
    // (its sender was never told it arrived) shows no account until it is sent again.
    if (sum === total || present === 0) return;
    const shown = (this.accounts.get(owner) ?? [])
      .map((id) => {
        const doc = instance.get(id);
        return `${id}=${String(doc?.body.amount)}@${doc?.metadata["@change-vector"] ?? "-"}`;
      })
      .join(" ");
    this.fail(
      "transaction atomicity",
      `node ${on} shows ${owner}'s accounts summing to ${sum}, not ${total}: half a transfer is visible (${shown})`,
    );
  }

  /**
   * transfer moves an amount between two of a server's own accounts, read first and written with
   * the change vectors read: a concurrent transfer makes it fail (optimistic concurrency) instead
   * of silently losing an update. The same transaction writes a document never written again.
   */
  private transfer(): void {
    const random = this.random;
    const tag = random.pick(this.tags);
    const own = this.accounts.get(tag)!;
    const from = random.int(accountsPerNode);
    const to = (from + 1 + random.int(accountsPerNode - 1)) % accountsPerNode;
    const instance = this.instance(tag);
    const read = (id: string): { amount: number; changeVector: string } | undefined => {
      try {
        const doc = instance?.get(id);
        return doc
          ? { amount: Number(doc.body.amount), changeVector: doc.metadata["@change-vector"] }
          : undefined;
      } catch {
        return undefined;
      }
    };
    const source = read(own[from]!);
    const target = read(own[to]!);
    // A client that cannot read its balances (its server is down) does not write blind.
    if (!source || !target) return;
    const moved = random.between(1, 5);
    const id = `acked/${this.seed}-${this.written++}`;
    const assured = random.chance(0.3);
    const puts = [
      {
        id: own[from]!,
        body: { amount: source.amount - moved },
        expectedChangeVector: source.changeVector,
      },
      {
        id: own[to]!,
        body: { amount: target.amount + moved },
        expectedChangeVector: target.changeVector,
      },
      { id, body: { by: tag } },
    ];
    void this.request(tag, {
      type: "batch",
      database,
      transaction: { puts },
      ...(assured ? { writeAssurance: { replicas: 1, timeoutMs: 300 } } : {}),
    }).then((response) => {
      if (!response.ok) return;
      this.acknowledged.set(id, tag);
      if (assured) this.checkAssured(id);
    });
  }

  /** A write acknowledged with one replica is on two disks (a holder may have crashed since). */
  private checkAssured(id: string): void {
    const holders = this.tags.filter((t) => {
      const kept = this.cluster
        .storageOf(t)
        .durableValue(databaseStore("documents"), databaseKey(database, id.toLowerCase()));
      return (kept as { kind?: string } | undefined)?.kind === "document";
    });
    if (holders.length < 2)
      this.fail(
        "write assurance",
        `${id} was acknowledged with 1 replica but only ${holders.join(", ") || "nobody"} holds it`,
      );
  }

  /** deleteOne deletes an acknowledged document, once, on the server that wrote it. */
  private deleteOne(): void {
    const candidates = [...this.acknowledged].filter(([id]) => !this.deleteSent.has(id));
    if (candidates.length === 0) return;
    const [id, tag] = this.random.pick(candidates);
    // Only a server that has the document can delete it (a delete of nothing leaves nothing).
    if (!this.instance(tag)?.get(id)) return;
    this.deleteSent.add(id);
    void this.request(tag, { type: "batch", database, transaction: { deletes: [{ id }] } }).then(
      (response) => {
        if (response.ok) this.deletions.deletionAcknowledged(id, tag);
      },
    );
  }

  private chaosStep(): void {
    const { random, cluster, tags } = this;
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
          cluster.restart(t).catch((error: unknown) => this.note(`${t}: ${String(error)}`));
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

  /** chaos runs the load and the faults for chaosMs of virtual time. */
  async chaos(): Promise<void> {
    const { random, cluster } = this;
    cluster.net.faults = random.chance(0.3) ? { ...reliableNetwork } : randomFaults(random);
    cluster.storageFaults = { ...this.storageFaults };
    this.watchEvents();
    const end = cluster.nowMs() + this.chaosMs;
    const until = (step: () => void) => () => {
      if (cluster.nowMs() >= end) return false;
      step();
    };
    cluster.sim.every(
      random.between(200, 800),
      until(() => this.chaosStep()),
    );
    cluster.sim.every(
      random.between(10, 60),
      until(() => this.transfer()),
    );
    cluster.sim.every(
      random.between(50, 300),
      until(() => this.deleteOne()),
    );
    await cluster.runFor(this.chaosMs);
  }

  /** finalChecks heals everything, restarts everyone, lets replication settle and compares. */
  async finalChecks(): Promise<void> {
    const { cluster, tags } = this;
    cluster.heal();
    cluster.net.faults = { ...reliableNetwork };
    cluster.storageFaults = { ...reliableStorage };
    for (const tag of tags) if (!cluster.server(tag)) await cluster.restart(tag);
    await this.converge();
    await cluster
      .waitFor(() => sameClusterState(cluster, tags), {
        what: "the same cluster state everywhere",
        timeoutMs: 20_000,
      })
      .catch(() =>
        this.fail("cluster state", "after healing, the servers hold different cluster states"),
      );
    const documents = new Map(tags.map((tag) => [tag, documentsOf(cluster, tag)]));
    for (const [id, by] of this.acknowledged) {
      if (this.deleteSent.has(id)) continue;
      const missing = tags.find((tag) => !documents.get(tag)!.has(`document:${id.toLowerCase()}`));
      if (missing)
        this.fail(
          "acknowledged write lost",
          `${id} was acknowledged by ${by} but is missing on ${missing}`,
        );
    }
    this.deletions.finalCheck();
    await cluster.stop();
  }

  private async converge(): Promise<void> {
    const { cluster, tags } = this;
    let convergedAt = "";
    const converged = (): boolean => {
      const etags = tags.map((tag) => this.instance(tag)?.lastEtag ?? -1).join(",");
      if (etags === convergedAt) return false;
      convergedAt = etags;
      const first = documentsOf(cluster, tags[0]!);
      return tags.every((tag) => {
        const docs = documentsOf(cluster, tag);
        if (docs.size !== first.size) return false;
        for (const [key, vector] of first) if (docs.get(key) !== vector) return false;
        return true;
      });
    };
    try {
      await cluster.waitFor(converged, {
        what: `every instance of ${database} to converge`,
        timeoutMs: 30_000,
      });
    } catch (error) {
      if (error instanceof SimulationStalled) throw error;
      const sizes = tags.map((tag) => `${tag}:${documentsOf(cluster, tag).size}`).join(" ");
      this.fail(
        "convergence",
        `after healing, the instances of ${database} did not converge within 30 s (documents ${sizes})`,
      );
    }
  }
}

function sameClusterState(cluster: SimCluster, tags: readonly NodeTag[]): boolean {
  const states = tags
    .map((tag) => cluster.server(tag)?.clusterState)
    .filter((s): s is ClusterState => s !== undefined);
  if (states.length !== tags.length) return false;
  const first = JSON.stringify(states[0]);
  return states.every((state) => JSON.stringify(state) === first);
}
