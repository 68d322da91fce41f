/**
 * The IndexedDB backend (the one file that touches indexedDB), through idb. One IndexedDB
 * database per server, named `rookery-<cluster>-<server>`, with ONE object store, "records",
 * keyed by the compound key [store, key] and holding each value as its encoded JSON text.
 *
 * Why one object store rather than one per named store: creating an object store needs a version
 * upgrade, which waits for every other connection to the database to close; with one store the
 * schema is fixed at version 1 and any layer can add a named store without a migration. A
 * store's keys are still one contiguous key range ([store] … [store, []]), so loadStore reads
 * only its own records. Why JSON text: the same encoding as the other backends (a value reads
 * back identically everywhere), and Chromium clones a string far faster than an object graph
 * (6–26 µs against 250–280 µs for a 16 KB batch, reference/baselines.md).
 *
 * Group commit: at most one readwrite transaction is in flight; batches written meanwhile share
 * the next one. A transaction is atomic, so each batch is still all or nothing, and IndexedDB
 * pays its commit (~1 ms in Chromium) once per group instead of once per batch.
 *
 * The injected IDBFactory lets tests use fake-indexeddb. idb recognises IndexedDB objects with
 * `instanceof` against the global IDB* classes, so those globals must exist and match the factory
 * (the browser's own, or `import "fake-indexeddb/auto"` in Node).
 */
import { wrap } from "idb";
import type { DBSchema, IDBPDatabase } from "idb";
import { RookeryError } from "../core/index.ts";
import { admitBatch, checkStoreName, closedError, decodeValue, takeGroup } from "./codec.ts";
import type { EncodedBatch } from "./codec.ts";
import { storageLimits } from "./storage.ts";
import type {
  AnySchema,
  Storage,
  StorageContents,
  StorageLimits,
  StorageOperation,
  StorageStats,
  StoreName,
} from "./storage.ts";

interface RecordsSchema extends DBSchema {
  records: { key: [string, string]; value: string };
}

const recordsStore = "records";
const schemaVersion = 1;

/** IndexedDbStorageOptions configures openIndexedDbStorage. */
export interface IndexedDbStorageOptions {
  /** The cluster's name, so two clusters in one browser profile never share a database. */
  readonly cluster: string;
  /** The server, by tag or URL ("http://127.0.0.1:8080"). */
  readonly server: string;
  /** The factory to open the database with; the global `indexedDB` when omitted. */
  readonly factory?: IDBFactory;
  /**
   * Transaction durability hint. "strict" (the default) makes Chromium flush to disk before a
   * transaction completes, which is what "acknowledged means durable" needs.
   */
  readonly durability?: IDBTransactionDurability;
  readonly limits?: Partial<StorageLimits>;
}

/** indexedDbName is the database name of one server's storage. */
export function indexedDbName(cluster: string, server: string): string {
  return `rookery-${cluster}-${server}`;
}

// Databases open in this realm, per factory: a second connection would interleave two writers.
const openNames = new WeakMap<IDBFactory, Set<string>>();

function factoryOf(factory: IDBFactory | undefined): IDBFactory {
  if (factory) return factory;
  if (typeof indexedDB === "undefined") {
    throw new RookeryError(
      "StorageUnavailable",
      "IndexedDB is not available here; in Node use the fs storage, or pass an IDBFactory " +
        "(for tests, fake-indexeddb)",
    );
  }
  return indexedDB;
}

/**
 * openIndexedDbStorage opens (or creates) the server's database. It fails with StorageAlreadyOpen
 * when this realm already has it open and StorageFailed when the browser refuses (private
 * browsing without storage, a blocked upgrade, quota).
 */
export async function openIndexedDbStorage<S extends object = AnySchema>(
  options: IndexedDbStorageOptions,
): Promise<IndexedDbStorage<S>> {
  const factory = factoryOf(options.factory);
  const name = indexedDbName(options.cluster, options.server);
  const names = openNames.get(factory) ?? new Set<string>();
  openNames.set(factory, names);
  if (names.has(name)) {
    throw new RookeryError(
      "StorageAlreadyOpen",
      `the IndexedDB database "${name}" is already open here; close or crash it first`,
      { database: name },
    );
  }
  names.add(name);
  try {
    const request = factory.open(name, schemaVersion);
    request.addEventListener("upgradeneeded", () => {
      request.result.createObjectStore(recordsStore);
    });
    const db = (await wrap(request)) as unknown as IDBPDatabase<RecordsSchema>;
    return new IndexedDbStorage<S>(name, db, names, {
      durability: options.durability ?? "strict",
      limits: { ...storageLimits, ...options.limits },
    });
  } catch (error) {
    names.delete(name);
    throw new RookeryError(
      "StorageFailed",
      `cannot open the IndexedDB database "${name}": ${messageOf(error)}. The browser may be ` +
        "blocking storage (private browsing, site data disabled) or out of quota",
      { database: name },
    );
  }
}

/** deleteIndexedDbStorage removes a server's database (it must not be open). */
export async function deleteIndexedDbStorage(
  cluster: string,
  server: string,
  factory?: IDBFactory,
): Promise<void> {
  await wrap(factoryOf(factory).deleteDatabase(indexedDbName(cluster, server)));
}

interface Job {
  readonly batch: EncodedBatch;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** IndexedDbStorage is the Storage port over one IndexedDB database; see the file comment. */
export class IndexedDbStorage<S extends object = AnySchema> implements Storage<S> {
  private readonly queue: Job[] = [];
  private queuedBytes = 0;
  private running: Promise<void> | null = null;
  private closed = false;
  private failure: RookeryError | null = null;
  private readonly durability: IDBTransactionDurability;
  private readonly limits: StorageLimits;
  private readonly counters: StorageStats = { writes: 0, operations: 0, bytes: 0, syncs: 0 };

  /** Use openIndexedDbStorage. */
  constructor(
    readonly name: string,
    private readonly db: IDBPDatabase<RecordsSchema>,
    private readonly names: Set<string>,
    options: { durability: IDBTransactionDurability; limits: StorageLimits },
  ) {
    this.durability = options.durability;
    this.limits = options.limits;
    // Another tab deleting or upgrading the database must not wait on us forever: let go, and
    // refuse further calls with a message that says why.
    db.addEventListener("versionchange", () => {
      this.stop(
        new RookeryError(
          "StorageFailed",
          `the IndexedDB database "${name}" was deleted or upgraded elsewhere; reopen it`,
          { database: name },
        ),
      );
    });
    db.addEventListener("close", () => {
      this.stop(
        new RookeryError(
          "StorageFailed",
          `the browser closed the IndexedDB database "${name}" (storage cleared or lost); ` +
            "reopen it",
          { database: name },
        ),
      );
    });
  }

  write(batch: readonly StorageOperation<S>[]): Promise<void> {
    let encoded: EncodedBatch;
    try {
      encoded = admitBatch(this.refusal("write"), batch, this.limits, this.queuedBytes, this.name);
    } catch (error) {
      return Promise.reject(error);
    }
    this.queuedBytes += encoded.chars;
    const done = new Promise<void>((resolve, reject) => {
      this.queue.push({ batch: encoded, resolve, reject });
    });
    // Start in a microtask, so batches written in the same synchronous run share a transaction.
    if (!this.running) this.running = Promise.resolve().then(() => this.pump());
    return done;
  }

  private refusal(verb: string): RookeryError | null {
    if (this.failure) return this.failure;
    return this.closed ? closedError(this.name, verb) : null;
  }

  /** pump commits queued batches, one group per transaction, until the queue is empty. */
  private async pump(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const { group, chars } = takeGroup(this.queue, this.limits.groupBytesMax);
      this.queuedBytes -= chars;
      try {
        await this.commit(group);
      } catch (error) {
        // The transaction aborted, so none of the group is stored: each batch is still whole.
        const failed = new RookeryError(
          "StorageWriteFailed",
          `IndexedDB "${this.name}" refused a write (${messageOf(error)}); nothing of it was ` +
            "stored. If the browser is out of quota, free space and try again",
          { database: this.name },
        );
        for (const job of group) job.reject(failed);
        continue;
      }
      if (this.closed) {
        // Crashed while committing: a killed server never hears back, so nothing is acknowledged.
        const lost = this.failure ?? closedError(this.name, "finish a write (it crashed)");
        for (const job of group) job.reject(lost);
        break;
      }
      for (const job of group) {
        this.counters.writes++;
        this.counters.operations += job.batch.operations.length;
        this.counters.bytes += job.batch.chars;
      }
      this.counters.syncs++;
      for (const job of group) job.resolve();
    }
    this.running = null;
  }

  private async commit(group: readonly Job[]): Promise<void> {
    const tx = this.db.transaction(recordsStore, "readwrite", { durability: this.durability });
    const requests: Promise<unknown>[] = [];
    for (const job of group) {
      for (const { store, key, json } of job.batch.operations) {
        requests.push(
          json === null ? tx.store.delete([store, key]) : tx.store.put(json, [store, key]),
        );
      }
    }
    // Awaiting every request with tx.done leaves no request rejection unhandled.
    await Promise.all([...requests, tx.done]);
  }

  async load(): Promise<StorageContents<S>> {
    const refused = this.refusal("load");
    if (refused) throw refused;
    const tx = this.db.transaction(recordsStore, "readonly");
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll(), tx.done]);
    const out = new Map<string, Map<string, unknown>>();
    keys.forEach(([store, key], index) => {
      let entries = out.get(store);
      if (!entries) out.set(store, (entries = new Map()));
      entries.set(key, decodeValue(values[index]!));
    });
    return out as StorageContents<S>;
  }

  async loadStore<K extends StoreName<S>>(store: K): Promise<Map<string, S[K]>> {
    const refused = this.refusal("load");
    if (refused) throw refused;
    checkStoreName(store);
    // Arrays sort after strings in IndexedDB key order, so [store, []] is above every [store, key].
    const range = IDBKeyRange.bound([store], [store, []]);
    const tx = this.db.transaction(recordsStore, "readonly");
    const [keys, values] = await Promise.all([
      tx.store.getAllKeys(range),
      tx.store.getAll(range),
      tx.done,
    ]);
    const out = new Map<string, S[K]>();
    keys.forEach(([, key], index) => out.set(key, decodeValue(values[index]!) as S[K]));
    return out;
  }

  stats(): StorageStats {
    return { ...this.counters };
  }

  /** close waits until every queued batch is committed, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.running) await this.running;
    this.stop(null);
  }

  /**
   * crash rejects queued batches and closes the database at once. A transaction already
   * committing finishes or aborts as a whole (IndexedDB closes after it), but is not acknowledged.
   */
  crash(): void {
    this.stop(null);
  }

  private stop(failure: RookeryError | null): void {
    if (this.closed) return;
    if (failure) this.failure = failure;
    this.closed = true;
    this.names.delete(this.name);
    const lost = this.queue.splice(0);
    this.queuedBytes = 0;
    this.db.close();
    const error = failure ?? closedError(this.name, "finish a write (it crashed)");
    for (const job of lost) job.reject(error);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
