import type { StoredItem } from "./items.ts";

/**
 * ItemStoreName names the stores that hold items; "database" holds the instance's own state.
 * A storage backend keeps each store as a key-value table.
 */
export type ItemStoreName = "documents" | "conflicts" | "revisions" | "attachments";

/** StoreName is every store a database instance writes to. */
export type StoreName = ItemStoreName | "database";

/** stateKey is the one key of the "database" store. */
export const stateKey = "state";

/**
 * InstanceStateRecord is what an instance must remember besides its items: where its etag and
 * transaction sequences stand, the change vector of everything it has seen, and, per source
 * database id, the last source etag whose replication batch it has applied.
 */
export interface InstanceStateRecord {
  readonly kind: "state";
  readonly lastEtag: number;
  readonly lastTransaction: number;
  readonly changeVector: string;
  readonly incoming: Readonly<Record<string, number>>;
}

/** PersistedValue is anything a database instance asks storage to keep. */
export type PersistedValue = StoredItem | InstanceStateRecord;

/** PersistenceOperation is one put or delete of a key in a store. */
export type PersistenceOperation =
  | {
      readonly op: "put";
      readonly store: StoreName;
      readonly key: string;
      readonly value: PersistedValue;
      /**
       * The exact JSON.stringify of `value`, when the database has it at hand: plain JSON data
       * with no object key "\u0000", so storage may keep it without checking and encoding again.
       */
      readonly json?: string;
    }
  | { readonly op: "delete"; readonly store: StoreName; readonly key: string };

/**
 * PersistenceBatch is what one local or replicated transaction asks storage to make durable, as
 * a whole: a crash keeps all of it or none of it. Nothing may be acknowledged before it is.
 */
export interface PersistenceBatch {
  readonly database: string;
  /** The local transaction numbers the batch holds (one for a local write, one per replicated). */
  readonly transactions: readonly number[];
  readonly lastEtag: number;
  readonly operations: readonly PersistenceOperation[];
}

/** PersistedRecord is one stored key with its value, as a full load returns it. */
export interface PersistedRecord {
  readonly store: StoreName;
  readonly key: string;
  readonly value: PersistedValue;
}

/**
 * DatabaseStorage is the port through which a server keeps one instance durable. The database
 * never calls it; it hands out PersistenceBatch values and is rebuilt from PersistedRecords.
 */
export interface DatabaseStorage {
  /** write makes one batch durable, atomically, before the promise resolves. */
  write(batch: PersistenceBatch): Promise<void>;
  /** load returns every record written so far, for DatabaseInstance.recover. */
  load(): Promise<readonly PersistedRecord[]>;
}
