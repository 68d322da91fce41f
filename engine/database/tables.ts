import { assert } from "../core/index.ts";
import { documentKey } from "./ids.ts";
import { InstanceVector } from "./instance-vector.ts";
import type {
  AttachmentItem,
  ConflictItem,
  DocumentItem,
  RevisionItem,
  StoredItem,
  TombstoneItem,
} from "./items.ts";
import type { InstanceStateRecord, ItemStoreName, PersistedRecord } from "./storage.ts";

/** keySeparator joins parts of storage keys; ids and names may not contain control characters. */
const keySeparator = "\u001f";

/** SideStoreName names the stores that hold many items per document. */
type SideStoreName = Exclude<ItemStoreName, "documents">;

/** storeOf names the store an item lives in: one document, many conflicts/revisions/contents. */
export function storeOf(item: StoredItem): ItemStoreName {
  switch (item.kind) {
    case "document":
    case "tombstone":
      return "documents";
    case "conflict":
      return "conflicts";
    case "revision":
      return "revisions";
    case "attachment":
      return "attachments";
  }
}

/** subKeyOf names an item within its document: "" for the current version. */
export function subKeyOf(item: StoredItem): string {
  switch (item.kind) {
    case "document":
    case "tombstone":
      return "";
    case "conflict":
    case "revision":
      return item.changeVector;
    case "attachment":
      return attachmentSubKey(item.name, item.hash);
  }
}

/** documentKeyOf is the key of the document an item belongs to. */
export function documentKeyOf(item: StoredItem): string {
  return documentKey(item.kind === "attachment" ? item.documentId : item.id);
}

/** attachmentSubKey names attachment content within a document: name (any case) and hash. */
export function attachmentSubKey(name: string, hash: string): string {
  return `${name.toLowerCase()}${keySeparator}${hash}`;
}

/** storageKey is an item's key in its store. */
export function storageKey(key: string, subKey: string): string {
  return subKey === "" ? key : `${key}${keySeparator}${subKey}`;
}

/** compositeKey names a key across all stores, for bookkeeping that spans them. */
export function compositeKey(store: ItemStoreName, key: string): string {
  return `${store}${keySeparator}${key}`;
}

/**
 * Tables hold an instance's items in memory: the current version per document, the other items
 * per document and sub key, plus one index by etag. Maps keep insertion order and etags only
 * grow, so iterating `byEtag` walks the items in etag order without sorting; `etagOrder` lets
 * replication start in the middle.
 */
export class Tables {
  /** The current version of each document; one flat map, since every write replaces one. */
  private readonly documents = new Map<string, DocumentItem | TombstoneItem>();
  /** Per side store, per document key, per sub key; a document's map goes when it empties. */
  private readonly sides: Record<SideStoreName, Map<string, Map<string, StoredItem>>> = {
    conflicts: new Map(),
    revisions: new Map(),
    attachments: new Map(),
  };
  readonly byEtag = new Map<number, StoredItem>();
  /** Every etag placed, ascending; etags of replaced items stay as holes until compaction. */
  private etagOrder: number[] = [];
  /**
   * JSON text lengths beside `etagOrder` (0: not measured yet): known when an item is written,
   * measured on demand after recovery. Two arrays of small integers cost less to keep than a map
   * entry per item, and compaction keeps them in step.
   */
  private etagJsonLengths: number[] = [];
  private etagHoles = 0;
  lastEtag = 0;
  lastTransaction = 0;
  /** The change vector of everything the instance has written or received. */
  readonly vector = new InstanceVector();
  private readonly incoming = new Map<string, number>();
  /** The incoming etags as the state record shows them, made again only when one moves. */
  private incomingRecord: Readonly<Record<string, number>> | undefined = {};

  /** incomingEtag is the last etag of `sourceDatabaseId` whose replication batch was applied. */
  incomingEtag(sourceDatabaseId: string): number {
    return this.incoming.get(sourceDatabaseId) ?? 0;
  }

  setIncomingEtag(sourceDatabaseId: string, etag: number): void {
    this.incoming.set(sourceDatabaseId, etag);
    this.incomingRecord = undefined;
  }

  /** current returns the document or tombstone of a document key. */
  current(key: string): DocumentItem | TombstoneItem | undefined {
    return this.documents.get(key);
  }

  /** hasConflicts, hasRevisions and hasAttachments answer without listing anything. */
  hasConflicts(key: string): boolean {
    return this.sides.conflicts.has(key);
  }

  hasRevisions(key: string): boolean {
    return this.sides.revisions.has(key);
  }

  hasAttachments(key: string): boolean {
    return this.sides.attachments.has(key);
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
    if (store === "documents") return subKey === "" ? this.documents.get(key) : undefined;
    return this.sides[store].get(key)?.get(subKey);
  }

  private list(store: SideStoreName, key: string): StoredItem[] {
    const items = this.sides[store].get(key);
    if (items === undefined) return [];
    return [...items.values()].sort((a, b) => a.etag - b.etag);
  }

  /**
   * place stores an item (which already has its etag) at (its store, `key`, `subKey`), replacing
   * what was there, and returns the item it replaced. `jsonLength`, when known, is
   * JSON.stringify(item).length.
   */
  place(
    item: StoredItem,
    store: ItemStoreName,
    key: string,
    subKey: string,
    jsonLength = 0,
  ): StoredItem | undefined {
    const previous = this.displace(store, key, subKey);
    if (item.kind === "document" || item.kind === "tombstone") {
      this.documents.set(key, item);
    } else {
      const side = this.sides[store as SideStoreName];
      let byDocument = side.get(key);
      if (byDocument === undefined) {
        byDocument = new Map();
        side.set(key, byDocument);
      }
      byDocument.set(subKey, item);
    }
    const newest = this.etagOrder[this.etagOrder.length - 1] ?? 0;
    assert(item.etag > newest, () => `item #${item.etag} placed after #${newest}`);
    this.byEtag.set(item.etag, item);
    this.etagOrder.push(item.etag);
    this.etagJsonLengths.push(jsonLength);
    return previous;
  }

  /** displace removes whatever is at a location and returns it. */
  displace(store: ItemStoreName, key: string, subKey: string): StoredItem | undefined {
    let previous: StoredItem | undefined;
    if (store === "documents") {
      previous = this.documents.get(key);
      if (previous === undefined) return undefined;
      this.documents.delete(key);
    } else {
      const side = this.sides[store];
      const byDocument = side.get(key);
      previous = byDocument?.get(subKey);
      if (byDocument === undefined || previous === undefined) return undefined;
      byDocument.delete(subKey);
      if (byDocument.size === 0) side.delete(key);
    }
    const displaced = previous;
    assert(
      this.byEtag.get(displaced.etag) === displaced,
      () => `etag index lost #${displaced.etag}`,
    );
    this.byEtag.delete(displaced.etag);
    this.etagHoles += 1;
    // Compacting when half the order is holes keeps the index linear in the live items.
    if (this.etagHoles > 64 && this.etagHoles * 2 > this.etagOrder.length) this.compact();
    return displaced;
  }

  private compact(): void {
    const order: number[] = [];
    const lengths: number[] = [];
    for (let index = 0; index < this.etagOrder.length; index++) {
      const etag = this.etagOrder[index]!;
      if (!this.byEtag.has(etag)) continue;
      order.push(etag);
      lengths.push(this.etagJsonLengths[index]!);
    }
    this.etagOrder = order;
    this.etagJsonLengths = lengths;
    this.etagHoles = 0;
  }

  /** firstIndexAfter is the index in `etagOrder` of the first etag above `etag`. */
  private firstIndexAfter(etag: number): number {
    let low = 0;
    let high = this.etagOrder.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.etagOrder[middle]! <= etag) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** itemsAfter walks the items whose etag is above `etag`, in etag order, from a binary search. */
  *itemsAfter(etag: number): Generator<StoredItem> {
    for (let index = this.firstIndexAfter(etag); index < this.etagOrder.length; index++) {
      const item = this.byEtag.get(this.etagOrder[index]!);
      if (item !== undefined) yield item;
    }
  }

  /** jsonLength is JSON.stringify(item).length, measured at most once per item in place. */
  jsonLength(item: StoredItem): number {
    // An item no longer in place (or another instance's) is measured, not remembered.
    if (this.byEtag.get(item.etag) !== item) return JSON.stringify(item).length;
    const index = this.firstIndexAfter(item.etag - 1);
    let length = this.etagJsonLengths[index]!;
    if (length === 0) {
      length = JSON.stringify(item).length;
      this.etagJsonLengths[index] = length;
    }
    return length;
  }

  /** state returns the instance's own record, as it is persisted. */
  state(): InstanceStateRecord {
    this.incomingRecord ??= Object.fromEntries(
      [...this.incoming].sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    return {
      kind: "state",
      lastEtag: this.lastEtag,
      lastTransaction: this.lastTransaction,
      changeVector: this.vector.text,
      incoming: this.incomingRecord,
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
        this.vector.reset(record.value.changeVector);
        for (const [source, etag] of Object.entries(record.value.incoming)) {
          this.setIncomingEtag(source, etag);
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
      const key = documentKeyOf(item);
      const subKey = subKeyOf(item);
      assert(storageKey(key, subKey) !== "", "empty storage key");
      this.place(item, storeOf(item), key, subKey);
    }
  }
}
