import { assert, AssertionError, formatChangeVector, mergeChangeVectors, parseChangeVector } from "../core/index.ts";
import type { ChangeVector } from "../core/index.ts";
import { documentKey } from "./ids.ts";
import type {
  AttachmentItem,
  ConflictItem,
  DocumentItem,
  RevisionItem,
  StoredItem,
  TombstoneItem,
} from "./items.ts";
import {
  stateKey,
  type InstanceStateRecord,
  type ItemStoreName,
  type PersistenceBatch,
  type PersistenceOperation,
  type PersistedRecord,
} from "./storage.ts";

/** keySeparator joins parts of storage keys; ids and names may not contain control characters. */
const keySeparator = "\u001f";

/** Location says where an item lives: a store, the document it belongs to, and a sub key. */
interface Location {
  readonly store: ItemStoreName;
  readonly documentKey: string;
  readonly subKey: string;
}

/** locate finds an item's place; one document, many conflicts/revisions/attachment contents. */
function locate(item: StoredItem): Location {
  switch (item.kind) {
    case "document":
    case "tombstone":
      return { store: "documents", documentKey: documentKey(item.id), subKey: "" };
    case "conflict":
      return { store: "conflicts", documentKey: documentKey(item.id), subKey: item.changeVector };
    case "revision":
      return { store: "revisions", documentKey: documentKey(item.id), subKey: item.changeVector };
    case "attachment":
      return {
        store: "attachments",
        documentKey: documentKey(item.documentId),
        subKey: attachmentSubKey(item.name, item.hash),
      };
  }
}

/** attachmentSubKey names attachment content within a document: name (any case) and hash. */
export function attachmentSubKey(name: string, hash: string): string {
  return `${name.toLowerCase()}${keySeparator}${hash}`;
}

function storageKey(location: Location): string {
  return location.subKey === ""
    ? location.documentKey
    : `${location.documentKey}${keySeparator}${location.subKey}`;
}

/**
 * Tables hold an instance's items in memory: per store, per document, per sub key, plus one
 * index by etag. Maps keep insertion order and etags only grow, so iterating `byEtag` walks the
 * items in etag order without sorting; `etagOrder` lets replication start in the middle.
 */
export class Tables {
  private readonly stores: Record<ItemStoreName, Map<string, Map<string, StoredItem>>> = {
    documents: new Map(),
    conflicts: new Map(),
    revisions: new Map(),
    attachments: new Map(),
  };
  readonly byEtag = new Map<number, StoredItem>();
  /** Every etag placed, ascending; etags of replaced items stay as holes until compaction. */
  private etagOrder: number[] = [];
  private etagHoles = 0;
  lastEtag = 0;
  lastTransaction = 0;
  /**
   * The instance's vector, parsed; its text is made only when read, since a commit merges every
   * item it writes into it and reads the text once, at the end.
   */
  private vector: ChangeVector = [];
  private vectorText: string | undefined = "";

  get changeVector(): string {
    return (this.vectorText ??= formatChangeVector(this.vector));
  }

  set changeVector(text: string) {
    this.vector = parseChangeVector(text);
    this.vectorText = text;
  }

  /** parsedChangeVector is changeVector without formatting it. */
  get parsedChangeVector(): ChangeVector {
    return this.vector;
  }

  /** mergeChangeVector merges a version's vector into the instance's. */
  mergeChangeVector(changeVector: string): void {
    this.vector = mergeChangeVectors(this.vector, changeVector);
    this.vectorText = undefined;
  }
  readonly incoming = new Map<string, number>();

  /** current returns the document or tombstone of a document key. */
  current(key: string): DocumentItem | TombstoneItem | undefined {
    const item = this.stores.documents.get(key)?.get("");
    if (item === undefined || item.kind === "document" || item.kind === "tombstone") return item;
    throw new AssertionError(`the documents store holds a ${item.kind} for "${key}"`);
  }

  conflictsOf(key: string): ConflictItem[] {
    return this.list("conflicts", key).filter(
      (item): item is ConflictItem => item.kind === "conflict",
    );
  }

  revisionsOf(key: string): RevisionItem[] {
    return this.list("revisions", key).filter(
      (item): item is RevisionItem => item.kind === "revision",
    );
  }

  attachmentsOf(key: string): AttachmentItem[] {
    return this.list("attachments", key).filter(
      (item): item is AttachmentItem => item.kind === "attachment",
    );
  }

  /** find returns the item at (store, document key, sub key). */
  find(store: ItemStoreName, key: string, subKey: string): StoredItem | undefined {
    return this.stores[store].get(key)?.get(subKey);
  }

  private list(store: ItemStoreName, key: string): StoredItem[] {
    const items = this.stores[store].get(key);
    if (items === undefined) return [];
    return [...items.values()].sort((a, b) => a.etag - b.etag);
  }

  /** place stores an item (which already has its etag), replacing what was at its location. */
  place(item: StoredItem): Location {
    const location = locate(item);
    this.displace(location);
    let byDocument = this.stores[location.store].get(location.documentKey);
    if (byDocument === undefined) {
      byDocument = new Map();
      this.stores[location.store].set(location.documentKey, byDocument);
    }
    byDocument.set(location.subKey, item);
    const newest = this.etagOrder[this.etagOrder.length - 1] ?? 0;
    assert(item.etag > newest, () => `item #${item.etag} placed after #${newest}`);
    this.byEtag.set(item.etag, item);
    this.etagOrder.push(item.etag);
    return location;
  }

  /** displace removes whatever is at a location and returns it. */
  displace(location: Location): StoredItem | undefined {
    const byDocument = this.stores[location.store].get(location.documentKey);
    const previous = byDocument?.get(location.subKey);
    if (byDocument === undefined || previous === undefined) return undefined;
    byDocument.delete(location.subKey);
    if (byDocument.size === 0) this.stores[location.store].delete(location.documentKey);
    assert(this.byEtag.get(previous.etag) === previous, () => `etag index lost #${previous.etag}`);
    this.byEtag.delete(previous.etag);
    this.etagHoles += 1;
    // Compacting when half the order is holes keeps the index linear in the live items.
    if (this.etagHoles > 64 && this.etagHoles * 2 > this.etagOrder.length) {
      this.etagOrder = [...this.byEtag.keys()];
      this.etagHoles = 0;
    }
    return previous;
  }

  /** itemsAfter walks the items whose etag is above `etag`, in etag order, from a binary search. */
  *itemsAfter(etag: number): Generator<StoredItem> {
    let low = 0;
    let high = this.etagOrder.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.etagOrder[middle]! <= etag) low = middle + 1;
      else high = middle;
    }
    for (let index = low; index < this.etagOrder.length; index++) {
      const item = this.byEtag.get(this.etagOrder[index]!);
      if (item !== undefined) yield item;
    }
  }

  /** state returns the instance's own record, as it is persisted. */
  state(): InstanceStateRecord {
    return {
      kind: "state",
      lastEtag: this.lastEtag,
      lastTransaction: this.lastTransaction,
      changeVector: this.changeVector,
      incoming: Object.fromEntries([...this.incoming].sort(([a], [b]) => (a < b ? -1 : 1))),
    };
  }

  /** load rebuilds the tables from a full load of storage (recovery). */
  load(records: readonly PersistedRecord[]): void {
    assert(this.byEtag.size === 0 && this.lastEtag === 0, "load into tables that are not empty");
    const items: StoredItem[] = [];
    for (const record of records) {
      if (record.value.kind === "state") {
        this.lastEtag = record.value.lastEtag;
        this.lastTransaction = record.value.lastTransaction;
        this.changeVector = record.value.changeVector;
        for (const [source, etag] of Object.entries(record.value.incoming)) {
          this.incoming.set(source, etag);
        }
      } else {
        items.push(record.value);
      }
    }
    // Placing in etag order keeps the etag index sorted, the one invariant iteration relies on.
    for (const item of items.sort((a, b) => a.etag - b.etag)) {
      assert(
        item.etag <= this.lastEtag,
        () => `item #${item.etag} after last etag ${this.lastEtag}`,
      );
      const location = locate(item);
      assert(storageKey(location) !== "", "empty storage key");
      this.place(item);
    }
  }
}

/** ItemDraft is an item before the writer gives it an etag and a transaction. */
export type ItemDraft = DistributiveOmit<StoredItem, "etag" | "transaction">;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Writer applies one commit (a local transaction, or a replicated batch of transactions) to the
 * tables and records what storage must keep. Callers validate everything before the first write,
 * so a commit never stops half-way: that is how "all or nothing" holds without an undo log.
 */
export class Writer {
  private readonly operations = new Map<string, PersistenceOperation>();
  private readonly transactions: number[] = [];
  private transactionOpen = false;

  constructor(
    private readonly tables: Tables,
    private readonly database: string,
  ) {}

  /** startTransaction begins a transaction; its number is taken at its first write. */
  startTransaction(): void {
    this.transactionOpen = false;
  }

  /** nextEtag is the etag the next write will get (local writes put it in their vector). */
  nextEtag(): number {
    return this.tables.lastEtag + 1;
  }

  /** write gives a draft the next etag and the current transaction, and stores it. */
  write(draft: ItemDraft): StoredItem {
    if (!this.transactionOpen) {
      this.tables.lastTransaction += 1;
      this.transactions.push(this.tables.lastTransaction);
      this.transactionOpen = true;
    }
    this.tables.lastEtag += 1;
    const item = {
      ...draft,
      etag: this.tables.lastEtag,
      transaction: this.tables.lastTransaction,
    } as StoredItem;
    if (item.kind !== "attachment") {
      this.tables.mergeChangeVector(item.changeVector);
    }
    const location = this.tables.place(item);
    this.record({ op: "put", store: location.store, key: storageKey(location), value: item });
    return item;
  }

  /** remove deletes the item at a location, if any. */
  remove(item: StoredItem): void {
    const location = locate(item);
    if (this.tables.displace(location) === undefined) return;
    this.record({ op: "delete", store: location.store, key: storageKey(location) });
  }

  private record(operation: PersistenceOperation): void {
    const key = `${operation.store}${keySeparator}${operation.key}`;
    // A later operation on the same key replaces the earlier one: storage keeps the outcome.
    this.operations.delete(key);
    this.operations.set(key, operation);
  }

  /** finish returns the items this commit left in place and the batch storage must keep. */
  finish(): { written: StoredItem[]; persistence: PersistenceBatch } {
    const written: StoredItem[] = [];
    const operations: PersistenceOperation[] = [];
    for (const operation of this.operations.values()) {
      operations.push(operation);
      if (operation.op === "put" && operation.value.kind !== "state") written.push(operation.value);
    }
    operations.push({ op: "put", store: "database", key: stateKey, value: this.tables.state() });
    written.sort((a, b) => a.etag - b.etag);
    return {
      written,
      persistence: {
        database: this.database,
        transactions: [...this.transactions],
        lastEtag: this.tables.lastEtag,
        operations,
      },
    };
  }
}
