import type { JsonObject } from "./json.ts";

/**
 * AttachmentInfo is what a document version says about one of its attachments; the content
 * lives in an AttachmentItem found by (document, name, hash).
 */
export interface AttachmentInfo {
  readonly name: string;
  readonly hash: string;
  readonly size: number;
  readonly contentType: string;
}

/**
 * ItemBase is what every stored item has: its place in this instance's one etag sequence, and
 * the local transaction that wrote it (every item of one transaction shares the number).
 */
interface ItemBase {
  readonly etag: number;
  readonly transaction: number;
}

/** VersionFields describe one version of a document; `body: null` means "deleted". */
interface VersionFields {
  readonly id: string;
  readonly collection: string;
  readonly changeVector: string;
  readonly lastModifiedMs: number;
}

/** DocumentItem is the current, live version of a document. */
export interface DocumentItem extends ItemBase, VersionFields {
  readonly kind: "document";
  readonly body: JsonObject;
  readonly attachments: readonly AttachmentInfo[];
}

/** TombstoneItem records a delete, so that the delete replicates and can conflict. */
export interface TombstoneItem extends ItemBase, VersionFields {
  readonly kind: "tombstone";
}

/**
 * ConflictItem is one of the versions kept when conflict resolution is off; while a document has
 * conflict items it has no current version and reading it reports the conflict.
 */
export interface ConflictItem extends ItemBase, VersionFields {
  readonly kind: "conflict";
  readonly body: JsonObject | null;
  readonly attachments: readonly AttachmentInfo[];
}

/** RevisionItem is an immutable copy of one version; `body: null` is a delete revision. */
export interface RevisionItem extends ItemBase, VersionFields {
  readonly kind: "revision";
  readonly body: JsonObject | null;
  readonly attachments: readonly AttachmentInfo[];
}

/** AttachmentItem holds attachment content (base64) for one (document, name, hash). */
export interface AttachmentItem extends ItemBase, AttachmentInfo {
  readonly kind: "attachment";
  readonly documentId: string;
  readonly contentBase64: string;
}

/** StoredItem is anything with an etag; replication sends these, persistence stores these. */
export type StoredItem =
  DocumentItem | TombstoneItem | ConflictItem | RevisionItem | AttachmentItem;

/** VersionItem is a stored item that is a version of a document. */
export type VersionItem = DocumentItem | TombstoneItem | ConflictItem | RevisionItem;

/**
 * DocumentVersion is one version of a document without its place in any instance: what
 * conflict handling compares and what a replicated item becomes when it is written locally.
 */
export interface DocumentVersion extends VersionFields {
  readonly body: JsonObject | null;
  readonly attachments: readonly AttachmentInfo[];
}

/** versionOf strips an item down to the version it holds. */
export function versionOf(item: VersionItem): DocumentVersion {
  return {
    id: item.id,
    collection: item.collection,
    changeVector: item.changeVector,
    lastModifiedMs: item.lastModifiedMs,
    body: item.kind === "tombstone" ? null : item.body,
    attachments: item.kind === "tombstone" ? [] : item.attachments,
  };
}
