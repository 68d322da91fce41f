import { parseChangeVector, RookeryError } from "../core/index.ts";
import {
  collectAttachments,
  keepConflicts,
  writeAttachment,
  writeCurrent,
  writeRevision,
  type CommitContext,
} from "./commit.ts";
import {
  contentKey,
  decideIncoming,
  revisionBringsUp,
  type ConflictResolution,
} from "./conflicts.ts";
import { contentHash, decodeBase64 } from "./content.ts";
import { documentKey, validateAttachmentName, validateDocumentId } from "./ids.ts";
import { versionOf, type DocumentVersion, type StoredItem, type VersionItem } from "./items.ts";
import { checkJsonObject } from "./json.ts";
import type { DatabaseLimits } from "./limits.ts";

/** ReplicatedTransactionInput is one source transaction: its items in source etag order. */
export interface ReplicatedTransactionInput {
  readonly items: readonly StoredItem[];
  /**
   * The JSON text of each item's body as it travelled (JSON.stringify of the body, by index;
   * null or absent where there is none). The receiver keeps it as the stored text instead of
   * printing every body again.
   */
  readonly bodyJson?: readonly (string | null)[];
}

/**
 * ReplicatedOutcome is what the receiver did with one replicated version of a document, so the
 * book can show it: a new current version, a delete, nothing (it already had this version or a
 * newer one: its change vector says so, which is how echoes of its own writes stop), concurrent
 * versions resolved to the latest or merged because their contents were equal, or a conflict kept.
 */
export type ReplicatedOutcome =
  "written" | "deleted" | "already-had" | "resolved" | "merged" | "conflict";

/** ReplicatedItemOutcome is one document's outcome in an applied batch. */
export interface ReplicatedItemOutcome {
  readonly id: string;
  readonly outcome: ReplicatedOutcome;
  /** For "resolved": whose version won (the incoming one, or the one this instance had). */
  readonly kept?: "incoming" | "local";
}

/**
 * ReplicatedBatchInput is a replication batch as the database sees it: where it comes from, the
 * last source etag it covers, and whole source transactions.
 */
export interface ReplicatedBatchInput {
  readonly sourceDatabaseId: string;
  readonly lastEtag: number;
  readonly transactions: readonly ReplicatedTransactionInput[];
}

/**
 * validateReplicatedBatch checks everything a batch carries before any of it is applied, so
 * that a malformed batch changes nothing (the batch is applied as one transaction or not at all).
 */
export function validateReplicatedBatch(batch: ReplicatedBatchInput, limits: DatabaseLimits): void {
  if (typeof batch.sourceDatabaseId !== "string" || batch.sourceDatabaseId === "") {
    throw invalidBatch("it names no source database id");
  }
  if (!Number.isSafeInteger(batch.lastEtag) || batch.lastEtag < 0) {
    throw invalidBatch(`its last etag ${String(batch.lastEtag)} is not a non-negative integer`);
  }
  for (const transaction of batch.transactions) {
    for (const item of transaction.items) validateItem(item, limits);
  }
}

function validateItem(item: StoredItem, limits: DatabaseLimits): void {
  if (item.kind === "attachment") {
    validateDocumentId(item.documentId, limits.documentIdLengthMax);
    validateAttachmentName(item.name, limits.attachmentNameLengthMax);
    const bytes = decodeBase64(item.contentBase64);
    if (contentHash(bytes) !== item.hash || bytes.length !== item.size) {
      throw invalidBatch(
        `attachment "${item.name}" of "${item.documentId}" does not match its hash`,
      );
    }
    return;
  }
  if (!versionKinds.has(item.kind)) {
    throw invalidBatch(`an item has the unknown kind ${JSON.stringify(item.kind)}`);
  }
  validateDocumentId(item.id, limits.documentIdLengthMax);
  if (parseChangeVector(item.changeVector).length === 0) {
    throw invalidBatch(`"${item.id}" arrived without a change vector`);
  }
  if (!Number.isFinite(item.lastModifiedMs))
    throw invalidBatch(`"${item.id}" has no @last-modified`);
  if (item.kind !== "tombstone" && item.body !== null) {
    checkJsonObject(item.body, `the body of "${item.id}"`, limits.documentDepthMax);
  }
}

const versionKinds: ReadonlySet<string> = new Set([
  "document",
  "tombstone",
  "conflict",
  "revision",
]);

function invalidBatch(why: string): RookeryError {
  return new RookeryError("InvalidReplicationBatch", `refused a replication batch: ${why}`);
}

/**
 * applyReplicatedTransaction applies one source transaction as one local transaction. Items
 * keep their source change vectors; what the instance already has is skipped; concurrent
 * versions go through conflict handling; a revision newer than the local document brings the
 * document up to it, which is what keeps a transaction whole on the receiver even when later
 * transactions changed some of its documents again (the chapter's Listing 6.3/6.4).
 */
export function applyReplicatedTransaction(
  context: CommitContext,
  transaction: ReplicatedTransactionInput,
  resolution: ConflictResolution,
  outcomes: ReplicatedItemOutcome[] = [],
): void {
  context.writer.startTransaction();
  const touched = new Set<string>();
  const texts = transaction.bodyJson;
  for (let index = 0; index < transaction.items.length; index++) {
    const item = transaction.items[index]!;
    const text = texts?.[index];
    if (
      typeof text === "string" &&
      item.kind !== "attachment" &&
      item.kind !== "tombstone" &&
      item.body !== null
    ) {
      context.writer.knowBodyJson(item.body, text);
    }
    if (item.kind === "attachment") {
      // The writer takes the content's fields and gives it a local etag and transaction.
      writeAttachment(context, item, documentKey(item.documentId));
      continue;
    }
    const key = documentKey(item.id);
    touched.add(key);
    if (item.kind === "revision") applyRevision(context, item, key);
    else outcomes.push(applyVersion(context, versionOf(item), key, resolution));
  }
  for (const key of touched) collectAttachments(context, key);
}

function applyRevision(context: CommitContext, revision: VersionItem, key: string): void {
  const version = versionOf(revision);
  writeRevision(context, version, key);
  const current = context.tables.current(key);
  const conflicted = context.tables.hasConflicts(key);
  if (revisionBringsUp(current && versionOf(current), conflicted, version))
    writeCurrent(context, version, key);
}

function applyVersion(
  context: CommitContext,
  incoming: DocumentVersion,
  key: string,
  resolution: ConflictResolution,
): ReplicatedItemOutcome {
  const { tables } = context;
  const current = tables.current(key);
  const conflicts = tables.hasConflicts(key) ? tables.conflictsOf(key).map(versionOf) : [];
  const decision = decideIncoming(current && versionOf(current), conflicts, incoming, resolution);
  const id = incoming.id;
  if (decision.action === "skip") return { id, outcome: "already-had" };
  if (decision.action === "conflict") {
    keepConflicts(context, decision.versions, key);
    return { id, outcome: "conflict" };
  }
  writeCurrent(context, decision.version, key);
  if (decision.concurrent === "identical") return { id, outcome: "merged" };
  if (decision.concurrent === "latest") {
    const incomingWon =
      decision.version.lastModifiedMs === incoming.lastModifiedMs &&
      contentKey(decision.version) === contentKey(incoming);
    return { id, outcome: "resolved", kept: incomingWon ? "incoming" : "local" };
  }
  return { id, outcome: incoming.body === null ? "deleted" : "written" };
}
