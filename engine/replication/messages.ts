import { registerRenderer, type NodeTag } from "../core/index.ts";
import type { StoredItem } from "../database/index.ts";

/** ReplicatedTransaction is one source transaction inside a batch, never split across batches. */
export interface ReplicatedTransaction {
  /** The source's transaction number (its marker). */
  readonly transaction: number;
  /** The current state of the transaction's items, attachment content before its document. */
  readonly items: readonly StoredItem[];
  /**
   * The JSON text of each item's body, by index, when the batch came over the wire (see
   * wire.ts); the receiver stores it instead of printing the bodies again.
   */
  readonly bodyJson?: readonly (string | null)[];
}

/**
 * ReplicationBatch carries whole transactions from one instance of a database group to another.
 * It covers the source etags after `afterEtag` up to `lastEtag`; items changed again later are not
 * in it (they travel with the later transaction).
 */
export interface ReplicationBatch {
  readonly type: "replication-batch";
  readonly database: string;
  readonly from: NodeTag;
  readonly to: NodeTag;
  readonly sourceDatabaseId: string;
  readonly afterEtag: number;
  readonly lastEtag: number;
  readonly transactions: readonly ReplicatedTransaction[];
}

/**
 * ReplicationAckReason says why a receiver answered: it applied a batch, the batch was a
 * duplicate, the batch started after a gap (the sender must go back), or a sender connected.
 */
export type ReplicationAckReason = "applied" | "duplicate" | "gap" | "connect";

/** EtagRange names a batch by the source etags it covers: after `afterEtag`, up to `lastEtag`. */
export interface EtagRange {
  readonly afterEtag: number;
  readonly lastEtag: number;
}

/**
 * ReplicationAck tells a sender the last of its etags the receiver has applied, and the
 * receiver's change vector (what it has seen from anyone, for write assurance and lag).
 */
export interface ReplicationAck {
  readonly type: "replication-ack";
  readonly database: string;
  readonly from: NodeTag;
  readonly to: NodeTag;
  readonly sourceDatabaseId: string;
  readonly lastAcceptedEtag: number;
  readonly changeVector: string;
  readonly reason: ReplicationAckReason;
  /**
   * The batch this ack answers (null for the answer to a connect). A sender acts only on the
   * answer to the batch it has in flight: with duplication and reordering, an old ack arrives
   * late, and acting on it (re-sending at once) made batches and acks multiply without end.
   */
  readonly answers: EtagRange | null;
}

/**
 * ReplicationConnect opens (or re-opens, after a restart) replication to a destination; the
 * destination answers with an ack of what it already has, 0 for a new node.
 */
export interface ReplicationConnect {
  readonly type: "replication-connect";
  readonly database: string;
  readonly from: NodeTag;
  readonly to: NodeTag;
  readonly sourceDatabaseId: string;
}

/** ReplicationMessage is every message of the replication protocol. */
export type ReplicationMessage = ReplicationBatch | ReplicationAck | ReplicationConnect;

function hasType(value: unknown, type: string): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === type;
}

/** isReplicationBatch narrows an unknown message to a batch. */
export function isReplicationBatch(value: unknown): value is ReplicationBatch {
  return hasType(value, "replication-batch") && Array.isArray(value.transactions);
}

/** isReplicationAck narrows an unknown message to an acknowledgement. */
export function isReplicationAck(value: unknown): value is ReplicationAck {
  return hasType(value, "replication-ack") && typeof value.lastAcceptedEtag === "number";
}

/** isReplicationConnect narrows an unknown message to a connect. */
export function isReplicationConnect(value: unknown): value is ReplicationConnect {
  return hasType(value, "replication-connect") && typeof value.sourceDatabaseId === "string";
}

/** isReplicationMessage tells whether a message belongs to the replication protocol. */
export function isReplicationMessage(value: unknown): value is ReplicationMessage {
  return isReplicationBatch(value) || isReplicationAck(value) || isReplicationConnect(value);
}

/** batchItemCount counts the items a batch carries. */
export function batchItemCount(batch: ReplicationBatch): number {
  return batch.transactions.reduce((count, transaction) => count + transaction.items.length, 0);
}

/** Document ids a batch description names at most; the rest are counted. */
export const batchIdsShownMax = 8;

/**
 * batchDocumentIds lists the documents a batch (or its wire form) carries, each once, in order:
 * what the book names when it shows the batch. Attachments belong to their document; revisions
 * are of their document.
 */
export function batchDocumentIds(batch: {
  readonly transactions: readonly {
    readonly items: readonly ({ readonly kind: string; readonly id?: string } | object)[];
  }[];
}): string[] {
  const ids = new Set<string>();
  for (const transaction of batch.transactions)
    for (const item of transaction.items) {
      const id = (item as { readonly id?: unknown }).id;
      if (typeof id === "string") ids.add(id);
    }
  return [...ids];
}

/** describeBatch renders a batch as `replicate Spade A→B etags 5..9 (2 tx, 3 items)`. */
export function describeBatch(batch: ReplicationBatch): string {
  const items = batchItemCount(batch);
  const transactions = batch.transactions.length;
  return (
    `replicate ${batch.database} ${batch.from}→${batch.to} ` +
    `etags ${batch.afterEtag + 1}..${batch.lastEtag} ` +
    `(${transactions} tx, ${items} item${items === 1 ? "" : "s"})`
  );
}

/** describeAck renders an ack as `ack Spade B→A etag 9 (applied)`. */
export function describeAck(ack: ReplicationAck): string {
  return `ack ${ack.database} ${ack.from}→${ack.to} etag ${ack.lastAcceptedEtag} (${ack.reason})`;
}

registerRenderer("replication-batch", (value) =>
  isReplicationBatch(value) ? describeBatch(value) : "replication-batch (malformed)",
);
registerRenderer("replication-wire-batch", (value) =>
  hasType(value, "replication-wire-batch") && Array.isArray(value.transactions)
    ? describeBatch(value as unknown as ReplicationBatch)
    : "replication-wire-batch (malformed)",
);
registerRenderer("replication-ack", (value) =>
  isReplicationAck(value) ? describeAck(value) : "replication-ack (malformed)",
);
registerRenderer("replication-connect", (value) =>
  isReplicationConnect(value)
    ? `connect ${value.database} ${value.from}→${value.to}`
    : "replication-connect (malformed)",
);
