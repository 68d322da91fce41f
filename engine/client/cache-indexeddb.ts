/**
 * The browser topology cache: one IndexedDB database ("rookery-client" by default) with one object
 * store, "topologies", keyed by the cache key. Through idb; the factory is injectable so tests run
 * on fake-indexeddb (idb checks IndexedDB objects with `instanceof` against the global IDB*
 * classes, so in Node import "fake-indexeddb/auto" as well).
 */
import { wrap } from "idb";
import type { DBSchema, IDBPDatabase } from "idb";
import { isTopologyView } from "./cache.ts";
import type { TopologyCache } from "./cache.ts";
import type { TopologyView } from "../transport/index.ts";

interface CacheSchema extends DBSchema {
  topologies: { key: string; value: TopologyView };
}

const storeName = "topologies";

/** IndexedDbTopologyCacheOptions name the database and the factory to open it with. */
export interface IndexedDbTopologyCacheOptions {
  /** Database name; "rookery-client" when omitted. */
  readonly name?: string;
  /** The IDBFactory; the global `indexedDB` when omitted. */
  readonly factory?: IDBFactory;
}

/** IndexedDbTopologyCache keeps topologies in IndexedDB; it opens the database on first use. */
export class IndexedDbTopologyCache implements TopologyCache {
  private opened: Promise<IDBPDatabase<CacheSchema>> | undefined;

  constructor(private readonly options: IndexedDbTopologyCacheOptions = {}) {}

  private db(): Promise<IDBPDatabase<CacheSchema>> {
    this.opened ??= (async () => {
      const factory = this.options.factory ?? globalThis.indexedDB;
      const request = factory.open(this.options.name ?? "rookery-client", 1);
      request.addEventListener("upgradeneeded", () => {
        request.result.createObjectStore(storeName);
      });
      return (await wrap(request)) as unknown as IDBPDatabase<CacheSchema>;
    })();
    return this.opened;
  }

  async load(key: string): Promise<TopologyView | undefined> {
    const value: unknown = await (await this.db()).get(storeName, key);
    return isTopologyView(value) ? value : undefined;
  }

  async save(key: string, topology: TopologyView): Promise<void> {
    const db = await this.db();
    const tx = db.transaction(storeName, "readwrite");
    const kept: unknown = await tx.store.get(key);
    // Only a newer topology replaces the kept one; read and write in one transaction.
    if (!isTopologyView(kept) || kept.etag <= topology.etag)
      await tx.store.put(structuredClone(topology), key);
    await tx.done;
  }

  /** close releases the connection (tests delete the database afterwards). */
  async close(): Promise<void> {
    if (this.opened) (await this.opened).close();
    this.opened = undefined;
  }
}
