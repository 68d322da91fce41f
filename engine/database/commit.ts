import { assert } from "../core/index.ts";
import type { AttachmentItem, DocumentVersion, StoredItem } from "./items.ts";
import { attachmentSubKey, type Tables } from "./tables.ts";
import type { Writer } from "./writer.ts";

/** CommitContext is what the write paths share: the tables, the open commit, the settings. */
export interface CommitContext {
  readonly tables: Tables;
  readonly writer: Writer;
  readonly revisionsEnabled: (collection: string) => boolean;
}

/**
 * writeCurrent makes `version` the current version of its document `key` (a document, or a
 * tombstone when its body is null), resolving any kept conflicts, and writes its revision in the
 * same transaction when the collection keeps revisions. Revisions are keyed by change vector, so
 * a revision that already arrived by replication is not written twice. `bodyJson`, when given,
 * is JSON.stringify of the version's body.
 */
export function writeCurrent(
  context: CommitContext,
  version: DocumentVersion,
  key: string,
  bodyJson?: string,
): StoredItem {
  const { tables, writer } = context;
  if (tables.hasConflicts(key)) {
    for (const conflict of tables.conflictsOf(key)) writer.remove(conflict);
  }
  const written =
    version.body === null
      ? writer.write(
          {
            kind: "tombstone",
            id: version.id,
            collection: version.collection,
            changeVector: version.changeVector,
            lastModifiedMs: version.lastModifiedMs,
          },
          key,
        )
      : writer.write(
          {
            kind: "document",
            id: version.id,
            collection: version.collection,
            changeVector: version.changeVector,
            lastModifiedMs: version.lastModifiedMs,
            body: version.body,
            attachments: version.attachments,
          },
          key,
          bodyJson,
        );
  if (context.revisionsEnabled(version.collection)) writeRevision(context, version, key, bodyJson);
  return written;
}

/** writeRevision stores a revision of `version` unless one with its change vector exists. */
export function writeRevision(
  context: CommitContext,
  version: DocumentVersion,
  key: string,
  bodyJson?: string,
): boolean {
  if (context.tables.find("revisions", key, version.changeVector) !== undefined) return false;
  context.writer.write({ kind: "revision", ...version }, key, bodyJson);
  return true;
}

/**
 * keepConflicts makes exactly `versions` the kept conflicts of the document `key`; the document
 * leaves its current slot (as in RavenDB, a conflicted document is not in its collection).
 */
export function keepConflicts(
  context: CommitContext,
  versions: readonly DocumentVersion[],
  key: string,
): void {
  const { tables, writer } = context;
  assert(versions.length >= 2, () => `a conflict needs two versions, got ${versions.length}`);
  const current = tables.current(key);
  if (current !== undefined) writer.remove(current);
  const wanted = new Set(versions.map((version) => version.changeVector));
  for (const kept of tables.conflictsOf(key)) {
    if (!wanted.has(kept.changeVector)) writer.remove(kept);
  }
  for (const version of versions) {
    if (tables.find("conflicts", key, version.changeVector) === undefined) {
      writer.write({ kind: "conflict", ...version }, key);
    }
  }
}

/**
 * writeAttachment stores attachment content of the document `key` unless the same (name, hash)
 * is stored.
 */
export function writeAttachment(
  context: CommitContext,
  item: Omit<AttachmentItem, "etag" | "transaction">,
  key: string,
): void {
  if (context.tables.find("attachments", key, attachmentSubKey(item.name, item.hash)) !== undefined)
    return;
  context.writer.write(item, key);
}

/**
 * collectAttachments drops attachment content that no version of the document refers to any
 * more (current, kept conflicts, revisions). It runs at the end of each transaction, so content
 * that arrives just before the version that uses it is never dropped in between.
 */
export function collectAttachments(context: CommitContext, key: string): void {
  const { tables, writer } = context;
  // Only content can be collected; a document without any has nothing to list or drop.
  if (!tables.hasAttachments(key)) return;
  const referenced = new Set<string>();
  const current = tables.current(key);
  const versions = [
    ...(current?.kind === "document" ? [current] : []),
    ...tables.conflictsOf(key),
    ...tables.revisionsOf(key),
  ];
  for (const version of versions) {
    for (const info of version.attachments) referenced.add(attachmentSubKey(info.name, info.hash));
  }
  for (const item of tables.attachmentsOf(key)) {
    if (!referenced.has(attachmentSubKey(item.name, item.hash))) writer.remove(item);
  }
}
