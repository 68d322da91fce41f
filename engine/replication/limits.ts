/**
 * replicationLimits bound one replication batch. A batch always carries at least one whole
 * transaction, however large, because a transaction is never split; so `batchItemsMax: 1` means
 * "one transaction per batch", the smallest batch the chapter's Listing 6.3/6.4 discussion uses.
 */
export const replicationLimits = {
  /** Items (documents, tombstones, revisions, attachments) in one batch. */
  batchItemsMax: 1024,
  /** Bytes of one batch's items as JSON text. */
  batchBytesMax: 4 * 1024 * 1024,
} as const;

/** ReplicationLimits is the shape of replicationLimits with every limit adjustable. */
export type ReplicationLimits = { -readonly [K in keyof typeof replicationLimits]: number };
