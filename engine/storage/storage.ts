/**
 * The Storage port: a small transactional key-value store over named stores. The engine keeps its
 * working state in memory and uses Storage only for durability, so the port has exactly two
 * verbs that matter — an atomic, durable `write` of a batch, and a full `load` for recovery.
 *
 * Backends: memory (the simulator; durability is decided by the caller), fs (Node: an append-only
 * log of checksummed records with group commit and compaction) and indexeddb (browser, via idb).
 * One conformance suite (test/storage/conformance.ts) holds them to the same contract.
 */

/**
 * StorageValue is what a store keeps: JSON-like values (plain objects and arrays, strings, finite
 * numbers, booleans, null) and Uint8Array. Every backend encodes values the same way, so a value
 * reads back identically from each; anything else (undefined, NaN, Date, Map, class instances,
 * cycles) is refused at `write` with an InvalidStorageValue error naming the path.
 */
export type StorageValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly StorageValue[]
  | { readonly [key: string]: StorageValue };

/**
 * AnySchema is the default schema: any store name, any StorageValue. Consumers that know their
 * stores declare a schema instead, in the spirit of idb's DBSchema:
 * `interface RaftSchema { "raft-log": Entry; "raft-state": HardState }` and `Storage<RaftSchema>`.
 * Values of a declared schema are still checked at runtime (interfaces cannot promise JSON-ness).
 */
export type AnySchema = Record<string, StorageValue>;

/** StoreName lists the store names of schema `S`. */
export type StoreName<S extends object> = Extract<keyof S, string>;

/**
 * StorageOperation is one put or delete of a key in a named store; for a put, `value` has the
 * store's type.
 *
 * A put may carry `json`: the exact JSON.stringify of `value`, which the caller promises is plain
 * JSON data (no Uint8Array, no object key "\u0000", nothing refused). A caller that has already
 * stringified the value (the database layer does, to measure documents) passes the text along,
 * and every backend then trusts it: it skips its own check and stringify and stores the text as
 * is (store name and key are still checked). A `json` that breaks the promise is stored anyway
 * and reads back as whatever it parses to, so only pass text JSON.stringify made of `value`.
 */
export type StorageOperation<S extends object = AnySchema> = {
  [K in StoreName<S>]:
    | {
        readonly store: K;
        readonly op: "put";
        readonly key: string;
        readonly value: S[K];
        readonly json?: string;
      }
    | { readonly store: K; readonly op: "delete"; readonly key: string };
}[StoreName<S>];

/** StorageContents is the full state of a storage: store name → key → value. */
export type StorageContents<S extends object = AnySchema> = Map<
  StoreName<S>,
  Map<string, S[StoreName<S>]>
>;

/**
 * StorageStats counts what a backend did since it was opened, so tests and benchmarks can see
 * group commit work: `syncs` is fsyncs (fs), committed transactions (indexeddb) or sync points
 * (memory); fewer syncs than writes means concurrent writes shared one.
 */
export interface StorageStats {
  /** Batches acknowledged as durable. */
  writes: number;
  /** Operations in those batches. */
  operations: number;
  /**
   * Size of those batches: bytes written to the log (fs), or characters of their encoded JSON
   * (memory, indexeddb, which write no bytes themselves).
   */
  bytes: number;
  /** Durability points paid for (fsync, IndexedDB transaction, memory sync). */
  syncs: number;
}

/**
 * Storage is the port. Every backend promises:
 * - `write` is atomic and durable: once its promise resolves, the whole batch survives a crash;
 *   a crash before that leaves all of the batch or none of it. Batches apply in call order, and
 *   their promises resolve in call order.
 * - `load` returns exactly what acknowledged (and possibly in-flight) batches left, in a fresh
 *   copy the caller may mutate.
 * - After `close` or `crash`, every call rejects with StorageClosed.
 */
export interface Storage<S extends object = AnySchema> {
  /** write makes one batch durable, atomically; an empty batch waits for earlier writes. */
  write(batch: readonly StorageOperation<S>[]): Promise<void>;
  /** load returns every store with its keys and values, for recovery. */
  load(): Promise<StorageContents<S>>;
  /** loadStore returns one store's keys and values (empty if the store was never written). */
  loadStore<K extends StoreName<S>>(store: K): Promise<Map<string, S[K]>>;
  /** stats counts writes and sync points since open. */
  stats(): StorageStats;
  /** close waits for queued writes to become durable, then releases the backend. */
  close(): Promise<void>;
  /**
   * crash stops at once, as a killed process would: queued batches are rejected and may or may
   * not be kept (each whole or not at all); acknowledged batches are kept. The runtime uses it to
   * kill a server the same way in every backend.
   */
  crash(): void;
}

/**
 * storageLimits bounds every batch and queue of every backend; the unit is the last word of each
 * name. Backends take a partial override so tests can shrink them.
 */
export const storageLimits = {
  /** Encoded (UTF-8 JSON) bytes of one write batch; a batch is one record in the fs log. */
  batchBytesMax: 16 * 1024 * 1024,
  /** Operations in one write batch. */
  batchOperationsMax: 100_000,
  /** Characters of one key. */
  keyCharsMax: 1024,
  /** Nesting depth of one value. */
  valueDepthMax: 128,
  /**
   * Encoded size (counted in JSON characters, a lower bound on bytes) waiting for a sync point;
   * more writes are refused until some commit.
   */
  queueBytesMax: 256 * 1024 * 1024,
  /**
   * Encoded size (counted in JSON characters) one group commit takes before its one fsync (fs) or
   * transaction (indexeddb); the rest waits for the next group.
   */
  groupBytesMax: 8 * 1024 * 1024,
} as const;

/** StorageLimits is storageLimits with numbers a test may change. */
export type StorageLimits = { -readonly [K in keyof typeof storageLimits]: number };

/**
 * storeNamePattern is what a store name looks like ("raft-log", "documents"): short, lower case,
 * so it can name an fs record field or an IndexedDB key prefix without escaping.
 */
export const storeNamePattern = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * wellKnownStores are the stores the engine's layers use; backends accept any name that matches
 * storeNamePattern, so a layer can add its own without touching storage.
 */
export const wellKnownStores = [
  "raft-log",
  "raft-state",
  "documents",
  "conflicts",
  "revisions",
  "attachments",
  "cursors",
  "database",
  "meta",
] as const;

/** StorageWarning is something recovery fixed and the operator should know about. */
export interface StorageWarning {
  /** "torn-tail-cut": an incomplete last record (a crash mid-write) was cut off. */
  readonly code: "torn-tail-cut";
  readonly message: string;
  readonly file: string;
  /** Byte offset where the cut record started (the file's new length). */
  readonly offset: number;
  /** Bytes removed. */
  readonly bytes: number;
}
