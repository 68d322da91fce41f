import {
  compareChangeVectors,
  formatChangeVector,
  parseChangeVector,
  RookeryError,
  type NodeTag,
} from "../core/index.ts";
import { collectAttachments, writeAttachment, writeCurrent, type CommitContext } from "./commit.ts";
import { contentBytes, contentHash, encodeBase64 } from "./content.ts";
import {
  collectionFromId,
  documentKey,
  validateAttachmentName,
  validateDocumentId,
} from "./ids.ts";
import type { AttachmentInfo, AttachmentItem } from "./items.ts";
import { checkJsonObject, type JsonObject } from "./json.ts";
import type { DatabaseLimits } from "./limits.ts";
import type { Tables } from "./tables.ts";

/**
 * DocumentPut stores a document. A body may carry `@metadata`: `@collection` names the
 * collection, the fields the server owns (serverMetadataKeys) are ignored, and every other field
 * (a client's `Raven-Node-Type`, a user's own keys) is kept with the document, as RavenDB keeps it.
 * `expectedChangeVector` turns on optimistic concurrency: the put is refused unless the stored
 * document has exactly that vector; the empty string means "only if no document has that id".
 */
export interface DocumentPut {
  readonly id: string;
  readonly body: unknown;
  readonly expectedChangeVector?: string;
}

/** DocumentDelete deletes a document (a no-op when there is none), leaving a tombstone. */
export interface DocumentDelete {
  readonly id: string;
  readonly expectedChangeVector?: string;
}

/** AttachmentPut adds or replaces the attachment `name` of an existing document. */
export interface AttachmentPut {
  readonly documentId: string;
  readonly name: string;
  /** Bytes, or text stored as UTF-8. */
  readonly content: Uint8Array | string;
  readonly contentType?: string;
  readonly expectedChangeVector?: string;
}

/** AttachmentDelete removes the attachment `name` of a document, if it has one. */
export interface AttachmentDelete {
  readonly documentId: string;
  readonly name: string;
  readonly expectedChangeVector?: string;
}

/**
 * TransactionInput is one session's saveChanges. It applies in this order: puts, attachment
 * puts, attachment deletes, deletes. Expected change vectors are checked against the state before
 * the transaction.
 */
export interface TransactionInput {
  readonly puts?: readonly DocumentPut[];
  readonly deletes?: readonly DocumentDelete[];
  readonly attachmentPuts?: readonly AttachmentPut[];
  readonly attachmentDeletes?: readonly AttachmentDelete[];
}

/** Identity is who writes: the change vector entry local writes bump. */
export interface Identity {
  readonly tag: NodeTag;
  readonly databaseId: string;
}

/** Plan is what a transaction will leave for one document. */
interface Plan {
  readonly id: string;
  /** documentKey(id), made once per document of the transaction. */
  readonly key: string;
  collection: string;
  body: JsonObject | null;
  /** JSON.stringify(body) when a put made it; storage is handed this text as it is. */
  bodyJson: string | undefined;
  attachments: readonly AttachmentInfo[];
  contents: Omit<AttachmentItem, "etag" | "transaction">[];
  /** Reading a document for a command does not rewrite it; only a change does. */
  touched: boolean;
}

/** noAttachments is the attachment list of every version without any; it is never changed. */
const noAttachments: readonly AttachmentInfo[] = Object.freeze([]);

/**
 * planTransaction validates a transaction and works out its outcome per document without
 * touching the tables; any refusal (bad input, concurrency violation, missing document) is
 * thrown from here, before the first write.
 */
export function planTransaction(
  tables: Tables,
  input: TransactionInput,
  limits: DatabaseLimits,
): Plan[] {
  countCommands(input, limits);
  checkExpectedVectors(tables, input, limits);
  const plans = new Map<string, Plan>();
  const live = (id: string, key = documentKey(id)): Plan | undefined => {
    const planned = plans.get(key);
    if (planned !== undefined) return planned.body === null ? undefined : planned;
    const current = tables.current(key);
    if (current?.kind !== "document") return undefined;
    const plan: Plan = {
      id: current.id,
      key,
      collection: current.collection,
      body: current.body,
      bodyJson: undefined,
      attachments: current.attachments,
      contents: [],
      touched: false,
    };
    plans.set(key, plan);
    return plan;
  };
  for (const put of input.puts ?? []) planPut(plans, live, put, limits);
  for (const put of input.attachmentPuts ?? []) planAttachmentPut(live, put, limits);
  for (const deletion of input.attachmentDeletes ?? []) {
    const plan = live(validateDocumentId(deletion.documentId, limits.documentIdLengthMax));
    const name = validateAttachmentName(
      deletion.name,
      limits.attachmentNameLengthMax,
    ).toLowerCase();
    if (plan === undefined || !plan.attachments.some((info) => info.name.toLowerCase() === name))
      continue;
    plan.attachments = plan.attachments.filter((info) => info.name.toLowerCase() !== name);
    plan.touched = true;
  }
  for (const deletion of input.deletes ?? []) planDelete(tables, plans, live, deletion, limits);
  return [...plans.values()].filter((plan) => plan.touched);
}

function countCommands(input: TransactionInput, limits: DatabaseLimits): void {
  const count =
    (input.puts?.length ?? 0) +
    (input.deletes?.length ?? 0) +
    (input.attachmentPuts?.length ?? 0) +
    (input.attachmentDeletes?.length ?? 0);
  if (count > limits.transactionCommandsMax) {
    throw new RookeryError(
      "TransactionTooLarge",
      `a transaction holds at most ${limits.transactionCommandsMax} commands, ` +
        `got ${count}; split it`,
    );
  }
}

function planPut(
  plans: Map<string, Plan>,
  live: (id: string, key: string) => Plan | undefined,
  put: DocumentPut,
  limits: DatabaseLimits,
): void {
  const id = validateDocumentId(put.id, limits.documentIdLengthMax);
  checkJsonObject(put.body, `the body of "${id}"`, limits.documentDepthMax);
  let bodyJson = JSON.stringify(put.body);
  // One stringify gives the private copy, the size and the text storage keeps (made again only
  // when the body carried @metadata, of which only the client's own fields are stored).
  const body = JSON.parse(bodyJson) as JsonObject;
  const metadata = body["@metadata"];
  if (metadata !== undefined) {
    const kept = clientMetadata(metadata);
    if (kept === undefined) delete body["@metadata"];
    else body["@metadata"] = kept;
    bodyJson = JSON.stringify(body);
  }
  const size = bodyJson.length;
  if (size > limits.documentBytesMax) {
    throw new RookeryError(
      "DocumentTooLarge",
      `"${id}" is ${size} bytes; at most ${limits.documentBytesMax}`,
    );
  }
  const explicit = metadataCollection(metadata);
  const key = documentKey(id);
  const existing = live(id, key);
  const collection = explicit ?? existing?.collection ?? collectionFromId(id);
  // A put keeps the document's attachments, as RavenDB does; they are removed explicitly.
  const attachments = existing?.attachments ?? noAttachments;
  const contents = existing?.contents ?? [];
  plans.set(key, { id, key, collection, body, bodyJson, attachments, contents, touched: true });
}

/**
 * serverMetadataKeys are the `@metadata` fields the server owns: it sets them on every read
 * (`@collection` is taken from a put as the collection), so a put's values are not stored.
 */
export const serverMetadataKeys: ReadonlySet<string> = new Set([
  "@id",
  "@collection",
  "@change-vector",
  "@last-modified",
  "@flags",
  "@attachments",
  "@etag",
  "@counters",
  "@timeseries",
  "@conflict",
  "@projection",
  "@index-score",
]);

/** clientMetadata is the part of a put's `@metadata` stored with the body (undefined: none). */
function clientMetadata(metadata: unknown): JsonObject | undefined {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
    return undefined;
  const kept = Object.entries(metadata as JsonObject).filter(
    ([key]) => !serverMetadataKeys.has(key),
  );
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

function metadataCollection(metadata: unknown): string | undefined {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
    return undefined;
  const collection = (metadata as Record<string, unknown>)["@collection"];
  return typeof collection === "string" && collection.trim() !== "" ? collection : undefined;
}

function planAttachmentPut(
  live: (id: string, key?: string) => Plan | undefined,
  put: AttachmentPut,
  limits: DatabaseLimits,
): void {
  const documentId = validateDocumentId(put.documentId, limits.documentIdLengthMax);
  const name = validateAttachmentName(put.name, limits.attachmentNameLengthMax);
  const plan = live(documentId);
  if (plan === undefined) {
    throw new RookeryError(
      "DocumentDoesNotExist",
      `cannot put attachment "${name}" on "${documentId}": ` +
        "the document does not exist; store it first",
      { id: documentId },
    );
  }
  if (!(put.content instanceof Uint8Array) && typeof put.content !== "string") {
    throw new RookeryError(
      "InvalidAttachment",
      `attachment "${name}" content must be bytes or text`,
    );
  }
  const bytes = contentBytes(put.content);
  if (bytes.length > limits.attachmentBytesMax) {
    throw new RookeryError(
      "AttachmentTooLarge",
      `attachment "${name}" is ${bytes.length} bytes; at most ${limits.attachmentBytesMax}`,
    );
  }
  const info: AttachmentInfo = {
    name,
    hash: contentHash(bytes),
    size: bytes.length,
    contentType: put.contentType ?? "",
  };
  plan.attachments = [
    ...plan.attachments.filter((old) => old.name.toLowerCase() !== name.toLowerCase()),
    info,
  ];
  plan.contents.push({
    kind: "attachment",
    documentId: plan.id,
    ...info,
    contentBase64: encodeBase64(bytes),
  });
  plan.touched = true;
}

function planDelete(
  tables: Tables,
  plans: Map<string, Plan>,
  live: (id: string, key: string) => Plan | undefined,
  deletion: DocumentDelete,
  limits: DatabaseLimits,
): void {
  const id = validateDocumentId(deletion.id, limits.documentIdLengthMax);
  const key = documentKey(id);
  const existing = live(id, key);
  const conflicts = tables.hasConflicts(key) ? tables.conflictsOf(key) : [];
  // Deleting a document that does not exist changes nothing; deleting a conflicted one resolves it.
  if (existing === undefined && conflicts.length === 0) return;
  const collection = existing?.collection ?? conflicts[0]?.collection ?? collectionFromId(id);
  const plan: Plan = {
    id: existing?.id ?? id,
    key,
    collection,
    body: null,
    bodyJson: undefined,
    attachments: noAttachments,
    contents: [],
    touched: true,
  };
  plans.set(key, plan);
}

function checkExpectedVectors(
  tables: Tables,
  input: TransactionInput,
  limits: DatabaseLimits,
): void {
  for (const put of input.puts ?? [])
    checkExpected(tables, put.id, put.expectedChangeVector, limits);
  for (const deletion of input.deletes ?? []) {
    checkExpected(tables, deletion.id, deletion.expectedChangeVector, limits);
  }
  for (const put of input.attachmentPuts ?? []) {
    checkExpected(tables, put.documentId, put.expectedChangeVector, limits);
  }
  for (const deletion of input.attachmentDeletes ?? []) {
    checkExpected(tables, deletion.documentId, deletion.expectedChangeVector, limits);
  }
}

function checkExpected(
  tables: Tables,
  rawId: string,
  expected: string | undefined,
  limits: DatabaseLimits,
): void {
  if (expected === undefined) return;
  const id = validateDocumentId(rawId, limits.documentIdLengthMax);
  const wanted = formatChangeVector(parseChangeVector(expected));
  const key = documentKey(id);
  // A conflicted document has no current version (its versions are kept aside), so no
  // expected vector can match it.
  const current = tables.current(key);
  if (
    current?.kind === "document" &&
    compareChangeVectors(current.changeVector, wanted) === "equal"
  ) {
    return;
  }
  // The empty vector expects no document at all (RavenDB's optimistic concurrency on a new id).
  if (wanted === "" && current?.kind !== "document" && !tables.hasConflicts(key)) return;
  const conflicted = tables.hasConflicts(key);
  const actual = conflicted
    ? "(conflicted)"
    : current?.kind === "document"
      ? current.changeVector
      : "(none)";
  throw new RookeryError(
    "ConcurrencyViolation",
    wanted === ""
      ? `concurrency violation on "${id}": expected no document there but one exists ` +
          `(change vector "${actual}"); load "${id}" and change it instead`
      : `concurrency violation on "${id}": expected change vector "${wanted}" but it is ` +
          `"${actual}"; load "${id}" again and retry`,
    { id, expectedChangeVector: wanted, actualChangeVector: actual },
  );
}

/**
 * commitPlans writes planned documents in order of first touch, each as: new attachment content,
 * then the document (so attachments come before their document in etag order), then its
 * revision. Every document gets its own etag and a vector that is the instance's vector with
 * this instance's entry set to that etag.
 */
export function commitPlans(
  context: CommitContext,
  plans: readonly Plan[],
  identity: Identity,
  nowMs: number,
): void {
  const { tables, writer } = context;
  writer.startTransaction();
  for (const plan of plans) {
    for (const content of plan.contents) {
      if (
        plan.attachments.some((info) => info.hash === content.hash && info.name === content.name)
      ) {
        writeAttachment(context, content, plan.key);
      }
    }
    const changeVector = tables.vector.bump(identity.tag, identity.databaseId, writer.nextEtag());
    writeCurrent(
      context,
      {
        id: plan.id,
        collection: plan.collection,
        changeVector,
        lastModifiedMs: nowMs,
        body: plan.body,
        attachments: plan.body === null ? noAttachments : plan.attachments,
      },
      plan.key,
      plan.bodyJson,
    );
  }
  for (const plan of plans) collectAttachments(context, plan.key);
}
