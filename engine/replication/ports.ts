import type {
  AttachmentItem,
  ReplicatedBatchInput,
  ReplicatedBatchResult,
  StoredItem,
  VersionItem,
} from "../database/index.ts";

/**
 * ReplicationSource is what the sending side reads from its database instance (a
 * DatabaseInstance satisfies it): items in etag order and the attachment content of a version.
 */
export interface ReplicationSource {
  readonly databaseId: string;
  readonly lastEtag: number;
  itemsAfterEtag(etag: number): Iterable<StoredItem>;
  attachmentsReferencedBy(item: VersionItem): readonly AttachmentItem[];
  /** itemJsonLength is JSON.stringify(item).length, which the source knows without printing it. */
  itemJsonLength(item: StoredItem): number;
}

/** ReplicationTarget is what the receiving side needs from its database instance. */
export interface ReplicationTarget {
  readonly changeVector: string;
  applyReplicatedBatch(batch: ReplicatedBatchInput): ReplicatedBatchResult;
  lastEtagFrom(sourceDatabaseId: string): number;
}
