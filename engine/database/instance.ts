import { assert, isNodeTag, RookeryError, type NodeTag } from "../core/index.ts";
import type { CommitContext } from "./commit.ts";
import { revisionsEnabled, validateSettings, type DatabaseSettings } from "./config.ts";
import { decodeBase64 } from "./content.ts";
import { documentKey } from "./ids.ts";
import type {
  AttachmentInfo,
  AttachmentItem,
  ConflictItem,
  DocumentItem,
  RevisionItem,
  StoredItem,
  VersionItem,
} from "./items.ts";
import type { JsonObject } from "./json.ts";
import { databaseLimits, type DatabaseLimits } from "./limits.ts";
import {
  applyReplicatedTransaction,
  validateReplicatedBatch,
  type ReplicatedBatchInput,
  type ReplicatedItemOutcome,
} from "./replicated.ts";
import type { InstanceStateRecord, PersistedRecord, PersistenceBatch } from "./storage.ts";
import { attachmentSubKey, Tables } from "./tables.ts";
import { Writer } from "./writer.ts";
import { commitPlans, planTransaction, type TransactionInput } from "./transaction.ts";

/** DatabaseInstanceOptions name one instance: its database, the node it is on, its own id. */
export interface DatabaseInstanceOptions {
  readonly database: string;
  readonly nodeTag: NodeTag;
  /** The instance's database id (RavenDB: a base64 GUID); its change vector entries use it. */
  readonly databaseId: string;
  readonly settings?: DatabaseSettings;
  readonly limits?: Partial<DatabaseLimits>;
}

/**
 * DocumentMetadata is the `@metadata` a loaded document shows, named as RavenDB names it: the
 * server's fields, and any other field a put carried (a client's `Raven-Node-Type`, a user's own).
 */
export interface DocumentMetadata {
  readonly [clientField: string]: unknown;
  readonly "@collection": string;
  readonly "@change-vector": string;
  /** ISO 8601 time of the write, from the `nowMs` the write was given. */
  readonly "@last-modified": string;
  /** RavenDB's comma-separated flags ("HasAttachments, HasRevisions"); absent when none. */
  readonly "@flags"?: string;
  readonly "@attachments"?: readonly AttachmentInfo[];
}

/** LoadedDocument is what reading a document returns: a private copy of its body and metadata. */
export interface LoadedDocument {
  readonly id: string;
  readonly etag: number;
  readonly body: JsonObject;
  readonly metadata: DocumentMetadata;
}

/** LoadedAttachment is an attachment with its content. */
export interface LoadedAttachment extends AttachmentInfo {
  readonly content: Uint8Array;
}

/** CommitResult is what a write returns: the items it left, and the batch storage must keep. */
export interface CommitResult {
  readonly written: readonly StoredItem[];
  readonly persistence: PersistenceBatch;
  /** The transaction numbers written (empty when nothing changed). */
  readonly transactions: readonly number[];
}

/** ReplicatedBatchResult adds what the receiver acknowledges: the last source etag it applied. */
export interface ReplicatedBatchResult extends CommitResult {
  /** True when the batch was already applied (a duplicate); nothing was written. */
  readonly duplicate: boolean;
  readonly lastAcceptedEtag: number;
  /** What happened to each document version the batch carried, in order (revisions aside). */
  readonly outcomes: readonly ReplicatedItemOutcome[];
}

/** InstanceSnapshot is an instance's whole state as plain JSON, for tests and debugging views. */
export interface InstanceSnapshot {
  readonly state: InstanceStateRecord;
  readonly items: readonly StoredItem[];
}

/**
 * DatabaseInstance is one database on one node, in memory. Writes return what storage must keep
 * instead of writing it; `recover` rebuilds an instance from what storage kept.
 */
export class DatabaseInstance {
  readonly database: string;
  readonly nodeTag: NodeTag;
  readonly databaseId: string;
  private settings: DatabaseSettings;
  private readonly limits: DatabaseLimits;
  private readonly tables = new Tables();

  constructor(options: DatabaseInstanceOptions) {
    if (!isNodeTag(options.nodeTag)) {
      throw new RookeryError(
        "InvalidNodeTag",
        `"${options.nodeTag}" is not a node tag; join a cluster first`,
      );
    }
    if (!/^[A-Za-z0-9+/=_-]+$/.test(options.databaseId)) {
      throw new RookeryError(
        "InvalidDatabaseId",
        `database id "${options.databaseId}" must be base64 text`,
      );
    }
    this.database = options.database;
    this.nodeTag = options.nodeTag;
    this.databaseId = options.databaseId;
    this.settings = validateSettings(options.settings ?? {});
    this.limits = { ...databaseLimits, ...options.limits };
  }

  /** recover rebuilds an instance from a full load of its storage. */
  static recover(
    options: DatabaseInstanceOptions,
    records: readonly PersistedRecord[],
  ): DatabaseInstance {
    const instance = new DatabaseInstance(options);
    instance.tables.load(records);
    return instance;
  }

  /** configure applies new settings from the database record (revisions, conflict resolution). */
  configure(settings: DatabaseSettings): void {
    this.settings = validateSettings(settings);
  }

  /** lastEtag is the etag of the newest item this instance wrote. */
  get lastEtag(): number {
    return this.tables.lastEtag;
  }

  /** changeVector is the merge of every version this instance has written or received. */
  get changeVector(): string {
    return this.tables.vector.text;
  }

  /** lastEtagFrom is the last etag of `sourceDatabaseId` whose replication batch was applied. */
  lastEtagFrom(sourceDatabaseId: string): number {
    return this.tables.incomingEtag(sourceDatabaseId);
  }

  /**
   * applyTransaction applies a session's changes atomically: all of them, with consecutive etags
   * and one transaction number, or none (the RookeryError says why).
   */
  applyTransaction(input: TransactionInput, options: { readonly nowMs: number }): CommitResult {
    assert(Number.isFinite(options.nowMs), "applyTransaction needs the time of the write");
    const plans = planTransaction(this.tables, input, this.limits);
    const context = this.context();
    if (plans.length > 0) {
      commitPlans(
        context,
        plans,
        { tag: this.nodeTag, databaseId: this.databaseId },
        options.nowMs,
      );
    }
    const result = context.writer.finish();
    return { ...result, transactions: result.persistence.transactions };
  }

  /**
   * applyReplicatedBatch applies a replication batch atomically, one local transaction per source
   * transaction. A batch that ends at or before what was already applied from its source is a
   * duplicate: it changes nothing and is acknowledged again.
   */
  applyReplicatedBatch(batch: ReplicatedBatchInput): ReplicatedBatchResult {
    validateReplicatedBatch(batch, this.limits);
    const applied = this.lastEtagFrom(batch.sourceDatabaseId);
    const context = this.context();
    const duplicate = batch.lastEtag <= applied;
    const outcomes: ReplicatedItemOutcome[] = [];
    if (!duplicate) {
      const resolution = this.settings.conflictResolution ?? "latest";
      for (const transaction of batch.transactions) {
        applyReplicatedTransaction(context, transaction, resolution, outcomes);
      }
      this.tables.setIncomingEtag(batch.sourceDatabaseId, batch.lastEtag);
    }
    const result = context.writer.finish();
    return {
      ...result,
      transactions: result.persistence.transactions,
      duplicate,
      lastAcceptedEtag: this.lastEtagFrom(batch.sourceDatabaseId),
      outcomes,
    };
  }

  private context(): CommitContext {
    return {
      tables: this.tables,
      writer: new Writer(this.tables, this.database),
      revisionsEnabled: this.revisionsSwitch(),
    };
  }

  /**
   * revisionsSwitch answers "does this collection keep revisions?" for one commit. Settings do
   * not change during a commit, so each collection's answer is worked out once per commit.
   */
  private revisionsSwitch(): (collection: string) => boolean {
    const config = this.settings.revisions;
    if (config === undefined) return () => false;
    const answers = new Map<string, boolean>();
    return (collection) => {
      let enabled = answers.get(collection);
      if (enabled === undefined) {
        enabled = revisionsEnabled(config, collection);
        answers.set(collection, enabled);
      }
      return enabled;
    };
  }

  /**
   * get reads a document, or undefined when there is none (or it was deleted). A document whose
   * versions are kept in conflict cannot be read: a RookeryError "DocumentConflict" lists them.
   */
  get(id: string): LoadedDocument | undefined {
    const key = documentKey(id);
    const conflicts = this.tables.hasConflicts(key) ? this.tables.conflictsOf(key) : [];
    if (conflicts.length > 0) {
      // Sorted, so every instance reports the same conflict in the same words.
      const vectors = conflicts.map((conflict) => conflict.changeVector).sort();
      throw new RookeryError(
        "DocumentConflict",
        `"${conflicts[0]!.id}" is in conflict between ${vectors.length} versions ` +
          `(${vectors.map((vector) => `[${vector}]`).join(", ")}); put the document to resolve it`,
        { id: conflicts[0]!.id, changeVectors: vectors },
      );
    }
    const current = this.tables.current(key);
    return current?.kind === "document" ? this.load(current) : undefined;
  }

  /**
   * currentWrittenAtMs returns when the current version of a document was written (its
   * @last-modified at full resolution), or undefined when there is none or it was deleted. It
   * does not copy the body, so watchers can poll it cheaply.
   */
  currentWrittenAtMs(id: string): number | undefined {
    const current = this.tables.current(documentKey(id));
    return current?.kind === "document" ? current.lastModifiedMs : undefined;
  }

  /** readableIds lists the ids of every readable document in etag order (list() without bodies). */
  readableIds(): string[] {
    const ids: string[] = [];
    for (const item of this.tables.byEtag.values()) if (item.kind === "document") ids.push(item.id);
    return ids;
  }

  /** list returns every readable document in etag order. */
  list(): LoadedDocument[] {
    const documents: LoadedDocument[] = [];
    for (const item of this.tables.byEtag.values()) {
      if (item.kind === "document") documents.push(this.load(item));
    }
    return documents;
  }

  private load(item: DocumentItem): LoadedDocument {
    const flags = [
      ...(item.attachments.length > 0 ? ["HasAttachments"] : []),
      ...(this.tables.hasRevisions(documentKey(item.id)) ? ["HasRevisions"] : []),
    ];
    const { "@metadata": kept, ...body } = structuredClone(item.body);
    const metadata: DocumentMetadata = {
      ...(kept as JsonObject | undefined),
      "@collection": item.collection,
      "@change-vector": item.changeVector,
      "@last-modified": new Date(item.lastModifiedMs).toISOString(),
      ...(flags.length > 0 ? { "@flags": flags.join(", ") } : {}),
      ...(item.attachments.length > 0
        ? { "@attachments": item.attachments.map((info) => ({ ...info })) }
        : {}),
    };
    return { id: item.id, etag: item.etag, body, metadata };
  }

  /** conflictsOf returns the versions of a document kept in conflict (none when it has none). */
  conflictsOf(id: string): readonly ConflictItem[] {
    return this.tables.conflictsOf(documentKey(id));
  }

  /** revisionsOf returns a document's revisions in the order this instance stored them. */
  revisionsOf(id: string): readonly RevisionItem[] {
    return this.tables.revisionsOf(documentKey(id));
  }

  /** getAttachment returns an attachment of a readable document, with its content. */
  getAttachment(documentId: string, name: string): LoadedAttachment | undefined {
    const document = this.get(documentId);
    const info = document?.metadata["@attachments"]?.find(
      (entry) => entry.name.toLowerCase() === name.toLowerCase(),
    );
    if (document === undefined || info === undefined) return undefined;
    const item = this.tables.find(
      "attachments",
      documentKey(documentId),
      attachmentSubKey(info.name, info.hash),
    );
    assert(
      item?.kind === "attachment",
      () => `"${documentId}" lists attachment "${name}" without its content`,
    );
    return { ...info, content: decodeBase64(item.contentBase64) };
  }

  /**
   * attachmentsReferencedBy returns the attachment content a version refers to. Replication
   * sends it right before the version, so a receiver never holds a version without its content.
   */
  attachmentsReferencedBy(item: VersionItem): readonly AttachmentItem[] {
    // Most versions have no attachments; they need no key and no lookups.
    if (item.kind === "tombstone" || item.body === null || item.attachments.length === 0) return [];
    const key = documentKey(item.id);
    return item.attachments.map((info) => {
      const content = this.tables.find("attachments", key, attachmentSubKey(info.name, info.hash));
      assert(content?.kind === "attachment", () => `"${item.id}" lacks content of "${info.name}"`);
      return content;
    });
  }

  /**
   * itemJsonLength is JSON.stringify(item).length for an item of this instance, which replication
   * counts against its batch byte limit: known from the text made when the item was written, or
   * measured once (items loaded at recovery).
   */
  itemJsonLength(item: StoredItem): number {
    return this.tables.jsonLength(item);
  }

  /** itemsAfterEtag walks the items whose etag is above `etag`, in etag order. */
  *itemsAfterEtag(etag: number): Generator<StoredItem> {
    yield* this.tables.itemsAfter(etag);
  }

  /** snapshot returns the whole state as plain JSON; a recovered instance has an equal one. */
  snapshot(): InstanceSnapshot {
    return { state: this.tables.state(), items: structuredClone([...this.tables.byEtag.values()]) };
  }
}
