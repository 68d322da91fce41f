import { RookeryError } from "../core/index.ts";
import type {
  ConflictItem,
  DocumentItem,
  JsonObject,
  RevisionItem,
  StoredItem,
} from "../database/index.ts";
import type {
  ReplicatedTransaction,
  ReplicationAck,
  ReplicationBatch,
  ReplicationConnect,
} from "./messages.ts";

/**
 * The wire form of a replication batch: what one server posts to another. Each version's body
 * travels as its JSON text rather than as an object graph. The receiver has to keep that text
 * anyway (it is what its storage writes), so it parses the text once instead of receiving an
 * object and printing it again; and a string crosses a MessagePort as one copy, where an object
 * graph is walked on both sides. The sender prints the bodies while it prepares the batch ahead
 * (see OutgoingReplication.prepareNext), which is while the receiver is busy with the last one.
 */

type Packed<T extends { readonly body: JsonObject | null }> = Omit<T, "body"> & {
  readonly bodyJson: string | null;
};

/** WireItem is a stored item as it travels: a version's body as JSON text, `null` for none. */
export type WireItem =
  | Packed<DocumentItem>
  | Packed<ConflictItem>
  | Packed<RevisionItem>
  | Extract<StoredItem, { kind: "tombstone" | "attachment" }>;

/** WireTransaction is one source transaction of a wire batch. */
export interface WireTransaction {
  readonly transaction: number;
  readonly items: readonly WireItem[];
}

/** ReplicationWireBatch is a ReplicationBatch on its way between two servers. */
export interface ReplicationWireBatch extends Omit<ReplicationBatch, "type" | "transactions"> {
  readonly type: "replication-wire-batch";
  readonly transactions: readonly WireTransaction[];
}

/** ReplicationWireMessage is everything the replication protocol posts between servers. */
export type ReplicationWireMessage = ReplicationWireBatch | ReplicationAck | ReplicationConnect;

/** packBatch turns a batch into its wire form, printing each version's body once. */
export function packBatch(batch: ReplicationBatch): ReplicationWireBatch {
  return {
    type: "replication-wire-batch",
    database: batch.database,
    from: batch.from,
    to: batch.to,
    sourceDatabaseId: batch.sourceDatabaseId,
    afterEtag: batch.afterEtag,
    lastEtag: batch.lastEtag,
    transactions: batch.transactions.map((transaction) => ({
      transaction: transaction.transaction,
      items: transaction.items.map(packItem),
    })),
  };
}

function packItem(item: StoredItem): WireItem {
  switch (item.kind) {
    case "tombstone":
    case "attachment":
      return item;
    case "document":
    case "conflict":
    case "revision": {
      // Every field but the body, named one by one: a spread would copy the body too.
      return {
        kind: item.kind,
        id: item.id,
        collection: item.collection,
        changeVector: item.changeVector,
        lastModifiedMs: item.lastModifiedMs,
        bodyJson: item.body === null ? null : JSON.stringify(item.body),
        attachments: item.attachments,
        etag: item.etag,
        transaction: item.transaction,
      } as WireItem;
    }
  }
}

/**
 * unpackBatch turns a wire batch back into a batch whose transactions carry their bodies' text
 * (ReplicatedTransaction.bodyJson). A body that is not JSON text of an object, or null, refuses
 * the whole batch, as any malformed batch is: before anything of it is applied.
 */
export function unpackBatch(wire: ReplicationWireBatch): ReplicationBatch {
  if (!Array.isArray(wire.transactions)) throw invalid("it carries no transactions");
  const transactions: ReplicatedTransaction[] = wire.transactions.map((transaction) => {
    // Array.isArray on a readonly array narrows to any[]; the check is for malformed input only.
    const wireItems: readonly WireItem[] = transaction.items;
    if (!Array.isArray(wireItems)) throw invalid("a transaction carries no items");
    const bodyJson: (string | null)[] = [];
    const items = wireItems.map((item: WireItem, index: number) => {
      const { body, text } = unpackBody(item);
      bodyJson[index] = text;
      return body === undefined
        ? (item as StoredItem)
        : withBody(item as Packed<DocumentItem>, body);
    });
    return { transaction: transaction.transaction, items, bodyJson };
  });
  return {
    type: "replication-batch",
    database: wire.database,
    from: wire.from,
    to: wire.to,
    sourceDatabaseId: wire.sourceDatabaseId,
    afterEtag: wire.afterEtag,
    lastEtag: wire.lastEtag,
    transactions,
  };
}

/** unpackBody parses a wire item's body; `body` is undefined for items that have none. */
function unpackBody(item: WireItem): { body: JsonObject | null | undefined; text: string | null } {
  if (typeof item !== "object" || item === null) throw invalid("an item is not an object");
  if (item.kind === "tombstone" || item.kind === "attachment")
    return { body: undefined, text: null };
  const text: unknown = item.bodyJson;
  if (text === null) return { body: null, text: null };
  if (typeof text !== "string") throw invalid(`the body of "${String(item.id)}" is not JSON text`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalid(`the body of "${item.id}" is not valid JSON`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid(`the body of "${item.id}" is not a JSON object`);
  }
  return { body: body as JsonObject, text };
}

/** withBody rebuilds a version item in the engine's own field order (one shape for V8). */
function withBody(
  item: Packed<DocumentItem> | Packed<ConflictItem> | Packed<RevisionItem>,
  body: JsonObject | null,
): StoredItem {
  return {
    kind: item.kind,
    id: item.id,
    collection: item.collection,
    changeVector: item.changeVector,
    lastModifiedMs: item.lastModifiedMs,
    body,
    attachments: item.attachments,
    etag: item.etag,
    transaction: item.transaction,
  } as StoredItem;
}

function invalid(why: string): RookeryError {
  return new RookeryError("InvalidReplicationBatch", `refused a replication batch: ${why}`);
}
