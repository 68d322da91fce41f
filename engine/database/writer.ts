import type { StoredItem } from "./items.ts";
import { itemJson, storableJson } from "./item-json.ts";
import type { JsonObject } from "./json.ts";
import {
  stateKey,
  type ItemStoreName,
  type PersistenceBatch,
  type PersistenceOperation,
} from "./storage.ts";
import {
  compositeKey,
  documentKeyOf,
  storageKey,
  storeOf,
  subKeyOf,
  type Tables,
} from "./tables.ts";

/** ItemDraft is an item before the writer gives it an etag and a transaction. */
export type ItemDraft = DistributiveOmit<StoredItem, "etag" | "transaction">;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Writer applies one commit (a local transaction, or a replicated batch of transactions) to the
 * tables and records what storage must keep. Callers validate everything before the first write,
 * so a commit never stops half-way: that is how "all or nothing" holds without an undo log.
 *
 * Storage keeps the outcome, one operation per key, in the order of each key's last change. An
 * item placed by this commit has an etag above `startEtag`, so when it is replaced or removed
 * again its put is found by etag; only a delete followed by a put needs a key lookup, and
 * deletes are rare (resolved conflicts, collected attachment content).
 */
export class Writer {
  private readonly slots: (PersistenceOperation | undefined)[] = [];
  private readonly putSlots = new Map<number, number>();
  private readonly deleteSlots = new Map<string, number>();
  private readonly startEtag: number;
  private readonly transactions: number[] = [];
  private transactionOpen = false;
  /** The text of the last body stringified; a version and its revision share one body. */
  private lastBody: JsonObject | undefined;
  private lastBodyJson = "";

  constructor(
    private readonly tables: Tables,
    private readonly database: string,
  ) {
    this.startEtag = tables.lastEtag;
  }

  /** startTransaction begins a transaction; its number is taken at its first write. */
  startTransaction(): void {
    this.transactionOpen = false;
  }

  /** nextEtag is the etag the next write will get (local writes put it in their vector). */
  nextEtag(): number {
    return this.tables.lastEtag + 1;
  }

  /**
   * write gives a draft the next etag and the current transaction and stores it under the
   * document key `key`. `bodyJson`, when given, is JSON.stringify of the draft's body.
   */
  write(draft: ItemDraft, key: string, bodyJson?: string): StoredItem {
    const tables = this.tables;
    if (!this.transactionOpen) {
      tables.lastTransaction += 1;
      this.transactions.push(tables.lastTransaction);
      this.transactionOpen = true;
    }
    tables.lastEtag += 1;
    const item = stamp(draft, tables.lastEtag, tables.lastTransaction);
    if (item.kind !== "attachment") tables.vector.merge(item.changeVector);
    const json = itemJson(item, this.bodyJsonOf(item, bodyJson));
    const store = storeOf(item);
    const subKey = subKeyOf(item);
    const previous = tables.place(item, store, key, subKey, json.length);
    if (previous !== undefined) this.forgetPut(previous);
    const keyInStore = storageKey(key, subKey);
    if (this.deleteSlots.size > 0) this.forgetDelete(compositeKey(store, keyInStore));
    this.putSlots.set(item.etag, this.slots.length);
    this.slots.push(put(store, keyInStore, item, storableJson(json)));
    return item;
  }

  /** remove deletes the item at a location, if any. */
  remove(item: StoredItem): void {
    const store = storeOf(item);
    const key = documentKeyOf(item);
    const subKey = subKeyOf(item);
    const displaced = this.tables.displace(store, key, subKey);
    if (displaced === undefined) return;
    this.forgetPut(displaced);
    const keyInStore = storageKey(key, subKey);
    const composite = compositeKey(store, keyInStore);
    this.forgetDelete(composite);
    this.deleteSlots.set(composite, this.slots.length);
    this.slots.push({ op: "delete", store, key: keyInStore });
  }

  /** forgetPut drops the put of an item this commit wrote and has now replaced or removed. */
  private forgetPut(item: StoredItem): void {
    if (item.etag <= this.startEtag) return;
    const slot = this.putSlots.get(item.etag);
    if (slot === undefined) return;
    this.slots[slot] = undefined;
    this.putSlots.delete(item.etag);
  }

  private forgetDelete(composite: string): void {
    const slot = this.deleteSlots.get(composite);
    if (slot === undefined) return;
    this.slots[slot] = undefined;
    this.deleteSlots.delete(composite);
  }

  /**
   * knowBodyJson tells the writer the JSON text of a body it is about to write (a replicated body
   * arrives as text), so that writing it, and its revision, prints nothing again.
   */
  knowBodyJson(body: JsonObject, json: string): void {
    this.lastBody = body;
    this.lastBodyJson = json;
  }

  private bodyJsonOf(item: StoredItem, given: string | undefined): string | undefined {
    if (item.kind === "attachment" || item.kind === "tombstone" || item.body === null)
      return undefined;
    if (given !== undefined) {
      this.lastBody = item.body;
      this.lastBodyJson = given;
    } else if (item.body !== this.lastBody) {
      // Bodies are never changed once stored, so the same object has the same text.
      this.lastBody = item.body;
      this.lastBodyJson = JSON.stringify(item.body);
    }
    return this.lastBodyJson;
  }

  /** finish returns the items this commit left in place and the batch storage must keep. */
  finish(): { written: StoredItem[]; persistence: PersistenceBatch } {
    // Puts are recorded as etags are handed out, so `written` comes out in etag order.
    const written: StoredItem[] = [];
    const operations: PersistenceOperation[] = [];
    for (const operation of this.slots) {
      if (operation === undefined) continue;
      operations.push(operation);
      if (operation.op === "put" && operation.value.kind !== "state") written.push(operation.value);
    }
    operations.push({ op: "put", store: "database", key: stateKey, value: this.tables.state() });
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

function put(
  store: ItemStoreName,
  key: string,
  value: StoredItem,
  json: string | undefined,
): PersistenceOperation {
  return json === undefined
    ? { op: "put", store, key, value }
    : { op: "put", store, key, value, json };
}

/**
 * stamp makes the stored item: the draft's fields, in one fixed order per kind (the order
 * itemJson prints), then its etag and transaction.
 */
function stamp(draft: ItemDraft, etag: number, transaction: number): StoredItem {
  switch (draft.kind) {
    case "document":
    case "conflict":
    case "revision":
      // A document's body is never null; the kind, copied from the draft, keeps that true.
      return {
        kind: draft.kind,
        id: draft.id,
        collection: draft.collection,
        changeVector: draft.changeVector,
        lastModifiedMs: draft.lastModifiedMs,
        body: draft.body,
        attachments: draft.attachments,
        etag,
        transaction,
      } as StoredItem;
    case "tombstone":
      return {
        kind: draft.kind,
        id: draft.id,
        collection: draft.collection,
        changeVector: draft.changeVector,
        lastModifiedMs: draft.lastModifiedMs,
        etag,
        transaction,
      };
    case "attachment":
      return {
        kind: draft.kind,
        documentId: draft.documentId,
        name: draft.name,
        hash: draft.hash,
        size: draft.size,
        contentType: draft.contentType,
        contentBase64: draft.contentBase64,
        etag,
        transaction,
      };
  }
}
