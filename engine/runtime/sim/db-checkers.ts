/**
 * Checkers for the database workload (db-sweep.ts) that read what a server's disk holds, not only
 * what it shows: an acknowledgement may only state what is durable, and a deleted document never
 * comes back.
 */
import { compareChangeVectors, isRookeryError } from "../../core/index.ts";
import type { NodeTag } from "../../core/index.ts";
import type { DatabaseInstance, InstanceStateRecord, StoredItem } from "../../database/index.ts";
import { databaseKey, databaseStore } from "../../server/index.ts";
import type { Envelope } from "../../transport/index.ts";
import type { SimCluster } from "./sim-cluster.ts";

/** Fail records a broken property; the first one is the seed's verdict. */
export type Fail = (property: string, message: string) => void;

/** durableState is the database state record a server's disk holds (what a crash keeps). */
function durableState(
  cluster: SimCluster,
  server: string,
  database: string,
): InstanceStateRecord | undefined {
  return cluster
    .storageOf(server)
    .durableValue(databaseStore("database"), databaseKey(database, "state")) as
    InstanceStateRecord | undefined;
}

/** durableDocument is the current version of a document (or its tombstone) on a server's disk. */
function durableDocument(
  cluster: SimCluster,
  server: string,
  database: string,
  id: string,
): StoredItem | undefined {
  return cluster
    .storageOf(server)
    .durableValue(databaseStore("documents"), databaseKey(database, id.toLowerCase())) as
    StoredItem | undefined;
}

/**
 * checkAckDurability runs on every envelope a server sends: a replication ack tells the sender
 * what this replica holds, and write assurance counts it, so everything it states (the last etag
 * applied from the sender, the change vector) must already be on the replica's disk. An ack sent
 * from memory would count a replica that loses the write in a crash (defect 8 of issue 12).
 */
export function checkAckDurability(cluster: SimCluster, envelope: Envelope, fail: Fail): void {
  if (envelope.kind !== "peer" || envelope.message.type !== "replication") return;
  const ack = envelope.message.message;
  if (ack.type !== "replication-ack") return;
  const state = durableState(cluster, envelope.from, ack.database);
  const durableEtag = state?.incoming[ack.sourceDatabaseId] ?? 0;
  const order = compareChangeVectors(state?.changeVector ?? "", ack.changeVector);
  if (ack.lastAcceptedEtag > durableEtag || order === "update" || order === "conflict") {
    fail(
      "acknowledged replica",
      `${ack.from} acknowledged ${ack.database} to ${ack.to} up to etag ${ack.lastAcceptedEtag} ` +
        `(${ack.reason}, change vector ${ack.changeVector || "empty"}), but its disk holds only up ` +
        `to etag ${durableEtag} (change vector ${state?.changeVector || "empty"}): a crash now ` +
        "would lose what write assurance counted",
    );
  }
}

/** What the checker saw of one server's instance in its current life. */
interface Life {
  readonly instance: DatabaseInstance;
  etag: number;
  /** Keys of documents this life has shown deleted. */
  readonly tombstones: Set<string>;
}

/**
 * DeletionChecker: a deleted document never comes back. The workload deletes documents that are
 * written once and deleted once, so on any server, a live version after its tombstone can only be
 * an old version brought back (by replication, recovery or compaction). It also checks that an
 * acknowledged delete is durable on the server that acknowledged it, that a restart recovers
 * every tombstone its disk holds, and that after healing no server shows a deleted document.
 */
export class DeletionChecker {
  /** Deleted documents (lower-case id) and the server that acknowledged each deletion. */
  private readonly deleted = new Map<string, NodeTag>();
  private readonly lives = new Map<NodeTag, Life>();

  constructor(
    private readonly cluster: SimCluster,
    private readonly tags: readonly NodeTag[],
    private readonly database: string,
    private readonly fail: Fail,
  ) {}

  get deletions(): number {
    return this.deleted.size;
  }

  /** deletionAcknowledged records a delete a client saw acknowledged by `by`. */
  deletionAcknowledged(id: string, by: NodeTag): void {
    const key = id.toLowerCase();
    this.deleted.set(key, by);
    const kept = durableDocument(this.cluster, by, this.database, key);
    if (kept?.kind !== "tombstone")
      this.fail(
        "acknowledged delete",
        `${by} acknowledged deleting ${id}, but its disk holds ${kept ? `a ${kept.kind}` : "nothing"} for it`,
      );
  }

  /** afterEvent looks at what changed on each server since the last event. */
  afterEvent(): void {
    for (const tag of this.tags) {
      const instance = this.cluster.server(tag)?.hostedDatabase(this.database)?.instance;
      if (!instance) continue;
      let life = this.lives.get(tag);
      if (life?.instance !== instance) {
        life = { instance, etag: 0, tombstones: new Set() };
        this.lives.set(tag, life);
        this.checkRecovered(tag, instance);
      }
      if (instance.lastEtag === life.etag) continue;
      for (const item of instance.itemsAfterEtag(life.etag)) this.see(tag, life, item);
      life.etag = instance.lastEtag;
    }
  }

  private see(tag: NodeTag, life: Life, item: StoredItem): void {
    if (item.kind === "tombstone") life.tombstones.add(item.id.toLowerCase());
    else if (item.kind === "document" && life.tombstones.has(item.id.toLowerCase()))
      this.fail(
        "deleted document came back",
        `${tag} showed ${item.id} deleted, then live again (change vector ${item.changeVector})`,
      );
  }

  /** A new life (a restart) must show every deletion its disk holds. */
  private checkRecovered(tag: NodeTag, instance: DatabaseInstance): void {
    for (const key of this.deleted.keys()) {
      if (durableDocument(this.cluster, tag, this.database, key)?.kind !== "tombstone") continue;
      if (liveDocument(instance, key))
        this.fail(
          "deleted document came back",
          `${tag}'s disk holds the tombstone of ${key}, yet after it restarted it shows the document`,
        );
    }
  }

  /** finalCheck: after healing and convergence, no server shows a deleted document. */
  finalCheck(): void {
    for (const tag of this.tags) {
      const instance = this.cluster.server(tag)?.hostedDatabase(this.database)?.instance;
      if (!instance) continue;
      for (const [key, by] of this.deleted)
        if (liveDocument(instance, key))
          this.fail(
            "deleted document came back",
            `${key} was deleted (acknowledged by ${by}), but after healing ${tag} shows it`,
          );
    }
  }
}

function liveDocument(instance: DatabaseInstance, id: string): boolean {
  try {
    return instance.get(id) !== undefined;
  } catch (error) {
    // A conflict between the deletion and a version of the document keeps the document alive.
    if (isRookeryError(error, "DocumentConflict")) return true;
    throw error;
  }
}
