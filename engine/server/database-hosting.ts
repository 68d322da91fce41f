import { describe } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import { replicationDestinations } from "../cluster/index.ts";
import type { ClusterState, DatabaseNodeReport } from "../cluster/index.ts";
import { DatabaseInstance } from "../database/index.ts";
import type { PersistedRecord, StoreName } from "../database/index.ts";
import type {
  DestinationCursor,
  ReplicationConnect,
  ReplicationLimits,
  ReplicationWireMessage,
} from "../replication/index.ts";
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
 * It routes replication messages to the hosted instance they are for.
 */
export class DatabaseHosting {
  private readonly databases = new Map<string, HostedDatabase>();
  /** Replication connects for databases not hosted here yet, by "database/sender" (bounded). */
  private readonly earlyConnects = new Map<string, ReplicationConnect>();
  private loaded: Stores = new Map();

  constructor(
    private readonly context: ServerContext,
    private readonly node: ClusterNode,
    private readonly replicationLimits: Partial<ReplicationLimits>,
  ) {}

  /** recover keeps what storage held at start, to open each database from it later. */
  recover(stores: Stores): void {
    this.loaded = stores;
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
      db.tick(nowMs, this.context.timing.replicationRetryMs);
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
        db = this.open(record.name);
        this.databases.set(key, db);
      }
      db.instance.configure(instanceSettings(record));
      db.setDestinations(replicationDestinations(record, tag), now);
      if (opened) this.answerEarlyConnects(key, db);
    }
    for (const key of [...this.databases.keys()]) if (!wanted.has(key)) this.databases.delete(key);
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

  /** answerEarlyConnects hands a newly opened database the connects that arrived before it. */
  private answerEarlyConnects(key: string, db: HostedDatabase): void {
    for (const [early, connect] of [...this.earlyConnects]) {
      if (connect.database.toLowerCase() !== key) continue;
      this.earlyConnects.delete(early);
      db.receive(connect, this.context.clock.nowMs(), this.context.timing.replicationRetryMs);
    }
  }

  /** open makes the instance of database `name` on this server, from what storage kept. */
  private open(name: string): HostedDatabase {
    const key = name.toLowerCase();
    const options = { database: name, nodeTag: this.node.tag, databaseId: this.databaseId(key) };
    const records = this.storedRecords(key);
    const instance =
      records.length > 0
        ? DatabaseInstance.recover(options, records)
        : new DatabaseInstance(options);
    const cursors = new Map<NodeTag, DestinationCursor>();
    for (const [k, value] of this.loaded.get(cursorStore) ?? []) {
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
          }),
      },
      this.replicationLimits,
      cursors,
    );
  }

  /** databaseId is the instance's id on this server: kept from before, or new and persisted. */
  private databaseId(key: string): string {
    const kept = this.loaded.get(metaStore)?.get(`databaseId/${key}`);
    if (typeof kept === "string" && kept !== "") return kept;
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
