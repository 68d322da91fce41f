import { describe } from "../core/index.ts";
import { batchDocumentIds } from "../replication/index.ts";
import type { NodeTag } from "../core/index.ts";
import {
  clusterNodeUrl,
  externalReplicationsOf,
  findDatabase,
  isBootstrapped,
  replicationDestinations,
} from "../cluster/index.ts";
import type { ClusterState, DatabaseNodeReport, DatabaseRecord } from "../cluster/index.ts";
import { DatabaseInstance } from "../database/index.ts";
import type { PersistedRecord, StoreName } from "../database/index.ts";
import { describeExternalBatch, refuseExternal } from "../replication/index.ts";
import type {
  DestinationCursor,
  ExternalEnvelope,
  ExternalRefusal,
  ReplicationConnect,
  ReplicationLimits,
  ReplicationWireBatch,
  ReplicationWireMessage,
} from "../replication/index.ts";
import { isRookeryError, RookeryError } from "../core/index.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { metaStore } from "./cluster-node.ts";
import { newId } from "./context.ts";
import { serverLimits } from "./limits.ts";
import type { ServerContext } from "./context.ts";
import {
  cursorStore,
  databaseStore,
  HostedDatabase,
  instanceSettings,
  splitDatabaseKey,
} from "./hosted-database.ts";
import { StoredKeys } from "./stored-keys.ts";

/** Early replication connects kept at most (see receive); the oldest goes first. */
export const earlyConnectsMax = serverLimits.earlyConnectsMax;

/** The stores a database instance keeps its records in, each shared by all databases. */
const instanceStores: readonly StoreName[] = [
  "documents",
  "conflicts",
  "revisions",
  "attachments",
  "database",
];

type Stores = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

/**
 * DatabaseHosting keeps the databases this server hosts equal to the groups the cluster state
 * puts it in: it opens a database (recovering what storage kept) when the server joins its
 * group, follows the group's settings and replication mesh, and closes it when the server leaves.
 * It routes replication messages to the hosted instance they are for, and runs the external
 * replication tasks the record gives to this server (and takes in those other clusters send).
 */
export class DatabaseHosting {
  private readonly databases = new Map<string, HostedDatabase>();
  /** Replication connects for databases not hosted here yet, by "database/sender" (bounded). */
  private readonly earlyConnects = new Map<string, ReplicationConnect>();
  private loaded: Stores = new Map();
  /** Which storage keys each database holds, to delete them with it. */
  private readonly stored = new StoredKeys();
  /** Databases whose records in `loaded` were deleted since: they open empty. */
  private readonly deletedSinceLoad = new Set<string>();

  constructor(
    private readonly context: ServerContext,
    private readonly node: ClusterNode,
    private readonly replicationLimits: Partial<ReplicationLimits>,
  ) {
    context.writes.watch((writes) => this.stored.observe(writes));
  }

  /** recover keeps what storage held at start, to open each database from it later. */
  recover(stores: Stores): void {
    this.loaded = stores;
    this.stored.load(stores);
  }

  get(name: string): HostedDatabase | undefined {
    return this.databases.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.databases.values()].map((db) => db.name);
  }

  /** tick lets every hosted database time out waits, save cursors and resend what is due. */
  tick(nowMs: number): void {
    for (const db of this.databases.values())
      db.tick(
        nowMs,
        this.context.timing.replicationRetryMs,
        this.context.timing.replicationCursorSaveMs,
      );
  }

  /** report is this server's part of a health report: each database's progress. */
  report(): Record<string, DatabaseNodeReport> {
    const databases: Record<string, DatabaseNodeReport> = {};
    for (const db of this.databases.values()) {
      databases[db.name] = { lastEtag: db.instance.lastEtag, acceptedEtags: db.acceptedEtags() };
    }
    return databases;
  }

  /** reconcile hosts exactly the databases whose group includes this server. */
  reconcile(state: ClusterState): void {
    const now = this.context.clock.nowMs();
    const tag = this.node.tag;
    const wanted = new Set<string>();
    for (const record of Object.values(state.databases)) {
      const key = record.name.toLowerCase();
      const { members, promotables, rehabs } = record.topology;
      if (![...members, ...promotables, ...rehabs].includes(tag)) continue;
      wanted.add(key);
      let db = this.databases.get(key);
      const opened = !db;
      if (!db) {
        db = this.open(record);
        this.databases.set(key, db);
      }
      db.instance.configure(instanceSettings(record));
      db.setDestinations(replicationDestinations(record, tag), now);
      db.external.follow(
        externalReplicationsOf(record),
        now,
        this.context.timing.replicationRetryMs,
      );
      if (opened) this.answerEarlyConnects(key, db);
    }
    for (const [key, db] of [...this.databases])
      if (!wanted.has(key)) this.close(key, db.name, state.databases);
  }

  /**
   * close stops hosting a database that was deleted or that this server left, and deletes its
   * stored records (the deletes go in line after every write it made, so none outlives them). A
   * cluster operation that caused it answers once they are durable (ClusterOperations).
   */
  private close(key: string, name: string, databases: ClusterState["databases"]): void {
    const stillThere = Object.values(databases).some((record) => record.name.toLowerCase() === key);
    this.databases.get(key)?.close(closedWhileWaiting(this.node.tag, name, stillThere));
    this.databases.delete(key);
    for (const early of [...this.earlyConnects.keys()])
      if (early.startsWith(`${key}/`)) this.earlyConnects.delete(early);
    this.deleteStored(key, name, stillThere ? "this node left its group" : "it was deleted");
  }

  /** deleteStored deletes every record `key` keeps in storage; `loaded` no longer counts for it. */
  private deleteStored(key: string, name: string, why: string): void {
    this.deletedSinceLoad.add(key);
    const count = this.stored.count(key);
    if (count === 0) return;
    for (const batch of this.stored.deletes(key)) this.context.writes.persist(batch, () => {});
    this.context.trace({
      type: "server",
      atMs: this.context.clock.nowMs(),
      url: this.context.url,
      text: `deleted the ${count} stored records of ${name}: ${why}`,
    });
  }

  /**
   * forgetEarlier deletes what storage kept of an earlier database of the same name (deleted
   * while this server was away), so `record`'s database opens empty.
   */
  private forgetEarlier(key: string, record: DatabaseRecord): void {
    if (this.deletedSinceLoad.has(key) || record.createdAtIndex === undefined) return;
    const kept = this.loaded.get(metaStore)?.get(`databaseCreated/${key}`);
    if (typeof kept === "number" && kept !== record.createdAtIndex)
      this.deleteStored(key, record.name, "an earlier database of that name");
  }

  /** receive hands a replication message to the instance it is for. */
  receive(message: ReplicationWireMessage): void {
    if (message.to !== this.node.tag) return;
    const key = message.database.toLowerCase();
    const db = this.databases.get(key);
    const now = this.context.clock.nowMs();
    if (db) {
      db.receive(message, now, this.context.timing.replicationRetryMs);
      return;
    }
    // A sibling that applied the topology change before this server did connects to a database
    // not hosted here yet. Keep its connect and answer it once the database opens, instead of
    // leaving the sibling to wait a whole replicationRetryMs before it connects again.
    if (message.type !== "replication-connect") return;
    const early = `${key}/${message.from}`;
    this.earlyConnects.delete(early);
    if (this.earlyConnects.size >= earlyConnectsMax)
      this.earlyConnects.delete(this.earlyConnects.keys().next().value!);
    this.earlyConnects.set(early, message);
  }

  /**
   * receiveExternal routes an external replication task's traffic, by URL: a connect or batch
   * goes to the destination database hosted here (or is refused, naming the servers that host
   * it), an ack or a refusal back to the task running here.
   */
  receiveExternal(fromUrl: string, envelope: ExternalEnvelope): void {
    const message = envelope.message;
    const now = this.context.clock.nowMs();
    const retryMs = this.context.timing.replicationRetryMs;
    if (message.type === "replication-ack" || message.type === "external-refused") {
      this.get(message.database)?.external.receive(fromUrl, envelope.taskId, message, now, retryMs);
      return;
    }
    const db = this.get(envelope.destinationDatabase);
    if (db) {
      try {
        db.receiveFromExternal(fromUrl, { ...envelope, message });
      } catch (error) {
        // A malformed batch from another cluster is that cluster's problem, not this server's.
        if (!isRookeryError(error)) throw error;
        this.context.trace({
          type: "server",
          atMs: now,
          url: this.context.url,
          text: `refused a batch from ${fromUrl}: ${error.message}`,
        });
      }
      return;
    }
    const refusal = this.externalRefusal(envelope.destinationDatabase, message);
    this.context.sendPeer(fromUrl, {
      type: "external-replication",
      envelope: { ...envelope, message: refusal },
    });
  }

  /** externalRefusal says why this server cannot take a task's message, and who can. */
  private externalRefusal(
    database: string,
    message: ReplicationConnect | ReplicationWireBatch,
  ): ExternalRefusal {
    const state = this.node.state;
    const here = this.context.url;
    if (!state || !isBootstrapped(state)) {
      const text = `${here} is not part of a cluster yet, so it hosts no database '${database}'.`;
      return refuseExternal(message, "NotInCluster", text, []);
    }
    const record = findDatabase(state, database);
    if (!record) {
      const text = `Database '${database}' does not exist on the cluster of ${here}; create it there first.`;
      return refuseExternal(message, "DatabaseDoesNotExist", text, []);
    }
    const hosts = [...record.topology.members, ...record.topology.rehabs];
    const urls = hosts.flatMap((tag) => clusterNodeUrl(state, tag) ?? []);
    const text =
      `Database '${record.name}' is not on node ${this.node.tag} (${here}); ` +
      `it lives on ${hosts.join(", ")}.`;
    return refuseExternal(message, "DatabaseNotHosted", text, urls);
  }

  /** answerEarlyConnects hands a newly opened database the connects that arrived before it. */
  private answerEarlyConnects(key: string, db: HostedDatabase): void {
    for (const [early, connect] of [...this.earlyConnects]) {
      if (connect.database.toLowerCase() !== key) continue;
      this.earlyConnects.delete(early);
      db.receive(connect, this.context.clock.nowMs(), this.context.timing.replicationRetryMs);
    }
  }

  /** open makes the instance of `record`'s database on this server, from what storage kept. */
  private open(record: DatabaseRecord): HostedDatabase {
    const name = record.name;
    const key = name.toLowerCase();
    this.forgetEarlier(key, record);
    const kept = !this.deletedSinceLoad.has(key);
    if (record.createdAtIndex !== undefined && this.createdAt(key, kept) !== record.createdAtIndex)
      this.context.writes.persist(
        [
          {
            store: metaStore,
            op: "put",
            key: `databaseCreated/${key}`,
            value: record.createdAtIndex,
          },
        ],
        () => {},
      );
    const databaseId = this.databaseId(key, kept);
    const options = { database: name, nodeTag: this.node.tag, databaseId };
    const records = kept ? this.storedRecords(key) : [];
    const instance =
      records.length > 0
        ? DatabaseInstance.recover(options, records)
        : new DatabaseInstance(options);
    const cursors = new Map<NodeTag, DestinationCursor>();
    for (const [k, value] of kept ? (this.loaded.get(cursorStore) ?? []) : []) {
      if (k.startsWith(`${key}/`)) cursors.set(k.slice(key.length + 1), value as DestinationCursor);
    }
    const context = this.context;
    return new HostedDatabase(
      name,
      instance,
      this.node.tag,
      {
        send: (to, message) => {
          const url = this.node.urlOf(to);
          if (url) context.sendPeer(url, { type: "replication", message });
        },
        persist: (writes, done) => context.writes.persist(writes, done),
        batchSent: (batch) =>
          context.trace({
            type: "replication-batch",
            atMs: context.clock.nowMs(),
            database: batch.database,
            from: batch.from,
            to: batch.to,
            text: describe(batch),
            afterEtag: batch.afterEtag,
            lastEtag: batch.lastEtag,
            ids: batchDocumentIds(batch),
          }),
        sendExternal: (url, envelope) =>
          context.sendPeer(url, { type: "external-replication", envelope }),
        externalBatchSent: (task, batch, url) =>
          context.trace({
            type: "external-replication",
            atMs: context.clock.nowMs(),
            database: batch.database,
            task,
            from: batch.from,
            to: url,
            text: describeExternalBatch(task, batch, url),
          }),
        batchApplied: (batch, result) => {
          const now = context.clock.nowMs();
          // Lag as the chapter means it: from the write to its arrival here. The batch's newest
          // write is what just became visible; its time is its writer's clock.
          let newest = -Infinity;
          for (const transaction of batch.transactions)
            for (const item of transaction.items)
              if (item.kind !== "attachment") newest = Math.max(newest, item.lastModifiedMs);
          const written = result.outcomes.some((o) => o.outcome !== "already-had");
          context.trace({
            type: "replication-applied",
            atMs: now,
            database: batch.database,
            from: batch.from,
            to: batch.to,
            afterEtag: batch.afterEtag,
            lastEtag: batch.lastEtag,
            items: result.outcomes,
            ...(result.note ? { note: result.note } : {}),
            ...(written && Number.isFinite(newest) ? { lagMs: Math.max(0, now - newest) } : {}),
          });
        },
      },
      this.replicationLimits,
      cursors,
    );
  }

  /** createdAt is the createdAtIndex storage kept for `key`, if it counts. */
  private createdAt(key: string, kept: boolean): unknown {
    return kept ? this.loaded.get(metaStore)?.get(`databaseCreated/${key}`) : undefined;
  }

  /** databaseId is the instance's id on this server: kept from before, or new and persisted. */
  private databaseId(key: string, kept: boolean): string {
    const stored = kept ? this.loaded.get(metaStore)?.get(`databaseId/${key}`) : undefined;
    if (typeof stored === "string" && stored !== "") return stored;
    const databaseId = `${this.node.tag}${newId(this.context.random)}`;
    this.context.writes.persist(
      [{ store: metaStore, op: "put", key: `databaseId/${key}`, value: databaseId }],
      () => {},
    );
    return databaseId;
  }

  private storedRecords(key: string): PersistedRecord[] {
    const records: PersistedRecord[] = [];
    for (const store of instanceStores) {
      for (const [stored, value] of this.loaded.get(databaseStore(store)) ?? []) {
        const { database, key: itemKey } = splitDatabaseKey(stored);
        if (database === key)
          records.push({ store, key: itemKey, value: value as PersistedRecord["value"] });
      }
    }
    return records;
  }
}

/**
 * closedWhileWaiting is the answer to a write that waited for its replicas when this server
 * stopped hosting its database. The write was made here; whether it lives on depends on why.
 */
function closedWhileWaiting(tag: NodeTag, name: string, stillThere: boolean): RookeryError {
  return stillThere
    ? new RookeryError(
        "DatabaseNotRelevant",
        `Node ${tag} left the group of ${name} while this write waited for its replicas, so they can no longer be counted here. Load the document from a node of the group to see whether it got there.`,
        { database: name, tag },
      )
    : new RookeryError(
        "DatabaseDoesNotExist",
        `Database ${name} was deleted while this write waited for its replicas; the write went with it. Create the database again before writing to it.`,
        { database: name },
      );
}
