import { metaStore } from "./cluster-node.ts";
import { cursorStore } from "./hosted-database.ts";
import type { StorageWrite } from "./ports.ts";

type Stores = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

/** Keys of metaStore that belong to one database: "<prefix>/<database>". */
const metaPrefixes = ["databaseId", "databaseCreated"] as const;
/** Deletes per storage batch when a database's records are removed (far below the port's limit). */
export const dropBatchOperationsMax = 10_000;

/**
 * StoredKeys knows which storage keys hold each database's records on this server: its items
 * ("db-*" stores, keys "<database>|<item>"), its replication cursors ("<database>/<tag>") and its
 * meta entries. It learns them from the load at start and from every write after, so deleting a
 * database can delete exactly what it stored, whichever part wrote it.
 */
export class StoredKeys {
  /** database (lower case) → store → keys. */
  private readonly byDatabase = new Map<string, Map<string, Set<string>>>();

  load(stores: Stores): void {
    for (const [store, entries] of stores)
      for (const key of entries.keys()) this.note(store, key, true);
  }

  observe(writes: readonly StorageWrite[]): void {
    for (const write of writes) this.note(write.store, write.key, write.op === "put");
  }

  /** count is how many keys `database` holds in storage. */
  count(database: string): number {
    let keys = 0;
    for (const set of this.byDatabase.get(database.toLowerCase())?.values() ?? []) keys += set.size;
    return keys;
  }

  /**
   * deletes returns batches deleting every key of `database`, its meta entries last: a crash
   * between batches leaves "databaseCreated" standing for as long as any record does, so a
   * later database of the same name still sees the earlier one's leftovers and removes them.
   */
  deletes(database: string): StorageWrite[][] {
    const stores = this.byDatabase.get(database.toLowerCase());
    if (!stores) return [];
    const records: StorageWrite[] = [];
    const last: StorageWrite[] = [];
    for (const [store, keys] of stores) {
      for (const key of keys) {
        const created = store === metaStore && key.startsWith("databaseCreated/");
        (created ? last : records).push({ store, op: "delete", key });
      }
    }
    const all = [...records, ...last];
    const batches: StorageWrite[][] = [];
    for (let k = 0; k < all.length; k += dropBatchOperationsMax)
      batches.push(all.slice(k, k + dropBatchOperationsMax));
    return batches;
  }

  private note(store: string, key: string, present: boolean): void {
    const database = databaseOf(store, key);
    if (database === undefined) return;
    let stores = this.byDatabase.get(database);
    if (!stores) {
      if (!present) return;
      this.byDatabase.set(database, (stores = new Map()));
    }
    let keys = stores.get(store);
    if (!keys) {
      if (!present) return;
      stores.set(store, (keys = new Set()));
    }
    if (present) keys.add(key);
    else {
      keys.delete(key);
      if (keys.size === 0) stores.delete(store);
      if (stores.size === 0) this.byDatabase.delete(database);
    }
  }
}

/** databaseOf names the database a stored key belongs to (lower case), if any. */
function databaseOf(store: string, key: string): string | undefined {
  if (store.startsWith("db-")) {
    const bar = key.indexOf("|");
    return bar < 0 ? undefined : key.slice(0, bar);
  }
  if (store === cursorStore) {
    const slash = key.lastIndexOf("/");
    return slash < 0 ? undefined : key.slice(0, slash);
  }
  if (store === metaStore) {
    for (const prefix of metaPrefixes)
      if (key.startsWith(`${prefix}/`)) return key.slice(prefix.length + 1);
  }
  return undefined;
}
